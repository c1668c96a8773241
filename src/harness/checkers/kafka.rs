//! The kafka checker (MAELSTROM.md §3.11), after Jepsen's `jepsen.tests.kafka` checker with
//! Maelstrom's options (no ww-deps, subscriptions via `assign`, one micro-op per op).
//!
//! Ops: `send` `[[send k v]]` (ok: `[[send k [offset v]]]`), `poll` (ok:
//! `[[poll {k [[offset v] …]}]]`), `assign` `[k …]`, `crash`. Per key, the *version order*
//! is the offsets observed by polls and ok sends; a value's *index* is the rank of its
//! offset. Error types: inconsistent-offsets, duplicate, G1a, lost-write, int-poll-skip,
//! int-nonmonotonic-poll, poll-skip, nonmonotonic-poll, nonmonotonic-send, unseen, and
//! G1c-realtime. With only wr and realtime edges, every dependency cycle Elle could find
//! contains a poll that completed before the send it read was invoked, so that 2-cycle is
//! what we look for. Any error type makes the result invalid (none of Maelstrom's allowed
//! types can occur here). A polled value that no send wrote makes the result unknown with
//! an error, as Jepsen's checker throws on it. `worst-realtime-lag` is not computed.

use std::collections::{BTreeMap, BTreeSet};

use simd_json::OwnedValue;

use super::value::{arr, as_int, identity_key, obj, op_value};
use super::{CheckInput, Checker};
use crate::harness::history::{Op, OpType, Process};

/// Errors listed per type (the count is always complete).
const ERRS_SHOWN: usize = 32;

/// Maelstrom's kafka workload checker.
pub struct Kafka;

/// One key's log as observed: offset → distinct values, and value identity → offsets.
#[derive(Default)]
struct Log {
    offsets: BTreeMap<i128, Vec<OwnedValue>>,
    index_of: ahash::AHashMap<String, usize>,
}

/// A poll's data: key → [(offset, value)].
type PollData = Vec<(String, Vec<(i128, OwnedValue)>)>;

