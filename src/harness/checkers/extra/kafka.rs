//! Kafka's extra checks.
//!
//! * `convergence`: every node's final polls (flagged `final?` under `--extra-checks`:
//!   after the heal and the recovery sleep, each worker assigns every known key from
//!   offset 0 and polls until caught up or 10 s) hold every acknowledged send at its
//!   offset, and every message any node's final polls showed at or below a key's highest
//!   acknowledged offset. Maelstrom's `unseen` and `lost-write` are global: a message one
//!   node's consumers saw counts as seen, however many nodes never serve it.
//! * `unwritten-reads`: a poll returns, for some key, a message no send (of any outcome)
//!   wrote to that key. Jepsen's checker throws on such a value, so Maelstrom's verdict is
//!   `:unknown` with an exception text; this names the poll, its node and time.
//! * `monotonic-reads`: a node that has shown offset o of key k (an `ok` poll finished)
//!   never afterwards answers a poll asking for k from an offset ≤ o with nothing at all.
//!   The asked offsets are the client's, rebuilt from each process's assigns and polls.
//!   Only wholly empty answers count: a node may cut a poll short by a size budget, which
//!   drops keys, but an empty answer cut nothing. Maelstrom compares a process's polls
//!   with its own earlier polls only, and a new process (after every crash) starts over.

use std::collections::BTreeMap;

use ahash::{AHashMap, AHashSet};
use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::{as_int, identity_key};
use crate::harness::history::{Op, OpType, Process};

/// The micro-op of a one-micro-op kafka value: `["send", k, …]` or `["poll", {…}]`.
fn micro(value: &OwnedValue) -> Option<&[OwnedValue]> {
    Some(value.as_array()?.first()?.as_array()?.as_slice())
}

fn key_name(k: &OwnedValue) -> String {
    k.as_str().map_or_else(|| identity_key(k), String::from)
}

/// An `ok` poll's messages: key → [(offset, message)].
fn polled(done: &Op) -> Vec<(String, Vec<(i128, &OwnedValue)>)> {
    let Some(msgs) = micro(&done.value)
        .and_then(|m| m.get(1))
        .and_then(|m| m.as_object())
    else {
        return Vec::new();
    };
    msgs.iter()
        .map(|(k, pairs)| {
            let pairs = pairs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((as_int(p.first()?)?, p.get(1)?))
                })
                .collect();
            (k.clone(), pairs)
        })
        .collect()
}

/// An `ok` send's key, offset and message.
fn sent(done: &Op) -> Option<(String, i128, &OwnedValue)> {
    let m = micro(&done.value)?;
    let pair = m.get(2)?.as_array()?;
    Some((key_name(m.get(1)?), as_int(pair.first()?)?, pair.get(1)?))
}

/// Final polls against acknowledged sends and each other.
pub fn convergence(input: &ExtraInput) -> OwnedValue {
    // Expected: key → offset → (message, the op that showed it).
    let mut expected: BTreeMap<String, BTreeMap<i128, (String, &Op)>> = BTreeMap::new();
    let mut highest_ack: BTreeMap<String, i128> = BTreeMap::new();
    // Per node: key → offset → message, from its final polls.
    let mut views: BTreeMap<usize, AHashMap<String, AHashMap<i128, String>>> = BTreeMap::new();
    let mut finals: Vec<(usize, &Op, &Op)> = Vec::new();
    for (invoke, done) in input.history.pairs() {
        let Some(done) = done.filter(|d| d.op_type == OpType::Ok) else {
            continue;
        };
        if invoke.f == "send"
            && let Some((k, offset, msg)) = sent(done)
        {
            let top = highest_ack.entry(k.clone()).or_insert(offset);
            *top = (*top).max(offset);
            let slot = expected.entry(k).or_default();
            slot.entry(offset).or_insert((identity_key(msg), done));
        } else if invoke.f == "poll"
            && invoke.is_final
            && let Some(node) = input.node_of(invoke)
        {
            finals.push((node, invoke, done));
            let view = views.entry(node).or_default();
            for (k, pairs) in polled(done) {
                let log = view.entry(k).or_default();
                for (offset, msg) in pairs {
                    log.insert(offset, identity_key(msg));
                }
            }
        }
    }
    for &(_, _, done) in &finals {
        for (k, pairs) in polled(done) {
            let top = highest_ack.get(&k).copied().unwrap_or(-1);
            let slot = expected.entry(k).or_default();
            for (offset, msg) in pairs.into_iter().filter(|(o, _)| *o <= top) {
                slot.entry(offset).or_insert((identity_key(msg), done));
            }
        }
    }
    let mut findings = Findings::default();
    for (node, view) in &views {
        let mut missing = 0u64;
        let mut first: Option<(&str, i128, &Op)> = None;
        for (k, log) in &expected {
            for (offset, (msg, shown_by)) in log {
                let held = view.get(k).and_then(|l| l.get(offset));
                if held != Some(msg) {
                    missing += 1;
                    first = first.or(Some((k.as_str(), *offset, *shown_by)));
                }
            }
        }
        if let Some((k, offset, shown_by)) = first {
            let last = <[_]>::iter(&finals).rev().find(|(n, _, _)| n == node);
            let mut ops = vec![shown_by];
            if let Some((_, invoke, done)) = last {
                ops.extend([*invoke, *done]);
            }
            findings.push(
                format!(
                    "node {node}'s final polls lack {missing} message(s) acknowledged or shown \
                     by other nodes' final polls, e.g. key {k} offset {offset} ({} at {:.3} s)",
                    shown_by.f,
                    shown_by.time_ns as f64 / 1e9
                ),
                &ops,
            );
        }
    }
    findings.result()
}

