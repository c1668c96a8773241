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

use super::value::{arr, as_int, clj_cmp, data_key, identity_key, null, obj, op_value, quantiles};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType, Process};

/// How many stale elements `worst-stale` details (Jepsen's `(take 8)`).
const WORST_STALE_SHOWN: usize = 8;

/// The set-full checker. `rename_from` names the workload's add function (`broadcast`),
/// which set-full calls `add`; ops shown in the result carry the renamed `f`, as in
/// Maelstrom's results.
///
/// Stricter than Maelstrom in two respects:
/// * a read that returns a value no add had been invoked for (before the read completed)
///   is fabricated data. Jepsen silently ignores such values; we list them under
///   `unexpected` / `unexpected-count` (keys present only when non-empty, so healthy
///   results stay identical to Maelstrom's) and call the result invalid;
/// * a read that returns a value more than once is reported as Jepsen's `set-full` means
///   to: `duplicated` maps each such value to the most copies one read held,
///   `duplicated-count` counts them, and the result is invalid. (Jepsen 0.3.7's filter
///   keeps frequencies below 1, so Maelstrom always shows 0 and `{}`: MAELSTROM.md §3.3.)
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

/// Values mapped to dense ids, each with a per-read copy count (reset after every read).
#[derive(Default)]
struct Counted<'a> {
    ids: Ids,
    values: Vec<&'a OwnedValue>,
    copies: Vec<u32>,
    /// Ids counted in the current read.
    marked: Vec<usize>,
}

impl<'a> Counted<'a> {
    /// The id of `value`, registering it if it is new.
    fn id(&mut self, value: &'a OwnedValue) -> usize {
        match self.ids.get(value) {
            Some(id) => id,
            None => {
                let id = self.values.len();
                self.ids.insert(value, id);
                self.values.push(value);
                self.copies.push(0);
                id
            }
        }
    }

    /// Counts one copy of `id` in the current read.
    fn count(&mut self, id: usize) {
        if self.copies[id] == 0 {
            self.marked.push(id);
        }
        self.copies[id] += 1;
    }

    /// Ends a read: reports every value it held more than once, then resets the counts.
    fn end_read(&mut self, mut duplicated: impl FnMut(&'a OwnedValue, u32)) {
        for id in self.marked.drain(..) {
            if self.copies[id] > 1 {
                duplicated(self.values[id], self.copies[id]);
            }
            self.copies[id] = 0;
        }
    }
}

/// What the walk over the history finds: one record per element (in add-invocation order),
/// the *unexpected* values, and the *duplicated* ones.
struct Walk<'a> {
    elements: Vec<Element<'a>>,
    /// Element ids, with copy counts for the read being processed.
    added: Counted<'a>,
    /// Values read although no add of them had been invoked before that read completed
    /// (Jepsen ignores these; see [`SetFull`]).
    unexpected: Counted<'a>,
    /// Values some `ok` read returned more than once → the most copies one read held
    /// (Jepsen's `:duplicated`).
    duplicated: Vec<(&'a OwnedValue, u32)>,
    duplicated_ids: Ids,
}

impl<'a> Walk<'a> {
    fn add_invoked(&mut self, op: &'a Op) {
        let fresh = Element {
            value: &op.value,
            known: None,
            last_present: None,
            last_absent: None,
        };
        let id = self.added.id(&op.value);
        if id == self.elements.len() {
            self.elements.push(fresh);
        } else {
            self.elements[id] = fresh;
        }
    }

    fn add_ok(&mut self, op: &'a Op) {
        if let Some(e) = self
            .added
            .ids
            .get(&op.value)
            .map(|id| &mut self.elements[id])
        {
            e.known = e.known.or(Some(op));
        }
    }

    /// An `ok` read (`invoke` its invocation): every element is present or absent in it.
    /// Every `ok` read touches every element (as in Jepsen), so the per-element work is
    /// kept to a counter test: values map to dense ids without allocating for integers.
    fn read_ok(&mut self, invoke: &'a Op, op: &'a Op) -> Result<(), String> {
        let items: &'a [OwnedValue] = match &op.value {
            OwnedValue::Array(items) => items,
            OwnedValue::Static(simd_json::StaticNode::Null) => &[],
            other => return Err(format!("read value is not a collection: {other:?}")),
        };
        for item in items {
            match self.added.ids.get(item) {
                Some(id) => self.added.count(id),
                None => {
                    let id = self.unexpected.id(item);
                    self.unexpected.count(id);
                }
            }
        }
        for (e, &copies) in self.elements.iter_mut().zip(self.added.copies.iter()) {
            if copies > 0 {
                e.known = e.known.or(Some(op));
                if later(invoke, e.last_present) {
                    e.last_present = Some(invoke);
                }
            } else if later(invoke, e.last_absent) {
                e.last_absent = Some(invoke);
            }
        }
        let (duplicated, duplicated_ids) = (&mut self.duplicated, &mut self.duplicated_ids);
        let mut note = |value: &'a OwnedValue, copies: u32| match duplicated_ids.get(value) {
            Some(slot) => duplicated[slot].1 = duplicated[slot].1.max(copies),
            None => {
                duplicated_ids.insert(value, duplicated.len());
                duplicated.push((value, copies));
            }
        };
        self.added.end_read(&mut note);
        self.unexpected.end_read(&mut note);
        Ok(())
    }
}

