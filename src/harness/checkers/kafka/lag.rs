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

use super::{key_of, micro};
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

/// A Clojure map of keys to offsets, iterated in Clojure's order: insertion order while it
/// is an array map (up to 8 entries), hash-trie order once it grew into a hash map (it
/// stays one). Which key comes first decides the worst lag among equal ones.
#[derive(Clone, Default)]
struct Offsets {
    entries: Vec<(String, i128)>,
    /// key → its position in `entries` (histories may hold many keys).
    index: AHashMap<String, usize>,
    hashed: bool,
}

impl Offsets {
    fn merge_max(&mut self, key: &str, offset: i128) {
        match self.index.get(key) {
            Some(&i) => self.entries[i].1 = self.entries[i].1.max(offset),
            None => {
                self.hashed |= self.entries.len() >= ARRAY_MAP_MAX;
                self.index.insert(key.to_string(), self.entries.len());
                self.entries.push((key.to_string(), offset));
            }
        }
    }

    fn get(&self, key: &str) -> Option<i128> {
        self.index.get(key).map(|&i| self.entries[i].1)
    }

    /// The entries in Clojure's iteration order.
    fn in_order(&self) -> Vec<(String, i128)> {
        let mut entries = self.entries.clone();
        if self.hashed {
            entries.sort_by_cached_key(|(k, _)| clj_string_trie_position(k));
        }
        entries
    }
}

/// Jepsen's `op->max-offsets`: per key, the highest offset an `ok`/`info` send or poll
/// shows (a poll that returned nothing for a key counts as -1).
fn max_offsets(op: &Op) -> Offsets {
    let mut out = Offsets::default();
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
                out.merge_max(k, highest);
            }
        }
        ("send", Some(k), Some(OwnedValue::Array(ov))) => {
            if let Some(offset) = ov.first().and_then(as_int) {
                out.merge_max(&key_of(k), offset);
            }
        }
        _ => {}
    }
    out
}

/// One lag sample: (invocation time, process, key, lag), nanoseconds.
type Lag = (u64, u64, String, u64);

/// The `:worst-realtime-lag` map for client ops `ops` (history order).
pub(super) fn worst_realtime_lag(ops: &[&Op]) -> OwnedValue {
    let mut expired: AHashMap<String, Expired> = AHashMap::new();
    for op in ops {
        for (k, offset) in max_offsets(op).entries {
            expired.entry(k).or_default().know(offset, op.time_ns);
        }
    }
    let worst = lags(ops, &expired)
        .into_iter()
        .fold(None, |best: Option<Lag>, l| match &best {
            Some(b) if b.3 >= l.3 => best,
            _ => Some(l),
        });
    let secs = |ns: u64| OwnedValue::from(ns as f64 / 1e9);
    match worst {
        Some((time, process, key, lag)) => obj([
            ("time", secs(time)),
            ("process", OwnedValue::from(process)),
            ("key", OwnedValue::from(key)),
            ("lag", secs(lag)),
        ]),
        None => obj([("time", secs(0)), ("lag", secs(0))]),
    }
}

/// Every `ok` poll's lag per tracked key, in Jepsen's order.
fn lags(ops: &[&Op], expired: &AHashMap<String, Expired>) -> Vec<Lag> {
    let mut invoked: AHashMap<Process, u64> = AHashMap::new();
    let mut tracked: AHashMap<Process, Offsets> = AHashMap::new();
    let mut out = Vec::new();
    for op in ops {
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
                if let OwnedValue::Array(keys) = &op.value {
                    for k in keys.iter().map(key_of) {
                        if new.get(&k).is_none() {
                            let offset = old.get(&k).unwrap_or(-1);
                            new.merge_max(&k, offset);
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
                for (k, o) in max_offsets(op).entries {
                    offsets.merge_max(&k, o);
                }
                for (k, offset) in offsets.in_order() {
                    let lag = expired
                        .get(&k)
                        .and_then(|e| e.at(offset + 1))
                        .map_or(0, |at| invoke_time.saturating_sub(at));
                    out.push((invoke_time, p, k, lag));
                }
            }
            _ => {}
        }
    }
    out
}
