//! txn-list-append (MAELSTROM.md §3.9, §3.12): an Elle-style list-append checker, with
//! Elle's inference.
//!
//! Non-cycle anomalies: G1a, G1b, internal, future-read, duplicate-elements,
//! incompatible-order, lost-update. The version order of a key is its longest read (every
//! read of an `ok` txn, internal ones included, must be a prefix of it: else
//! incompatible-order). Dependency edges, over `ok` and `info` txns:
//! * wr: from the writer of the last element of every read to the reader;
//! * ww: to every append from the writer of the element before it in the version order;
//! * rw: to every append from every txn that read the state just before it.
//!
//! An append no read ever showed still comes after every element read (Elle's
//! `previously-appended-element`): its predecessor is the key's last element read, or the
//! empty list. Plus real-time order (through a chain of history events, O(n) edges) when
//! the model is strict-serializable.
//!
//! Verdicts per model follow the dependency graph exactly: read-uncommitted bans ww cycles,
//! read-committed ww+wr cycles, repeatable-read and serializable any ww/wr/rw cycle,
//! strict-serializable any cycle with real time, and snapshot isolation any cycle without
//! two consecutive rw edges (G-single, G-nonadjacent; G2 with adjacent rw is allowed).
//! Only prohibited anomalies are reported, as Elle does. tests/checker_txn_oracle.rs
//! compares the verdicts with a brute-force search over serial orders.

use ahash::AHashMap;
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

/// A micro-op on `key` (its identity under Clojure equality; `raw_key` as written).
struct Mop {
    key: String,
    raw_key: OwnedValue,
    kind: MopKind,
}

/// A read (element identities; empty for nil) or an append (the element's identity).
enum MopKind {
    Read(Vec<String>),
    Append(String),
}

struct Txn<'a> {
    op: &'a Op,
    invoke: &'a Op,
    mops: Vec<Mop>,
}

fn parse(op: &Op) -> Result<Vec<Mop>, String> {
    let mut out = Vec::new();
    for (f, k, v) in micro_ops(op)? {
        let kind = match (f, v) {
            ("r", OwnedValue::Array(list)) => {
                MopKind::Read(list.iter().map(identity_key).collect())
            }
            ("r", _) => MopKind::Read(Vec::new()),
            ("append", v) => MopKind::Append(identity_key(v)),
            _ => return Err(format!("unknown micro-op {f:?}")),
        };
        out.push(Mop {
            key: identity_key(k),
            raw_key: k.clone(),
            kind,
        });
    }
    Ok(out)
}

/// `{op, key}`: the detail of most anomalies.
fn detail(op: &Op, m: &Mop) -> OwnedValue {
    obj([("op", op_value(op, None)), ("key", m.raw_key.clone())])
}

/// Per-transaction anomalies: internal, future-read, duplicate-elements.
fn internal(t: &Txn, found: &mut Anomalies) {
    // key -> (whole list known?, the list, or its known suffix)
    let mut state: AHashMap<&str, (bool, Vec<&String>)> = AHashMap::new();
    for (i, m) in t.mops.iter().enumerate() {
        match &m.kind {
            MopKind::Read(ids) => {
                let mut unique: Vec<&String> = ids.iter().collect();
                unique.sort();
                unique.dedup();
                if unique.len() != ids.len() {
                    found.add("duplicate-elements", detail(t.op, m));
                }
                let future = t.mops[i + 1..].iter().any(|later| {
                    matches!(&later.kind, MopKind::Append(e) if later.key == m.key && ids.contains(e))
                });
                if future {
                    found.add("future-read", detail(t.op, m));
                }
                let read: Vec<&String> = ids.iter().collect();
                if let Some((whole, expected)) = state.get(m.key.as_str()) {
                    let consistent = if *whole {
                        &read == expected
                    } else {
                        read.ends_with(expected)
                    };
                    if !consistent {
                        found.add("internal", detail(t.op, m));
                    }
                }
                state.insert(&m.key, (true, read));
            }
            MopKind::Append(e) => state.entry(&m.key).or_insert((false, Vec::new())).1.push(e),
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
        let analysis = Analysis::new(input)?;
        if !analysis.txns.iter().any(|t| t.op.op_type == OpType::Ok) {
            return Ok(obj([
                ("valid?", Validity::Unknown.to_value()),
                (
                    "anomaly-types",
                    arr(vec![OwnedValue::from("empty-transaction-graph")]),
                ),
                ("anomalies", obj([("empty-transaction-graph", arr(vec![]))])),
            ]));
        }
        let mut found = Anomalies::default();
        analysis.anomalies(&mut found);
        // Only prohibited anomalies are reported; cycle_anomalies returns only prohibited ones.
        found.retain_prohibited(model);
        let nodes: Vec<(&Op, &Op)> = analysis.txns.iter().map(|t| (t.invoke, t.op)).collect();
        let (cycles, unknown) = cycle_anomalies(&mut analysis.graph(), &nodes, model);
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
        let types = arr(found
            .0
            .keys()
            .map(|k| OwnedValue::from(k.as_str()))
            .collect());
        let anomalies = obj(found.0.into_iter().map(|(k, v)| (k, arr(v))));
        Ok(obj([
            ("valid?", valid.to_value()),
            ("anomaly-types", types),
            ("anomalies", anomalies),
        ]))
    }
}

/// A (key, element) pair, both identities.
type Slot = (String, String);

/// What Elle infers from a history: the transactions that may have committed, who appended
/// what, and each key's version order.
struct Analysis<'a> {
    /// `ok` and `info` transactions: the graph's nodes.
    txns: Vec<Txn<'a>>,
    /// (key, element) → the txn that appended it.
    writer: AHashMap<Slot, usize>,
    /// (key, element) → the failed op that appended it.
    failed: AHashMap<Slot, &'a Op>,
    /// key → its longest read (every read must be a prefix of it).
    longest: AHashMap<String, Vec<String>>,
    /// key → the version order: the distinct elements of the longest read.
    order: AHashMap<String, Vec<String>>,
    /// (key, element) → its position in the version order.
    position: AHashMap<Slot, usize>,
}

