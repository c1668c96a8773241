//! `final-reads` (broadcast, g-set): each node's last read holds every value whose add was
//! acknowledged before that read began. Maelstrom's set-full checker judges each value by
//! the latest read that began, whichever node served it, so a node that never received
//! some values passes as long as another node's read came last.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::identity_key;
use crate::harness::history::{Op, OpType};

/// Per node, its last ok read against the adds acknowledged before it began.
pub fn check(input: &ExtraInput) -> OwnedValue {
    let add = if input.workload == "broadcast" {
        "broadcast"
    } else {
        "add"
    };
    let mut last_read: Vec<Option<(&Op, &Op)>> = vec![None; input.node_count];
    let mut acknowledged: Vec<(&Op, &Op)> = Vec::new();
    for (invoke, done) in input.history.pairs() {
        let Some(done) = done.filter(|d| d.op_type == OpType::Ok) else {
            continue;
        };
        if invoke.f == add {
            acknowledged.push((invoke, done));
        } else if invoke.f == "read"
            && let Some(node) = input.node_of(invoke)
            && let Some(slot) = last_read.get_mut(node)
            && slot.is_none_or(|(last, _)| invoke.time_ns >= last.time_ns)
        {
            *slot = Some((invoke, done));
        }
    }
    let mut findings = Findings::default();
    for (node, read) in last_read.iter().enumerate() {
        let Some((read_invoke, read_done)) = read else {
            continue;
        };
        let held: ahash::AHashSet<String> = read_values(read_done)
            .iter()
            .map(|v| identity_key(v))
            .collect();
        let missing: Vec<(&Op, &Op)> = acknowledged
            .iter()
            .filter(|(_, done)| done.time_ns < read_invoke.time_ns)
            .filter(|(invoke, _)| !held.contains(&identity_key(&invoke.value)))
            .copied()
            .collect();
        if let Some((first_invoke, first_done)) = missing.first() {
            findings.push(
                format!(
                    "the last read on node {node} ({}) lacks {} acknowledged value(s), e.g. {} \
                     acknowledged at {:.3} s",
                    describe(read_invoke),
                    missing.len(),
                    simd_json::to_string(&first_invoke.value).unwrap_or_default(),
                    first_done.time_ns as f64 / 1e9
                ),
                &[read_invoke, read_done, first_invoke, first_done],
            );
        }
    }
    findings.result()
}

/// The values a read returned: broadcast's reply body `messages`, or g-set's list.
fn read_values(done: &Op) -> Vec<&OwnedValue> {
    let list = match &done.value {
        OwnedValue::Object(body) => body.get("messages").or_else(|| body.get("value")),
        other => Some(other),
    };
    list.and_then(|l| l.as_array())
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}
