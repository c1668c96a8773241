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
/// bounded search can give up honestly). One cycle per cyclic component, the one Elle
/// would name (see `specific_cycles`).
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
    let mut cycles = specific_cycles(graph, n, kinds, true);
    if model == "snapshot-isolation" && cycles.is_empty() {
        // Snapshot isolation also bans cycles with rw edges, as long as no two are adjacent.
        cycles = specific_cycles(graph, n, &[Kind::Ww, Kind::Wr, Kind::Rw], false);
        if cycles.is_empty() {
            cycles.extend(cycle_without_adjacent_rw(graph, n));
        }
    }
    let out = cycles.iter().map(|cycle| describe(cycle, txns)).collect();
    (out, false)
}

/// How many rw targets per component [`specific_cycles`] searches from to close a G-single
/// cycle before settling for the shortest cycle (only the anomaly's name depends on it).
const SINGLE_TARGETS: usize = 4096;

/// One cycle per cyclic component of `kinds` (over txn nodes below `n`), the most specific
/// one in Elle's order: a G0 cycle (ww only) if there is one, else G1c (ww and wr), else
/// G-single (exactly one rw); else, when `any_cycle`, the shortest cycle through the
/// component's first txn. Real-time edges, when in `kinds`, may join every search.
fn specific_cycles(
    graph: &Graph,
    n: usize,
    kinds: &[Kind],
    any_cycle: bool,
) -> Vec<Vec<(usize, Kind)>> {
    use Kind::{Rt, Rw, Wr, Ww};
    let components = graph.cyclic_components(kinds);
    if components.is_empty() {
        // No cycle at all, so none in any tier below either: skip their searches (each a
        // pass over every node, real-time chain nodes included).
        return Vec::new();
    }
    let mut component_of: ahash::AHashMap<usize, usize> = ahash::AHashMap::new();
    for (c, component) in components.iter().enumerate() {
        component_of.extend(component.iter().map(|&v| (v, c)));
    }
    let mut found: Vec<Option<Vec<(usize, Kind)>>> = vec![None; components.len()];
    // A cycle of a tier lies within one of the components: each tier is first looked for
    // among their nodes (few, as a rule), and the whole graph is searched, in the order
    // that decides which cycle is shown, only when there is one.
    let mut inside = vec![false; graph.edges_len()];
    for &v in components.iter().flatten() {
        inside[v] = true;
    }
    // Each tier first without real-time edges, then with them (G0, G0-realtime, G1c, …).
    let tiers: [&[Kind]; 4] = [&[Ww], &[Ww, Rt], &[Ww, Wr], &[Ww, Wr, Rt]];
    for tier in tiers
        .into_iter()
        .filter(|t| t.iter().all(|k| kinds.contains(k)))
    {
        if graph.cyclic_components_within(tier, &inside).is_empty() {
            continue;
        }
        for sub in graph.cyclic_components(tier) {
            let Some(&start) = sub.iter().find(|&&v| v < n) else {
                continue;
            };
            let Some(&c) = component_of.get(&start) else {
                continue;
            };
            if found[c].is_none() {
                found[c] = graph.cycle_through(start, &sub, tier);
            }
        }
    }
    if kinds.contains(&Rw) {
        let singles: [&[Kind]; 2] = [&[Ww, Wr], &[Ww, Wr, Rt]];
        for others in singles
            .into_iter()
            .filter(|t| t.iter().all(|k| kinds.contains(k)))
        {
            for (c, component) in components.iter().enumerate() {
                if found[c].is_none() {
                    found[c] = single_rw_cycle(graph, component, others, n);
                }
            }
        }
    }
    for (c, component) in components.iter().enumerate() {
        if found[c].is_none()
            && any_cycle
            && let Some(&start) = component.iter().find(|&&v| v < n)
        {
            found[c] = graph.cycle_through(start, component, kinds);
        }
    }
    found.into_iter().flatten().collect()
}

/// A cycle in `component` made of one rw edge `a → b` and a path back from `b` to `a`
/// using only `others` (G-single): one search per rw target `b`, at most
/// [`SINGLE_TARGETS`] of them.
fn single_rw_cycle(
    graph: &Graph,
    component: &[usize],
    others: &[Kind],
    n: usize,
) -> Option<Vec<(usize, Kind)>> {
    let mut sources: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &a in component.iter().filter(|&&a| a < n) {
        for &(b, kind) in graph.edges(a) {
            if kind == Kind::Rw && component.binary_search(&b).is_ok() {
                sources.entry(b).or_default().push(a);
            }
        }
    }
    for (b, rw_from) in sources.into_iter().take(SINGLE_TARGETS) {
        let reached = graph.reach(b, component, others);
        for a in rw_from {
            if let Some(back) = Graph::path_to(&reached, a) {
                let mut cycle = vec![(a, Kind::Rw)];
                cycle.extend(back);
                return Some(cycle);
            }
        }
    }
    None
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
