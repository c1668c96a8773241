//! `lww-kv`: the "last-write-wins", eventually consistent store — as the code does it.
//!
//! `(eventual (lww-kv))` in src/maelstrom/service.clj, whose default is **2** replicas
//! (doc/services.md says 5). Each replica is an `LWWKV`: a Lamport `clock` and a map
//! key → `{ts, value}`. For each request the `Eventual` wrapper:
//!
//! 1. picks a merge source and destination at random and computes their LWW merge, binds
//!    the updated vector to `replicas'` — and then **shadows that binding**: step 2 starts
//!    again from the pre-merge `replicas`. The merge never reaches the state, so replicas
//!    **never converge**; which value a node sees depends on which replica answers.
//! 2. picks a replica uniformly and runs the request on it. A write, or a successful cas,
//!    stores `{ts: clock}` and increments that replica's clock; reads return that replica's
//!    value or error 20.
//!
//! We draw the two merge indices so the random stream keeps the source's shape, but skip
//! computing the merge: in this version it is pure and cannot throw (ties keep `v1`), so
//! computing and dropping it is unobservable. `create_if_not_exists` is ignored and error
//! 22 prints `from` with `str` (see `kv_map`).

use super::kv_map::{Dialect, KvRequest, decide};
use super::value::ValueMap;
use super::{SimulatedService, with_in_reply_to};
use crate::node::rng::Rng;
use simd_json::OwnedValue;

/// Replica count of `(eventual …)` in the current source.
pub const REPLICAS: usize = 2;

/// One `LWWKV` replica.
#[derive(Clone, Debug, Default)]
struct Replica {
    clock: u64,
    map: ValueMap<Stamped>,
}

/// `{:ts n, :value v}`.
#[derive(Clone, Debug)]
struct Stamped {
    /// Kept for fidelity with the source; only the discarded merge would read it.
    #[allow(dead_code)]
    ts: u64,
    value: OwnedValue,
}

/// The lww-kv service.
#[derive(Clone, Debug)]
pub struct LwwKv {
    rng: Rng,
    replicas: [Replica; REPLICAS],
}

impl LwwKv {
    /// Two empty replicas; `rng` picks which one serves each request.
    pub fn new(rng: Rng) -> Self {
        LwwKv {
            rng,
            replicas: Default::default(),
        }
    }

    /// The value of `key` on `replica` (0 or 1), for tests and inspection.
    pub fn replica_value(&self, replica: usize, key: &OwnedValue) -> Option<&OwnedValue> {
        self.replicas
            .get(replica)?
            .map
            .get(key)
            .map(|stamped| &stamped.value)
    }
}

impl SimulatedService for LwwKv {
    fn handle(&mut self, _src: &str, body: &OwnedValue) -> Option<OwnedValue> {
        let request = KvRequest::parse(body)?;
        let count = REPLICAS as u64;
        let (_merge_source, _merge_dest) = (self.rng.below(count), self.rng.below(count));
        let replica = &mut self.replicas[self.rng.below(count) as usize];
        let current = replica.map.get(request.key()).map(|stamped| &stamped.value);
        let outcome = decide(&request, current, Dialect::LastWriteWins);
        if let Some(value) = outcome.write {
            replica.map.insert(
                request.key(),
                Stamped {
                    ts: replica.clock,
                    value,
                },
            );
            replica.clock += 1;
        }
        Some(with_in_reply_to(body, outcome.reply))
    }
}
