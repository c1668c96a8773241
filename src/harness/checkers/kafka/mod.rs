//! The kafka checker (MAELSTROM.md §3.11), after Jepsen's `jepsen.tests.kafka` checker with
//! Maelstrom's options (no ww-deps, subscriptions via `assign`, one micro-op per op).
//!
//! Ops: `send` `[[send k v]]` (ok: `[[send k [offset v]]]`), `poll` (ok:
//! `[[poll {k [[offset v] …]}]]`), `assign` `[k …]`, `crash`. Per key, the *version order*
//! is the offsets observed by polls and ok sends (`log`); a value's *index* is the rank
//! of its offset. Error types (`errors`): inconsistent-offsets, duplicate, G1a,
//! lost-write, int-poll-skip, int-nonmonotonic-poll, poll-skip, nonmonotonic-poll,
//! nonmonotonic-send, unseen, and G1c-realtime. With only wr and realtime edges, every
//! dependency cycle Elle could find contains a poll that completed before the send it read
//! was invoked, so that 2-cycle is what we look for. Any error type makes the result
//! invalid (none of Maelstrom's allowed types can occur here). A polled value that no send
//! wrote makes the result unknown with an error, as Jepsen's checker throws on it.
//! `worst-realtime-lag` is Jepsen's, in seconds (`lag`).

mod errors;
mod lag;
mod log;

use std::collections::BTreeMap;

use simd_json::OwnedValue;

use super::value::{arr, as_int, identity_key, obj};
use super::{CheckInput, Checker};
use crate::harness::history::{Op, OpType, Process};
use log::Log;

/// Errors listed per type (the count is always complete), and unseen messages per key.
const ERRS_SHOWN: usize = 32;

/// Maelstrom's kafka workload checker.
pub struct Kafka;

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

/// (key, value identity) → the (invocation, completion) of the send that wrote it.
type Writers<'a> = ahash::AHashMap<(String, String), (&'a Op, &'a Op)>;

/// What the history shows, before any judgement.
struct Observed<'a> {
    /// Client ops, in history order.
    ops: Vec<&'a Op>,
    /// Every `ok` poll: (invocation, completion, data).
    polls: Vec<(&'a Op, &'a Op, PollData)>,
    writer: Writers<'a>,
    /// key → its log, from polls and ok sends.
    logs: BTreeMap<String, Log>,
    /// Distinct `:error`s of info sends and polls (Jepsen's `:info-txn-causes`).
    info_causes: Vec<OwnedValue>,
}

fn observe<'a>(input: &CheckInput<'a>) -> Result<Observed<'a>, String> {
    let mut seen = Observed {
        ops: input.history.client_ops().collect(),
        polls: Vec::new(),
        writer: Writers::default(),
        logs: BTreeMap::new(),
        info_causes: Vec::new(),
    };
    let mut invokes: ahash::AHashMap<Process, &Op> = ahash::AHashMap::new();
    for &op in &seen.ops {
        if op.op_type == OpType::Invoke {
            invokes.insert(op.process, op);
            continue;
        }
        let Some(invoke) = invokes.remove(&op.process) else {
            continue;
        };
        if op.op_type == OpType::Info && (op.f == "send" || op.f == "poll") {
            let cause = op.error.clone().unwrap_or_else(super::value::null);
            if !seen
                .info_causes
                .iter()
                .any(|c| super::value::clj_eq(c, &cause))
            {
                seen.info_causes.push(cause);
            }
        }
        if op.f == "send"
            && let Some((k, v, offset)) = send_of(op)
        {
            if let Some(o) = offset {
                seen.logs.entry(k.clone()).or_default().push(o, &v);
            }
            seen.writer.insert((k, identity_key(&v)), (invoke, op));
        } else if op.f == "poll" && op.op_type == OpType::Ok {
            let data = poll_of(op)?;
            for (k, vs) in &data {
                let log = seen.logs.entry(k.clone()).or_default();
                for (o, v) in vs {
                    log.push(*o, v);
                }
            }
            seen.polls.push((invoke, op, data));
        }
    }
    // A send still open when the history ended may have happened (Jepsen would have
    // completed it as info): it counts as a writer, neither acknowledged nor failed.
    for &open in invokes.values().filter(|op| op.f == "send") {
        if let Some((k, v, _)) = send_of(open) {
            seen.writer
                .entry((k, identity_key(&v)))
                .or_insert((open, open));
        }
    }
    Ok(seen)
}

impl Checker for Kafka {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let seen = observe(input)?;
        errors::unwritten_polls(&seen)?;
        let orders: BTreeMap<&str, log::Order> = seen
            .logs
            .iter()
            .map(|(k, l)| (k.as_str(), l.order()))
            .collect();
        let mut errors = Errors::default();
        log::version_errors(&seen.logs, &mut errors);
        errors::poll_errors(&seen, &orders, &mut errors);
        errors::lost_writes(&seen, &orders, &mut errors);
        errors::unseen(&seen, &mut errors);
        errors::per_process(&seen, &orders, &mut errors);
        let types: Vec<OwnedValue> = errors.0.keys().map(|k| s(k)).collect();
        let mut pairs: Vec<(String, OwnedValue)> = vec![
            ("valid?".into(), OwnedValue::from(errors.0.is_empty())),
            (
                "worst-realtime-lag".into(),
                lag::worst_realtime_lag(&seen.ops),
            ),
            ("bad-error-types".into(), arr(types.clone())),
            ("error-types".into(), arr(types)),
            ("info-txn-causes".into(), arr(seen.info_causes)),
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
