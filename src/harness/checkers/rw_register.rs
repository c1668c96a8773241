//! txn-rw-register (MAELSTROM.md §3.10): an Elle-style rw-register checker with Maelstrom's
//! options (`wfr-keys`, sparse version orders, boolean verdict).
//!
//! Version order per key, from two sources only: the initial `nil` precedes every value, and
//! writes follow reads (an ok txn that externally reads `v` and writes `v'` orders `v < v'`).
//! Values are unique per key, so wr edges are exact; ww and rw edges follow the inferred
//! order. Anomalies: internal, future-read (stricter than Elle: see `writes_later`),
//! G1a, G1b, lost-update, cyclic-versions, and dependency cycles judged per model by
//! [`super::txn`].

use ahash::AHashMap;
use simd_json::OwnedValue;
use simd_json::prelude::TypedScalarValue;

use super::txn::Anomalies;
use super::txn::cycles::cycle_anomalies;
use super::txn::graph::{Graph, Kind};
use super::txn::ids::{Identity, SlotNames};
use super::txn::models::{check_known, per_model};
use super::value::{arr, clj_eq, micro_ops, null, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

/// Maelstrom's txn-rw-register checker.
pub struct RwRegister;

/// Keys and (key, value) slots as ids ([`SlotNames`]).
type Names = SlotNames;

/// A micro-op: whether it writes, its key's id and slot (see [`Names`]), and the key and
/// value as written.
struct Mop<'a> {
    write: bool,
    key: usize,
    slot: usize,
    raw_key: &'a OwnedValue,
    value: &'a OwnedValue,
}

fn parse<'a>(op: &'a Op, names: &mut Names) -> Result<Vec<Mop<'a>>, String> {
    let mut out = Vec::new();
    for (f, k, v) in micro_ops(op)? {
        let write = match f {
            "r" => false,
            "w" => true,
            other => return Err(format!("unknown micro-op {other:?}")),
        };
        let key = names.keys.id(Identity::of(k));
        let slot = names.slots.id((key, Identity::of(v)));
        out.push(Mop {
            write,
            key,
            slot,
            raw_key: k,
            value: v,
        });
    }
    Ok(out)
}

struct Txn<'a> {
    invoke: &'a Op,
    op: &'a Op,
    /// External reads (first access of the key is a read): (key, slot), in key order (see
    /// [`Names::key_ranks`]).
    reads: Vec<(usize, usize)>,
    /// Final writes: (key, slot, value).
    writes: Vec<(usize, usize, &'a OwnedValue)>,
    /// Every write, for G1b: (slot, is final).
    all_writes: Vec<(usize, bool)>,
    /// Each key as first written in the txn, for reports.
    keys: Vec<(usize, &'a OwnedValue)>,
}

impl Txn<'_> {
    /// The slot of the txn's final write to `key`.
    fn write_of(&self, key: usize) -> Option<usize> {
        self.writes
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|&(_, slot, _)| slot)
    }
}

fn txn<'a>(invoke: &'a Op, op: &'a Op, mops: &[Mop<'a>], found: &mut Anomalies) -> Txn<'a> {
    let mut t = Txn {
        invoke,
        op,
        reads: Vec::new(),
        writes: Vec::new(),
        all_writes: Vec::new(),
        keys: Vec::new(),
    };
    // key → the value it holds in the txn so far.
    let mut current: Vec<(usize, &OwnedValue)> = Vec::new();
    fn set<'v>(list: &mut Vec<(usize, &'v OwnedValue)>, key: usize, value: &'v OwnedValue) {
        match list.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => list.push((key, value)),
        }
    }
    for (i, m) in mops.iter().enumerate() {
        if !t.keys.iter().any(|(k, _)| *k == m.key) {
            t.keys.push((m.key, m.raw_key));
        }
        if m.write {
            match t.writes.iter_mut().find(|(k, _, _)| *k == m.key) {
                Some(w) => *w = (m.key, m.slot, m.value),
                None => t.writes.push((m.key, m.slot, m.value)),
            }
            set(&mut current, m.key, m.value);
            continue;
        }
        match current.iter().find(|(k, _)| *k == m.key).map(|&(_, v)| v) {
            Some(expected) if op.op_type == OpType::Ok && !clj_eq(expected, m.value) => {
                let detail = obj([
                    ("op", op_value(op, None)),
                    ("key", m.raw_key.clone()),
                    ("expected", expected.clone()),
                ]);
                found.add("internal", detail);
            }
            Some(_) => {}
            None => {
                if op.op_type == OpType::Ok && writes_later(&mops[i + 1..], m.key, m.value) {
                    let detail = obj([("op", op_value(op, None)), ("key", m.raw_key.clone())]);
                    found.add("future-read", detail);
                }
                t.reads.push((m.key, m.slot));
                set(&mut current, m.key, m.value);
            }
        }
    }
    for m in mops.iter().filter(|m| m.write) {
        let last = t
            .writes
            .iter()
            .any(|&(k, _, w)| k == m.key && clj_eq(w, m.value));
        t.all_writes.push((m.slot, last));
    }
    t
}

