//! kafka: each error the checker found, with the sends and polls behind it — two sends
//! given one offset, an acknowledged send a later poll skipped, a poll that went backwards.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::words::{Ops, Pair, brief, explanation, seconds};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::{clj_eq, identity_key};
use crate::harness::history::OpType;

/// Errors explained per type, so that several types get a word in.
const PER_TYPE: usize = 3;

/// Error types in the order they are explained: data loss and corruption first.
const KINDS: [&str; 11] = [
    "inconsistent-offsets",
    "duplicate",
    "lost-write",
    "G1a",
    "G1c-realtime",
    "poll-skip",
    "nonmonotonic-poll",
    "int-poll-skip",
    "int-nonmonotonic-poll",
    "nonmonotonic-send",
    "unseen",
];

/// Explains the kafka result `result`.
pub(super) fn explain(ops: &Ops, result: &OwnedValue, out: &mut Vec<Explanation>) {
    for kind in KINDS {
        let Some(detail) = result.get(kind) else {
            continue;
        };
        let errs: Vec<&OwnedValue> = match detail.get("errs").and_then(|e| e.as_array()) {
            Some(errs) => errs.iter().collect(),
            None => vec![detail],
        };
        for err in errs.into_iter().take(PER_TYPE) {
            if out.len() >= EXPLANATIONS_MAX {
                return;
            }
            if let Some(found) = one(ops, kind, err) {
                out.push(found);
            }
        }
    }
}

fn one(ops: &Ops, kind: &str, err: &OwnedValue) -> Option<Explanation> {
    let key = err.get("key").map_or_else(|| "?".to_string(), text_of);
    let shown = |field: &str| err.get(field).and_then(|o| ops.pair_of_shown(o));
    let nth = |field: &str, n: usize| {
        err.get(field)
            .and_then(|o| o.get_idx(n))
            .and_then(|o| ops.pair_of_shown(o))
    };
    let values = || err.get("values").and_then(|v| v.as_array());
    let value = err.get("value").map_or_else(|| "?".to_string(), brief);
    match kind {
        "inconsistent-offsets" => {
            let offset = err.get("offset").map_or_else(|| "?".to_string(), brief);
            let values = values()?;
            let sends: Vec<Pair> = values
                .iter()
                .filter_map(|v| send_of_value(ops, &key, v))
                .collect();
            let named: Vec<String> = sends.iter().map(|&s| send_text(ops, s)).collect();
            let text = format!(
                "{} sends to key {key} got offset {offset}: {}",
                values.len(),
                named.join("; ")
            );
            Some(explanation(text, &sends))
        }
        "duplicate" => {
            let send = err.get("value").and_then(|v| send_of_value(ops, &key, v));
            let offsets = err.get("offsets").map_or_else(|| "?".to_string(), brief);
            let mut text = format!("{value} of key {key} sits at offsets {offsets}");
            if let Some(send) = send {
                text.push_str(&format!(": {}", send_text(ops, send)));
            }
            Some(explanation(text, &send.into_iter().collect::<Vec<_>>()))
        }
        "lost-write" => {
            let writer = shown("writer")?;
            let poll = shown("max-read");
            let mut text = format!(
                "send of {value} to {key} by {}, acknowledged at offset {} at {} s, is missing",
                ops.who(writer.0),
                offset_of(writer).map_or_else(|| "?".to_string(), |o| o.to_string()),
                seconds(writer.1.map_or(0, |d| d.time_ns)),
            );
            if let Some(poll) = poll {
                text.push_str(&format!(
                    " from what polls returned, though poll by {} read past it",
                    ops.who_when(poll)
                ));
            }
            let pairs: Vec<Pair> = [Some(writer), poll].into_iter().flatten().collect();
            Some(explanation(text, &pairs))
        }
        "G1a" => {
            let (writer, reader) = (shown("writer")?, shown("reader")?);
            let text = format!(
                "poll by {} returned {value} of key {key}, whose send by {} failed",
                ops.who_when(reader),
                ops.who_when(writer)
            );
            Some(explanation(text, &[writer, reader]))
        }
        "G1c-realtime" => {
            let (send, poll) = (nth("cycle", 0)?, nth("cycle", 1)?);
            let text = format!(
                "poll by {} returned {value} of key {key}, but its send by {} began only later",
                ops.who_when(poll),
                ops.who_when(send)
            );
            Some(explanation(text, &[send, poll]))
        }
        "poll-skip" | "nonmonotonic-poll" | "nonmonotonic-send" => {
            let (first, second) = (nth("ops", 0)?, nth("ops", 1)?);
            let values = values()?;
            let (a, b) = (brief(values.first()?), brief(values.get(1)?));
            let delta = err.get("delta").and_then(|d| d.as_i64()).unwrap_or(0);
            let text = match kind {
                "nonmonotonic-send" => format!(
                    "{}'s send of {a} to key {key} {} and its next send, of {b} {}, are out of \
                     log order: {b} does not come after {a}",
                    ops.who(first.0),
                    span_short(first),
                    span_short(second),
                ),
                _ => format!(
                    "{}'s poll of key {key} {} ended at {a}, its next {} started at {b} — {}",
                    ops.who(first.0),
                    span_short(first),
                    span_short(second),
                    if kind == "poll-skip" {
                        format!("skipping {} message(s)", delta - 1)
                    } else {
                        "going back".to_string()
                    }
                ),
            };
            Some(explanation(text, &[first, second]))
        }
        "int-poll-skip" | "int-nonmonotonic-poll" => {
            let poll = shown("op")?;
            let values = values()?;
            let (a, b) = (brief(values.first()?), brief(values.get(1)?));
            let what = if kind == "int-poll-skip" {
                "skipping messages between them"
            } else {
                "out of log order"
            };
            let text = format!(
                "poll by {} returned {a} then {b} of key {key}, {what}",
                ops.who_when(poll)
            );
            Some(explanation(text, &[poll]))
        }
        "unseen" => unseen(ops, err),
        _ => None,
    }
}

