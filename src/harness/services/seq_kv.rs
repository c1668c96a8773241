//! `seq-kv`: a sequentially consistent key-value store.
//!
//! `(sequential (persistent-kv))` in src/maelstrom/service.clj. The service keeps the last
//! 32 states in an `amalloy/ring-buffer` (1.3.1), numbered by an absolute `last-index`, and
//! for each requester `src` the index of the last state it observed (initially 0). For a
//! request it picks an index between the requester's and the newest, runs the request there,
//! and:
//!
//! * if that leaves the state equal (reads, failed cas, a write of the value that state
//!   already held), answers from that old state and moves the requester's index to it;
//! * otherwise runs the request again on the newest state, appends the result as a new
//!   newest state (even when that second run changes nothing, e.g. a cas that now fails),
//!   and moves the requester to it.
//!
//! Quirks of the source, kept on purpose:
//!
//! * **The newest state is never picked by a lagging requester.** The index is
//!   `client + (rand-int (- last client))`, and `rand-int n` is in `[0, n)`. So a node that
//!   is behind always reads a strictly older state; only one already at the newest state
//!   (`rand-int 0` = 0) reads it. A node that only reads can lag forever; any state-changing
//!   request brings it to the newest state. (MAELSTROM.md §4.1 says "inclusive": it is not.)
//! * **Lagging more than 31 states wraps around.** The state is fetched with
//!   `(nth buffer (dec (- index last-index)))`; ring-buffer's `nth` takes `(mod (+ start i)
//!   len)`, so an offset older than the buffer wraps to slot `index mod 32`, which holds a
//!   *newer* state. The requester's index is still set to the chosen (older) index, so its
//!   next request may observe an older state than this one: per-`src` monotonicity only
//!   holds while a node stays within 31 states of the newest. Read-your-writes still holds.
//!
//! Instead of 32 full map copies we keep, per key, the few versions still visible in the
//! window ([`VersionedStore`]); lookups and the "did it change" test touch one key only,
//! which is all a KV request can touch.

use super::kv_map::{Dialect, KvRequest, decide};
use super::value::ValueMap;
use super::{SimulatedService, with_in_reply_to};
use crate::node::rng::Rng;
use simd_json::OwnedValue;
use std::collections::HashMap;

/// How many states the ring buffer holds (`(sequential 32 …)`).
pub const BUFFER_CAPACITY: u64 = 32;

/// The seq-kv service.
#[derive(Clone, Debug)]
pub struct SeqKv {
    rng: Rng,
    /// Absolute index of the newest state; state 0 is the empty map.
    last_index: u64,
    /// Index of the last state each `src` observed (`:clients`); absent means 0.
    clients: HashMap<String, u64>,
    store: VersionedStore,
}

impl SeqKv {
    /// An empty store; `rng` picks the state each request runs against.
    pub fn new(rng: Rng) -> Self {
        SeqKv {
            rng,
            last_index: 0,
            clients: HashMap::new(),
            store: VersionedStore::default(),
        }
    }

    /// Absolute index of the newest state (0 before any change).
    pub fn last_index(&self) -> u64 {
        self.last_index
    }

    /// The value of `key` in the newest state.
    pub fn newest(&self, key: &OwnedValue) -> Option<&OwnedValue> {
        self.store.get(key, self.last_index)
    }

    fn observe(&mut self, src: &str, index: u64) {
        match self.clients.get_mut(src) {
            Some(seen) => *seen = index,
            None => {
                self.clients.insert(src.to_string(), index);
            }
        }
    }
}

impl SimulatedService for SeqKv {
    fn handle(&mut self, src: &str, body: &OwnedValue) -> Option<OwnedValue> {
        let request = KvRequest::parse(body)?;
        let key = request.key();
        let client_index = self.clients.get(src).copied().unwrap_or(0);
        let span = self.last_index - client_index;
        let index = client_index + if span == 0 { 0 } else { self.rng.below(span) };
        let visible = ring_index(index, self.last_index);
        let current = self.store.get(key, visible);
        let outcome = decide(&request, current, Dialect::Persistent);
        if !outcome.changes(current) {
            self.observe(src, index);
            return Some(with_in_reply_to(body, outcome.reply));
        }
        let newest = self.store.get(key, self.last_index);
        let outcome = decide(&request, newest, Dialect::Persistent);
        let changed = outcome.changes(newest);
        self.last_index += 1;
        if let (true, Some(value)) = (changed, outcome.write) {
            self.store.record(key, self.last_index, value);
        }
        self.observe(src, self.last_index);
        Some(with_in_reply_to(body, outcome.reply))
    }
}

