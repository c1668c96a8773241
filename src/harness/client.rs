//! Worker clients: closed-loop, one request outstanding, msg_ids 1, 2, … per client id, and
//! Maelstrom's mapping of replies, errors and timeouts to history ops (MAELSTROM.md §1.6,
//! §2.2, §2.3).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::generator::{OpSpec, Workload};
use super::history::OpType;
use super::host::Time;
use crate::wire::error_code::ErrorCode;

/// A request in flight.
pub struct Pending {
    /// The op being performed.
    pub op: OpSpec,
    /// The msg_id a reply must carry in `in_reply_to`.
    pub msg_id: u64,
    /// When the client gives up.
    pub deadline: Time,
}

/// One worker thread and its current client.
pub struct Worker {
    /// Thread number 0..C-1.
    pub thread: usize,
    /// Bound node index: `thread mod n`.
    pub node: usize,
    /// Current process id (starts at `thread`, +C after every `info`).
    pub process: u64,
    /// Current client id, once opened.
    pub client: Option<String>,
    /// The client must be replaced before the next op (non-reusable client after `info`).
    pub replace: bool,
    /// Next msg_id of the current client.
    pub next_msg_id: u64,
    /// The outstanding request.
    pub pending: Option<Pending>,
}

impl Worker {
    /// A fresh worker bound to `nodes[thread mod n]`.
    pub fn new(thread: usize, node_count: usize) -> Worker {
        Worker {
            thread,
            node: thread % node_count.max(1),
            process: thread as u64,
            client: None,
            replace: false,
            next_msg_id: 1,
            pending: None,
        }
    }
}

/// How an op completed.
pub struct Outcome {
    /// ok / fail / info.
    pub op_type: OpType,
    /// Completion value.
    pub value: OwnedValue,
    /// Jepsen's `:error`.
    pub error: Option<OwnedValue>,
}

fn pair(name: &str, text: OwnedValue) -> OwnedValue {
    OwnedValue::Array(Box::new(vec![name.into(), text]))
}

/// An `error` reply. With the wrapper: definite code or idempotent f → fail, else info,
/// error `[name text]`. Without (g-set, counters): always info, "indeterminate: …".
pub fn error_outcome(workload: &dyn Workload, op: &OpSpec, body: &OwnedValue) -> Outcome {
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
    if !workload.error_wrapper() {
        let message = format!("indeterminate: {} {}", name, body.encode());
        return Outcome {
            op_type: OpType::Info,
            value: op.value.clone(),
            error: Some(message.into()),
        };
    }
    let definite = body.get("code").is_some() && code.is_definite();
    let op_type = if definite || workload.idempotent(op.f) {
        OpType::Fail
    } else {
        OpType::Info
    };
    Outcome {
        op_type,
        value: op.value.clone(),
        error: Some(pair(name, text)),
    }
}

/// No reply before the deadline.
pub fn timeout_outcome(workload: &dyn Workload, op: &OpSpec) -> Outcome {
    if !workload.error_wrapper() {
        return Outcome {
            op_type: OpType::Info,
            value: op.value.clone(),
            error: Some("indeterminate: net-timeout".into()),
        };
    }
    let op_type = if workload.idempotent(op.f) {
        OpType::Fail
    } else {
        OpType::Info
    };
    Outcome {
        op_type,
        value: op.value.clone(),
        error: Some("net-timeout".into()),
    }
}

/// A reply that failed its schema: info, "indeterminate: <message>".
pub fn malformed_outcome(op: &OpSpec, message: &str) -> Outcome {
    Outcome {
        op_type: OpType::Info,
        value: op.value.clone(),
        error: Some(format!("indeterminate: {message}").into()),
    }
}
