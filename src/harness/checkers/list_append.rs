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
use super::txn::ids::{Identity, SlotNames};
use super::txn::models::{check_known, per_model};
use super::value::{arr, micro_ops, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

/// Maelstrom's txn-list-append checker.
pub struct ListAppend;

/// A micro-op on key number `key` (see [`Names`]; `raw_key` as written).
struct Mop<'a> {
    key: usize,
    raw_key: &'a OwnedValue,
    kind: MopKind,
}

/// A read (the slots of its elements, in order; empty for nil) or an append (its
/// element's slot).
enum MopKind {
    Read(Vec<usize>),
    Append(usize),
}

/// Keys and (key, element) slots as ids ([`SlotNames`]): within one key, two elements
/// are equal under Clojure equality exactly when their slots are, so reads compare as lists
/// of slots.
type Names = SlotNames;

struct Txn<'a> {
    op: &'a Op,
    invoke: &'a Op,
    mops: Vec<Mop<'a>>,
}

fn parse<'a>(op: &'a Op, names: &mut Names) -> Result<Vec<Mop<'a>>, String> {
    let mut out = Vec::new();
    for (f, k, v) in micro_ops(op)? {
        let key = names.keys.id(Identity::of(k));
        let mut slot = |element: &OwnedValue| names.slots.id((key, Identity::of(element)));
        let kind = match (f, v) {
            ("r", OwnedValue::Array(list)) => MopKind::Read(list.iter().map(&mut slot).collect()),
            ("r", _) => MopKind::Read(Vec::new()),
            ("append", v) => MopKind::Append(slot(v)),
            _ => return Err(format!("unknown micro-op {f:?}")),
        };
        out.push(Mop {
            key,
            raw_key: k,
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
    let mut state: AHashMap<usize, (bool, Vec<usize>)> = AHashMap::new();
    for (i, m) in t.mops.iter().enumerate() {
        match &m.kind {
            MopKind::Read(ids) => {
                let mut unique = ids.clone();
                unique.sort_unstable();
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
                if let Some((whole, expected)) = state.get(&m.key) {
                    let consistent = if *whole {
                        ids == expected
                    } else {
                        ids.ends_with(expected)
                    };
                    if !consistent {
                        found.add("internal", detail(t.op, m));
                    }
                }
                state.insert(m.key, (true, ids.clone()));
            }
            MopKind::Append(e) => state.entry(m.key).or_insert((false, Vec::new())).1.push(*e),
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

/// What Elle infers from a history: the transactions that may have committed, who appended
/// what, and each key's version order.
struct Analysis<'a> {
    /// `ok` and `info` transactions: the graph's nodes.
    txns: Vec<Txn<'a>>,
    /// The ids of keys and slots.
    names: Names,
    /// slot → the txn that appended it.
    writer: Vec<Option<usize>>,
    /// slot → the failed op that appended it.
    failed: AHashMap<usize, &'a Op>,
    /// key → its longest read (every read must be a prefix of it).
    longest: Vec<Vec<usize>>,
    /// key → the version order: the distinct elements of the longest read.
    order: Vec<Vec<usize>>,
    /// slot → its position in the version order.
    position: Vec<Option<usize>>,
}

impl<'a> Analysis<'a> {
    fn new(input: &CheckInput<'a>) -> Result<Analysis<'a>, String> {
        let mut names = Names::default();
        let mut txns: Vec<Txn> = Vec::new();
        let mut failed: AHashMap<usize, &Op> = AHashMap::new();
        for (invoke, done) in input.history.pairs() {
            let Some(done) = done else { continue };
            // An ok txn's completion shows its reads; the others only the invocation.
            let op = if done.op_type == OpType::Ok {
                done
            } else {
                invoke
            };
            let mops = parse(op, &mut names)?;
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
                    failed.insert(e, done);
                }
            }
        }
        let mut writer = vec![None; names.slots.len()];
        for (i, t) in txns.iter().enumerate() {
            for m in &t.mops {
                if let MopKind::Append(e) = m.kind {
                    writer[e] = Some(i);
                }
            }
        }
        let mut analysis = Analysis {
            txns,
            writer,
            failed,
            longest: vec![Vec::new(); names.keys.len()],
            order: vec![Vec::new(); names.keys.len()],
            position: vec![None; names.slots.len()],
            names,
        };
        let mut longest = vec![Vec::new(); analysis.names.keys.len()];
        for (_, m, ids) in analysis.reads() {
            let current: &mut Vec<usize> = &mut longest[m.key];
            if ids.len() >= current.len() {
                *current = ids.to_vec();
            }
        }
        for (key, list) in longest.iter().enumerate() {
            let order = &mut analysis.order[key];
            for &element in list {
                if analysis.position[element].is_none() {
                    analysis.position[element] = Some(order.len());
                    order.push(element);
                }
            }
        }
        analysis.longest = longest;
        Ok(analysis)
    }

    /// Every read of an `ok` txn: (txn, micro-op, element slots).
    fn reads(&self) -> impl Iterator<Item = (usize, &Mop<'a>, &[usize])> {
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
    fn previous(&self, key: usize, element: usize) -> Option<usize> {
        let order = self.order.get(key)?;
        match self.position.get(element).copied().flatten() {
            Some(p) => p.checked_sub(1).and_then(|q| order.get(q)).copied(),
            None => order.last().copied(),
        }
    }

    /// The txn that appended `slot`, if an `ok` or `info` one did.
    fn writer(&self, slot: usize) -> Option<usize> {
        self.writer.get(slot).copied().flatten()
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
                if let Some(w) = self.failed.get(id) {
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
            if let Some(w) = self.intermediate_writer(i, m.key, ids) {
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
            let longest = self.longest.get(m.key).map_or(&[][..], |l| l.as_slice());
            if !longest.starts_with(ids) {
                found.add("incompatible-order", detail(op, m));
            }
        }
        self.lost_updates(found);
    }

    /// The writer of a read's last element, when it is another txn and that element was
    /// not its last append to the key (G1b, an intermediate read).
    fn intermediate_writer(&self, reader: usize, key: usize, ids: &[usize]) -> Option<usize> {
        let last = *ids.last()?;
        let w = self.writer(last)?;
        let final_append = self.txns[w].mops.iter().rev().find_map(|m| match &m.kind {
            MopKind::Append(e) if m.key == key => Some(*e),
            _ => None,
        });
        (w != reader && final_append != Some(last)).then_some(w)
    }

    /// Elle's lost update: two `ok` txns read the same state of a key (their first read of
    /// it) and then both appended to it. Reported in order of the key's and the state's
    /// identity texts.
    fn lost_updates(&self, found: &mut Anomalies) {
        // (key, state read) → txns, in order of first sight.
        type State<'s> = (usize, &'s [usize]);
        let mut group_of: AHashMap<State, usize> = AHashMap::new();
        let mut groups: Vec<(State, Vec<usize>)> = Vec::new();
        let mut raw_keys: AHashMap<usize, &OwnedValue> = AHashMap::new();
        for (i, t) in self
            .txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.op.op_type == OpType::Ok)
        {
            let mut first_read: AHashMap<usize, &[usize]> = AHashMap::new();
            let mut appended: Vec<usize> = Vec::new();
            for m in &t.mops {
                match &m.kind {
                    MopKind::Read(ids) => {
                        first_read.entry(m.key).or_insert(ids);
                    }
                    MopKind::Append(_) if !appended.contains(&m.key) => {
                        if let Some(&read) = first_read.get(&m.key) {
                            appended.push(m.key);
                            raw_keys.insert(m.key, m.raw_key);
                            let next = groups.len();
                            let g = *group_of.entry((m.key, read)).or_insert(next);
                            if g == next {
                                groups.push(((m.key, read), Vec::new()));
                            }
                            groups[g].1.push(i);
                        }
                    }
                    MopKind::Append(_) => {}
                }
            }
        }
        let mut lost: Vec<(String, Vec<String>, usize, &[usize])> = groups
            .iter()
            .filter(|(_, g)| g.len() > 1)
            .map(|((key, read), g)| {
                let state = read.iter().map(|&e| self.names.slot_text(e)).collect();
                (self.names.key_text(*key), state, *key, g.as_slice())
            })
            .collect();
        lost.sort();
        for (_, _, key, group) in lost {
            let txns = arr(group
                .iter()
                .map(|&i| op_value(self.txns[i].op, None))
                .collect());
            let key = raw_keys.get(&key).map_or_else(
                || OwnedValue::from(self.names.key_text(key)),
                |k| (*k).clone(),
            );
            found.add("lost-update", obj([("key", key), ("txns", txns)]));
        }
    }

    /// The ww / wr / rw dependency graph over [`Analysis::txns`].
    fn graph(&self) -> Graph {
        let mut graph = Graph::new(self.txns.len());
        // (key, last element read, or None for the empty list) → txns that read that state.
        let mut readers: AHashMap<(usize, Option<usize>), Vec<usize>> = AHashMap::new();
        for (i, m, ids) in self.reads() {
            readers
                .entry((m.key, ids.last().copied()))
                .or_default()
                .push(i);
            if let Some(w) = ids.last().and_then(|&e| self.writer(e)) {
                graph.edge(w, i, Kind::Wr);
            }
        }
        for (j, t) in self.txns.iter().enumerate() {
            for m in &t.mops {
                let MopKind::Append(element) = m.kind else {
                    continue;
                };
                let previous = self.previous(m.key, element);
                if let Some(w) = previous.and_then(|e| self.writer(e)) {
                    graph.edge(w, j, Kind::Ww);
                }
                for &r in readers
                    .get(&(m.key, previous))
                    .map_or(&[][..], |r| r.as_slice())
                {
                    graph.edge(r, j, Kind::Rw);
                }
            }
        }
        graph
    }
}
