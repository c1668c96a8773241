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

use super::txn::Anomalies;
use super::txn::cycles::cycle_anomalies;
use super::txn::graph::{Graph, Kind};
use super::txn::models::{check_known, per_model};
use super::value::{arr, identity_key, micro_ops, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

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

fn s(x: &str) -> OwnedValue {
    OwnedValue::from(x)
}

/// Per-transaction anomalies: internal, future-read, duplicate-elements.
fn internal(t: &Txn, found: &mut Anomalies) {
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
        check_known(model)?;
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
        let mut found = Anomalies::default();
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
        found.retain_prohibited(model);
        let nodes: Vec<(&Op, &Op)> = txns.iter().map(|t| (t.invoke, t.op)).collect();
        let (cycles, unknown) = cycle_anomalies(&mut graph, &nodes, model);
        for (kind, detail) in cycles {
            found.add(&kind, detail);
        }
        let valid = if !found.is_empty() {
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
    found: &mut Anomalies,
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