impl SetFull {
    fn is_add(&self, f: &str) -> bool {
        f == self.rename_from.unwrap_or("add")
    }

    fn show(&self, op: &Op) -> OwnedValue {
        op_value(op, self.is_add(&op.f).then_some("add"))
    }

    /// Walks the history (client ops) in order.
    fn walk<'a>(&self, ops: &[&'a Op]) -> Result<Walk<'a>, String> {
        let mut walk = Walk {
            elements: Vec::new(),
            added: Counted::default(),
            unexpected: Counted::default(),
            duplicated: Vec::new(),
            duplicated_ids: Ids::default(),
        };
        let mut open: ahash::AHashMap<Process, &'a Op> = ahash::AHashMap::new();
        for &op in ops {
            if op.op_type == OpType::Invoke {
                open.insert(op.process, op);
            }
            if self.is_add(&op.f) {
                match op.op_type {
                    OpType::Invoke => walk.add_invoked(op),
                    OpType::Ok => walk.add_ok(op),
                    _ => {}
                }
            } else if op.f == "read"
                && op.op_type == OpType::Ok
                && let Some(invoke) = open.get(&op.process).copied()
            {
                walk.read_ok(invoke, op)?;
            }
            if op.op_type != OpType::Invoke {
                open.remove(&op.process);
            }
        }
        Ok(walk)
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

/// Sorts by Clojure `compare` of `value(item)`; values that cannot be compared are an error
/// (Jepsen's sort throws).
fn sort_by_value<T>(items: &mut [T], value: impl Fn(&T) -> &OwnedValue) -> Result<(), String> {
    let mut failure = None;
    items.sort_by(|a, b| {
        clj_cmp(value(a), value(b)).unwrap_or_else(|e| {
            failure = Some(e);
            Ordering::Equal
        })
    });
    failure.map_or(Ok(()), Err)
}

impl SetFull {
    /// Jepsen's `:worst-stale`: the stale elements with the highest stable latency.
    fn worst_stale(&self, stale: &[&Outcome]) -> OwnedValue {
        // Jepsen: (->> stale (sort-by :stable-latency) reverse (take 8)); a stable sort then
        // a reversal puts ties in descending element order.
        let mut worst = stale.to_vec();
        worst.sort_by_key(|r| r.stable_latency);
        worst.reverse();
        worst.truncate(WORST_STALE_SHOWN);
        let show = |op: Option<&Op>| op.map_or_else(null, |o| self.show(o));
        let latency = |l: Option<u64>| l.map_or_else(null, OwnedValue::from);
        arr(worst
            .iter()
            .map(|r| {
                obj([
                    ("element", r.element.value.clone()),
                    ("outcome", OwnedValue::from(r.outcome)),
                    ("stable-latency", latency(r.stable_latency)),
                    ("lost-latency", latency(r.lost_latency)),
                    ("known", show(r.element.known)),
                    ("last-absent", show(r.element.last_absent)),
                ])
            })
            .collect())
    }
}

impl Checker for SetFull {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let ops: Vec<&Op> = input.history.client_ops().collect();
        let mut walk = self.walk(&ops)?;
        sort_by_value(&mut walk.elements, |e| e.value)?;
        // Values read but never added may be of any kind: listed in order where comparable,
        // never an error (an error would turn an invalid result into an unknown one).
        let lenient = |a: &OwnedValue, b: &OwnedValue| clj_cmp(a, b).unwrap_or(Ordering::Equal);
        walk.duplicated.sort_by(|a, b| lenient(a.0, b.0));
        let mut unexpected = walk.unexpected.values;
        unexpected.sort_by(|a, b| lenient(a, b));
        let results: Vec<Outcome> = walk.elements.iter().map(outcome).collect();
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
        let valid = if !lost.is_empty() || !unexpected.is_empty() || !walk.duplicated.is_empty() {
            Validity::Invalid
        } else if stable.is_empty() {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        let stable_latencies: Vec<u64> = results.iter().filter_map(|r| r.stable_latency).collect();
        let lost_latencies: Vec<u64> = results.iter().filter_map(|r| r.lost_latency).collect();
        let duplicated = walk
            .duplicated
            .iter()
            .map(|(v, copies)| (data_key(v), OwnedValue::from(*copies)));
        let mut pairs = vec![
            ("worst-stale", self.worst_stale(&stale)),
            ("duplicated-count", OwnedValue::from(walk.duplicated.len())),
            ("valid?", valid.to_value()),
            ("lost-count", OwnedValue::from(lost.len())),
            ("lost", sorted_values(&lost)),
            ("stable-count", OwnedValue::from(stable.len())),
            ("stale-count", OwnedValue::from(stale.len())),
            ("stale", sorted_values(&stale)),
            ("never-read-count", OwnedValue::from(never_read.len())),
            ("attempt-count", OwnedValue::from(results.len())),
            ("never-read", sorted_values(&never_read)),
            ("duplicated", obj(duplicated)),
        ];
        if !unexpected.is_empty() {
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
