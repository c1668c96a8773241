//! txn-list-append (MAELSTROM.md §3.9, §3.12): an Elle-style list-append checker.
//!
//! Non-cycle anomalies: G1a, G1b, internal, future-read, duplicate-elements,
//! incompatible-order, lost-update. Dependency graph from each key's version order (its
//! longest read): ww between consecutive appends, wr from the writer of a read's last
//! element, rw from a reader to the writer of the next element; plus real-time order
//! (through a chain of history events, O(n) edges) when the model is strict-serializable.
//!
//! Verdicts per model follow the dependency graph exactly: read-uncommitted bans ww cycles,
//! read-committed ww+wr cycles, repeatable-read and serializable any ww/wr/rw cycle,
//! strict-serializable any cycle with real time, and snapshot isolation any cycle without
//! two consecutive rw edges (G-single, G-nonadjacent; G2 with adjacent rw is allowed).
//! Only prohibited anomalies are reported, as Elle does.

use std::collections::BTreeMap;

use simd_json::OwnedValue;

use super::graph::{Graph, Kind};
use super::value::{arr, identity_key, micro_ops, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

/// Cycles shown per anomaly type.
const SHOWN: usize = 8;

/// Maelstrom's txn-list-append checker.
pub struct ListAppend;

/// A micro-op: read of a key (value list, empty for nil) or append.
enum Mop {
    Read(String, Vec<OwnedValue>),
    Append(String, OwnedValue),
}

struct Txn<'a> {
    op: &'a Op,
    invoke: &'a Op,
    mops: Vec<Mop>,
}

fn parse(op: &Op) -> Result<Vec<Mop>, String> {
    let mut out = Vec::new();
    for (f, k, v) in micro_ops(op)? {
        let key = identity_key(k);
        out.push(match (f, v) {
            ("r", OwnedValue::Array(list)) => Mop::Read(key, list.to_vec()),
            ("r", _) => Mop::Read(key, Vec::new()),
            ("append", v) => Mop::Append(key, v.clone()),
            _ => return Err(format!("unknown micro-op {f:?}")),
        });
    }
    Ok(out)
}

/// The anomaly types a model prohibits (cycle types are decided separately).
fn prohibited(model: &str) -> Option<&'static [&'static str]> {
    const RU: &[&str] = &["duplicate-elements"];
    const RC: &[&str] = &[
        "duplicate-elements",
        "G1a",
        "G1b",
        "future-read",
        "incompatible-order",
    ];
    const RR: &[&str] = &[
        "duplicate-elements",
        "G1a",
        "G1b",
        "future-read",
        "incompatible-order",
        "lost-update",
    ];
    const SI: &[&str] = &[
        "duplicate-elements",
        "G1a",
        "G1b",
        "future-read",
        "incompatible-order",
        "lost-update",
        "internal",
    ];
    match model {
        "read-uncommitted" => Some(RU),
        "read-committed" => Some(RC),
        "repeatable-read" => Some(RR),
        "snapshot-isolation" | "serializable" | "strict-serializable" => Some(SI),
        _ => None,
    }
}

#[derive(Default)]
struct Found(BTreeMap<String, Vec<OwnedValue>>);

impl Found {
    fn add(&mut self, kind: &str, detail: OwnedValue) {
        let list = self.0.entry(kind.to_string()).or_default();
        if list.len() < SHOWN {
            list.push(detail);
        }
    }
}

fn s(x: &str) -> OwnedValue {
    OwnedValue::from(x)
}

/// Per-transaction anomalies: internal, future-read, duplicate-elements.
fn internal(t: &Txn, found: &mut Found) {
    let mut state: BTreeMap<&str, (bool, Vec<String>)> = BTreeMap::new(); // key -> (known whole?, list)
    for (i, m) in t.mops.iter().enumerate() {
        match m {
            Mop::Read(k, list) => {
                let ids: Vec<String> = list.iter().map(identity_key).collect();
                let mut uniq = ids.clone();
                uniq.sort();
                uniq.dedup();
                if uniq.len() != ids.len() {
                    found.add(
                        "duplicate-elements",
                        obj([("op", op_value(t.op, None)), ("key", s(k))]),
                    );
                }
                let later: Vec<String> = t.mops[i + 1..]
                    .iter()
                    .filter_map(|m| match m {
                        Mop::Append(k2, v) if k2 == k => Some(identity_key(v)),
                        _ => None,
                    })
                    .collect();
                if later.iter().any(|v| ids.contains(v)) {
                    found.add(
                        "future-read",
                        obj([("op", op_value(t.op, None)), ("key", s(k))]),
                    );
                }
                if let Some((whole, expected)) = state.get(k.as_str()) {
                    let ok = if *whole {
                        &ids == expected
                    } else {
                        ids.ends_with(expected)
                    };
                    if !ok {
                        found.add(
                            "internal",
                            obj([("op", op_value(t.op, None)), ("key", s(k))]),
                        );
                    }
                }
                state.insert(k, (true, ids));
            }
            Mop::Append(k, v) => state
                .entry(k)
                .or_insert((false, Vec::new()))
                .1
                .push(identity_key(v)),
        }
    }
}

