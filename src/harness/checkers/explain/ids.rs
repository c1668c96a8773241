//! echo (the echo that came back wrong) and unique-ids (the id handed out twice, and to whom).

use simd_json::OwnedValue;

use super::words::{Ops, Pair, brief, explanation};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::{clj_eq, identity_key};
use crate::harness::history::OpType;

/// Each `ok`/`fail` echo whose reply's `echo` is not what was sent (the checker's errors).
pub(super) fn echo(ops: &Ops, out: &mut Vec<Explanation>) {
    for &(invoke, completion) in &ops.pairs {
        let Some(done) = completion else { continue };
        if !matches!(done.op_type, OpType::Ok | OpType::Fail) {
            continue;
        }
        let echoed = match &done.value {
            OwnedValue::Object(body) => body.get("echo"),
            _ => None,
        };
        if echoed.is_some_and(|e| clj_eq(e, &invoke.value)) {
            continue;
        }
        let got = echoed.map_or_else(
            || format!("a reply without echo: {}", brief(&done.value)),
            brief,
        );
        let pair = (invoke, completion);
        let text = format!(
            "echo by {} sent {} but got back {got}",
            ops.who_when(pair),
            brief(&invoke.value)
        );
        out.push(explanation(text, &[pair]));
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
    }
}

/// Each id that more than one `ok` generate returned, with the ops that returned it.
pub(super) fn unique_ids(ops: &Ops, out: &mut Vec<Explanation>) {
    let mut by_id: ahash::AHashMap<String, usize> = ahash::AHashMap::new();
    let mut holders: Vec<Vec<Pair>> = Vec::new();
    for &(invoke, completion) in &ops.pairs {
        let Some(done) = completion.filter(|d| d.op_type == OpType::Ok && d.f == "generate") else {
            continue;
        };
        let slot = *by_id.entry(identity_key(&done.value)).or_insert_with(|| {
            holders.push(Vec::new());
            holders.len() - 1
        });
        holders[slot].push((invoke, Some(done)));
    }
    for pairs in holders.iter().filter(|p| p.len() > 1) {
        let Some(id) = pairs[0].1.map(|done| &done.value) else {
            continue;
        };
        let shown: Vec<String> = pairs.iter().take(3).map(|&p| ops.who_when(p)).collect();
        let text = format!(
            "id {} was handed out {} times: to {}{}",
            brief(id),
            pairs.len(),
            shown.join(" and to "),
            if pairs.len() > 3 { ", …" } else { "" }
        );
        out.push(explanation(text, &pairs[..pairs.len().min(3)]));
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
    }
}
