//! `broadcast` and `g-set` (MAELSTROM.md §3.3, §3.4): a coin flip between adding the next
//! value of one shared sequence 0, 1, 2, … and a read; one final read per worker.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{OpSpec, Reply, Workload, object};
use crate::node::rng::Rng;

/// broadcast or g-set.
pub struct SetWorkload {
    broadcast: bool,
    next_value: u64,
}

impl SetWorkload {
    /// `-w broadcast`: `broadcast`/`read` with `messages`, reads idempotent, `final?` reads.
    pub fn broadcast() -> SetWorkload {
        SetWorkload {
            broadcast: true,
            next_value: 0,
        }
    }

    /// `-w g-set`: `add`/`read` with `value`, no error wrapper, final reads unflagged.
    pub fn g_set() -> SetWorkload {
        SetWorkload {
            broadcast: false,
            next_value: 0,
        }
    }

    fn add_f(&self) -> &'static str {
        if self.broadcast { "broadcast" } else { "add" }
    }

    fn read_key(&self) -> &'static str {
        if self.broadcast { "messages" } else { "value" }
    }
}

impl Workload for SetWorkload {
    fn name(&self) -> &'static str {
        if self.broadcast { "broadcast" } else { "g-set" }
    }

    fn next_op(&mut self, rng: &mut Rng, _thread: usize) -> OpSpec {
        if rng.coin() {
            let value = self.next_value;
            self.next_value += 1;
            OpSpec::new(self.add_f(), value.into())
        } else {
            OpSpec::new("read", OwnedValue::null())
        }
    }

    fn final_op(&mut self, _thread: usize) -> Option<OpSpec> {
        Some(OpSpec {
            f: "read",
            value: OwnedValue::null(),
            is_final: self.broadcast,
        })
    }

    fn request(&self, op: &OpSpec) -> OwnedValue {
        match op.f {
            "read" => object(vec![("type", "read".into())]),
            f => {
                let key = if self.broadcast { "message" } else { "element" };
                object(vec![("type", f.into()), (key, op.value.clone())])
            }
        }
    }

    fn reply(&self, op: &OpSpec, body: &OwnedValue) -> Reply {
        let checked = match op.f {
            "read" => validate(body, "read_ok", &[(self.read_key(), Kind::ArrayOrNull)]),
            f => validate(body, &format!("{f}_ok"), &[]),
        };
        match checked {
            Err(e) => Reply::Malformed(e),
            Ok(()) if op.f == "read" => Reply::Ok(
                body.get(self.read_key())
                    .cloned()
                    .unwrap_or_else(OwnedValue::null),
            ),
            Ok(()) => Reply::Ok(op.value.clone()),
        }
    }

    fn idempotent(&self, f: &str) -> bool {
        self.broadcast && f == "read"
    }

    fn error_wrapper(&self) -> bool {
        self.broadcast
    }
}
