//! broadcast and g-set (Jepsen's set-full): which value a read lacks, who added it and when
//! it was acknowledged (or first read); values read that nobody added; values read twice.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::words::{Ops, Pair, brief, explanation, seconds};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::{clj_eq, identity_key};
use crate::harness::history::OpType;

/// Explains the set-full result `result`; `add_f` is the history's name for an add.
pub(super) fn explain(ops: &Ops, result: &OwnedValue, add_f: &str, out: &mut Vec<Explanation>) {
    let reads = ok_reads(ops);
    let list = |key: &str| {
        result
            .get(key)
            .and_then(|v| v.as_array())
            .map_or(&[][..], |v| v.as_slice())
    };
    for value in list("lost") {
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
        if let Some(found) = lost(ops, &reads, add_f, value) {
            out.push(found);
        }
    }
    for value in list("unexpected") {
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
        if let Some(&read) = reads.iter().find(|r| holds(r, value) > 0) {
            let text = format!(
                "read by {} returned {}, which nobody had added",
                ops.who_when(read),
                brief(value)
            );
            out.push(explanation(text, &[read]));
        }
    }
    let duplicated = result
        .get("duplicated-count")
        .and_then(|c| c.as_u64())
        .unwrap_or(0);
    if duplicated > 0 {
        duplicates(ops, &reads, out);
    }
}

/// Every `ok` read, in invocation order.
fn ok_reads<'h>(ops: &Ops<'h>) -> Vec<Pair<'h>> {
    ops.pairs
        .iter()
        .copied()
        .filter(|(invoke, done)| {
            invoke.f == "read" && done.is_some_and(|d| d.op_type == OpType::Ok)
        })
        .collect()
}

/// How many copies of `value` the read returned.
fn holds(read: &Pair, value: &OwnedValue) -> usize {
    match read.1.map(|done| &done.value) {
        Some(OwnedValue::Array(items)) => items.iter().filter(|i| clj_eq(i, value)).count(),
        _ => 0,
    }
}

/// A lost value: the latest-invoked read that lacks it (set-full's `last-absent`), its add,
/// and when it became known (acknowledged, or first read).
fn lost(ops: &Ops, reads: &[Pair], add_f: &str, value: &OwnedValue) -> Option<Explanation> {
    let add = ops
        .pairs
        .iter()
        .copied()
        .filter(|(invoke, _)| invoke.f == add_f && clj_eq(&invoke.value, value))
        .max_by_key(|(invoke, _)| invoke.index)?;
    let acknowledged = add.1.filter(|d| d.op_type == OpType::Ok);
    let first_read = reads.iter().copied().find(|r| holds(r, value) > 0);
    let absent = reads
        .iter()
        .copied()
        .filter(|r| r.1.is_some_and(|d| d.index > add.0.index) && holds(r, value) == 0)
        .max_by_key(|r| r.0.index)?;
    let last_present = reads
        .iter()
        .copied()
        .filter(|r| holds(r, value) > 0)
        .max_by_key(|r| r.0.index);
    let known = match (acknowledged, first_read) {
        (Some(done), _) => format!(
            "acknowledged to {} at {} s",
            ops.who(add.0),
            seconds(done.time_ns)
        ),
        (None, Some(read)) => format!(
            "added by {} and already returned by a read of {} at {} s",
            ops.who_when(add),
            ops.who(read.0),
            seconds(read.1.map_or(0, |d| d.time_ns))
        ),
        (None, None) => format!("added by {}", ops.who_when(add)),
    };
    let final_read = if absent.1.is_some_and(|d| d.is_final) {
        "final "
    } else {
        ""
    };
    let mut text = format!(
        "{final_read}read by {} lacks {}, {known}",
        ops.who_when(absent),
        brief(value)
    );
    let mut pairs = vec![add, absent];
    if let Some(seen) = last_present {
        text.push_str(&format!(
            "; though a read by {} at {} s had it",
            ops.who(seen.0),
            seconds(seen.0.time_ns)
        ));
        pairs.push(seen);
    }
    Some(explanation(text, &pairs))
}

/// Reads that returned a value more than once.
fn duplicates(ops: &Ops, reads: &[Pair], out: &mut Vec<Explanation>) {
    for &read in reads {
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
        let Some(OwnedValue::Array(items)) = read.1.map(|d| &d.value) else {
            continue;
        };
        let mut seen = ahash::AHashSet::with_capacity(items.len());
        let twice = items.iter().find(|item| !seen.insert(identity_key(item)));
        if let Some(value) = twice {
            let text = format!(
                "read by {} returned {} {} times",
                ops.who_when(read),
                brief(value),
                holds(&read, value)
            );
            out.push(explanation(text, &[read]));
        }
    }
}
