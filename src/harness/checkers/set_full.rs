//! Jepsen's `set-full` checker, used by broadcast (with `broadcast` renamed `add`) and g-set
//! (MAELSTROM.md §3.3, §3.4).
//!
//! One record per element, created when its add is invoked:
//! * `known`: the add's `ok` completion, or the completion of the first `ok` read that
//!   contained it, whichever comes first;
//! * `last_present` / `last_absent`: the invocation of the latest-invoked `ok` read that
//!   did / did not contain it.
//!
//! Every `ok` read updates every element whose add was invoked before the read completed.

use std::cmp::Ordering;

use simd_json::OwnedValue;

use super::value::{arr, as_int, clj_cmp, identity_key, null, obj, op_value, quantiles};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType, Process};

/// How many stale elements `worst-stale` details (Jepsen's `(take 8)`).
const WORST_STALE_SHOWN: usize = 8;

/// The set-full checker. `rename_from` names the workload's add function (`broadcast`),
/// which set-full calls `add`; ops shown in the result carry the renamed `f`, as in
/// Maelstrom's results.
///
/// Stricter than Jepsen in one respect: a read that returns a value no add had been invoked
/// for (before the read completed) is fabricated data. Jepsen silently ignores such values;
/// we list them under `unexpected` / `unexpected-count` (keys present only when non-empty,
/// so healthy results stay identical to Maelstrom's) and call the result invalid.
pub struct SetFull {
    /// The history's name for `add`, if it differs.
    pub rename_from: Option<&'static str>,
}

struct Element<'a> {
    value: &'a OwnedValue,
    known: Option<&'a Op>,
    last_present: Option<&'a Op>,
    last_absent: Option<&'a Op>,
}

/// Per-element outcome, as `set-full-element-results` computes it.
struct Outcome<'a> {
    element: &'a Element<'a>,
    outcome: &'static str,
    stable_latency: Option<u64>,
    lost_latency: Option<u64>,
}

/// Dense ids for values under Clojure equality; integers (the usual elements) are looked up
/// without building a key string.
#[derive(Default)]
struct Ids {
    ints: ahash::AHashMap<i128, usize>,
    others: ahash::AHashMap<String, usize>,
}

impl Ids {
    fn get(&self, v: &OwnedValue) -> Option<usize> {
        match as_int(v) {
            Some(i) => self.ints.get(&i).copied(),
            None => self.others.get(&identity_key(v)).copied(),
        }
    }

    fn insert(&mut self, v: &OwnedValue, id: usize) {
        match as_int(v) {
            Some(i) => self.ints.insert(i, id),
            None => self.others.insert(identity_key(v), id),
        };
    }
}

fn later(candidate: &Op, current: Option<&Op>) -> bool {
    current.is_none_or(|c| c.index < candidate.index)
}

impl SetFull {
    fn is_add(&self, f: &str) -> bool {
        f == self.rename_from.unwrap_or("add")
    }

    fn show(&self, op: &Op) -> OwnedValue {
        op_value(op, self.is_add(&op.f).then_some("add"))
    }

    /// Walks the history and builds the element records, in add-invocation order.
    /// Also returns the *unexpected* values: read by an `ok` read although no add of them
    /// had been invoked before that read completed (Jepsen ignores these; see [`SetFull`]).
    ///
    /// Every `ok` read touches every element (as in Jepsen), so the per-read work is kept
    /// to flag tests: values map to dense ids without allocating for integers.
    fn elements<'a>(
        &self,
        ops: &[&'a Op],
    ) -> Result<(Vec<Element<'a>>, Vec<&'a OwnedValue>), String> {
        let mut unexpected: Vec<&'a OwnedValue> = Vec::new();
        let mut unexpected_ids = Ids::default();
        let mut ids = Ids::default();
        let mut elements: Vec<Element<'a>> = Vec::new();
        let mut open: ahash::AHashMap<Process, &'a Op> = ahash::AHashMap::new();
        let mut present: Vec<bool> = Vec::new();
        let mut marked: Vec<usize> = Vec::new();
        for &op in ops {
            if op.op_type == OpType::Invoke {
                open.insert(op.process, op);
            }
            if self.is_add(&op.f) {
                if op.op_type == OpType::Invoke {
                    let fresh = Element {
                        value: &op.value,
                        known: None,
                        last_present: None,
                        last_absent: None,
                    };
                    match ids.get(&op.value) {
                        Some(slot) => elements[slot] = fresh,
                        None => {
                            ids.insert(&op.value, elements.len());
                            elements.push(fresh);
                            present.push(false);
                        }
                    }
                } else if op.op_type == OpType::Ok
                    && let Some(e) = ids.get(&op.value).map(|slot| &mut elements[slot])
                {
                    e.known = e.known.or(Some(op));
                }
            } else if op.f == "read" && op.op_type == OpType::Ok {
                let Some(invoke) = open.get(&op.process).copied() else {
                    continue;
                };
                let items: &[OwnedValue] = match &op.value {
                    OwnedValue::Array(items) => items,
                    OwnedValue::Static(simd_json::StaticNode::Null) => &[],
                    other => return Err(format!("read value is not a collection: {other:?}")),
                };
                for item in items {
                    match ids.get(item) {
                        Some(id) => {
                            present[id] = true;
                            marked.push(id);
                        }
                        None if unexpected_ids.get(item).is_none() => {
                            unexpected_ids.insert(item, unexpected.len());
                            unexpected.push(item);
                        }
                        None => {}
                    }
                }
                for (e, &here) in elements.iter_mut().zip(present.iter()) {
                    if here {
                        e.known = e.known.or(Some(op));
                        if later(invoke, e.last_present) {
                            e.last_present = Some(invoke);
                        }
                    } else if later(invoke, e.last_absent) {
                        e.last_absent = Some(invoke);
                    }
                }
                for id in marked.drain(..) {
                    present[id] = false;
                }
            }
            if op.op_type != OpType::Invoke {
                open.remove(&op.process);
            }
        }
        Ok((elements, unexpected))
    }
}

