//! An inbound Maelstrom message as a borrowed view, and the typed error a handler returns
//! to get a Maelstrom `error` reply instead of panicking.

use std::borrow::Cow;

use crate::wire::{ErrorCode, Json, JsonKind};

/// `{"src":…, "dest":…, "body":{"type":…, "msg_id":…, "in_reply_to":…, …}}`, borrowed from
/// the input batch.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    /// Sender id (`n3`, `c12`, `lin-kv`, …).
    pub src: &'a str,
    /// Our own id, as the sender addressed us.
    pub dest: &'a str,
    /// `body.type`.
    pub kind: &'a str,
    /// `body.msg_id`, present on requests that expect a reply.
    pub msg_id: Option<u64>,
    /// `body.in_reply_to`, present on replies.
    pub in_reply_to: Option<u64>,
    /// The whole body object, for workload-specific fields.
    pub body: Json<'a>,
}

/// Why a request could not be served; turned into an `error` reply by the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    /// Maelstrom error code.
    pub code: ErrorCode,
    /// Human-readable detail, sent as `text`.
    pub text: Cow<'static, str>,
}

impl RequestError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, text: impl Into<Cow<'static, str>>) -> Self {
        RequestError {
            code,
            text: text.into(),
        }
    }

    /// Code 12: the request is missing a field or has one of the wrong type.
    pub fn malformed(text: impl Into<Cow<'static, str>>) -> Self {
        RequestError::new(ErrorCode::MalformedRequest, text)
    }

    /// Code 11: the node cannot serve this now (e.g. too many calls in flight); the
    /// request surely did not happen, so the client may retry.
    pub fn temporarily_unavailable(text: impl Into<Cow<'static, str>>) -> Self {
        RequestError::new(ErrorCode::TemporarilyUnavailable, text)
    }

    /// Code 10 for a message type this node does not implement.
    pub fn not_supported(kind: &str) -> Self {
        RequestError::new(
            ErrorCode::NotSupported,
            format!("unsupported message type {kind:?}"),
        )
    }
}

impl<'a> Message<'a> {
    /// Reads the envelope of a parsed line. Errors say what is wrong, for code-12 replies.
    /// One pass over the envelope's keys and one over the body's. Inlined into its one
    /// caller, so that the message is built in registers: returned through memory, its
    /// fields written as 8-byte words were then copied as 16-byte words, which the CPU
    /// cannot forward from the narrower stores (a stall on every message).
    #[inline]
    pub fn from_json(value: Json<'a>) -> Result<Self, RequestError> {
        let (mut src, mut dest, mut body) = (None, None, None);
        for (key, field) in value.entries() {
            match key {
                "src" => src = field.as_str(),
                "dest" => dest = field.as_str(),
                "body" => body = Some(field).filter(|b| b.kind() == JsonKind::Object),
                _ => {}
            }
        }
        let src = src.ok_or_else(|| RequestError::malformed("envelope has no string src"))?;
        let body = body.ok_or_else(|| RequestError::malformed("envelope has no body object"))?;
        let (mut kind, mut msg_id, mut in_reply_to) = (None, None, None);
        for (key, field) in body.entries() {
            match key {
                "type" => kind = field.as_str(),
                "msg_id" => msg_id = field.as_u64(),
                "in_reply_to" => in_reply_to = field.as_u64(),
                _ => {}
            }
        }
        let kind = kind.ok_or_else(|| RequestError::malformed("body has no string type"))?;
        Ok(Message {
            src,
            dest: dest.unwrap_or(""),
            kind,
            msg_id,
            in_reply_to,
            body,
        })
    }

    /// A body field that must be present (any JSON type).
    #[inline]
    pub fn field(&self, name: &'static str) -> Result<Json<'a>, RequestError> {
        self.body.get(name).ok_or_else(|| missing(name, "present"))
    }

    /// A body field that must be a non-negative integer.
    pub fn u64(&self, name: &'static str) -> Result<u64, RequestError> {
        self.body
            .get(name)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| missing(name, "an integer"))
    }

    /// A body field that must be an integer.
    pub fn i64(&self, name: &'static str) -> Result<i64, RequestError> {
        self.body
            .get(name)
            .and_then(|v| v.as_i64())
            .ok_or_else(|| missing(name, "an integer"))
    }

    /// A body field that must be a string.
    pub fn str(&self, name: &'static str) -> Result<&'a str, RequestError> {
        self.body
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| missing(name, "a string"))
    }
}

fn missing(name: &'static str, what: &'static str) -> RequestError {
    RequestError::malformed(format!("field {name:?} must be {what}"))
}

/// Recovers `src` and `body.msg_id` from a line that is not valid JSON, so that even a
/// garbled request gets a code-12 reply when its sender can be identified. A plain byte
/// scan for `"src":"…"` and `"msg_id":<digits>`; returns `None` unless both are found.
pub fn salvage_reply_address(line: &[u8]) -> Option<(&str, u64)> {
    let src = value_after(line, b"\"src\"")?;
    let src = src.strip_prefix(b"\"")?;
    let end = src.iter().position(|&b| b == b'"' || b == b'\\')?;
    let src = std::str::from_utf8(&src[..end]).ok()?;
    let msg_id = value_after(line, b"\"msg_id\"")?;
    let digits = msg_id.iter().take_while(|b| b.is_ascii_digit()).count();
    let msg_id = std::str::from_utf8(&msg_id[..digits]).ok()?.parse().ok()?;
    Some((src, msg_id))
}

/// The bytes after `key`, whitespace and one `:`.
fn value_after<'l>(line: &'l [u8], key: &[u8]) -> Option<&'l [u8]> {
    let at = line.windows(key.len()).position(|w| w == key)?;
    let rest = line[at + key.len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?;
    Some(rest.trim_ascii_start())
}

#[cfg(test)]
mod tests {
    use super::salvage_reply_address;

    #[test]
    fn salvages_sender_and_msg_id_from_broken_json() {
        let line = br#"{"src": "c4", "dest":"n1","body":{"type":"echo","msg_id": 17, "echo":}"#;
        assert_eq!(salvage_reply_address(line), Some(("c4", 17)));
        assert_eq!(salvage_reply_address(b"garbage"), None);
        assert_eq!(salvage_reply_address(br#"{"src":"c1","body":{}"#), None);
    }
}
