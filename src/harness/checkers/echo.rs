//! The echo checker (MAELSTROM.md §3.1): every completion must be a reply map whose
//! `echo` equals the invocation's value.

use simd_json::OwnedValue;

use super::value::{arr, clj_eq, obj};
use super::{CheckInput, Checker};
use crate::harness::history::OpType;

/// Maelstrom's `maelstrom.workload.echo/checker`.
///
/// Like Maelstrom, it checks `ok` and `fail` completions only: Knossos' `pairs` never pairs
/// an invocation with an `info` completion, so an echo that timed out is no error (a node
/// muted for replying late ends valid, as under the real Maelstrom; the late reply itself
/// is reported apart, under `late-replies`/`muted-nodes`). Errors are listed in history
/// order (Maelstrom's order is that of a hash map, i.e. arbitrary).
pub struct Echo;

impl Checker for Echo {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let mut errors = Vec::new();
        for (invoke, completion) in input.history.pairs() {
            let Some(done) = completion else { continue };
            if matches!(done.op_type, OpType::Invoke | OpType::Info) {
                continue;
            }
            let echoed = match &done.value {
                OwnedValue::Object(body) => body.get("echo"),
                _ => None,
            };
            if !echoed.is_some_and(|e| clj_eq(e, &invoke.value)) {
                errors.push(arr(vec![
                    OwnedValue::from("Expected a message with :echo"),
                    invoke.value.clone(),
                    OwnedValue::from("But received"),
                    done.value.clone(),
                ]));
            }
        }
        Ok(obj([
            ("valid?", OwnedValue::from(errors.is_empty())),
            ("errors", arr(errors)),
        ]))
    }
}
