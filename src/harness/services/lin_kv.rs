//! `lin-kv`: a linearizable key-value store.
//!
//! `(linearizable (persistent-kv))` in src/maelstrom/service.clj: one map in an atom, each
//! request applied atomically by the single service thread, so every operation takes
//! effect at one instant between arrival and reply.

use super::kv_map::{Dialect, KvRequest, decide};
use super::value::ValueMap;
use super::{SimulatedService, with_in_reply_to};
use simd_json::OwnedValue;

/// The lin-kv service.
#[derive(Clone, Debug, Default)]
pub struct LinKv {
    map: ValueMap<OwnedValue>,
}

impl LinKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value of `key`, for tests and inspection.
    pub fn get(&self, key: &OwnedValue) -> Option<&OwnedValue> {
        self.map.get(key)
    }
}

impl SimulatedService for LinKv {
    fn handle(&mut self, _src: &str, body: &OwnedValue) -> Option<OwnedValue> {
        let request = KvRequest::parse(body)?;
        let outcome = decide(&request, self.map.get(request.key()), Dialect::Persistent);
        if let Some(value) = outcome.write {
            self.map.insert(request.key(), value);
        }
        Some(with_in_reply_to(body, outcome.reply))
    }
}
