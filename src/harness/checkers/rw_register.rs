//! txn-rw-register (MAELSTROM.md §3.10): an Elle-style rw-register checker with Maelstrom's
//! options (`wfr-keys`, sparse version orders, boolean verdict).
//!
//! Version order per key, from two sources only: the initial `nil` precedes every value, and
//! writes follow reads (an ok txn that externally reads `v` and writes `v'` orders `v < v'`).
//! Values are unique per key, so wr edges are exact; ww and rw edges follow the inferred
//! order. Anomalies: internal, future-read (stricter than Elle: see `writes_later`),
//! G1a, G1b, lost-update, cyclic-versions, and dependency cycles judged per model by
//! [`super::txn`].

use std::collections::BTreeMap;

use simd_json::OwnedValue;
use simd_json::prelude::TypedScalarValue;

use super::txn::Anomalies;
use super::txn::cycles::cycle_anomalies;
use super::txn::graph::{Graph, Kind};
use super::txn::models::{check_known, per_model};
use super::value::{arr, identity_key, micro_ops, null, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

/// Maelstrom's txn-rw-register checker.
pub struct RwRegister;

/// `(is write, key identity, key, value)`.
type Mop = (bool, String, OwnedValue, OwnedValue);

fn parse(op: &Op) -> Result<Vec<Mop>, String> {
    let mut out = Vec::new();
    for (f, k, v) in micro_ops(op)? {
        let write = match f {
            "r" => false,
            "w" => true,
            other => return Err(format!("unknown micro-op {other:?}")),
        };
        out.push((write, identity_key(k), k.clone(), v.clone()));
    }
    Ok(out)
}

struct Txn<'a> {
    invoke: &'a Op,
    op: &'a Op,
    /// External reads (first access of the key is a read): key → value.
    reads: BTreeMap<String, OwnedValue>,
    /// Final writes: key → value.
    writes: BTreeMap<String, OwnedValue>,
    /// Every write, for G1b: (key, value, is final).
    all_writes: Vec<(String, OwnedValue, bool)>,
    /// Key identity → the key as written, for reports.
    keys: BTreeMap<String, OwnedValue>,
}

fn txn<'a>(invoke: &'a Op, op: &'a Op, mops: &[Mop], found: &mut Anomalies) -> Txn<'a> {
    let mut t = Txn {
        invoke,
        op,
        reads: BTreeMap::new(),
        writes: BTreeMap::new(),
        all_writes: Vec::new(),
        keys: BTreeMap::new(),
    };
    let mut current: BTreeMap<&str, &OwnedValue> = BTreeMap::new();
    for (i, (write, k, key, v)) in mops.iter().enumerate() {
        t.keys.entry(k.clone()).or_insert_with(|| key.clone());
        if *write {
            t.writes.insert(k.clone(), v.clone());
            current.insert(k, v);
        } else {
            match current.get(k.as_str()) {
                Some(expected)
                    if op.op_type == OpType::Ok && !super::value::clj_eq(expected, v) =>
                {
                    let detail = obj([
                        ("op", op_value(op, None)),
                        ("key", key.clone()),
                        ("expected", (*expected).clone()),
                    ]);
                    found.add("internal", detail);
                }
                Some(_) => {}
                None => {
                    if op.op_type == OpType::Ok && writes_later(&mops[i + 1..], k, v) {
                        let detail = obj([("op", op_value(op, None)), ("key", key.clone())]);
                        found.add("future-read", detail);
                    }
                    t.reads.insert(k.clone(), v.clone());
                    current.insert(k, v);
                }
            }
        }
    }
    for (_, k, _, v) in mops.iter().filter(|m| m.0) {
        let last = t.writes.get(k).is_some_and(|w| super::value::clj_eq(w, v));
        t.all_writes.push((k.clone(), v.clone(), last));
    }
    t
}

/// Whether one of `later` writes `value` (not nil) to key `k`: a read of it is a future
/// read. Values are unique, so no other txn can have written it. Elle's rw-register has no
/// such check (the write-read edge is a self-loop it drops), so it calls such a history
/// valid; we report it, as Elle's list-append checker does.
fn writes_later(later: &[Mop], k: &str, value: &OwnedValue) -> bool {
    !value.is_null()
        && later
            .iter()
            .any(|(write, k2, _, v)| *write && k2 == k && super::value::clj_eq(v, value))
}

impl Checker for RwRegister {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        per_model(input, |model| self.check_model(input, model))
    }
}