/// Whether one of `later` writes `value` (not nil) to key `key`: a read of it is a future
/// read. Values are unique, so no other txn can have written it. Elle's rw-register has no
/// such check (the write-read edge is a self-loop it drops), so it calls such a history
/// valid; we report it, as Elle's list-append checker does.
fn writes_later(later: &[Mop], key: usize, value: &OwnedValue) -> bool {
    !value.is_null()
        && later
            .iter()
            .any(|m| m.write && m.key == key && clj_eq(m.value, value))
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
        let mut names = Names::default();
        let mut txns: Vec<Txn> = Vec::new();
        let mut failed: AHashMap<usize, &Op> = AHashMap::new();
        for (invoke, done) in input.history.pairs() {
            let Some(done) = done else { continue };
            match done.op_type {
                OpType::Fail => {
                    for m in parse(invoke, &mut names)? {
                        if m.write {
                            failed.insert(m.slot, done);
                        }
                    }
                }
                OpType::Ok => {
                    let mops = parse(done, &mut names)?;
                    txns.push(txn(invoke, done, &mops, &mut found));
                }
                _ => {
                    let mops = parse(invoke, &mut names)?;
                    txns.push(txn(invoke, done, &mops, &mut found));
                }
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
        let rank = names.key_ranks();
        for t in &mut txns {
            t.reads.sort_by_key(|&(k, _)| rank[k]);
        }
        let mut graph = dependencies(&txns, &mut names, &rank, &failed, &mut found);
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
/// cyclic-versions on the way. Keys are visited in the order of `rank`.
fn dependencies(
    txns: &[Txn],
    names: &mut Names,
    rank: &[usize],
    failed: &AHashMap<usize, &Op>,
    found: &mut Anomalies,
) -> Graph {
    let nil = Identity::of(&null());
    let slots = names.slots.len();
    let mut writer: Vec<Option<usize>> = vec![None; slots];
    let mut intermediate: Vec<Option<usize>> = vec![None; slots];
    // key → version graph edges (slots), and slot → its external readers.
    let mut versions: Vec<Vec<(usize, usize)>> = vec![Vec::new(); names.keys.len()];
    let mut readers: AHashMap<usize, Vec<usize>> = AHashMap::new();
    for (i, t) in txns.iter().enumerate() {
        for &(slot, last) in &t.all_writes {
            let table = if last { &mut writer } else { &mut intermediate };
            table[slot] = Some(i);
            let key = names.slots.item(slot).map_or(0, |(k, _)| *k);
            let initial = names.slots.id((key, nil.clone()));
            versions[key].push((initial, slot));
        }
    }
    // (key, state read) → the txns that read it and then wrote the key, in order of first
    // sight.
    let mut group_of: AHashMap<usize, usize> = AHashMap::new();
    let mut groups: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for (i, t) in txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.op.op_type == OpType::Ok)
    {
        for &(k, id) in &t.reads {
            readers.entry(id).or_default().push(i);
            if let Some(w) = failed.get(&id) {
                found.add(
                    "G1a",
                    obj([("op", op_value(t.op, None)), ("writer", op_value(w, None))]),
                );
            }
            if let Some(w) = intermediate.get(id).copied().flatten()
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
            if let Some(w) = t.write_of(k) {
                versions[k].push((id, w));
                let next = groups.len();
                let g = *group_of.entry(id).or_insert(next);
                if g == next {
                    groups.push((k, id, Vec::new()));
                }
                groups[g].2.push(i);
            }
        }
    }
    let mut lost: Vec<(usize, String, usize, &[usize])> = groups
        .iter()
        .filter(|(_, _, g)| g.len() > 1)
        .map(|(k, id, g)| (rank[*k], names.slot_text(*id), *k, g.as_slice()))
        .collect();
    lost.sort();
    for (_, _, k, group) in lost {
        let ops = arr(group.iter().map(|&i| op_value(txns[i].op, None)).collect());
        let key = txns[group[0]]
            .keys
            .iter()
            .find(|(key, _)| *key == k)
            .map_or_else(null, |(_, raw)| (*raw).clone());
        found.add("lost-update", obj([("key", key), ("txns", ops)]));
    }
    let mut graph = Graph::new(txns.len());
    for (i, t) in txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.op.op_type == OpType::Ok)
    {
        for &(_, id) in &t.reads {
            if let Some(w) = writer[id] {
                graph.edge(w, i, Kind::Wr);
            }
        }
    }
    let mut keys: Vec<usize> = (0..versions.len()).collect();
    keys.sort_by_key(|&k| rank[k]);
    for k in keys {
        let edges = &versions[k];
        if edges.is_empty() {
            continue;
        }
        cyclic_versions(&names.key_text(k), edges, found);
        for &(v1, v2) in edges {
            let Some(w2) = writer.get(v2).copied().flatten() else {
                continue;
            };
            if let Some(w1) = writer.get(v1).copied().flatten() {
                graph.edge(w1, w2, Kind::Ww);
            }
            for &r in readers.get(&v1).map_or(&[][..], |v| v.as_slice()) {
                graph.edge(r, w2, Kind::Rw);
            }
        }
    }
    graph
}

/// The inferred version order of a key must be acyclic.
fn cyclic_versions(k: &str, edges: &[(usize, usize)], found: &mut Anomalies) {
    let mut ids: AHashMap<usize, usize> = AHashMap::new();
    for &(a, b) in edges {
        let n = ids.len();
        ids.entry(a).or_insert(n);
        let n = ids.len();
        ids.entry(b).or_insert(n);
    }
    let mut g = Graph::new(ids.len());
    for (a, b) in edges {
        g.edge(ids[a], ids[b], Kind::Ww);
    }
    if !g.cyclic_components(&[Kind::Ww]).is_empty() {
        found.add("cyclic-versions", obj([("key", OwnedValue::from(k))]));
    }
}
