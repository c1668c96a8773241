//! The dependency cycles a model prohibits, found and named as Elle names them (G0, G1c,
//! G-single-item, G2-item, G-nonadjacent-item, with `-realtime` when a real-time edge is
//! part of the cycle).

use simd_json::OwnedValue;

use super::graph::{Graph, Kind};
use super::models::cycle_kinds;
use super::realtime::add_realtime;
use crate::harness::checkers::value::{arr, obj, op_value};
use crate::harness::history::Op;

/// Names a cycle (txn nodes below `txns.len()`, real-time chain nodes above) the way Elle
/// does, with its transactions and the kind of each step.
fn describe(cycle: &[(usize, Kind)], txns: &[(&Op, &Op)]) -> (String, OwnedValue) {
    let n = txns.len();
    // Collapse chain nodes: steps between consecutive txn nodes.
    let mut steps: Vec<Kind> = Vec::new();
    let mut nodes: Vec<usize> = Vec::new();
    for &(v, kind) in cycle {
        if v < n {
            nodes.push(v);
            steps.push(kind);
        }
    }
    let rw: Vec<bool> = steps.iter().map(|k| *k == Kind::Rw).collect();
    let rw_count = rw.iter().filter(|r| **r).count();
    let adjacent = (0..rw.len()).any(|i| rw[i] && rw[(i + 1) % rw.len()]);
    let base = if rw_count == 0 {
        if steps.contains(&Kind::Wr) {
            "G1c"
        } else {
            "G0"
        }
    } else if rw_count == 1 {
        "G-single-item"
    } else if adjacent {
        "G2-item"
    } else {
        "G-nonadjacent-item"
    };
    let name = if steps.contains(&Kind::Rt) {
        format!("{base}-realtime")
    } else {
        base.to_string()
    };
    let detail = obj([
        (
            "cycle",
            arr(nodes.iter().map(|&v| op_value(txns[v].1, None)).collect()),
        ),
        (
            "steps",
            arr(steps.iter().map(|k| OwnedValue::from(k.name())).collect()),
        ),
    ]);
    (name, detail)
}

/// Prohibited dependency cycles for `model` over txn nodes `0..txns.len()` (invocation,
/// completion), plus whether the answer is unknown (never, at present: kept so that a
/// bounded search can give up honestly). One cycle per cyclic component.
pub fn cycle_anomalies(
    graph: &mut Graph,
    txns: &[(&Op, &Op)],
    model: &str,
) -> (Vec<(String, OwnedValue)>, bool) {
    let kinds = cycle_kinds(model);
    if kinds.contains(&Kind::Rt) {
        add_realtime(graph, txns);
    }
    let n = txns.len();
    let mut out = Vec::new();
    for component in graph.cyclic_components(kinds) {
        let Some(&start) = component.iter().find(|&&v| v < n) else {
            continue;
        };
        if let Some(cycle) = graph.cycle_through(start, &component, kinds) {
            out.push(describe(&cycle, txns));
        }
    }
    if model == "snapshot-isolation"
        && out.is_empty()
        && let Some(cycle) = cycle_without_adjacent_rw(graph, n)
    {
        out.push(describe(&cycle, txns));
    }
    (out, false)
}

/// Snapshot isolation forbids any cycle without two consecutive rw edges (G-single,
/// G-nonadjacent). Searches a product graph whose node (v, after_rw) remembers whether the
/// step into v was rw: rw steps are allowed only from after_rw = false, and a cycle
/// through some (v, false) is exactly a closed walk with no two adjacent rw edges.
fn cycle_without_adjacent_rw(graph: &Graph, n: usize) -> Option<Vec<(usize, Kind)>> {
    use Kind::{Rt, Rw, Wr, Ww};
    let size = graph.edges_len();
    let mut product = Graph::new(2 * size);
    for u in 0..size {
        for &(v, kind) in graph.edges(u) {
            match kind {
                Ww | Wr => {
                    product.edge(2 * u, 2 * v, kind);
                    product.edge(2 * u + 1, 2 * v, kind);
                }
                Rw => product.edge(2 * u, 2 * v + 1, kind),
                Rt => {}
            }
        }
    }
    for component in product.cyclic_components(&[Ww, Wr, Rw]) {
        let Some(&start) = component.iter().find(|&&p| p % 2 == 0 && p / 2 < n) else {
            continue;
        };
        if let Some(cycle) = product.cycle_through(start, &component, &[Ww, Wr, Rw]) {
            return Some(cycle.into_iter().map(|(p, k)| (p / 2, k)).collect());
        }
    }
    None
}
