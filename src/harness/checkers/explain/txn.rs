//! txn-list-append and txn-rw-register (Elle): each anomaly the checker found, its
//! transactions named (process, node, times, micro-ops) and, for a dependency cycle, each
//! edge said in words: who read whose write, whose write a read missed.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::words::{Ops, Pair, brief, explanation, seconds};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::clj_eq;

/// Details explained per anomaly type, so that several types get a word in.
const PER_TYPE: usize = 3;

/// Explains the txn result `result` (`anomalies`: type → details).
pub(super) fn explain(ops: &Ops, result: &OwnedValue, out: &mut Vec<Explanation>) {
    let Some(anomalies) = result.get("anomalies").and_then(|a| a.as_object()) else {
        return;
    };
    let mut kinds: Vec<&String> = anomalies.keys().collect();
    // Cycles first (what Elle leads with), then the rest, each group by name.
    kinds.sort_by_key(|k| (!is_cycle(anomalies.get(*k)), k.to_string()));
    for kind in kinds {
        let details = anomalies
            .get(kind)
            .and_then(|d| d.as_array())
            .map_or(&[][..], |d| d.as_slice());
        for detail in details.iter().take(PER_TYPE) {
            if out.len() >= EXPLANATIONS_MAX {
                return;
            }
            let found = if detail.get("cycle").is_some() {
                cycle(ops, kind, detail)
            } else {
                other(ops, kind, detail)
            };
            out.extend(found);
        }
    }
}

fn is_cycle(details: Option<&OwnedValue>) -> bool {
    details
        .and_then(|d| d.get_idx(0))
        .is_some_and(|d| d.get("cycle").is_some())
}

/// "G-single-item: T1 →rw T2 →wr T1: T1 read key 4 as [1 2], missing T2's append of 3; …. T1 =
/// process 3 on n0 at 1.400–1.520 s [[:r 4 [1 2]] …]; T2 = ….": the edges first, in words.
fn cycle(ops: &Ops, kind: &str, detail: &OwnedValue) -> Option<Explanation> {
    let txns: Vec<Pair> = detail
        .get("cycle")?
        .as_array()?
        .iter()
        .map(|shown| ops.pair_of_shown(shown))
        .collect::<Option<_>>()?;
    let steps: Vec<&str> = detail
        .get("steps")?
        .as_array()?
        .iter()
        .map(|s| s.as_str().unwrap_or("?"))
        .collect();
    if txns.is_empty() {
        return None;
    }
    let name = |i: usize| format!("T{}", i % txns.len() + 1);
    let mut chain = name(0);
    for (i, step) in steps.iter().enumerate() {
        chain.push_str(&format!(" →{} {}", arrow(step), name(i + 1)));
    }
    let named: Vec<String> = txns
        .iter()
        .enumerate()
        .map(|(i, &t)| format!("{} = {}", name(i), describe(ops, t)))
        .collect();
    let reasons: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (a, b) = (txns[i], txns[(i + 1) % txns.len()]);
            edge(step, (&name(i), a), (&name(i + 1), b))
        })
        .collect();
    let text = format!(
        "{kind}: {chain}: {}. {}.",
        reasons.join("; "),
        named.join("; ")
    );
    Some(explanation(text, &txns))
}

fn arrow(step: &str) -> &str {
    if step == "realtime" { "rt" } else { step }
}

/// "process 3 on n0 at 1.400–1.520 s [[:r 4 [1 2]] [:append 5 3]]".
fn describe(ops: &Ops, txn: Pair) -> String {
    let value = txn.1.map_or(&txn.0.value, |d| &d.value);
    format!("{} {}", ops.who_when(txn), brief(value))
}

