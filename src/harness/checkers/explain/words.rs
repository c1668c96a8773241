//! The vocabulary every explainer shares: who performed an op (process, node), when (seconds
//! of the main phase), and values written short (EDN-like, long lists cut to their end).

use std::fmt::Write as _;

use ahash::AHashMap;
use simd_json::prelude::*;
use simd_json::{OwnedValue, StaticNode};

use super::Context;
use crate::harness::history::{History, Op, OpType, Process};

/// Longest rendering of a value before it is cut.
const VALUE_MAX: usize = 60;
/// Items of a long list shown (its last ones: appends and offsets grow at the end).
const LIST_TAIL: usize = 4;

/// The history's client ops as invocation/completion pairs, looked up by either index.
pub struct Ops<'h> {
    /// The history.
    pub history: &'h History,
    /// Every (invocation, completion) pair, in invocation order.
    pub pairs: Vec<(&'h Op, Option<&'h Op>)>,
    by_index: AHashMap<u64, usize>,
    node_count: usize,
    concurrency: usize,
}

/// One op: its invocation and (if any) completion.
pub type Pair<'h> = (&'h Op, Option<&'h Op>);

impl<'h> Ops<'h> {
    /// Pairs `context`'s history.
    pub fn new(context: &Context<'h>) -> Ops<'h> {
        let pairs = context.history.pairs();
        let mut by_index = AHashMap::with_capacity(pairs.len() * 2);
        for (slot, (invoke, completion)) in pairs.iter().enumerate() {
            by_index.insert(invoke.index, slot);
            if let Some(done) = completion {
                by_index.insert(done.index, slot);
            }
        }
        Ops {
            history: context.history,
            pairs,
            by_index,
            node_count: context.node_count,
            concurrency: context.concurrency,
        }
    }

    /// The pair holding history op `index` (its invocation or its completion).
    pub fn pair(&self, index: u64) -> Option<Pair<'h>> {
        self.by_index.get(&index).map(|&slot| self.pairs[slot])
    }

    /// The pair of an op as a checker shows it (a map with `index`).
    pub fn pair_of_shown(&self, shown: &OwnedValue) -> Option<Pair<'h>> {
        self.pair(shown.get("index")?.as_u64()?)
    }

    /// "process 3 on n1" (the node only when the run's sizes are known).
    pub fn who(&self, op: &Op) -> String {
        match op.process {
            Process::Nemesis => "the nemesis".to_string(),
            Process::Client(p) if self.node_count > 0 && self.concurrency > 0 => {
                let node = (p % self.concurrency as u64) % self.node_count as u64;
                format!("process {p} on n{node}")
            }
            Process::Client(p) => format!("process {p}"),
        }
    }

    /// "process 3 on n1 at 1.400–1.520 s" (or "… invoked at 1.400 s, never completed").
    pub fn who_when(&self, pair: Pair) -> String {
        format!("{} {}", self.who(pair.0), span(pair))
    }
}

/// "at 1.400–1.520 s", with "(indeterminate)" or "(failed)" for info and fail completions.
pub fn span((invoke, completion): Pair) -> String {
    match completion {
        Some(done) => {
            let mut text = format!("at {}–{} s", seconds(invoke.time_ns), seconds(done.time_ns));
            match done.op_type {
                OpType::Info => text.push_str(" (indeterminate)"),
                OpType::Fail => text.push_str(" (failed)"),
                _ => {}
            }
            text
        }
        None => format!("invoked at {} s, never completed", seconds(invoke.time_ns)),
    }
}

/// Nanoseconds as seconds with millisecond precision: `1.400`.
pub fn seconds(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

/// Both history indices of a pair.
pub fn indices((invoke, completion): Pair) -> Vec<u64> {
    let mut out = vec![invoke.index];
    out.extend(completion.map(|c| c.index));
    out
}

/// A value written short, EDN-like: `nil`, `[1 2 3]`, `[… 97 98 99] (40 items)`,
/// `{"k1" [[0 5]]}`; micro-op names are keywords (`[:append 4 3]`).
pub fn brief(value: &OwnedValue) -> String {
    let mut out = String::new();
    write_value(&mut out, value, true);
    if let Some((cut, _)) = out.char_indices().nth(VALUE_MAX) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn write_value(out: &mut String, value: &OwnedValue, top: bool) {
    match value {
        OwnedValue::Static(StaticNode::Null) => out.push_str("nil"),
        OwnedValue::Static(node) => {
            let _ = write!(out, "{node}");
        }
        OwnedValue::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        OwnedValue::Array(items) => {
            out.push('[');
            let skipped = if items.len() > LIST_TAIL + 1 {
                items.len() - LIST_TAIL
            } else {
                0
            };
            if skipped > 0 {
                out.push_str("… ");
            }
            for (n, item) in items.iter().skip(skipped).enumerate() {
                if n > 0 {
                    out.push(' ');
                }
                match item {
                    OwnedValue::String(s) if n == 0 && top && is_micro_op(s) => {
                        out.push(':');
                        out.push_str(s);
                    }
                    _ => write_value(out, item, n == 0 && top || is_mop_list(items)),
                }
            }
            out.push(']');
            if skipped > 0 {
                let _ = write!(out, " ({} items)", items.len());
            }
        }
        OwnedValue::Object(map) => {
            out.push('{');
            for (n, (key, item)) in map.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{key:?} ");
                write_value(out, item, false);
            }
            out.push('}');
        }
    }
}

fn is_micro_op(name: &str) -> bool {
    matches!(name, "r" | "w" | "append" | "send" | "poll")
}

/// A transaction's value: a list of micro-ops (`[[append 4 3] [r 5 nil]]`).
fn is_mop_list(items: &[OwnedValue]) -> bool {
    items.iter().all(|item| match item {
        OwnedValue::Array(mop) => {
            matches!(mop.first(), Some(OwnedValue::String(s)) if is_micro_op(s))
        }
        _ => false,
    })
}

/// The ops of `text` with both indices of every pair.
pub fn explanation(text: String, pairs: &[Pair]) -> super::Explanation {
    super::Explanation {
        text,
        ops: pairs.iter().flat_map(|&p| indices(p)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short_and_edn_like() {
        let value: OwnedValue = simd_json::json!([["append", 4, 3], ["r", 5, [1, 2, 3, 4, 5, 6]]]);
        assert_eq!(
            brief(&value),
            "[[:append 4 3] [:r 5 [… 3 4 5 6] (6 items)]]"
        );
        let null: OwnedValue = simd_json::json!(null);
        assert_eq!(brief(&null), "nil");
        assert_eq!(seconds(1_400_000_000), "1.400");
    }
}
