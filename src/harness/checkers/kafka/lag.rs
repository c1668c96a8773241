//! `:worst-realtime-lag`, exactly as `jepsen.tests.kafka` computes it (`realtime-lag`,
//! `worst-realtime-lag`, and the checker's `nanos->secs` on `:time` and `:lag`).
//!
//! For each key, `expired[i]` is the first time (completion time, history order) at which
//! some `ok`/`info` op showed an offset ≥ i of that key: from then on, offset i − 1 was no
//! longer the tail of the log. Each `ok` poll then yields, for every key the polling
//! process tracks, a lag = max(0, poll invocation time − expired[its offset + 1]) (0 when
//! no later offset was ever known). The worst is the first lag with the greatest value, in
//! history order and, within a poll, in the order Clojure iterates the process's map of
//! keys (see [`Offsets`]). `{:time 0.0, :lag 0.0}` when there is no poll at all.
//!
//! Jepsen fills a vector up to the highest offset; offsets come from the node under test
//! and may be huge, so each key keeps only the steps of that (monotone) vector instead.

use ahash::AHashMap;
use simd_json::OwnedValue;

use super::{key_id, micro};
use crate::harness::checkers::txn::ids::Ids;
use crate::harness::checkers::value::{as_int, clj_string_trie_position, obj};
use crate::harness::history::{Op, OpType, Process};

/// One key's `expired` vector as steps: `(offset, time)` with offsets strictly increasing;
/// indexes up to `offset` (and above the previous step's) expired at `time`.
#[derive(Default)]
struct Expired(Vec<(i128, u64)>);

impl Expired {
    /// Jepsen zips back from `offset`, stamping `time` until it meets a stamped index; the
    /// stamped indexes are always a prefix, so only a new highest offset adds a step.
    fn know(&mut self, offset: i128, time: u64) {
        if offset >= 0 && self.0.last().is_none_or(|&(top, _)| offset > top) {
            self.0.push((offset, time));
        }
    }

    /// When index `i` expired (`None`: never, Jepsen's `##Inf`).
    fn at(&self, i: i128) -> Option<u64> {
        let step = self.0.partition_point(|&(offset, _)| offset < i);
        self.0.get(step).map(|&(_, time)| time)
    }
}

/// Entries a Clojure array map holds; one more makes it a hash map.
const ARRAY_MAP_MAX: usize = 8;

/// A Clojure map of keys (ids) to offsets, iterated in Clojure's order: insertion order
/// while it is an array map (up to 8 entries), hash-trie order once it grew into a hash map
/// (it stays one). Which key comes first decides the worst lag among equal ones. A hash
/// map's entries are kept sorted, re-sorted only when a key was added since: sorting a
/// copy at every poll was most of this module's time.
#[derive(Clone, Default)]
struct Offsets {
    entries: Vec<(usize, i128)>,
    /// key → its position in `entries` (histories may hold many keys).
    index: AHashMap<usize, usize>,
    hashed: bool,
    /// Whether `entries` is in Clojure's order (always, while not `hashed`).
    sorted: bool,
}

impl Offsets {
    fn merge_max(&mut self, key: usize, offset: i128) {
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = self.entries[i].1.max(offset),
            None => {
                self.hashed |= self.entries.len() >= ARRAY_MAP_MAX;
                self.sorted = !self.hashed;
                self.index.insert(key, self.entries.len());
                self.entries.push((key, offset));
            }
        }
    }

    fn get(&self, key: usize) -> Option<i128> {
        self.index.get(&key).map(|&i| self.entries[i].1)
    }

    /// The entries in Clojure's iteration order; `positions` are the keys' trie positions
    /// (by key id). The sort is stable and the entries were sorted before the new keys were
    /// appended, so equal positions keep insertion order, as in Clojure.
    fn in_order(&mut self, positions: &[[u32; 7]]) -> &[(usize, i128)] {
        if !self.sorted {
            self.entries
                .sort_by_key(|&(k, _)| positions.get(k).copied());
            for (i, &(k, _)) in self.entries.iter().enumerate() {
                self.index.insert(k, i);
            }
            self.sorted = true;
        }
        &self.entries
    }
}

