//! The KV request semantics shared by lin-kv, seq-kv and lww-kv.
//!
//! Mirrors `PersistentKV` and `LWWKV` in src/maelstrom/service.clj. [`decide`] is pure: it
//! looks at the current value of the one key a request touches and returns the reply plus
//! the value to store, if any. Each service then decides *which* state to run it against.
//!
//! Quirks kept from the source, with the reason each one happens:
//!
//! * **Missing fields are `nil`, not errors.** The handlers read `(:key body)`,
//!   `(:value body)`, `(:from body)`, `(:to body)`; a missing field is `nil`, which is a
//!   legal Clojure map key and value. So `{"type":"write"}` stores `null` under the key
//!   `null` and is acknowledged, and a later `{"type":"read"}` returns `"value":null`.
//! * **`create_if_not_exists` uses Clojure truthiness**: anything but `null`/`false`/absent
//!   counts, so `0`, `""` and `[]` all enable it.
//! * **With `create_if_not_exists` the `from` is ignored only when the key is missing.**
//!   An existing key still needs `from` to match.
//! * **lww-kv ignores `create_if_not_exists`** (its `cas` branch never reads it), and
//!   prints `from` in error 22 with `str` instead of `pr-str` (`is not foo`, not
//!   `is not "foo"`; `null` prints as nothing).

use super::clj_print::{pr_str, str};
use super::value::clojure_eq;
use crate::wire::error_code::ErrorCode;
use simd_json::prelude::*;
use simd_json::{OwnedValue, StaticNode};

/// What a missing body field reads as: Clojure `nil`.
static NULL: OwnedValue = OwnedValue::Static(StaticNode::Null);

/// A parsed KV request. Borrowed from the request body.
#[derive(Debug)]
pub(crate) enum KvRequest<'a> {
    /// `{"type":"read","key":K}`
    Read { key: &'a OwnedValue },
    /// `{"type":"write","key":K,"value":V}`
    Write {
        key: &'a OwnedValue,
        value: &'a OwnedValue,
    },
    /// `{"type":"cas","key":K,"from":A,"to":B}`, optionally `"create_if_not_exists"`.
    Cas {
        key: &'a OwnedValue,
        from: &'a OwnedValue,
        to: &'a OwnedValue,
        create: bool,
    },
}

impl<'a> KvRequest<'a> {
    /// `None` for a body that is not an object, or whose `type` is not `read`, `write` or
    /// `cas`: the Clojure `case` has no default, throws, and the service sends no reply.
    pub(crate) fn parse(body: &'a OwnedValue) -> Option<KvRequest<'a>> {
        let kind = body.as_object()?.get("type")?.as_str()?;
        let field = |name: &str| body.get(name).unwrap_or(&NULL);
        let key = field("key");
        match kind {
            "read" => Some(KvRequest::Read { key }),
            "write" => Some(KvRequest::Write {
                key,
                value: field("value"),
            }),
            "cas" => Some(KvRequest::Cas {
                key,
                from: field("from"),
                to: field("to"),
                create: truthy(field("create_if_not_exists")),
            }),
            _ => None,
        }
    }

    /// The one key this request touches.
    pub(crate) fn key(&self) -> &'a OwnedValue {
        match self {
            KvRequest::Read { key } | KvRequest::Write { key, .. } | KvRequest::Cas { key, .. } => {
                key
            }
        }
    }
}

/// Clojure truthiness: everything except `nil` and `false`.
fn truthy(value: &OwnedValue) -> bool {
    !matches!(
        value,
        OwnedValue::Static(StaticNode::Null | StaticNode::Bool(false))
    )
}

/// Which of the two KV implementations in service.clj to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `PersistentKV`, behind lin-kv and seq-kv.
    Persistent,
    /// `LWWKV`, behind lww-kv.
    LastWriteWins,
}

/// The result of running one request against one state.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The reply body, without `in_reply_to`.
    pub(crate) reply: OwnedValue,
    /// The new value of the request's key, when the handler `assoc`s one.
    pub(crate) write: Option<OwnedValue>,
}

impl Outcome {
    /// Whether the new state differs from the old one under Clojure `=`. Writing a value
    /// equal to the current one leaves the map equal, which seq-kv relies on.
    pub(crate) fn changes(&self, current: Option<&OwnedValue>) -> bool {
        match (&self.write, current) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(new), Some(old)) => !clojure_eq(new, old),
        }
    }
}

