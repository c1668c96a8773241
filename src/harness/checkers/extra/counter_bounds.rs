//! Counter bounds shared by `unwritten-reads` and `monotonic-reads` (g-counter,
//! pn-counter): which adds could have been applied by the time a read finished.
//!
//! `unwritten-reads`: every `ok` read, final or not, shows a value some set of the adds
//! invoked before the read finished (failed ones excluded) could sum to — at least the sum
//! of their negative deltas, at most the sum of their positive ones. Maelstrom's counter
//! checker looks at final reads only, so a node may invent any count mid-run (a negative
//! g-counter, more than was ever added) and pass.

use simd_json::OwnedValue;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::as_int;
use crate::harness::history::{Op, OpType};

/// Prefix sums of the possible adds by invocation time.
pub struct PossibleAdds {
    /// (invocation's history index, running sum of negatives, running sum of positives).
    /// History order, not time: ops at one nanosecond are still ordered (the simulator
    /// completes and invokes several ops at one instant).
    running: Vec<(u64, i128, i128)>,
}

impl PossibleAdds {
    /// Every add not known to have failed.
    pub fn new(input: &ExtraInput) -> PossibleAdds {
        let mut adds: Vec<(u64, i128)> = input
            .history
            .pairs()
            .into_iter()
            .filter(|(invoke, done)| {
                invoke.f == "add" && done.is_none_or(|d| d.op_type != OpType::Fail)
            })
            .filter_map(|(invoke, _)| Some((invoke.index, as_int(&invoke.value)?)))
            .collect();
        adds.sort_by_key(|(index, _)| *index);
        let (mut negative, mut positive) = (0i128, 0i128);
        let running = adds
            .into_iter()
            .map(|(time, delta)| {
                if delta < 0 {
                    negative += delta;
                } else {
                    positive += delta;
                }
                (time, negative, positive)
            })
            .collect();
        PossibleAdds { running }
    }

    /// (sum of negatives, sum of positives) of the adds invoked before history index `index`.
    pub fn before(&self, index: u64) -> (i128, i128) {
        let n = self.running.partition_point(|(i, _, _)| *i < index);
        n.checked_sub(1)
            .and_then(|i| self.running.get(i))
            .map_or((0, 0), |&(_, neg, pos)| (neg, pos))
    }
}

/// Reads outside what the adds invoked before they finished could sum to.
pub fn unwritten(input: &ExtraInput) -> OwnedValue {
    let possible = PossibleAdds::new(input);
    let mut findings = Findings::default();
    for (invoke, done) in input.history.pairs() {
        let Some(done): Option<&Op> = done.filter(|d| d.op_type == OpType::Ok) else {
            continue;
        };
        let Some(value) = (invoke.f == "read").then(|| as_int(&done.value)).flatten() else {
            continue;
        };
        let (low, high) = possible.before(done.index);
        if value < low || value > high {
            findings.push(
                format!(
                    "{} returned {value}, but the adds invoked before it finished sum to \
                     between {low} and {high}",
                    describe(invoke)
                ),
                &[invoke, done],
            );
        }
    }
    findings.result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::history::{History, Process};
    use simd_json::prelude::*;

    fn input<'a>(history: &'a History, results: &'a OwnedValue) -> ExtraInput<'a> {
        ExtraInput {
            workload: "g-counter",
            history,
            node_count: 1,
            concurrency: 1,
            results,
        }
    }

    /// The simulator invokes, completes and invokes again at one nanosecond: an add that
    /// completed before a read began at the same instant counts (seed 73 of the g-counter
    /// seq-kv sweep was a false finding when this compared times).
    #[test]
    fn adds_at_the_reads_instant_but_earlier_in_the_history_count() {
        let mut h = History::default();
        let p = Process::Client(0);
        h.push(5, OpType::Invoke, p, "add", 4.into());
        h.push(5, OpType::Ok, p, "add", 4.into());
        h.push(5, OpType::Invoke, p, "read", OwnedValue::null());
        h.push(5, OpType::Ok, p, "read", 4.into());
        let results = OwnedValue::null();
        let found = unwritten(&input(&h, &results));
        assert_eq!(found.get("count").and_then(|c| c.as_u64()), Some(0));
        h.push(6, OpType::Invoke, p, "read", OwnedValue::null());
        h.push(6, OpType::Ok, p, "read", 5.into());
        let found = unwritten(&input(&h, &results));
        assert_eq!(found.get("count").and_then(|c| c.as_u64()), Some(1));
    }
}
