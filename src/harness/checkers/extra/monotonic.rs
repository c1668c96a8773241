//! `monotonic-reads` (g-counter): once a node has shown a count, a read on the same node
//! that began after that read finished never shows less. Maelstrom's counter checker only
//! bounds each read by the adds acknowledged and attempted around it, so a node that
//! serves reads from two replicas in turn — one ahead with unacknowledged adds, one
//! behind — passes it while its clients see the count go down.

use simd_json::OwnedValue;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::as_int;
use crate::harness::history::{Op, OpType};

/// Per node, each ok read against the highest count an earlier, finished read showed.
pub fn check(input: &ExtraInput) -> OwnedValue {
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
        // By completion: the highest count shown by reads finished before each read began.
        let mut finished: Vec<(u64, i128, &Op)> =
            list.iter().map(|(_, d, v)| (d.time_ns, *v, *d)).collect();
        finished.sort_by_key(|(time, _, _)| *time);
        let mut best: Vec<(u64, i128, &Op)> = Vec::with_capacity(finished.len());
        for (time, value, op) in finished {
            let prior = best.last().copied();
            best.push(match prior {
                Some(p) if p.1 >= value => (time, p.1, p.2),
                _ => (time, value, op),
            });
        }
        for (invoke, done, value) in list.iter() {
            let before = best.partition_point(|(time, _, _)| *time < invoke.time_ns);
            if let Some((_, shown, shown_by)) = before.checked_sub(1).and_then(|i| best.get(i))
                && *value < *shown
            {
                findings.push(
                    format!(
                        "node {node}: {} returned {value}, but {} had already shown {shown}",
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