fn outcome<'a>(e: &'a Element<'a>) -> Outcome<'a> {
    let idx = |op: Option<&Op>| op.map_or(-1, |o| o.index as i128);
    let stable = e.last_present.is_some() && idx(e.last_absent) < idx(e.last_present);
    let lost = e.known.is_some()
        && e.last_absent.is_some()
        && idx(e.last_present) < idx(e.last_absent)
        && idx(e.known) < idx(e.last_absent);
    let known_time = e.known.map_or(0, |k| k.time_ns);
    // Jepsen: (max 0 (- (inc t) known-time)) in ns, then truncated to ms.
    let latency = |edge: Option<&Op>| {
        let edge_time = edge.map_or(0, |o| o.time_ns.saturating_add(1));
        edge_time.saturating_sub(known_time) / 1_000_000
    };
    Outcome {
        element: e,
        outcome: if stable {
            "stable"
        } else if lost {
            "lost"
        } else {
            "never-read"
        },
        stable_latency: stable.then(|| latency(e.last_absent)),
        lost_latency: (lost && !stable).then(|| latency(e.last_present)),
    }
}

fn sorted_values(outcomes: &[&Outcome]) -> OwnedValue {
    arr(outcomes.iter().map(|o| o.element.value.clone()).collect())
}

impl Checker for SetFull {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let ops: Vec<&Op> = input.history.client_ops().collect();
        let (mut elements, mut unexpected) = self.elements(&ops)?;
        let mut failure = None;
        elements.sort_by(|a, b| {
            clj_cmp(a.value, b.value).unwrap_or_else(|e| {
                failure = Some(e);
                Ordering::Equal
            })
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let results: Vec<Outcome> = elements.iter().map(outcome).collect();
        let of = |kind: &str| {
            results
                .iter()
                .filter(|r| r.outcome == kind)
                .collect::<Vec<_>>()
        };
        let (stable, lost, never_read) = (of("stable"), of("lost"), of("never-read"));
        let stale: Vec<&Outcome> = stable
            .iter()
            .copied()
            .filter(|r| r.stable_latency.unwrap_or(0) > 0)
            .collect();
        // Jepsen: (->> stale (sort-by :stable-latency) reverse (take 8)); a stable sort then
        // a reversal puts ties in descending element order.
        let mut worst = stale.clone();
        worst.sort_by_key(|r| r.stable_latency);
        worst.reverse();
        worst.truncate(WORST_STALE_SHOWN);
        let worst_stale = worst
            .iter()
            .map(|r| {
                obj([
                    ("element", r.element.value.clone()),
                    ("outcome", OwnedValue::from(r.outcome)),
                    (
                        "stable-latency",
                        r.stable_latency.map_or_else(null, OwnedValue::from),
                    ),
                    (
                        "lost-latency",
                        r.lost_latency.map_or_else(null, OwnedValue::from),
                    ),
                    ("known", r.element.known.map_or_else(null, |o| self.show(o))),
                    (
                        "last-absent",
                        r.element.last_absent.map_or_else(null, |o| self.show(o)),
                    ),
                ])
            })
            .collect();
        let valid = if !lost.is_empty() || !unexpected.is_empty() {
            Validity::Invalid
        } else if stable.is_empty() {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        let stable_latencies: Vec<u64> = results.iter().filter_map(|r| r.stable_latency).collect();
        let lost_latencies: Vec<u64> = results.iter().filter_map(|r| r.lost_latency).collect();
        let mut pairs = vec![
            ("worst-stale", arr(worst_stale)),
            ("duplicated-count", OwnedValue::from(0u64)),
            ("valid?", valid.to_value()),
            ("lost-count", OwnedValue::from(lost.len())),
            ("lost", sorted_values(&lost)),
            ("stable-count", OwnedValue::from(stable.len())),
            ("stale-count", OwnedValue::from(stale.len())),
            ("stale", sorted_values(&stale)),
            ("never-read-count", OwnedValue::from(never_read.len())),
            ("attempt-count", OwnedValue::from(results.len())),
            ("never-read", sorted_values(&never_read)),
            ("duplicated", obj::<String>([])),
        ];
        if !unexpected.is_empty() {
            unexpected.sort_by(|a, b| clj_cmp(a, b).unwrap_or(Ordering::Equal));
            pairs.push(("unexpected-count", OwnedValue::from(unexpected.len())));
            pairs.push(("unexpected", arr(unexpected.into_iter().cloned().collect())));
        }
        if let Some(q) = quantiles(&stable_latencies) {
            pairs.push(("stable-latencies", q));
        }
        if let Some(q) = quantiles(&lost_latencies) {
            pairs.push(("lost-latencies", q));
        }
        Ok(obj(pairs))
    }
}