fn micro(op: &Op) -> Option<&[OwnedValue]> {
    match &op.value {
        OwnedValue::Array(txn) => match txn.first() {
            Some(OwnedValue::Array(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

fn key_of(v: &OwnedValue) -> String {
    match v {
        OwnedValue::String(s) => s.clone(),
        other => identity_key(other),
    }
}

/// A send's key, value and (for ok sends) offset.
fn send_of(op: &Op) -> Option<(String, OwnedValue, Option<i128>)> {
    let m = micro(op)?;
    let key = key_of(m.get(1)?);
    match (op.op_type, m.get(2)?) {
        (OpType::Ok, OwnedValue::Array(ov)) if ov.len() == 2 => {
            Some((key, ov[1].clone(), as_int(&ov[0])))
        }
        (_, v) => Some((key, v.clone(), None)),
    }
}

fn poll_of(op: &Op) -> Result<PollData, String> {
    let Some(OwnedValue::Object(msgs)) = micro(op).and_then(|m| m.get(1)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, pairs) in msgs.iter() {
        let OwnedValue::Array(pairs) = pairs else {
            return Err(format!("poll of {k} is not a list"));
        };
        let mut vs = Vec::new();
        for p in pairs.iter() {
            match p {
                OwnedValue::Array(ov) if ov.len() == 2 => {
                    let o = as_int(&ov[0])
                        .ok_or_else(|| format!("poll offset is not an integer: {p:?}"))?;
                    vs.push((o, ov[1].clone()));
                }
                other => return Err(format!("poll pair is not [offset msg]: {other:?}")),
            }
        }
        out.push((k.clone(), vs));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Error collector: type → (count, first few errors).
#[derive(Default)]
struct Errors(BTreeMap<&'static str, (usize, Vec<OwnedValue>)>);

impl Errors {
    fn add(&mut self, kind: &'static str, err: OwnedValue) {
        let slot = self.0.entry(kind).or_default();
        slot.0 += 1;
        if slot.1.len() < ERRS_SHOWN {
            slot.1.push(err);
        }
    }
}

fn s(x: &str) -> OwnedValue {
    OwnedValue::from(x)
}

impl Checker for Kafka {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let ops: Vec<&Op> = input.history.client_ops().collect();
        let mut invokes: ahash::AHashMap<Process, &Op> = ahash::AHashMap::new();
        let mut polls: Vec<(&Op, &Op, PollData)> = Vec::new(); // (invoke, ok completion, data)
        let mut writer: ahash::AHashMap<(String, String), (&Op, &Op)> = ahash::AHashMap::new();
        let mut logs: BTreeMap<String, Log> = BTreeMap::new();
        let mut info_causes: Vec<OwnedValue> = Vec::new();
        for &op in &ops {
            if op.op_type == OpType::Invoke {
                invokes.insert(op.process, op);
                continue;
            }
            let Some(inv) = invokes.remove(&op.process) else {
                continue;
            };
            if op.op_type == OpType::Info && (op.f == "send" || op.f == "poll") {
                let cause = op
                    .error
                    .clone()
                    .unwrap_or(OwnedValue::Static(simd_json::StaticNode::Null));
                if !info_causes.iter().any(|c| super::value::clj_eq(c, &cause)) {
                    info_causes.push(cause);
                }
            }
            if op.f == "send" {
                if let Some((k, v, offset)) = send_of(op) {
                    if let Some(o) = offset {
                        push_version(logs.entry(k.clone()).or_default(), o, &v);
                    }
                    writer.insert((k, identity_key(&v)), (inv, op));
                }
            } else if op.f == "poll" && op.op_type == OpType::Ok {
                let data = poll_of(op)?;
                for (k, vs) in &data {
                    let log = logs.entry(k.clone()).or_default();
                    for (o, v) in vs {
                        push_version(log, *o, v);
                    }
                }
                polls.push((inv, op, data));
            }
        }
        // A send still open when the history ended may have happened (Jepsen would have
        // completed it as info): it counts as a writer, neither acknowledged nor failed.
        for &open in invokes.values().filter(|op| op.f == "send") {
            if let Some((k, v, _)) = send_of(open) {
                writer.entry((k, identity_key(&v))).or_insert((open, open));
            }
        }
        unwritten_polls(&polls, &writer)?;
        for log in logs.values_mut() {
            for (rank, values) in log.offsets.values().enumerate() {
                for v in values {
                    log.index_of.entry(identity_key(v)).or_insert(rank);
                }
            }
        }
        let idx = |k: &str, v: &OwnedValue| {
            logs.get(k)
                .and_then(|l| l.index_of.get(&identity_key(v)).copied())
        };
        let mut errors = Errors::default();
        version_errors(&logs, &mut errors);
        // Values read by ok polls, per key.
        let mut read: BTreeMap<&str, ahash::AHashSet<String>> = BTreeMap::new();
        for (_, done, data) in &polls {
            for (k, vs) in data {
                let set = read.entry(k.as_str()).or_default();
                for (_, v) in vs {
                    set.insert(identity_key(v));
                    if let Some((w_inv, w_done)) = writer.get(&(k.clone(), identity_key(v))) {
                        if w_done.op_type == OpType::Fail {
                            errors.add(
                                "G1a",
                                obj([
                                    ("key", s(k)),
                                    ("value", v.clone()),
                                    ("op", op_value(done, None)),
                                    ("writer", op_value(w_done, None)),
                                ]),
                            );
                        }
                        if done.index < w_inv.index {
                            let cycle = arr(vec![op_value(w_done, None), op_value(done, None)]);
                            errors.add(
                                "G1c-realtime",
                                obj([("key", s(k)), ("value", v.clone()), ("cycle", cycle)]),
                            );
                        }
                    }
                }
                for pair in vs.windows(2) {
                    let delta = match (idx(k, &pair[0].1), idx(k, &pair[1].1)) {
                        (Some(a), Some(b)) => b as i64 - a as i64,
                        _ => 1,
                    };
                    let kind = if delta > 1 {
                        "int-poll-skip"
                    } else if delta < 1 {
                        "int-nonmonotonic-poll"
                    } else {
                        continue;
                    };
                    let values = arr(vec![pair[0].1.clone(), pair[1].1.clone()]);
                    errors.add(
                        kind,
                        obj([
                            ("key", s(k)),
                            ("values", values),
                            ("delta", OwnedValue::from(delta)),
                            ("op", op_value(done, None)),
                        ]),
                    );
                }
            }
        }
        lost_and_unseen(&logs, &read, &writer, input, &mut errors);
        per_process(&ops, &polls, &idx, &mut errors)?;
        let types: Vec<OwnedValue> = errors.0.keys().map(|k| s(k)).collect();
        let mut pairs: Vec<(String, OwnedValue)> = vec![
            ("valid?".into(), OwnedValue::from(errors.0.is_empty())),
            ("bad-error-types".into(), arr(types.clone())),
            ("error-types".into(), arr(types)),
            ("info-txn-causes".into(), arr(info_causes)),
        ];
        for (kind, (count, mut errs)) in errors.0 {
            let detail = if kind == "unseen" && errs.len() == 1 {
                errs.remove(0)
            } else {
                obj([("count", OwnedValue::from(count)), ("errs", arr(errs))])
            };
            pairs.push((kind.to_string(), detail));
        }
        Ok(obj(pairs))
    }
}

/// A polled value that no send (of any outcome) wrote cannot be explained: Jepsen's
/// checker throws `{:type :no-writer-of-value, :key k, :value v}` while building its
/// write-read graph, so the kafka result is `{:valid? :unknown, :error …}` whatever else
/// the history shows. We do the same: an error, never a silently valid result.
fn unwritten_polls(
    polls: &[(&Op, &Op, PollData)],
    writer: &ahash::AHashMap<(String, String), (&Op, &Op)>,
) -> Result<(), String> {
    for (_, done, data) in polls {
        for (k, vs) in data {
            for (_, v) in vs {
                if !writer.contains_key(&(k.clone(), identity_key(v))) {
                    return Err(format!(
                        "throw+: {{:type :no-writer-of-value, :key {k:?}, :value {}}} \
                         (polled by op {}, but no send wrote it)",
                        simd_json::to_string(v).unwrap_or_default(),
                        done.index
                    ));
                }
            }
        }
    }
    Ok(())
}

fn push_version(log: &mut Log, offset: i128, v: &OwnedValue) {
    let values = log.offsets.entry(offset).or_default();
    if !values.iter().any(|w| super::value::clj_eq(w, v)) {
        values.push(v.clone());
    }
}

/// inconsistent-offsets (several values at one offset) and duplicate (one value at several
/// offsets).
fn version_errors(logs: &BTreeMap<String, Log>, errors: &mut Errors) {
    for (k, log) in logs {
        let mut at: BTreeMap<String, (OwnedValue, Vec<i128>)> = BTreeMap::new();
        for (o, values) in &log.offsets {
            if values.len() > 1 {
                errors.add(
                    "inconsistent-offsets",
                    obj([
                        ("key", s(k)),
                        ("offset", OwnedValue::from(*o as i64)),
                        ("values", arr(values.clone())),
                    ]),
                );
            }
            for v in values {
                at.entry(identity_key(v))
                    .or_insert_with(|| (v.clone(), Vec::new()))
                    .1
                    .push(*o);
            }
        }
        for (v, offsets) in at.into_values().filter(|(_, o)| o.len() > 1) {
            let offsets = arr(offsets
                .iter()
                .map(|o| OwnedValue::from(*o as i64))
                .collect());
            errors.add(
                "duplicate",
                obj([("key", s(k)), ("value", v), ("offsets", offsets)]),
            );
        }
    }
}

/// lost-write: a value at or below the highest index any ok poll reached, acknowledged, yet
/// never polled. unseen: an acknowledged value no ok poll ever returned.
fn lost_and_unseen(
    logs: &BTreeMap<String, Log>,
    read: &BTreeMap<&str, ahash::AHashSet<String>>,
    writer: &ahash::AHashMap<(String, String), (&Op, &Op)>,
    input: &CheckInput,
    errors: &mut Errors,
) {
    let empty = ahash::AHashSet::new();
    for (k, log) in logs {
        let seen = read.get(k.as_str()).unwrap_or(&empty);
        let bound = seen.iter().filter_map(|v| log.index_of.get(v)).max();
        let Some(&bound) = bound else { continue };
        let mut last_index: BTreeMap<String, (usize, OwnedValue)> = BTreeMap::new();
        for (rank, values) in log.offsets.values().enumerate() {
            for v in values {
                last_index.insert(identity_key(v), (rank, v.clone()));
            }
        }
        for (id, (rank, v)) in last_index {
            let acked = writer
                .get(&(k.clone(), id.clone()))
                .is_some_and(|w| w.1.op_type == OpType::Ok);
            if rank <= bound && acked && !seen.contains(&id) {
                let w = writer.get(&(k.clone(), id)).map(|w| op_value(w.1, None));
                errors.add(
                    "lost-write",
                    obj([
                        ("key", s(k)),
                        ("value", v),
                        ("index", OwnedValue::from(rank)),
                        ("max-read-index", OwnedValue::from(bound)),
                        (
                            "writer",
                            w.unwrap_or(OwnedValue::Static(simd_json::StaticNode::Null)),
                        ),
                    ]),
                );
            }
        }
    }
    let mut unseen: BTreeMap<&str, Vec<OwnedValue>> = BTreeMap::new();
    let mut acked: Vec<(&(String, String), &Op)> = writer
        .iter()
        .filter(|(_, w)| w.1.op_type == OpType::Ok)
        .map(|(k, w)| (k, w.1))
        .collect();
    acked.sort_by_key(|(_, op)| op.index);
    for ((k, id), op) in acked {
        if !read.get(k.as_str()).is_some_and(|set| set.contains(id))
            && let Some((_, v, _)) = send_of(op)
        {
            unseen.entry(k.as_str()).or_default().push(v);
        }
    }
    if !unseen.is_empty() {
        let end = input.history.ops.last().map_or(0, |op| op.time_ns) as f64 / 1e9;
        let counts = obj(unseen
            .iter()
            .map(|(k, vs)| (k.to_string(), OwnedValue::from(vs.len()))));
        let messages = obj(unseen.into_iter().map(|(k, mut vs)| {
            vs.truncate(ERRS_SHOWN);
            (k.to_string(), arr(vs))
        }));
        errors.add(
            "unseen",
            obj([
                ("time", OwnedValue::from(end)),
                ("unseen", counts),
                ("messages", messages),
            ]),
        );
    }
}

/// Per process, in history order: poll-skip / nonmonotonic-poll (each poll of a key must
/// start right after where this process's previous poll of it ended) and nonmonotonic-send.
/// An ok or info `assign` forgets the keys it does not list.
fn per_process(
    ops: &[&Op],
    polls: &[(&Op, &Op, PollData)],
    idx: &dyn Fn(&str, &OwnedValue) -> Option<usize>,
    errors: &mut Errors,
) -> Result<(), String> {
    let poll_data: ahash::AHashMap<u64, &PollData> =
        polls.iter().map(|(_, done, d)| (done.index, d)).collect();
    let mut by_process: BTreeMap<Process, Vec<&Op>> = BTreeMap::new();
    for &op in ops
        .iter()
        .filter(|op| op.op_type == OpType::Ok || op.op_type == OpType::Info)
    {
        by_process.entry(op.process).or_default().push(op);
    }
    let delta = |k: &str, a: &OwnedValue, b: &OwnedValue| match (idx(k, a), idx(k, b)) {
        (Some(i), Some(j)) => j as i64 - i as i64,
        _ => 1,
    };
    for process_ops in by_process.values() {
        let mut last_reads: BTreeMap<String, (Option<OwnedValue>, &Op)> = BTreeMap::new();
        let mut last_sends: BTreeMap<String, (OwnedValue, &Op)> = BTreeMap::new();
        for &op in process_ops {
            match op.f.as_str() {
                "assign" => {
                    let keep: BTreeSet<String> = match &op.value {
                        OwnedValue::Array(ks) => ks.iter().map(key_of).collect(),
                        _ => BTreeSet::new(),
                    };
                    last_reads.retain(|k, _| keep.contains(k));
                    last_sends.retain(|k, _| keep.contains(k));
                }
                "poll" if op.op_type == OpType::Ok => {
                    let Some(data) = poll_data.get(&op.index) else {
                        continue;
                    };
                    for (k, vs) in data.iter() {
                        if let (Some((Some(v), last_op)), Some((_, first))) =
                            (last_reads.get(k), vs.first())
                        {
                            let d = delta(k, v, first);
                            let kind = if d > 1 {
                                "poll-skip"
                            } else if d < 1 {
                                "nonmonotonic-poll"
                            } else {
                                ""
                            };
                            if !kind.is_empty() {
                                let values = arr(vec![v.clone(), first.clone()]);
                                let pair = arr(vec![op_value(last_op, None), op_value(op, None)]);
                                errors.add(
                                    kind,
                                    obj([
                                        ("key", s(k)),
                                        ("values", values),
                                        ("delta", OwnedValue::from(d)),
                                        ("ops", pair),
                                    ]),
                                );
                            }
                        }
                        last_reads.insert(k.clone(), (vs.last().map(|p| p.1.clone()), op));
                    }
                }
                "send" => {
                    let Some((k, v, _)) = send_of(op) else {
                        continue;
                    };
                    if let Some((prev, prev_op)) = last_sends.get(&k) {
                        let d = delta(&k, prev, &v);
                        if d < 1 {
                            let values = arr(vec![prev.clone(), v.clone()]);
                            let pair = arr(vec![op_value(prev_op, None), op_value(op, None)]);
                            errors.add(
                                "nonmonotonic-send",
                                obj([
                                    ("key", s(&k)),
                                    ("values", values),
                                    ("delta", OwnedValue::from(d)),
                                    ("ops", pair),
                                ]),
                            );
                        }
                    }
                    last_sends.insert(k, (v, op));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