impl Checker for ListAppend {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        per_model(input, |model| self.check_model(input, model))
    }
}

impl ListAppend {
    /// The analysis under one consistency model.
    fn check_model(&self, input: &CheckInput, model: &str) -> Result<OwnedValue, String> {
        let banned =
            prohibited(model).ok_or_else(|| format!("unknown consistency model {model:?}"))?;
        let mut txns: Vec<Txn> = Vec::new(); // ok and info: graph nodes
        let mut failed: ahash::AHashMap<(String, String), &Op> = ahash::AHashMap::new();
        for (invoke, done) in input.history.pairs() {
            let Some(done) = done else { continue };
            match done.op_type {
                OpType::Fail => {
                    for m in parse(invoke)? {
                        if let Mop::Append(k, v) = m {
                            failed.insert((k, identity_key(&v)), done);
                        }
                    }
                }
                OpType::Ok => txns.push(Txn {
                    op: done,
                    invoke,
                    mops: parse(done)?,
                }),
                _ => txns.push(Txn {
                    op: done,
                    invoke,
                    mops: parse(invoke)?,
                }),
            }
        }
        if !txns.iter().any(|t| t.op.op_type == OpType::Ok) {
            return Ok(obj([
                ("valid?", Validity::Unknown.to_value()),
                ("anomaly-types", arr(vec![s("empty-transaction-graph")])),
                ("anomalies", obj([("empty-transaction-graph", arr(vec![]))])),
            ]));
        }
        let mut found = Found::default();
        // Writers of each (key, element), and each txn's appends per key in order.
        let mut writer: ahash::AHashMap<(String, String), usize> = ahash::AHashMap::new();
        for (i, t) in txns.iter().enumerate() {
            for m in &t.mops {
                if let Mop::Append(k, v) = m {
                    writer.insert((k.clone(), identity_key(v)), i);
                }
            }
        }
        let oks = || {
            txns.iter()
                .enumerate()
                .filter(|(_, t)| t.op.op_type == OpType::Ok)
        };
        // External reads: the first access of a key in an ok txn, when it is a read.
        let mut reads: BTreeMap<String, Vec<(usize, Vec<String>)>> = BTreeMap::new();
        for (i, t) in oks() {
            internal(t, &mut found);
            let mut touched: Vec<&str> = Vec::new();
            for m in &t.mops {
                match m {
                    Mop::Read(k, list) if !touched.contains(&k.as_str()) => {
                        touched.push(k);
                        let ids: Vec<String> = list.iter().map(identity_key).collect();
                        read_anomalies(i, t, k, &ids, &txns, &writer, &failed, &mut found);
                        reads.entry(k.clone()).or_default().push((i, ids));
                    }
                    Mop::Read(..) => {}
                    Mop::Append(k, _) => touched.push(k),
                }
            }
        }
        let mut graph = Graph::new(txns.len());
        for (k, rs) in &reads {
            let longest = rs
                .iter()
                .map(|r| &r.1)
                .max_by_key(|l| l.len())
                .cloned()
                .unwrap_or_default();
            for (i, ids) in rs {
                if !longest.starts_with(ids) {
                    found.add(
                        "incompatible-order",
                        obj([("key", s(k)), ("op", op_value(txns[*i].op, None))]),
                    );
                }
            }
            let w = |e: &String| writer.get(&(k.clone(), e.clone())).copied();
            for pair in longest.windows(2) {
                if let (Some(a), Some(b)) = (w(&pair[0]), w(&pair[1])) {
                    graph.edge(a, b, Kind::Ww);
                }
            }
            let mut by_version: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, ids) in rs {
                if let Some(a) = ids.last().and_then(w) {
                    graph.edge(a, *i, Kind::Wr);
                }
                if longest.starts_with(ids) {
                    if let Some(b) = longest.get(ids.len()).and_then(w) {
                        graph.edge(*i, b, Kind::Rw);
                    }
                    let appends = txns[*i]
                        .mops
                        .iter()
                        .any(|m| matches!(m, Mop::Append(k2, _) if k2 == k));
                    if appends {
                        by_version.entry(ids.len()).or_default().push(*i);
                    }
                }
            }
            for group in by_version.values().filter(|g| g.len() > 1) {
                let ops = arr(group.iter().map(|i| op_value(txns[*i].op, None)).collect());
                found.add("lost-update", obj([("key", s(k)), ("txns", ops)]));
            }
        }
        // Only prohibited anomalies are reported; cycle_anomalies returns only prohibited ones.
        found.0.retain(|kind, _| banned.contains(&kind.as_str()));
        let nodes: Vec<(&Op, &Op)> = txns.iter().map(|t| (t.invoke, t.op)).collect();
        let (cycles, unknown) = cycle_anomalies(&mut graph, &nodes, model);
        for (kind, detail) in cycles {
            found.add(&kind, detail);
        }
        let valid = if !found.0.is_empty() {
            Validity::Invalid
        } else if unknown {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        if valid == Validity::Valid {
            return Ok(obj([("valid?", OwnedValue::from(true))]));
        }
        let types = arr(found.0.keys().map(|k| s(k)).collect());
        let anomalies = obj(found.0.into_iter().map(|(k, v)| (k, arr(v))));
        Ok(obj([
            ("valid?", valid.to_value()),
            ("anomaly-types", types),
            ("anomalies", anomalies),
        ]))
    }
}