/// One micro-op: (function, key, value).
fn mops<'h>(txn: Pair<'h>) -> Vec<(&'h str, &'h OwnedValue, &'h OwnedValue)> {
    let value = txn.1.map_or(&txn.0.value, |d| &d.value);
    value
        .as_array()
        .map(|mops| {
            mops.iter()
                .filter_map(|m| Some((m.get_idx(0)?.as_str()?, m.get_idx(1)?, m.get_idx(2)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn is_write(f: &str) -> bool {
    f == "append" || f == "w"
}

/// Whether a read value shows the write `written` (an appended element, a written value).
fn shows(f: &str, read: &OwnedValue, written: &OwnedValue) -> bool {
    match (f, read) {
        ("append", OwnedValue::Array(list)) => list.iter().any(|e| clj_eq(e, written)),
        ("append", _) => false,
        _ => clj_eq(read, written),
    }
}

/// Why the edge `a →step b` exists, in words, from the two transactions' micro-ops.
fn edge(step: &str, (a_name, a): (&str, Pair), (b_name, b): (&str, Pair)) -> String {
    let verb = |f: &str| if f == "append" { "append" } else { "write" };
    let found = match step {
        "wr" => mops(a).into_iter().find_map(|(f, k, x)| {
            let read = mops(b)
                .into_iter()
                .find(|&(g, k2, v)| g == "r" && is_write(f) && clj_eq(k, k2) && shows(f, v, x))?;
            Some(format!(
                "{b_name} read key {} as {}, with {a_name}'s {} of {}",
                brief(k),
                brief(read.2),
                verb(f),
                brief(x)
            ))
        }),
        "rw" => mops(a).into_iter().find_map(|(g, k, v)| {
            let (f, _, x) = mops(b)
                .into_iter()
                .find(|&(f, k2, x)| g == "r" && is_write(f) && clj_eq(k, k2) && !shows(f, v, x))?;
            Some(format!(
                "{a_name} read key {} as {}, missing {b_name}'s {} of {}",
                brief(k),
                brief(v),
                verb(f),
                brief(x)
            ))
        }),
        "ww" => mops(a).into_iter().find_map(|(f, k, x)| {
            let (g, _, y) = mops(b)
                .into_iter()
                .find(|&(g, k2, _)| is_write(f) && is_write(g) && clj_eq(k, k2))?;
            Some(format!(
                "{b_name}'s {} of {} to key {} came after {a_name}'s {} of {}",
                verb(g),
                brief(y),
                brief(k),
                verb(f),
                brief(x)
            ))
        }),
        "realtime" => Some(format!(
            "{a_name} completed at {} s, before {b_name} began at {} s",
            seconds(a.1.map_or(a.0.time_ns, |d| d.time_ns)),
            seconds(b.0.time_ns)
        )),
        _ => None,
    };
    found.unwrap_or_else(|| format!("{a_name} →{step} {b_name}"))
}

/// The anomalies without a cycle: one or two transactions and a key.
fn other(ops: &Ops, kind: &str, detail: &OwnedValue) -> Option<Explanation> {
    let key = detail
        .get("key")
        .map_or(String::new(), |k| format!(" key {}", brief(k)));
    let shown = |field: &str| detail.get(field).and_then(|o| ops.pair_of_shown(o));
    if let Some(txns) = detail.get("txns").and_then(|t| t.as_array()) {
        let pairs: Vec<Pair> = txns.iter().filter_map(|t| ops.pair_of_shown(t)).collect();
        let named: Vec<String> = pairs.iter().map(|&t| describe(ops, t)).collect();
        let text = format!(
            "{kind}: {} transactions read the same version of{key} and each wrote it: {}",
            pairs.len(),
            named.join("; ")
        );
        return Some(explanation(text, &pairs));
    }
    let meaning = meaning(kind).replace("{key}", &key);
    let Some(txn) = shown("op") else {
        return Some(super::Explanation::text(format!("{kind}:{key} {meaning}")));
    };
    let mut text = format!("{kind}: txn by {} {meaning}", describe(ops, txn));
    let mut pairs = vec![txn];
    if let Some(writer) = shown("writer") {
        text.push_str(&format!(", written by {}", describe(ops, writer)));
        pairs.push(writer);
    }
    if let Some(expected) = detail.get("expected") {
        text.push_str(&format!(" (expected {})", brief(expected)));
    }
    Some(explanation(text, &pairs))
}

/// What an anomaly type means, as the end of a sentence about one transaction.
fn meaning(kind: &str) -> &'static str {
    match kind {
        "G1a" => "read{key} a value from a transaction that failed",
        "G1b" => "read{key} an intermediate value, not its writer's last",
        "internal" => "read{key} inconsistently with its own earlier micro-ops",
        "future-read" => "read{key} the value it writes only later",
        "duplicate-elements" => "read{key} with an element twice",
        "incompatible-order" => "read{key} in an order no other read agrees with",
        "cyclic-versions" => "has versions that form a cycle",
        _ => "is an anomaly",
    }
}
