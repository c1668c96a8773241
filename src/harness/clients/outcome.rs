//! How an op completes: Maelstrom's mapping of `error` replies, timeouts and malformed
//! replies to `ok`/`fail`/`info` history ops (MAELSTROM.md §1.6, §1.7), driven by the
//! workload's [`ClientPolicy`].

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::clients::{ClientPolicy, OpSpec};
use crate::harness::history::OpType;
use crate::wire::error_code::ErrorCode;

/// How an op completed.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// ok / fail / info.
    pub op_type: OpType,
    /// Completion value.
    pub value: OwnedValue,
    /// Jepsen's `:error`.
    pub error: Option<OwnedValue>,
    /// Jepsen's `:exception`, when Maelstrom's client would have thrown.
    pub exception: Option<OwnedValue>,
}

impl Outcome {
    /// `ok` with this history value.
    pub fn ok(value: OwnedValue) -> Outcome {
        Outcome {
            op_type: OpType::Ok,
            value,
            error: None,
            exception: None,
        }
    }

    /// `info` with this value and optional error, without an exception (kafka's `crash`).
    pub fn info(value: OwnedValue, error: Option<OwnedValue>) -> Outcome {
        Outcome {
            op_type: OpType::Info,
            value,
            error,
            exception: None,
        }
    }
}

/// The class Maelstrom's client exceptions have (`ex-info`).
pub const EXCEPTION_CLASS: &str = "clojure.lang.ExceptionInfo";

/// An `:exception` map shaped like Clojure's `Throwable->map`: `{via [{type message
/// [data]}] cause}`; the exceptions checker groups by the last `via` entry's `type`.
pub fn exception(message: &str, data: Option<OwnedValue>) -> OwnedValue {
    let mut via = simd_json::owned::Object::new();
    via.insert("type".to_string(), EXCEPTION_CLASS.into());
    via.insert("message".to_string(), message.into());
    if let Some(data) = data {
        via.insert("data".to_string(), data);
    }
    let mut map = simd_json::owned::Object::new();
    map.insert(
        "via".to_string(),
        OwnedValue::Array(Box::new(vec![OwnedValue::Object(Box::new(via))])),
    );
    map.insert("cause".to_string(), message.into());
    OwnedValue::Object(Box::new(map))
}

fn pair(name: &str, text: OwnedValue) -> OwnedValue {
    OwnedValue::Array(Box::new(vec![name.into(), text]))
}

/// An `error` reply. With the wrapper: definite code or idempotent f → fail, else info,
/// error `[name text]`. Without (g-set, counters): always info, "indeterminate: …".
pub fn error_outcome(policy: &ClientPolicy, op: &OpSpec, body: &OwnedValue) -> Outcome {
    let code = ErrorCode::from_code(
        body.get("code")
            .and_then(|c| c.as_u64())
            .unwrap_or(u64::MAX),
    );
    let name = match (body.get("code").and_then(|c| c.as_u64()), code) {
        (None, _) => "unknown",
        (Some(_), ErrorCode::Other(_)) => "unknown",
        (Some(_), known) => known.name(),
    };
    let text = body.get("text").cloned().unwrap_or_else(OwnedValue::null);
    if !policy.error_wrapper {
        let message = format!("indeterminate: {} {}", name, body.encode());
        return Outcome {
            op_type: OpType::Info,
            value: op.value.clone(),
            error: Some(message.into()),
            exception: Some(exception(&format!("RPC error: {name}"), Some(body.clone()))),
        };
    }
    let definite = body.get("code").is_some() && code.is_definite();
    Outcome {
        op_type: fail_or_info(policy, op, definite),
        value: op.value.clone(),
        error: Some(pair(name, text)),
        exception: None,
    }
}

/// With the error wrapper: `fail` when the error is definite or the op idempotent (it
/// certainly did not happen, or happening twice is harmless), else `info`.
fn fail_or_info(policy: &ClientPolicy, op: &OpSpec, definite: bool) -> OpType {
    if definite || policy.is_idempotent(op.f) {
        OpType::Fail
    } else {
        OpType::Info
    }
}

/// No reply before the deadline.
pub fn timeout_outcome(policy: &ClientPolicy, op: &OpSpec) -> Outcome {
    if !policy.error_wrapper {
        return Outcome {
            op_type: OpType::Info,
            value: op.value.clone(),
            error: Some("indeterminate: net-timeout".into()),
            exception: None,
        };
    }
    Outcome {
        op_type: fail_or_info(policy, op, false),
        value: op.value.clone(),
        error: Some("net-timeout".into()),
        exception: None,
    }
}

/// A reply that failed its schema: info, `indeterminate: <message>`, with the
/// "Malformed RPC response" exception Maelstrom's client throws (MAELSTROM.md §1.7).
pub fn malformed_outcome(op: &OpSpec, message: &str) -> Outcome {
    Outcome {
        op_type: OpType::Info,
        value: op.value.clone(),
        error: Some(format!("indeterminate: {message}").into()),
        exception: Some(exception(
            &format!("Malformed RPC response: {message}"),
            None,
        )),
    }
}