/// G1a (an element of a failed append) and G1b (a read ending at an element its writer
/// later overwrote by appending again) for one external read of `k` by txn `i`.
#[allow(clippy::too_many_arguments)]
fn read_anomalies(
    i: usize,
    t: &Txn,
    k: &str,
    ids: &[String],
    txns: &[Txn],
    writer: &ahash::AHashMap<(String, String), usize>,
    failed: &ahash::AHashMap<(String, String), &Op>,
    found: &mut Found,
) {
    for id in ids {
        if let Some(w) = failed.get(&(k.to_string(), id.clone())) {
            found.add(
                "G1a",
                obj([
                    ("op", op_value(t.op, None)),
                    ("key", s(k)),
                    ("writer", op_value(w, None)),
                ]),
            );
        }
    }
    let Some(last) = ids.last() else { return };
    let Some(&w) = writer.get(&(k.to_string(), last.clone())) else {
        return;
    };
    if w == i {
        return;
    }
    let appends: Vec<String> = txns[w]
        .mops
        .iter()
        .filter_map(|m| match m {
            Mop::Append(k2, v) if k2 == k => Some(identity_key(v)),
            _ => None,
        })
        .collect();
    if appends.last() != Some(last) {
        found.add(
            "G1b",
            obj([
                ("op", op_value(t.op, None)),
                ("key", s(k)),
                ("writer", op_value(txns[w].op, None)),
            ]),
        );
    }
}

/// Adds real-time order as a chain of history events: `txn → its completion → … later
/// events … → an invocation → txn`, so a path exists exactly when one txn completed before
/// the other was invoked.
fn add_realtime(graph: &mut Graph, txns: &[(&Op, &Op)]) {
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

/// Names a cycle (txn nodes below `n`, chain nodes above) the way Elle does.
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
/// bounded search can give up honestly). Shared with the rw-register checker.
pub(super) fn cycle_anomalies(
    graph: &mut Graph,
    txns: &[(&Op, &Op)],
    model: &str,
) -> (Vec<(String, OwnedValue)>, bool) {
    use Kind::{Rt, Rw, Wr, Ww};
    let kinds: &[Kind] = match model {
        "read-uncommitted" => &[Ww],
        "read-committed" | "snapshot-isolation" => &[Ww, Wr],
        "strict-serializable" => &[Ww, Wr, Rw, Rt],
        _ => &[Ww, Wr, Rw],
    };
    if kinds.contains(&Rt) {
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
    if model != "snapshot-isolation" || !out.is_empty() {
        return (out, false);
    }
    // Snapshot isolation forbids any cycle without two consecutive rw edges (G-single,
    // G-nonadjacent). Search a product graph whose node (v, after_rw) remembers whether the
    // step into v was rw: rw steps are allowed only from after_rw = false, and a cycle
    // through some (v, false) is exactly a closed walk with no two adjacent rw edges.
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
            let cycle: Vec<(usize, Kind)> = cycle.into_iter().map(|(p, k)| (p / 2, k)).collect();
            out.push(describe(&cycle, txns));
            break;
        }
    }
    (out, false)
}

/// Runs `check` under each `--consistency-models` entry (default strict-serializable) and
/// keeps the worst result, so several models are checked as their union.
pub(super) fn per_model(
    input: &CheckInput,
    check: impl Fn(&str) -> Result<OwnedValue, String>,
) -> Result<OwnedValue, String> {
    let models: Vec<&str> = match input.consistency_models {
        [] => vec!["strict-serializable"],
        ms => ms.iter().map(String::as_str).collect(),
    };
    let mut worst: Option<(Validity, OwnedValue)> = None;
    for model in models {
        let result = check(model)?;
        let v = Validity::from_value(match &result {
            OwnedValue::Object(m) => m.get("valid?"),
            _ => None,
        });
        if worst.as_ref().is_none_or(|(w, _)| w.merge(v) != *w) {
            worst = Some((v, result));
        }
    }
    worst
        .map(|(_, r)| r)
        .ok_or_else(|| "no consistency model".to_string())
}