/// Acknowledged sends that no poll ever returned: counts per key, and one send named.
fn unseen(ops: &Ops, err: &OwnedValue) -> Option<Explanation> {
    let counts = err.get("unseen")?.as_object()?;
    let messages = err.get("messages")?.as_object()?;
    let mut keys: Vec<&String> = counts.keys().collect();
    keys.sort();
    let per_key: Vec<String> = keys
        .iter()
        .take(4)
        .map(|k| format!("{} on {k}", counts.get(*k).map_or("?".into(), brief)))
        .collect();
    let example = keys.first().and_then(|k| {
        let value = messages.get(*k)?.get_idx(0)?;
        send_of_value(ops, k, value)
    });
    let mut text = format!(
        "acknowledged sends no poll ever returned: {}",
        per_key.join(", ")
    );
    if let Some(send) = example {
        text.push_str(&format!("; e.g. {}", send_text(ops, send)));
    }
    Some(explanation(text, &example.into_iter().collect::<Vec<_>>()))
}

/// "42 by process 3 at 1.200–1.210 s (offset 5)".
fn send_text(ops: &Ops, send: Pair) -> String {
    let value = micro(send.0)
        .and_then(|m| m.get(2))
        .map_or("?".into(), brief);
    let mut text = format!("{value} by {}", ops.who_when(send));
    if let Some(offset) = offset_of(send) {
        text.push_str(&format!(" (offset {offset})"));
    }
    text
}

/// "(1.200–1.210 s)".
fn span_short((invoke, done): Pair) -> String {
    match done {
        Some(d) => format!("({}–{} s)", seconds(invoke.time_ns), seconds(d.time_ns)),
        None => format!("({} s)", seconds(invoke.time_ns)),
    }
}

/// The send of `value` to `key` (the latest one, as the checker's writer map keeps).
fn send_of_value<'h>(ops: &Ops<'h>, key: &str, value: &OwnedValue) -> Option<Pair<'h>> {
    ops.pairs
        .iter()
        .copied()
        .filter(|(invoke, _)| invoke.f == "send")
        .filter(|(invoke, _)| {
            micro(invoke).is_some_and(|m| {
                m.get(1).is_some_and(|k| text_of(k) == key)
                    && m.get(2).is_some_and(|v| clj_eq(v, value))
            })
        })
        .max_by_key(|(invoke, _)| invoke.index)
}

/// The offset an `ok` send was given.
fn offset_of((_, done): Pair) -> Option<i64> {
    let done = done.filter(|d| d.op_type == OpType::Ok)?;
    micro(done)?.get(2)?.get_idx(0)?.as_i64()
}

/// The one micro-op of a kafka op (`[[send k v]]` → `[send k v]`).
fn micro(op: &crate::harness::history::Op) -> Option<&Vec<OwnedValue>> {
    op.value.get_idx(0)?.as_array()
}

/// A key as the checker names it: strings as they are, anything else by identity.
fn text_of(key: &OwnedValue) -> String {
    match key.as_str() {
        Some(s) => s.to_string(),
        None => identity_key(key),
    }
}
