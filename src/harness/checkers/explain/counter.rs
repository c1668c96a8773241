//! g-counter and pn-counter: the final read whose value no set of adds explains, against
//! the sum of the acknowledged adds and the range the indeterminate ones allow.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::words::{Ops, explanation};
use super::{EXPLANATIONS_MAX, Explanation};
use crate::harness::checkers::value::as_int;
use crate::harness::history::OpType;

/// Explains the counter result `result` (its `errors` are the final reads out of range).
pub(super) fn explain(ops: &Ops, result: &OwnedValue, out: &mut Vec<Explanation>) {
    let (mut sum, mut acknowledged, mut indeterminate) = (0i128, 0usize, 0usize);
    for (invoke, done) in &ops.pairs {
        if invoke.f != "add" {
            continue;
        }
        match done.map(|d| d.op_type) {
            Some(OpType::Ok) => {
                sum += as_int(&invoke.value).unwrap_or(0);
                acknowledged += 1;
            }
            Some(OpType::Info) | None => indeterminate += 1,
            _ => {}
        }
    }
    let acceptable = acceptable_text(result);
    let errors = result
        .get("errors")
        .and_then(|e| e.as_array())
        .map_or(&[][..], |e| e.as_slice());
    for shown in errors {
        if out.len() >= EXPLANATIONS_MAX {
            return;
        }
        let Some(read) = ops.pair_of_shown(shown) else {
            continue;
        };
        let value = read.1.map_or(OwnedValue::null(), |d| d.value.clone());
        let mut text = format!(
            "final read {} by {}, but the {acknowledged} acknowledged adds sum to {sum}",
            value.encode(),
            ops.who_when(read)
        );
        if indeterminate > 0 {
            text.push_str(&format!(
                " (with the {indeterminate} indeterminate adds, any of {acceptable})"
            ));
        }
        out.push(explanation(text, &[read]));
    }
}

/// `20–24, 30` from the result's `acceptable` intervals.
fn acceptable_text(result: &OwnedValue) -> String {
    let intervals = result
        .get("acceptable")
        .and_then(|a| a.as_array())
        .map_or(&[][..], |a| a.as_slice());
    let mut parts: Vec<String> = intervals
        .iter()
        .take(4)
        .filter_map(|pair| {
            let lo = pair.get_idx(0)?.encode();
            let hi = pair.get_idx(1)?.encode();
            Some(if lo == hi { lo } else { format!("{lo}–{hi}") })
        })
        .collect();
    if intervals.len() > 4 {
        parts.push("…".to_string());
    }
    parts.join(", ")
}
