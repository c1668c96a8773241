//! `convergence` (broadcast, g-set, g-counter, pn-counter): after the nemesis heals and the
//! recovery sleep, every node's final read shows the same state. Maelstrom's set-full
//! checker judges each value by the latest read that began, whichever node served it, and
//! its counter checker bounds each final read on its own: two replicas that never agree
//! pass both, as long as each final read is one of the states some subset of the
//! indeterminate adds allows. (That each set read holds every acknowledged value is
//! `final-reads`' job; txn and kafka convergence live in [`super::convergence_txn`] and
//! [`super::kafka`].)

use ahash::AHashSet;
use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::{as_int, identity_key};
use crate::harness::history::{Op, OpType};

/// A final read: the node it ran on, its invocation and completion.
pub struct FinalRead<'a> {
    /// Node index.
    pub node: usize,
    /// The invocation.
    pub invoke: &'a Op,
    /// The `ok` completion.
    pub done: &'a Op,
}

/// The `ok` final ops with function `f`: those flagged `final?`, or when the history
/// flags none (a g-set run by the real Maelstrom), each node's last `ok` one.
pub fn final_ops<'a>(input: &ExtraInput<'a>, f: &str, fallback: bool) -> Vec<FinalRead<'a>> {
    let pairs = input.history.pairs();
    let ok = pairs.into_iter().filter_map(|(invoke, done)| {
        let done = done.filter(|d| d.op_type == OpType::Ok && invoke.f == f)?;
        let node = input.node_of(invoke)?;
        Some(FinalRead { node, invoke, done })
    });
    let all: Vec<FinalRead> = ok.collect();
    if all.iter().any(|r| r.invoke.is_final) || !fallback {
        return all.into_iter().filter(|r| r.invoke.is_final).collect();
    }
    let mut last: Vec<Option<FinalRead>> = (0..input.node_count).map(|_| None).collect();
    for read in all {
        if let Some(slot) = last.get_mut(read.node) {
            *slot = Some(read);
        }
    }
    last.into_iter().flatten().collect()
}

/// Dispatches on the workload.
pub fn check(input: &ExtraInput) -> OwnedValue {
    match input.workload {
        "g-counter" | "pn-counter" => counters(input),
        _ => sets(input),
    }
}

/// Every final set read holds the same values.
fn sets(input: &ExtraInput) -> OwnedValue {
    let finals = final_ops(input, "read", true);
    let held: Vec<AHashSet<String>> = finals
        .iter()
        .map(|r| {
            set_of(&r.done.value)
                .iter()
                .map(|v| identity_key(v))
                .collect()
        })
        .collect();
    let mut findings = Findings::default();
    for (i, read) in finals.iter().enumerate() {
        // The first other final read holding a value this one lacks.
        let lacking = finals.iter().enumerate().find_map(|(j, other)| {
            let missing: Vec<&OwnedValue> = set_of(&other.done.value)
                .into_iter()
                .filter(|v| !held[i].contains(&identity_key(v)))
                .collect();
            (!missing.is_empty()).then_some((j, missing))
        });
        if let Some((j, missing)) = lacking {
            let other = &finals[j];
            findings.push(
                format!(
                    "node {}'s final read ({}) lacks {} value(s) node {}'s final read ({}) holds, \
                     e.g. {}",
                    read.node,
                    describe(read.invoke),
                    missing.len(),
                    other.node,
                    describe(other.invoke),
                    simd_json::to_string(missing[0]).unwrap_or_default()
                ),
                &[read.invoke, read.done, other.invoke, other.done],
            );
        }
    }
    findings.result()
}

/// A read's values: broadcast's `messages` body or g-set's list.
fn set_of(value: &OwnedValue) -> Vec<&OwnedValue> {
    let list = match value {
        OwnedValue::Object(body) => body.get("messages").or_else(|| body.get("value")),
        other => Some(other),
    };
    list.and_then(|l| l.as_array())
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

/// Every final counter read shows one value, within [acknowledged sum + indeterminate
/// negatives, acknowledged sum + indeterminate positives].
fn counters(input: &ExtraInput) -> OwnedValue {
    let (mut sum, mut low, mut high) = (0i128, 0i128, 0i128);
    for (invoke, done) in input.history.pairs() {
        let Some(delta) = (invoke.f == "add").then(|| as_int(&invoke.value)).flatten() else {
            continue;
        };
        match done.map(|d| d.op_type) {
            Some(OpType::Ok) => sum += delta,
            Some(OpType::Fail) => {}
            _ if delta < 0 => low += delta,
            _ => high += delta,
        }
    }
    let (low, high) = (sum + low, sum + high);
    let finals = final_ops(input, "read", false);
    let mut findings = Findings::default();
    let first = finals.first();
    for read in &finals {
        let Some(value) = as_int(&read.done.value) else {
            continue;
        };
        if value < low || value > high {
            findings.push(
                format!(
                    "node {}'s final read ({}) shows {value}, outside [{low}, {high}] (the \
                     acknowledged sum {sum} with or without the indeterminate adds)",
                    read.node,
                    describe(read.invoke)
                ),
                &[read.invoke, read.done],
            );
        }
        if let Some(first) = first
            && as_int(&first.done.value) != Some(value)
        {
            findings.push(
                format!(
                    "node {}'s final read ({}) shows {value}, node {}'s ({}) shows {}",
                    read.node,
                    describe(read.invoke),
                    first.node,
                    describe(first.invoke),
                    simd_json::to_string(&first.done.value).unwrap_or_default()
                ),
                &[read.invoke, read.done, first.invoke, first.done],
            );
        }
    }
    findings.result()
}
