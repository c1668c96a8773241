//! `convergence` (txn-rw-register, txn-list-append): the final read-only transactions that
//! only `--extra-checks` runs (after the heal and the recovery sleep, every written key on
//! every node) agree across nodes and hold every acknowledged write: for a register, a key
//! some acknowledged transaction wrote is not `null`; for a list, every acknowledged
//! append is in it. Maelstrom has no final reads for transactions, and Elle judges the
//! order of what was read, never whether replicas ever converge: nodes that never
//! exchange writes pass read-uncommitted and read-committed forever.

use std::collections::BTreeMap;

use ahash::AHashSet;
use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::convergence::{FinalRead, final_ops};
use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::{identity_key, micro_ops};
use crate::harness::history::OpType;

/// Per key (as JSON), what the final reads saw: (index into the final reads, value).
type Seen<'a> = BTreeMap<String, Vec<(usize, &'a OwnedValue)>>;

/// Final reads against each other and against the acknowledged writes.
pub fn check(input: &ExtraInput) -> OwnedValue {
    let list = input.workload == "txn-list-append";
    let finals = final_ops(input, "txn", false);
    let mut seen: Seen = BTreeMap::new();
    for (i, read) in finals.iter().enumerate() {
        for (f, k, v) in micro_ops(read.done).unwrap_or_default() {
            if f == "r" {
                let key = simd_json::to_string(k).unwrap_or_default();
                seen.entry(key).or_default().push((i, v));
            }
        }
    }
    // Acknowledged writes per key: (value, its transaction's completion).
    let mut acknowledged: BTreeMap<String, Vec<(&OwnedValue, &crate::harness::history::Op)>> =
        BTreeMap::new();
    for op in input.history.client_ops() {
        if op.op_type != OpType::Ok || op.is_final {
            continue;
        }
        for (f, k, v) in micro_ops(op).unwrap_or_default() {
            if f != "r" {
                let key = simd_json::to_string(k).unwrap_or_default();
                acknowledged.entry(key).or_default().push((v, op));
            }
        }
    }
    let mut findings = Findings::default();
    for (key, reads) in &seen {
        disagreement(&finals, key, reads, &mut findings);
        let Some(writes) = acknowledged.get(key) else {
            continue;
        };
        for &(i, value) in reads {
            let read = &finals[i];
            let missing = if list {
                let held: AHashSet<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(identity_key)
                    .collect();
                writes
                    .iter()
                    .find(|(v, _)| !held.contains(&identity_key(v)))
                    .copied()
            } else if value.is_null() {
                writes.first().copied()
            } else {
                None
            };
            if let Some((v, writer)) = missing {
                findings.push(
                    format!(
                        "node {}'s final read ({}) of key {key} lacks {} acknowledged at {:.3} s",
                        read.node,
                        describe(read.invoke),
                        simd_json::to_string(v).unwrap_or_default(),
                        writer.time_ns as f64 / 1e9
                    ),
                    &[read.invoke, read.done, writer],
                );
            }
        }
    }
    findings.result()
}

/// One finding per key whose final reads differ: the first read against the first that
/// differs from it.
fn disagreement(
    finals: &[FinalRead],
    key: &str,
    reads: &[(usize, &OwnedValue)],
    findings: &mut Findings,
) {
    let Some(&(first, first_value)) = reads.first() else {
        return;
    };
    let expected = identity_key(first_value);
    let Some(&(other, other_value)) = reads.iter().find(|(_, v)| identity_key(v) != expected)
    else {
        return;
    };
    let (a, b) = (&finals[first], &finals[other]);
    findings.push(
        format!(
            "key {key}: node {}'s final read ({}) shows {}, node {}'s ({}) shows {}",
            a.node,
            describe(a.invoke),
            simd_json::to_string(first_value).unwrap_or_default(),
            b.node,
            describe(b.invoke),
            simd_json::to_string(other_value).unwrap_or_default()
        ),
        &[a.invoke, a.done, b.invoke, b.done],
    );
}