/// Polls of messages no send wrote to the key.
pub fn unwritten(input: &ExtraInput) -> OwnedValue {
    let mut written: AHashSet<(String, String)> = AHashSet::new();
    for op in input.history.client_ops() {
        if op.op_type == OpType::Invoke
            && op.f == "send"
            && let Some(m) = micro(&op.value)
            && let (Some(k), Some(v)) = (m.get(1), m.get(2))
        {
            written.insert((key_name(k), identity_key(v)));
        }
    }
    let mut findings = Findings::default();
    for op in input.history.client_ops() {
        if op.op_type != OpType::Ok || op.f != "poll" {
            continue;
        }
        for (k, pairs) in polled(op) {
            for (offset, msg) in pairs {
                if !written.contains(&(k.clone(), identity_key(msg))) {
                    let node = input
                        .node_of(op)
                        .map_or_else(|| "?".to_string(), |n| n.to_string());
                    findings.push(
                        format!(
                            "{} (node {node}) returned {} at offset {offset} of key {k}, but no \
                             send wrote it to that key",
                            describe(op),
                            simd_json::to_string(msg).unwrap_or_default()
                        ),
                        &[op],
                    );
                }
            }
        }
    }
    findings.result()
}

/// Empty polls on a node that had already shown what they asked for.
pub fn monotonic(input: &ExtraInput) -> OwnedValue {
    // Per process: the client's key → next offset, rebuilt as the client keeps it.
    let mut asked: AHashMap<Process, BTreeMap<String, i128>> = AHashMap::new();
    // Per node: key → (highest offset shown, when its poll finished, that poll).
    let mut shown: Vec<BTreeMap<String, Vec<(i128, &Op)>>> =
        vec![BTreeMap::new(); input.node_count];
    let mut findings = Findings::default();
    for (invoke, done) in input.history.pairs() {
        let Some(done) = done.filter(|d| d.op_type == OpType::Ok) else {
            continue;
        };
        let offsets = asked.entry(invoke.process).or_default();
        match invoke.f.as_str() {
            "assign" => {
                let keys: Vec<String> = invoke
                    .value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(key_name)
                    .collect();
                let old = std::mem::take(offsets);
                for k in keys {
                    let keep = if invoke.is_final { None } else { old.get(&k) };
                    offsets.insert(k.clone(), keep.copied().unwrap_or(0));
                }
            }
            "poll" => {
                let answer = polled(done);
                let Some(node) = input.node_of(invoke) else {
                    continue;
                };
                let Some(node_shown) = shown.get_mut(node) else {
                    continue;
                };
                let empty = answer.iter().all(|(_, pairs)| pairs.is_empty());
                if empty {
                    went_back(node, invoke, done, offsets, node_shown, &mut findings);
                }
                for (k, pairs) in &answer {
                    if let Some(top) = pairs.iter().map(|(o, _)| *o).max() {
                        let next = offsets.entry(k.clone()).or_insert(0);
                        *next = (*next).max(top + 1);
                        node_shown.entry(k.clone()).or_default().push((top, done));
                    }
                }
            }
            _ => {}
        }
    }
    findings.result()
}

/// An empty answer to `invoke` against what `node` had shown before it was invoked.
fn went_back(
    node: usize,
    invoke: &Op,
    done: &Op,
    offsets: &BTreeMap<String, i128>,
    shown: &BTreeMap<String, Vec<(i128, &Op)>>,
    findings: &mut Findings,
) {
    for (k, from) in offsets {
        let before = shown
            .get(k)
            .into_iter()
            .flatten()
            .filter(|(_, by)| by.index < invoke.index);
        if let Some((top, by)) = before.max_by_key(|(o, _)| *o)
            && top >= from
        {
            findings.push(
                format!(
                    "node {node}: {} asked for key {k} from offset {from} and got nothing, but \
                     {} had already shown offset {top} of it on that node",
                    describe(invoke),
                    describe(by)
                ),
                &[invoke, done, by],
            );
            return;
        }
    }
}