impl<'a> Analysis<'a> {
    fn new(input: &CheckInput<'a>) -> Result<Analysis<'a>, String> {
        let mut txns: Vec<Txn> = Vec::new();
        let mut failed: AHashMap<Slot, &Op> = AHashMap::new();
        for (invoke, done) in input.history.pairs() {
            let Some(done) = done else { continue };
            // An ok txn's completion shows its reads; the others only the invocation.
            let mops = parse(if done.op_type == OpType::Ok {
                done
            } else {
                invoke
            })?;
            if done.op_type != OpType::Fail {
                txns.push(Txn {
                    op: done,
                    invoke,
                    mops,
                });
                continue;
            }
            for m in mops {
                if let MopKind::Append(e) = m.kind {
                    failed.insert((m.key, e), done);
                }
            }
        }
        let mut analysis = Analysis {
            txns,
            writer: AHashMap::new(),
            failed,
            longest: AHashMap::new(),
            order: AHashMap::new(),
            position: AHashMap::new(),
        };
        for (i, t) in analysis.txns.iter().enumerate() {
            for m in &t.mops {
                if let MopKind::Append(e) = &m.kind {
                    analysis.writer.insert((m.key.clone(), e.clone()), i);
                }
            }
        }
        let mut longest: AHashMap<String, Vec<String>> = AHashMap::new();
        for (_, m, ids) in analysis.reads() {
            let current = longest.entry(m.key.clone()).or_default();
            if ids.len() >= current.len() {
                *current = ids.to_vec();
            }
        }
        for (key, list) in &longest {
            let mut order: Vec<String> = Vec::new();
            for element in list {
                let slot = (key.clone(), element.clone());
                if !analysis.position.contains_key(&slot) {
                    analysis.position.insert(slot, order.len());
                    order.push(element.clone());
                }
            }
            analysis.order.insert(key.clone(), order);
        }
        analysis.longest = longest;
        Ok(analysis)
    }

    /// Every read of an `ok` txn: (txn, micro-op, element identities).
    fn reads(&self) -> impl Iterator<Item = (usize, &Mop, &[String])> {
        let oks = self.txns.iter().enumerate();
        oks.filter(|(_, t)| t.op.op_type == OpType::Ok)
            .flat_map(|(i, t)| {
                t.mops.iter().filter_map(move |m| match &m.kind {
                    MopKind::Read(ids) => Some((i, m, ids.as_slice())),
                    MopKind::Append(_) => None,
                })
            })
    }

    /// The element appended to `key` just before `element` (`None`: the empty list). An
    /// append no read showed comes after every element read.
    fn previous(&self, key: &str, element: &str) -> Option<&String> {
        let order = self.order.get(key)?;
        match self.position.get(&(key.to_string(), element.to_string())) {
            Some(&p) => p.checked_sub(1).and_then(|q| order.get(q)),
            None => order.last(),
        }
    }

    /// The non-cycle anomalies: per txn (internal, future-read, duplicate-elements), per
    /// read (G1a, G1b, incompatible-order) and lost-update.
    fn anomalies(&self, found: &mut Anomalies) {
        for t in self.txns.iter().filter(|t| t.op.op_type == OpType::Ok) {
            internal(t, found);
        }
        for (i, m, ids) in self.reads() {
            let op = self.txns[i].op;
            for id in ids {
                if let Some(w) = self.failed.get(&(m.key.clone(), id.clone())) {
                    let writer = ("writer", op_value(w, None));
                    found.add(
                        "G1a",
                        obj([
                            ("op", op_value(op, None)),
                            ("key", m.raw_key.clone()),
                            writer,
                        ]),
                    );
                }
            }
            if let Some(w) = self.intermediate_writer(i, &m.key, ids) {
                let writer = ("writer", op_value(self.txns[w].op, None));
                found.add(
                    "G1b",
                    obj([
                        ("op", op_value(op, None)),
                        ("key", m.raw_key.clone()),
                        writer,
                    ]),
                );
            }
            let longest = self.longest.get(&m.key).map_or(&[][..], |l| l.as_slice());
            if !longest.starts_with(ids) {
                found.add("incompatible-order", detail(op, m));
            }
        }
        self.lost_updates(found);
    }

    /// The writer of a read's last element, when it is another txn and that element was
    /// not its last append to the key (G1b, an intermediate read).
    fn intermediate_writer(&self, reader: usize, key: &str, ids: &[String]) -> Option<usize> {
        let last = ids.last()?;
        let w = *self.writer.get(&(key.to_string(), last.clone()))?;
        let final_append = self.txns[w].mops.iter().rev().find_map(|m| match &m.kind {
            MopKind::Append(e) if m.key == key => Some(e),
            _ => None,
        });
        (w != reader && final_append != Some(last)).then_some(w)
    }

    /// Elle's lost update: two `ok` txns read the same state of a key (their first read of
    /// it) and then both appended to it.
    fn lost_updates(&self, found: &mut Anomalies) {
        let mut groups: std::collections::BTreeMap<(String, Vec<String>), Vec<usize>> =
            std::collections::BTreeMap::new();
        let mut raw_keys: AHashMap<&str, &OwnedValue> = AHashMap::new();
        for (i, t) in self
            .txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.op.op_type == OpType::Ok)
        {
            let mut first_read: AHashMap<&str, &Vec<String>> = AHashMap::new();
            let mut appended: Vec<&str> = Vec::new();
            for m in &t.mops {
                match &m.kind {
                    MopKind::Read(ids) => {
                        first_read.entry(&m.key).or_insert(ids);
                    }
                    MopKind::Append(_) if !appended.contains(&m.key.as_str()) => {
                        if let Some(read) = first_read.get(m.key.as_str()) {
                            appended.push(&m.key);
                            raw_keys.insert(&m.key, &m.raw_key);
                            groups
                                .entry((m.key.clone(), (*read).clone()))
                                .or_default()
                                .push(i);
                        }
                    }
                    MopKind::Append(_) => {}
                }
            }
        }
        for ((key, _), group) in groups.iter().filter(|(_, g)| g.len() > 1) {
            let txns = arr(group
                .iter()
                .map(|&i| op_value(self.txns[i].op, None))
                .collect());
            let key = raw_keys
                .get(key.as_str())
                .map_or_else(|| OwnedValue::from(key.as_str()), |k| (*k).clone());
            found.add("lost-update", obj([("key", key), ("txns", txns)]));
        }
    }

    /// The ww / wr / rw dependency graph over [`Analysis::txns`].
    fn graph(&self) -> Graph {
        let mut graph = Graph::new(self.txns.len());
        // (key, last element read, or None for the empty list) → txns that read that state.
        let mut readers: AHashMap<(&str, Option<&String>), Vec<usize>> = AHashMap::new();
        for (i, m, ids) in self.reads() {
            readers.entry((&m.key, ids.last())).or_default().push(i);
            if let Some(&w) = ids
                .last()
                .and_then(|e| self.writer.get(&(m.key.clone(), e.clone())))
            {
                graph.edge(w, i, Kind::Wr);
            }
        }
        for (j, t) in self.txns.iter().enumerate() {
            for m in &t.mops {
                let MopKind::Append(element) = &m.kind else {
                    continue;
                };
                let previous = self.previous(&m.key, element);
                if let Some(&w) =
                    previous.and_then(|e| self.writer.get(&(m.key.clone(), e.clone())))
                {
                    graph.edge(w, j, Kind::Ww);
                }
                for &r in readers
                    .get(&(m.key.as_str(), previous))
                    .map_or(&[][..], |r| r.as_slice())
                {
                    graph.edge(r, j, Kind::Rw);
                }
            }
        }
        graph
    }
}