/// Runs `request` against a state whose value for the request's key is `current`.
pub(crate) fn decide(
    request: &KvRequest,
    current: Option<&OwnedValue>,
    dialect: Dialect,
) -> Outcome {
    match (request, current) {
        (KvRequest::Read { .. }, Some(value)) => {
            reply_only(body([("type", "read_ok".into()), ("value", value.clone())]))
        }
        (KvRequest::Read { .. }, None) => reply_only(missing_key()),
        (KvRequest::Write { value, .. }, _) => Outcome {
            reply: ok("write_ok"),
            write: Some((*value).clone()),
        },
        (KvRequest::Cas { from, to, .. }, Some(value)) if clojure_eq(from, value) => Outcome {
            reply: ok("cas_ok"),
            write: Some((*to).clone()),
        },
        (KvRequest::Cas { from, .. }, Some(value)) => {
            let from_text = match dialect {
                Dialect::Persistent => pr_str(from),
                Dialect::LastWriteWins => str(from),
            };
            let text = format!("current value {} is not {}", pr_str(value), from_text);
            reply_only(error(ErrorCode::PreconditionFailed, text))
        }
        (
            KvRequest::Cas {
                to, create: true, ..
            },
            None,
        ) if dialect == Dialect::Persistent => Outcome {
            reply: ok("cas_ok"),
            write: Some((*to).clone()),
        },
        (KvRequest::Cas { .. }, None) => reply_only(missing_key()),
    }
}

fn reply_only(reply: OwnedValue) -> Outcome {
    Outcome { reply, write: None }
}

fn ok(kind: &str) -> OwnedValue {
    body([("type", kind.into())])
}

fn missing_key() -> OwnedValue {
    error(ErrorCode::KeyDoesNotExist, "key does not exist".into())
}

/// An `error` body, keys in the order Maelstrom's map literal has them.
pub(crate) fn error(code: ErrorCode, text: String) -> OwnedValue {
    body([
        ("type", "error".into()),
        ("code", code.code().into()),
        ("text", text.into()),
    ])
}

/// An object from `(key, value)` pairs, in order.
pub(crate) fn body<const N: usize>(entries: [(&str, OwnedValue); N]) -> OwnedValue {
    let mut object = OwnedValue::object_with_capacity(N + 1);
    if let Some(map) = object.as_object_mut() {
        for (key, value) in entries {
            map.insert(key.to_string(), value);
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OwnedValue {
        let mut bytes = text.as_bytes().to_vec();
        simd_json::to_owned_value(&mut bytes).expect("test JSON")
    }

    fn text_of(outcome: &Outcome) -> &str {
        outcome
            .reply
            .get("text")
            .and_then(|t| t.as_str())
            .unwrap_or("")
    }

    #[test]
    fn missing_fields_read_as_nil_and_type_must_be_known() {
        let write = parse(r#"{"type":"write"}"#);
        match KvRequest::parse(&write) {
            Some(KvRequest::Write { key, value }) => assert!(key.is_null() && value.is_null()),
            other => panic!("{other:?}"),
        }
        for bad in [
            r#"{"type":"delete","key":1}"#,
            r#"{"key":1}"#,
            r#"{"type":3}"#,
            "[1]",
            "\"read\"",
        ] {
            assert!(KvRequest::parse(&parse(bad)).is_none(), "{bad}");
        }
    }

    #[test]
    fn create_if_not_exists_is_clojure_truthy() {
        for (flag, create) in [
            ("0", true),
            ("\"\"", true),
            ("[]", true),
            ("false", false),
            ("null", false),
        ] {
            let body = parse(&format!(
                r#"{{"type":"cas","key":1,"from":1,"to":2,"create_if_not_exists":{flag}}}"#
            ));
            match KvRequest::parse(&body) {
                Some(KvRequest::Cas { create: c, .. }) => assert_eq!(c, create, "{flag}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn error_22_prints_from_with_pr_str_or_str() {
        let body =
            parse(r#"{"type":"cas","key":1,"from":"b","to":"c","create_if_not_exists":true}"#);
        let request = KvRequest::parse(&body).expect("cas");
        let current = parse(r#""a""#);
        let persistent = decide(&request, Some(&current), Dialect::Persistent);
        assert_eq!(text_of(&persistent), r#"current value "a" is not "b""#);
        let lww = decide(&request, Some(&current), Dialect::LastWriteWins);
        assert_eq!(text_of(&lww), r#"current value "a" is not b"#);
        // create_if_not_exists: honoured by PersistentKV, ignored by LWWKV.
        assert!(decide(&request, None, Dialect::Persistent).write.is_some());
        assert_eq!(
            text_of(&decide(&request, None, Dialect::LastWriteWins)),
            "key does not exist"
        );
    }

    #[test]
    fn equal_writes_do_not_change_state() {
        let body = parse(r#"{"type":"write","key":1,"value":{"a":1,"b":2}}"#);
        let request = KvRequest::parse(&body).expect("write");
        let outcome = decide(&request, None, Dialect::Persistent);
        assert!(outcome.changes(None));
        assert!(!outcome.changes(Some(&parse(r#"{"b":2,"a":1}"#))));
        assert!(outcome.changes(Some(&parse(r#"{"b":2,"a":1.0}"#))));
    }
}
