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

use ahash::AHashMap;
use simd_json::OwnedValue;

use super::txn::ids::{Identity, Ids};
use super::value::{arr, as_int, identity_key, obj};
use super::{CheckInput, Checker};
use crate::harness::history::{Op, OpType, Process};
use log::Log;

/// Errors listed per type (the count is always complete), and unseen messages per key.
const ERRS_SHOWN: usize = 32;

/// Maelstrom's kafka workload checker.
pub struct Kafka;

/// A poll's data: (key id, [(offset, value id, value)]), in the order of the keys' texts.
type PollData<'a> = Vec<(usize, Vec<(i128, usize, &'a OwnedValue)>)>;

fn micro(op: &Op) -> Option<&[OwnedValue]> {
    match &op.value {
        OwnedValue::Array(txn) => match txn.first() {
            Some(OwnedValue::Array(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

/// The id of key `v`, given a new one if it has none. A key's text is the string itself
/// for a string key, else its identity text (so `"1"` and `1` stay different keys, as in
/// Clojure); a string key is copied only the first time it is seen.
fn key_id(keys: &mut Ids<String>, v: &OwnedValue) -> usize {
    match v {
        OwnedValue::String(s) => keys.id_of(s.as_str()),
        other => keys.id(identity_key(other)),
    }
}

/// The id of key `v`, if it has one.
fn find_key(keys: &Ids<String>, v: &OwnedValue) -> Option<usize> {
    match v {
        OwnedValue::String(s) => keys.get(s.as_str()),
        other => keys.get(&identity_key(other)),
    }
}

/// A send's key, value and (for ok sends) offset.
fn send_of(op: &Op) -> Option<(&OwnedValue, &OwnedValue, Option<i128>)> {
    let m = micro(op)?;
    let key = m.get(1)?;
    match (op.op_type, m.get(2)?) {
        (OpType::Ok, OwnedValue::Array(ov)) if ov.len() == 2 => Some((key, &ov[1], as_int(&ov[0]))),
        (_, v) => Some((key, v, None)),
    }
}

/// A poll's data, its keys and values interned (keys in the order they are listed; the
/// caller sorts them by text once every key has its id).
fn poll_of<'a>(
    op: &'a Op,
    keys: &mut Ids<String>,
    values: &mut Ids<Identity>,
) -> Result<PollData<'a>, String> {
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
                    vs.push((o, values.id(Identity::of(&ov[1])), &ov[1]));
                }
                other => return Err(format!("poll pair is not [offset msg]: {other:?}")),
            }
        }
        out.push((keys.id_of(k.as_str()), vs));
    }
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

/// (key id, value id) → the (invocation, completion) of the send that wrote it.
type Writers<'a> = AHashMap<(usize, usize), (&'a Op, &'a Op)>;

/// What the history shows, before any judgement. Keys and values are dense ids (comparing
/// and hashing their texts was most of this checker's time); where the report's order
/// followed the texts, the ids are sorted by text (`keys_by_text`).
struct Observed<'a> {
    /// Client ops, in history order.
    ops: Vec<&'a Op>,
    /// Key texts ([`key_of`]) by id.
    keys: Ids<String>,
    /// Value identities by id.
    values: Ids<Identity>,
    /// Key ids in the order of their texts (every key known when the history was read).
    keys_by_text: Vec<usize>,
    /// Every `ok` poll: (invocation, completion, data).
    polls: Vec<(&'a Op, &'a Op, PollData<'a>)>,
    writer: Writers<'a>,
    /// Key id → its log, from polls and ok sends (`None`: neither showed the key).
    logs: Vec<Option<Log<'a>>>,
    /// Distinct `:error`s of info sends and polls (Jepsen's `:info-txn-causes`).
    info_causes: Vec<OwnedValue>,
}

impl Observed<'_> {
    /// Key `k`'s text.
    fn key(&self, k: usize) -> &str {
        self.keys.item(k).map_or("", String::as_str)
    }
}

/// Key `k`'s log, made empty if it has none yet.
fn log_of<'l, 'a>(logs: &'l mut Vec<Option<Log<'a>>>, k: usize) -> &'l mut Log<'a> {
    if logs.len() <= k {
        logs.resize_with(k + 1, || None);
    }
    logs[k].get_or_insert_with(Log::default)
}

fn observe<'a>(input: &CheckInput<'a>) -> Result<Observed<'a>, String> {
    let mut seen = Observed {
        ops: input.history.client_ops().collect(),
        keys: Ids::default(),
        values: Ids::default(),
        keys_by_text: Vec::new(),
        polls: Vec::new(),
        writer: Writers::default(),
        logs: Vec::new(),
        info_causes: Vec::new(),
    };
    let mut invokes: AHashMap<Process, &Op> = AHashMap::new();
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
            let k = key_id(&mut seen.keys, k);
            let identity = Identity::of(v);
            let int = matches!(identity, Identity::Int(_));
            let id = seen.values.id(identity);
            if let Some(o) = offset {
                log_of(&mut seen.logs, k).push(o, id, int, v);
            }
            seen.writer.insert((k, id), (invoke, op));
        } else if op.f == "poll" && op.op_type == OpType::Ok {
            let data = poll_of(op, &mut seen.keys, &mut seen.values)?;
            for (k, vs) in &data {
                let log = log_of(&mut seen.logs, *k);
                for &(o, id, v) in vs {
                    let int = matches!(seen.values.item(id), Some(Identity::Int(_)));
                    log.push(o, id, int, v);
                }
            }
            seen.polls.push((invoke, op, data));
        }
    }
    // A send still open when the history ended may have happened (Jepsen would have
    // completed it as info): it counts as a writer, neither acknowledged nor failed.
    for &open in invokes.values().filter(|op| op.f == "send") {
        if let Some((k, v, _)) = send_of(open) {
            let k = key_id(&mut seen.keys, k);
            let id = seen.values.id(Identity::of(v));
            seen.writer.entry((k, id)).or_insert((open, open));
        }
    }
    // Each poll lists its keys in text order, as Jepsen's sorted maps did.
    let mut by_text: Vec<usize> = (0..seen.keys.len()).collect();
    by_text.sort_by(|&a, &b| seen.keys.item(a).cmp(&seen.keys.item(b)));
    let mut rank = vec![0; by_text.len()];
    for (r, &k) in by_text.iter().enumerate() {
        rank[k] = r;
    }
    for (_, _, data) in &mut seen.polls {
        data.sort_by_key(|(k, _)| rank[*k]);
    }
    seen.keys_by_text = by_text;
    Ok(seen)
}

impl Checker for Kafka {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let mut seen = observe(input)?;
        errors::unwritten_polls(&seen)?;
        let orders: Vec<Option<log::Order>> = seen
            .logs
            .iter()
            .map(|l| l.as_ref().map(|l| l.order(&seen.values)))
            .collect();
        let mut errors = Errors::default();
        log::version_errors(&seen, &mut errors);
        errors::poll_errors(&seen, &orders, &mut errors);
        errors::lost_writes(&seen, &orders, &mut errors);
        errors::unseen(&seen, &mut errors);
        errors::per_process(&seen, &orders, &mut errors);
        let worst_lag = lag::worst_realtime_lag(&seen.ops, &mut seen.keys);
        let types: Vec<OwnedValue> = errors.0.keys().map(|k| s(k)).collect();
        let mut pairs: Vec<(String, OwnedValue)> = vec![
            ("valid?".into(), OwnedValue::from(errors.0.is_empty())),
            ("worst-realtime-lag".into(), worst_lag),
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
