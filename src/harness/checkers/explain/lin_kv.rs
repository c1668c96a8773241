//! lin-kv: per key that is not linearizable, the op the search could not linearize, the last
//! op it could (and the register's value after it), and the ops concurrent with the culprit.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::words::{Ops, Pair, brief, explanation};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::clj_eq;
use crate::harness::history::OpType;

/// Concurrent ops named per failure.
const CONCURRENT_SHOWN: usize = 4;

/// Explains the lin-kv result `result` (`results` → key → `linearizable`).
pub(super) fn explain(ops: &Ops, result: &OwnedValue, out: &mut Vec<Explanation>) {
    let Some(per_key) = result.get("results").and_then(|r| r.as_object()) else {
        return;
    };
    let mut keys: Vec<&String> = per_key.keys().collect();
    keys.sort();
    for key in keys {
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
        let Some(linearizable) = per_key.get(key).and_then(|k| k.get("linearizable")) else {
            continue;
        };
        if linearizable.get("valid?").and_then(|v| v.as_bool()) != Some(false) {
            continue;
        }
        if let Some(found) = key_failure(ops, linearizable) {
            out.push(found);
        }
    }
}

fn key_failure(ops: &Ops, linearizable: &OwnedValue) -> Option<Explanation> {
    let bad = ops.pair_of_shown(linearizable.get("op")?)?;
    let key = key_of(bad.0)?;
    let last = linearizable
        .get("last-op")
        .and_then(|o| ops.pair_of_shown(o));
    let model = linearizable
        .get("configs")
        .and_then(|c| c.get_idx(0))
        .and_then(|c| c.get("model"))
        .and_then(|m| m.get("value"))
        .map_or_else(|| "nil".to_string(), brief);
    let mut text = format!(
        "key {}: {} by {} cannot be linearized",
        brief(key),
        what(bad),
        ops.who_when(bad)
    );
    match last {
        Some(last) => text.push_str(&format!(
            ": after {} by {} the register holds {model}",
            what(last),
            ops.who_when(last)
        )),
        None => text.push_str(&format!(": the register holds {model} before it")),
    }
    let concurrent = concurrent(ops, key, bad, last);
    if !concurrent.is_empty() {
        let named: Vec<String> = concurrent
            .iter()
            .map(|&p| format!("{} by {}", what(p), ops.who_when(p)))
            .collect();
        text.push_str(&format!("; concurrent: {}", named.join("; ")));
    }
    let mut pairs = vec![bad];
    pairs.extend(last);
    pairs.extend(concurrent);
    Some(explanation(text, &pairs))
}

/// The key of a lin-kv op (`[k v]`).
fn key_of(op: &crate::harness::history::Op) -> Option<&OwnedValue> {
    op.value.get_idx(0)
}

/// "read → 4", "write 3", "cas 2→3".
fn what((invoke, done): Pair) -> String {
    let argument = invoke.value.get_idx(1);
    match invoke.f.as_str() {
        "read" => match done.filter(|d| d.op_type == OpType::Ok) {
            Some(d) => format!("read → {}", d.value.get_idx(1).map_or("?".into(), brief)),
            None => "read".to_string(),
        },
        "cas" => {
            let from = argument
                .and_then(|a| a.get_idx(0))
                .map_or("?".into(), brief);
            let to = argument
                .and_then(|a| a.get_idx(1))
                .map_or("?".into(), brief);
            format!("cas {from}→{to}")
        }
        f => format!("{f} {}", argument.map_or("?".into(), brief)),
    }
}

/// Ops of the same key (not failed) whose [invoke, complete] overlaps the culprit's.
fn concurrent<'h>(ops: &Ops<'h>, key: &OwnedValue, bad: Pair, last: Option<Pair>) -> Vec<Pair<'h>> {
    let end = |p: Pair| p.1.map_or(u64::MAX, |d| d.time_ns);
    let same = |a: Pair, b: Option<Pair>| b.is_some_and(|b| a.0.index == b.0.index);
    ops.pairs
        .iter()
        .copied()
        .filter(|&p| {
            !same(p, Some(bad))
                && !same(p, last)
                && p.1.is_none_or(|d| d.op_type != OpType::Fail)
                && key_of(p.0).is_some_and(|k| clj_eq(k, key))
                && p.0.time_ns <= end(bad)
                && bad.0.time_ns <= end(p)
        })
        .take(CONCURRENT_SHOWN)
        .collect()
}
