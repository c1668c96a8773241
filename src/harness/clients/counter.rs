//! `g-counter` and `pn-counter` (MAELSTROM.md §3.5, §3.6): a coin flip between an add of
//! d ∈ [−5, 4] (g-counter redraws negatives) and a read; one `final?` read per worker.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{OpSpec, Reply, Workload, object};
use crate::node::rng::Rng;

/// A counter workload.
pub struct Counter {
    negative: bool,
}

impl Counter {
    /// pn-counter when `negative`, else g-counter.
    pub fn new(negative: bool) -> Counter {
        Counter { negative }
    }
}

impl Workload for Counter {
    fn name(&self) -> &'static str {
        if self.negative {
            "pn-counter"
        } else {
            "g-counter"
        }
    }

    fn next_op(&mut self, rng: &mut Rng, _thread: usize) -> OpSpec {
        // Jepsen's g-counter filters negative adds out of the pn stream, so a g-counter op
        // is redrawn as a whole (coin included): ⅓ adds, ⅔ reads.
        for _ in 0..1000 {
            if !rng.coin() {
                return OpSpec::new("read", OwnedValue::null());
            }
            let delta = rng.range_inclusive(-5, 4);
            if self.negative || delta >= 0 {
                return OpSpec::new("add", delta.into());
            }
        }
        OpSpec::new("read", OwnedValue::null())
    }

    fn final_op(&mut self, _thread: usize) -> Option<OpSpec> {
        Some(OpSpec {
            f: "read",
            value: OwnedValue::null(),
            is_final: true,
        })
    }

    fn request(&self, op: &OpSpec) -> OwnedValue {
        match op.f {
            "add" => object(vec![("type", "add".into()), ("delta", op.value.clone())]),
            _ => object(vec![("type", "read".into())]),
        }
    }

    fn reply(&self, op: &OpSpec, body: &OwnedValue) -> Reply {
        let checked = match op.f {
            "add" => validate(body, "add_ok", &[]),
            _ => validate(body, "read_ok", &[("value", Kind::Int)]),
        };
        match checked {
            Err(e) => Reply::Malformed(e),
            Ok(()) if op.f == "add" => Reply::Ok(op.value.clone()),
            Ok(()) => Reply::Ok(body.get("value").cloned().unwrap_or_else(OwnedValue::null)),
        }
    }

    fn error_wrapper(&self) -> bool {
        false
    }
}
