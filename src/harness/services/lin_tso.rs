//! `lin-tso`: a linearizable timestamp oracle.
//!
//! `(linearizable (persistent-tso))` in src/maelstrom/service.clj: `{"type":"ts"}` gets
//! `{"type":"ts_ok","ts":N}` with N = 0, 1, 2, … across all callers. Any other type falls
//! through the `case`, throws, and gets no reply. Other body fields are ignored.

use super::kv_map::body;
use super::{SimulatedService, with_in_reply_to};
use simd_json::OwnedValue;
use simd_json::prelude::*;

/// The lin-tso service.
#[derive(Clone, Debug, Default)]
pub struct LinTso {
    next: u64,
}

impl LinTso {
    /// An oracle whose first timestamp is 0.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SimulatedService for LinTso {
    fn handle(&mut self, _src: &str, request: &OwnedValue) -> Option<OwnedValue> {
        if request.as_object()?.get("type")?.as_str()? != "ts" {
            return None;
        }
        let ts = self.next;
        self.next += 1;
        Some(with_in_reply_to(
            request,
            body([("type", "ts_ok".into()), ("ts", ts.into())]),
        ))
    }
}
