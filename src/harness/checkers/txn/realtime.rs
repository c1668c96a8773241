//! Real-time order as dependency edges, for strict-serializable: T1 → T2 when T1 completed
//! (`ok`) before T2 was invoked. An `info` transaction never completes, so it only gains
//! incoming real-time edges.

use super::graph::{Graph, Kind};
use crate::harness::history::{Op, OpType};

/// Adds real-time order over txn nodes `0..txns.len()` (invocation, completion) as a chain
/// of history events: `txn → its completion → … later events … → an invocation → txn`, so
/// a path exists exactly when one txn completed before the other was invoked, with O(n)
/// edges instead of O(n²).
pub fn add_realtime(graph: &mut Graph, txns: &[(&Op, &Op)]) {
    let mut events: Vec<(u64, usize, bool)> = Vec::new(); // (history index, txn, is completion)
    for (i, (invoke, done)) in txns.iter().enumerate() {
        events.push((invoke.index, i, false));
        if done.op_type == OpType::Ok {
            events.push((done.index, i, true));
        }
    }
    events.sort_unstable();
    let first = graph.add_nodes(events.len());
    for (j, &(_, txn, completion)) in events.iter().enumerate() {
        let node = first + j;
        if j + 1 < events.len() {
            graph.edge(node, node + 1, Kind::Rt);
        }
        if completion {
            graph.edge(txn, node, Kind::Rt)
        } else {
            graph.edge(node, txn, Kind::Rt)
        }
    }
}
