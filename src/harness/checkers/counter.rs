//! The g-counter / pn-counter checker (MAELSTROM.md §3.5): every final `ok` read must lie
//! in the set of sums the `ok` adds plus any subset of the indeterminate adds can make.

use simd_json::OwnedValue;

use super::value::{arr, as_int, null, obj, op_value};
use super::{CheckInput, Checker};
use crate::harness::history::OpType;

/// Upper bound on the number of disjoint intervals kept; beyond it the analysis gives up
/// (unknown) rather than exhausting memory on adversarial deltas.
const MAX_INTERVALS: usize = 1 << 16;

/// Maelstrom's `pn-counter/checker` (shared by g-counter).
pub struct Counter;

/// A union of disjoint closed integer intervals `[lo, hi]`, sorted, with adjacent integers
/// merged — what Maelstrom builds with a Guava `TreeRangeSet` of open ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptable {
    intervals: Vec<(i128, i128)>,
}

impl Acceptable {
    /// The set `{sum}`.
    pub fn new(sum: i128) -> Acceptable {
        Acceptable {
            intervals: vec![(sum, sum)],
        }
    }

    /// `A ∪ (A + delta)`: the indeterminate add of `delta` may or may not have happened.
    pub fn widen(&mut self, delta: i128) -> Result<(), String> {
        let mut all = self.intervals.clone();
        all.extend(
            self.intervals
                .iter()
                .map(|&(lo, hi)| (lo + delta, hi + delta)),
        );
        all.sort_unstable();
        let mut merged: Vec<(i128, i128)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match merged.last_mut() {
                Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        if merged.len() > MAX_INTERVALS {
            return Err(format!("acceptable set exceeds {MAX_INTERVALS} intervals"));
        }
        self.intervals = merged;
        Ok(())
    }

    /// Membership.
    pub fn contains(&self, x: i128) -> bool {
        self.intervals.iter().any(|&(lo, hi)| lo <= x && x <= hi)
    }

    /// The closed intervals, ascending.
    pub fn intervals(&self) -> &[(i128, i128)] {
        &self.intervals
    }
}

fn int_value(x: i128) -> OwnedValue {
    match i64::try_from(x) {
        Ok(i) => OwnedValue::from(i),
        Err(_) => OwnedValue::from(x as f64),
    }
}

impl Checker for Counter {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let adds = || input.history.client_ops().filter(|op| op.f == "add");
        let delta =
            |v: &OwnedValue| as_int(v).ok_or_else(|| format!("add delta is not an integer: {v:?}"));
        let mut sum: i128 = 0;
        for op in adds().filter(|op| op.op_type == OpType::Ok) {
            sum += delta(&op.value)?;
        }
        let mut acceptable = Acceptable::new(sum);
        for op in adds().filter(|op| op.op_type == OpType::Info) {
            acceptable.widen(delta(&op.value)?)?;
        }
        let reads: Vec<_> = input
            .history
            .client_ops()
            .filter(|op| op.is_final && op.op_type == OpType::Ok)
            .collect();
        let mut errors = Vec::new();
        let mut finals = Vec::new();
        for read in &reads {
            let value = as_int(&read.value)
                .ok_or_else(|| format!("final read is not an integer: {:?}", read.value))?;
            if !acceptable.contains(value) {
                errors.push(op_value(read, None));
            }
            finals.push(read.value.clone());
        }
        let intervals = acceptable
            .intervals()
            .iter()
            .map(|&(lo, hi)| arr(vec![int_value(lo), int_value(hi)]))
            .collect();
        Ok(obj([
            ("valid?", OwnedValue::from(errors.is_empty())),
            (
                "errors",
                if errors.is_empty() {
                    null()
                } else {
                    arr(errors)
                },
            ),
            ("final-reads", arr(finals)),
            ("acceptable", arr(intervals)),
        ]))
    }
}