/// The absolute index of the state `(nth buffer (dec (- index last-index)))` returns.
///
/// Absolute state `a` lives in slot `a mod 32` of the buffer, and `nth` wraps modulo the
/// length, so `index` maps to the state in the window `[last-31, last]` congruent to it
/// mod 32: itself when inside the window, a newer state when older than the window.
pub fn ring_index(index: u64, last_index: u64) -> u64 {
    if last_index < BUFFER_CAPACITY {
        return index; // not full yet: every state since 0 is still there
    }
    let oldest = last_index - (BUFFER_CAPACITY - 1);
    let distance =
        (index % BUFFER_CAPACITY + BUFFER_CAPACITY - oldest % BUFFER_CAPACITY) % BUFFER_CAPACITY;
    oldest + distance
}

/// Every state in the window, stored as per-key version lists.
///
/// `history[key]` holds `(version, value)` pairs in ascending version order; the key is
/// absent in states older than the first pair. Versions superseded before the window's
/// oldest state are dropped on each write, so a list never exceeds 33 pairs.
#[derive(Clone, Debug, Default)]
struct VersionedStore {
    history: ValueMap<Vec<(u64, OwnedValue)>>,
}

impl VersionedStore {
    /// The value of `key` in state `version`.
    fn get(&self, key: &OwnedValue, version: u64) -> Option<&OwnedValue> {
        let versions = self.history.get(key)?;
        let visible = versions.partition_point(|(v, _)| *v <= version);
        versions[..visible].last().map(|(_, value)| value)
    }

    /// Sets `key` to `value` from state `version` (the new newest) on.
    fn record(&mut self, key: &OwnedValue, version: u64, value: OwnedValue) {
        let oldest = version.saturating_sub(BUFFER_CAPACITY - 1);
        match self.history.get_mut(key) {
            Some(versions) => {
                versions.push((version, value));
                // Keep the newest pair at or before `oldest`: it is what `oldest` sees.
                let visible_at_oldest = versions.partition_point(|(v, _)| *v <= oldest);
                if visible_at_oldest > 1 {
                    versions.drain(..visible_at_oldest - 1);
                }
            }
            None => self.history.insert(key, vec![(version, value)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_index_matches_ring_buffer_nth() {
        // Model the amalloy ring buffer literally: cons into a 32-slot vector, then
        // nth with (mod (+ start i) len).
        let (mut slots, mut start, mut len) = (vec![0u64; 32], 0usize, 1usize);
        for last in 0u64..100 {
            if last > 0 {
                if len == 32 {
                    slots[start] = last;
                    start = (start + 1) % len;
                } else {
                    slots[(start + len) % 32] = last;
                    len += 1;
                }
            }
            for index in 0..=last {
                let offset = index as i64 - last as i64 - 1;
                let position = (start as i64 + offset).rem_euclid(len as i64) as usize;
                assert_eq!(
                    ring_index(index, last),
                    slots[position],
                    "index {index} last {last}"
                );
            }
        }
    }

    #[test]
    fn versioned_store_keeps_the_window_and_stays_bounded() {
        let key = OwnedValue::from(1u64);
        let mut store = VersionedStore::default();
        for version in 1..=100u64 {
            store.record(&key, version, OwnedValue::from(version));
            let oldest = version.saturating_sub(31);
            for seen in oldest..=version {
                let expected = if seen == 0 {
                    None
                } else {
                    Some(OwnedValue::from(seen))
                };
                assert_eq!(store.get(&key, seen).cloned(), expected);
            }
            assert!(store.history.get(&key).map_or(0, Vec::len) <= 33);
        }
    }
}
