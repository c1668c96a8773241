//! `monotonic-reads` (g-counter, pn-counter): once a node has shown a count, a read on the
//! same node that began after that read finished never shows less — for pn-counter, less
//! by more than the negative adds that may have been applied in between. Maelstrom's
//! counter checker only bounds final reads, so a node that serves reads from two replicas
//! in turn — one ahead with unacknowledged adds, one behind — passes it while its clients
//! see the count go down.
//!
//! What a pn-counter node promises: it never loses an add it has shown. A read shows the
//! sum of a set S of adds; a later read shows a superset S′, so it is lower by at most the
//! negative adds in S′ \ S. Which negatives S held is not visible (an eventually
//! consistent node may apply a negative add from long ago only now), so the allowance is
//! every negative add (failed ones excluded) invoked before the later read finished. The
//! check is therefore weak once many negatives exist; it catches a node that loses
//! increments while they outweigh every decrement so far (early in a run, or a loss of
//! most of the count).

use simd_json::OwnedValue;

use super::counter_bounds::PossibleAdds;
use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::as_int;
use crate::harness::history::{Op, OpType};

/// Per node, each ok read against the highest count an earlier, finished read showed.
pub fn check(input: &ExtraInput) -> OwnedValue {
    let possible = PossibleAdds::new(input);
    let mut reads: Vec<Vec<(&Op, &Op, i128)>> = vec![Vec::new(); input.node_count];
    for (invoke, done) in input.history.pairs() {
        let Some(done) = done.filter(|d| d.op_type == OpType::Ok) else {
            continue;
        };
        if invoke.f != "read" {
            continue;
        }
        let (Some(node), Some(value)) = (input.node_of(invoke), as_int(&done.value)) else {
            continue;
        };
        if let Some(list) = reads.get_mut(node) {
            list.push((invoke, done, value));
        }
    }
    let mut findings = Findings::default();
    for (node, list) in reads.iter_mut().enumerate() {
        // By completion (history order, which also orders ops at one nanosecond): the
        // highest count shown by reads finished before each read began.
        let mut finished: Vec<(u64, i128, &Op)> =
            list.iter().map(|(_, d, v)| (d.index, *v, *d)).collect();
        finished.sort_by_key(|(index, _, _)| *index);
        let mut best: Vec<(u64, i128, &Op)> = Vec::with_capacity(finished.len());
        for (index, value, op) in finished {
            let prior = best.last().copied();
            best.push(match prior {
                Some(p) if p.1 >= value => (index, p.1, p.2),
                _ => (index, value, op),
            });
        }
        for (invoke, done, value) in list.iter() {
            let before = best.partition_point(|(index, _, _)| *index < invoke.index);
            let (negatives, _) = possible.before(done.index);
            if let Some((_, shown, shown_by)) = before.checked_sub(1).and_then(|i| best.get(i))
                && *value < *shown + negatives
            {
                findings.push(
                    format!(
                        "node {node}: {} returned {value}, but {} had already shown {shown} \
                         (negative adds invoked by then: {negatives})",
                        describe(invoke),
                        describe(shown_by)
                    ),
                    &[invoke, done, shown_by],
                );
            }
        }
    }
    findings.result()
}
