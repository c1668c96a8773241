//! What went wrong, in words: for an invalid run, a short list of explanations derived from
//! the history and the checkers' results map, each naming the ops involved (process, node,
//! times in seconds, values) and listing their history indices (invocation and completion),
//! so that people read the failure instead of decoding the results map, and the causal
//! diagram ([`crate::harness::results::causal`]) can draw just those ops' messages.
//!
//! One file per kind of workload: `sets` (broadcast, g-set), `counter`, `ids` (echo,
//! unique-ids), `lin_kv`, `kafka`, `txn` (txn-list-append, txn-rw-register) and
//! `stats` (no op of a kind succeeded, availability, checks beyond Maelstrom's); the
//! shared vocabulary is in [`words`]. The explainers read the failure the checker already
//! found (a cycle, a lost value, a key that is not linearizable) and look its ops up in the
//! history; they never re-judge the run.
//!
//! Results carry them as `:explanation [{:text "…" :ops [12 15 …]} …]`, only when the run
//! is invalid, so valid runs' results are unchanged byte for byte.

mod counter;
mod ids;
mod kafka;
mod lin_kv;
mod sets;
mod stats;
mod txn;
pub mod words;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::value::{arr, obj};
use super::{Validity, validity_of};
use crate::harness::history::History;
use words::Ops;

/// Most explanations a run gets: enough to show the pattern, few enough to read.
pub const EXPLANATIONS_MAX: usize = 10;
/// Most of those the workload's checker may take, leaving room for stats and availability.
const WORKLOAD_EXPLANATIONS_MAX: usize = EXPLANATIONS_MAX - 2;
/// Longest explanation text, in characters (longer ones end in `…`).
pub const TEXT_MAX: usize = 700;
/// Most op indices one explanation lists.
pub const OPS_MAX: usize = 24;

/// One thing that went wrong: a sentence, and the history indices of the ops it names.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// What went wrong, in words.
    pub text: String,
    /// History indices of the ops named: each op's invocation and completion, ascending.
    pub ops: Vec<u64>,
}

impl Explanation {
    /// An explanation with no ops (a count, a fraction).
    pub fn text(text: String) -> Explanation {
        Explanation {
            text,
            ops: Vec::new(),
        }
    }
}

/// What the explainers need besides the results map.
pub struct Context<'a> {
    /// Workload name as given to `-w`.
    pub workload: &'a str,
    /// The history.
    pub history: &'a History,
    /// Node count (0: unknown); worker thread t talks to node t mod n.
    pub node_count: usize,
    /// Worker threads (0: unknown); process p runs on thread p mod C.
    pub concurrency: usize,
}

/// The explanations of `results` (a results map), bounded; empty when nothing failed.
pub fn explain(context: &Context, results: &OwnedValue) -> Vec<Explanation> {
    let ops = Ops::new(context);
    let mut out = Vec::new();
    if let Some(workload) = results.get("workload")
        && Validity::from_value(workload.get("valid?")) == Validity::Invalid
    {
        let mut found = Vec::new();
        explain_workload(context.workload, &ops, workload, &mut found);
        found.truncate(WORKLOAD_EXPLANATIONS_MAX);
        out.extend(found);
    }
    stats::explain(&ops, results, &mut out);
    if out.is_empty() {
        stats::explain_extra(results, &mut out);
    }
    out.truncate(EXPLANATIONS_MAX);
    for explanation in &mut out {
        bound(explanation);
    }
    out
}

/// Adds `:explanation` to an invalid results map (nothing for a valid or unknown one).
pub fn attach(results: &mut OwnedValue, context: &Context) {
    if validity_of(results) != Validity::Invalid {
        return;
    }
    let explanations = explain(context, results);
    if explanations.is_empty() {
        return;
    }
    if let OwnedValue::Object(map) = results {
        map.insert("explanation".to_string(), to_value(&explanations));
    }
}

/// `[{text "…" ops […]} …]`.
pub fn to_value(explanations: &[Explanation]) -> OwnedValue {
    arr(explanations
        .iter()
        .map(|e| {
            obj([
                ("text", OwnedValue::from(e.text.as_str())),
                (
                    "ops",
                    arr(e.ops.iter().map(|&i| OwnedValue::from(i)).collect()),
                ),
            ])
        })
        .collect())
}

fn explain_workload(workload: &str, ops: &Ops, result: &OwnedValue, out: &mut Vec<Explanation>) {
    match workload {
        "echo" => ids::echo(ops, out),
        "unique-ids" => ids::unique_ids(ops, out),
        "broadcast" => sets::explain(ops, result, "broadcast", out),
        "g-set" => sets::explain(ops, result, "add", out),
        "g-counter" | "pn-counter" => counter::explain(ops, result, out),
        "lin-kv" => lin_kv::explain(ops, result, out),
        "kafka" => kafka::explain(ops, result, out),
        "txn-list-append" | "txn-rw-register" => txn::explain(ops, result, out),
        _ => {}
    }
}

/// Cuts the text at [`TEXT_MAX`] characters and the ops at [`OPS_MAX`]; sorts the ops.
fn bound(explanation: &mut Explanation) {
    if let Some((cut, _)) = explanation.text.char_indices().nth(TEXT_MAX) {
        explanation.text.truncate(cut);
        explanation.text.push('…');
    }
    explanation.ops.sort_unstable();
    explanation.ops.dedup();
    explanation.ops.truncate(OPS_MAX);
}
