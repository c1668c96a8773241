//! The failures of the cheap checkers: a kind of op that never succeeded (`stats`), too few
//! ops that succeeded (`availability`), and the checks beyond Maelstrom's when they decided
//! the verdict (`--extra-checks=strict`).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::Explanation;
use super::words::{Ops, explanation};
use crate::harness::checkers::Validity;
use crate::harness::checkers::stats::STATS_EXEMPT;
use crate::harness::history::OpType;

/// Explains `stats` and `availability` when they are invalid.
pub(super) fn explain(ops: &Ops, results: &OwnedValue, out: &mut Vec<Explanation>) {
    let invalid = |part: &OwnedValue| Validity::from_value(part.get("valid?")) == Validity::Invalid;
    if let Some(stats) = results.get("stats").filter(|s| invalid(s))
        && let Some(by_f) = stats.get("by-f").and_then(|b| b.as_object())
    {
        let mut names: Vec<&String> = by_f.keys().collect();
        names.sort();
        for f in names {
            let exempt = STATS_EXEMPT.contains(&f.as_str());
            let Some(counts) = by_f.get(f).filter(|c| invalid(c) && !exempt) else {
                continue;
            };
            let count = |key: &str| counts.get(key).and_then(|c| c.as_u64()).unwrap_or(0);
            // The first attempt, to show what became of it.
            let first = ops
                .pairs
                .iter()
                .copied()
                .find(|(invoke, done)| &invoke.f == f && done.is_some());
            let mut text = format!(
                "no {f} succeeded: {} attempted, {} failed, {} indeterminate",
                count("count"),
                count("fail-count"),
                count("info-count")
            );
            if let Some(pair @ (_, Some(done))) = first {
                text.push_str(&format!(
                    "; the first, by {}, ended {}",
                    ops.who_when(pair),
                    ending(done)
                ));
            }
            out.push(explanation(text, &first.into_iter().collect::<Vec<_>>()));
        }
    }
    if let Some(availability) = results.get("availability").filter(|a| invalid(a)) {
        let fraction = availability
            .get("ok-fraction")
            .and_then(|f| f.cast_f64())
            .unwrap_or(0.0);
        let invoked = ops.pairs.len();
        let ok = ops
            .pairs
            .iter()
            .filter(|(_, d)| d.is_some_and(|d| d.op_type == OpType::Ok))
            .count();
        out.push(Explanation::text(format!(
            "only {ok} of {invoked} ops succeeded ({:.1}%), below the --availability asked for",
            fraction * 100.0
        )));
    }
}

/// "with :fail :key-does-not-exist", "without an answer (:net-timeout)".
fn ending(done: &crate::harness::history::Op) -> String {
    let error = done
        .error
        .as_ref()
        .map_or(String::new(), |e| format!(" ({})", e.encode()));
    match done.op_type {
        OpType::Ok => "ok".to_string(),
        OpType::Fail => format!("failed{error}"),
        _ => format!("indeterminate{error}"),
    }
}

/// The findings of the checks beyond Maelstrom's, when they alone made the run invalid.
pub(super) fn explain_extra(results: &OwnedValue, out: &mut Vec<Explanation>) {
    for line in crate::harness::checkers::extra::summary_lines(results) {
        out.push(Explanation::text(line));
    }
}