/// Jepsen's `op->max-offsets`: per key, the highest offset an `ok`/`info` send or poll
/// shows (a poll that returned nothing for a key counts as -1). A poll lists each key once.
fn max_offsets(op: &Op, keys: &mut Ids<String>) -> Vec<(usize, i128)> {
    let mut out = Vec::new();
    if !matches!(op.op_type, OpType::Ok | OpType::Info) {
        return out;
    }
    let Some(m) = micro(op) else { return out };
    match (op.f.as_str(), m.get(1), m.get(2)) {
        ("poll", Some(OwnedValue::Object(msgs)), _) => {
            for (k, pairs) in msgs.iter() {
                let highest = match pairs {
                    OwnedValue::Array(pairs) => pairs
                        .iter()
                        .filter_map(|p| match p {
                            OwnedValue::Array(ov) => ov.first().and_then(as_int),
                            _ => None,
                        })
                        .fold(-1, i128::max),
                    _ => -1,
                };
                out.push((keys.id_of(k.as_str()), highest));
            }
        }
        ("send", Some(k), Some(OwnedValue::Array(ov))) => {
            if let Some(offset) = ov.first().and_then(as_int) {
                out.push((key_id(keys, k), offset));
            }
        }
        _ => {}
    }
    out
}

/// One lag sample: (invocation time, process, key id, lag), nanoseconds.
type Lag = (u64, u64, usize, u64);

/// The `:worst-realtime-lag` map for client ops `ops` (history order); `keys` are the
/// checker's key ids (keys only an `assign` names are added).
pub(super) fn worst_realtime_lag(ops: &[&Op], keys: &mut Ids<String>) -> OwnedValue {
    // Each op's max offsets, read once for both passes.
    let maxes: Vec<Vec<(usize, i128)>> = ops.iter().map(|op| max_offsets(op, keys)).collect();
    let mut expired: Vec<Expired> = Vec::new();
    for (op, max) in ops.iter().zip(&maxes) {
        for &(k, offset) in max {
            if expired.len() <= k {
                expired.resize_with(k + 1, Expired::default);
            }
            expired[k].know(offset, op.time_ns);
        }
    }
    let worst = worst_lag(ops, &maxes, &expired, keys);
    let secs = |ns: u64| OwnedValue::from(ns as f64 / 1e9);
    match worst {
        Some((time, process, key, lag)) => obj([
            ("time", secs(time)),
            ("process", OwnedValue::from(process)),
            (
                "key",
                OwnedValue::from(keys.item(key).cloned().unwrap_or_default()),
            ),
            ("lag", secs(lag)),
        ]),
        None => obj([("time", secs(0)), ("lag", secs(0))]),
    }
}

/// The first of the greatest of every `ok` poll's lags per tracked key, in Jepsen's order.
/// `maxes` are the ops' max offsets.
fn worst_lag(
    ops: &[&Op],
    maxes: &[Vec<(usize, i128)>],
    expired: &[Expired],
    keys: &mut Ids<String>,
) -> Option<Lag> {
    // Every key an assign names gets its id first, so the keys' trie positions are known.
    for op in ops {
        if let ("assign", OpType::Ok, OwnedValue::Array(ks)) =
            (op.f.as_str(), op.op_type, &op.value)
        {
            for k in ks.iter() {
                key_id(keys, k);
            }
        }
    }
    let positions: Vec<[u32; 7]> = (0..keys.len())
        .map(|k| clj_string_trie_position(keys.item(k).map_or("", String::as_str)))
        .collect();
    let mut invoked: AHashMap<Process, u64> = AHashMap::new();
    let mut tracked: AHashMap<Process, Offsets> = AHashMap::new();
    let mut worst: Option<Lag> = None;
    for (op, max) in ops.iter().zip(maxes) {
        if op.op_type == OpType::Invoke {
            invoked.insert(op.process, op.time_ns);
            continue;
        }
        let invoke_time = invoked.remove(&op.process);
        let (OpType::Ok, Process::Client(p)) = (op.op_type, op.process) else {
            continue;
        };
        match op.f.as_str() {
            "assign" => {
                let old = tracked.remove(&op.process).unwrap_or_default();
                let mut new = Offsets::default();
                if let OwnedValue::Array(ks) = &op.value {
                    for k in ks.iter() {
                        let k = key_id(keys, k);
                        if new.get(k).is_none() {
                            let offset = old.get(k).unwrap_or(-1);
                            new.merge_max(k, offset);
                        }
                    }
                }
                tracked.insert(op.process, new);
            }
            "subscribe" => {
                tracked.insert(op.process, Offsets::default());
            }
            "poll" => {
                let Some(invoke_time) = invoke_time else {
                    continue;
                };
                let offsets = tracked.entry(op.process).or_default();
                for &(k, o) in max {
                    offsets.merge_max(k, o);
                }
                for &(k, offset) in offsets.in_order(&positions) {
                    let lag = expired
                        .get(k)
                        .and_then(|e| e.at(offset + 1))
                        .map_or(0, |at| invoke_time.saturating_sub(at));
                    if worst.is_none_or(|w| lag > w.3) {
                        worst = Some((invoke_time, p, k, lag));
                    }
                }
            }
            _ => {}
        }
    }
    worst
}