impl RwRegister {
    /// The analysis under one consistency model.
    fn check_model(&self, input: &CheckInput, model: &str) -> Result<OwnedValue, String> {
        check_known(model)?;
        let mut found = Anomalies::default();
        let mut txns: Vec<Txn> = Vec::new();
        let mut failed: ahash::AHashMap<(String, String), &Op> = ahash::AHashMap::new();
        for (invoke, done) in input.history.pairs() {
            let Some(done) = done else { continue };
            match done.op_type {
                OpType::Fail => {
                    for (write, k, _, v) in parse(invoke)? {
                        if write {
                            failed.insert((k, identity_key(&v)), done);
                        }
                    }
                }
                OpType::Ok => txns.push(txn(invoke, done, &parse(done)?, &mut found)),
                _ => txns.push(txn(invoke, done, &parse(invoke)?, &mut found)),
            }
        }
        if !txns.iter().any(|t| t.op.op_type == OpType::Ok) {
            // Maelstrom's wrapper makes the verdict strictly boolean.
            return Ok(obj([
                ("valid?", OwnedValue::from(false)),
                (
                    "anomaly-types",
                    arr(vec![OwnedValue::from("empty-transaction-graph")]),
                ),
                ("anomalies", obj([("empty-transaction-graph", arr(vec![]))])),
            ]));
        }
        let graph = dependencies(&txns, &failed, &mut found);
        let mut graph = graph;
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
        let types = arr(found
            .0
            .keys()
            .map(|k| OwnedValue::from(k.as_str()))
            .collect());
        let anomalies = if found.is_empty() {
            null()
        } else {
            obj(found.0.into_iter().map(|(k, v)| (k, arr(v))))
        };
        Ok(obj([
            ("valid?", valid.to_value()),
            ("anomaly-types", types),
            ("anomalies", anomalies),
        ]))
    }
}

/// Builds the version orders and the ww/wr/rw graph; records G1a, G1b, lost-update and
/// cyclic-versions on the way.
fn dependencies(
    txns: &[Txn],
    failed: &ahash::AHashMap<(String, String), &Op>,
    found: &mut Anomalies,
) -> Graph {
    let nil = identity_key(&null());
    let mut writer: ahash::AHashMap<(String, String), usize> = ahash::AHashMap::new();
    let mut intermediate: ahash::AHashMap<(String, String), usize> = ahash::AHashMap::new();
    // key → version graph edges (value identities), and key → value → external readers.
    let mut versions: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut readers: BTreeMap<&str, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for (i, t) in txns.iter().enumerate() {
        for (k, v, last) in &t.all_writes {
            let slot = if *last {
                &mut writer
            } else {
                &mut intermediate
            };
            slot.insert((k.clone(), identity_key(v)), i);
            versions
                .entry(k)
                .or_default()
                .push((nil.clone(), identity_key(v)));
        }
    }
    let mut by_read: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, t) in txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.op.op_type == OpType::Ok)
    {
        for (k, v) in &t.reads {
            let id = identity_key(v);
            readers
                .entry(k)
                .or_default()
                .entry(id.clone())
                .or_default()
                .push(i);
            if let Some(w) = failed.get(&(k.clone(), id.clone())) {
                found.add(
                    "G1a",
                    obj([("op", op_value(t.op, None)), ("writer", op_value(w, None))]),
                );
            }
            if let Some(&w) = intermediate.get(&(k.clone(), id.clone()))
                && w != i
            {
                found.add(
                    "G1b",
                    obj([
                        ("op", op_value(t.op, None)),
                        ("writer", op_value(txns[w].op, None)),
                    ]),
                );
            }
            if let Some(w) = t.writes.get(k) {
                versions
                    .entry(k)
                    .or_default()
                    .push((id.clone(), identity_key(w)));
                by_read.entry((k.clone(), id)).or_default().push(i);
            }
        }
    }
    for ((k, _), group) in by_read.iter().filter(|(_, g)| g.len() > 1) {
        let ops = arr(group.iter().map(|&i| op_value(txns[i].op, None)).collect());
        let key = txns[group[0]].keys.get(k).cloned().unwrap_or_else(null);
        found.add("lost-update", obj([("key", key), ("txns", ops)]));
    }
    let mut graph = Graph::new(txns.len());
    for (i, t) in txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.op.op_type == OpType::Ok)
    {
        for (k, v) in &t.reads {
            if let Some(&w) = writer.get(&(k.clone(), identity_key(v))) {
                graph.edge(w, i, Kind::Wr);
            }
        }
    }
    for (k, edges) in &versions {
        cyclic_versions(k, edges, found);
        let no_readers = BTreeMap::new();
        let key_readers = readers.get(k).unwrap_or(&no_readers);
        for (v1, v2) in edges {
            let Some(&w2) = writer.get(&(k.to_string(), v2.clone())) else {
                continue;
            };
            if let Some(&w1) = writer.get(&(k.to_string(), v1.clone())) {
                graph.edge(w1, w2, Kind::Ww);
            }
            for &r in key_readers.get(v1).map_or(&[][..], |v| v.as_slice()) {
                graph.edge(r, w2, Kind::Rw);
            }
        }
    }
    graph
}

/// The inferred version order of a key must be acyclic.
fn cyclic_versions(k: &str, edges: &[(String, String)], found: &mut Anomalies) {
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (a, b) in edges {
        let n = ids.len();
        ids.entry(a).or_insert(n);
        let n = ids.len();
        ids.entry(b).or_insert(n);
    }
    let mut g = Graph::new(ids.len());
    for (a, b) in edges {
        g.edge(ids[a.as_str()], ids[b.as_str()], Kind::Ww);
    }
    if !g.cyclic_components(&[Kind::Ww]).is_empty() {
        found.add("cyclic-versions", obj([("key", OwnedValue::from(k))]));
    }
}
