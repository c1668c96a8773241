//! `unwritten-reads` (txn-rw-register, txn-list-append): every value a read returns was
//! written by some transaction. A node that answers `0` for a key nobody wrote (instead of
//! `null`), or invents a list element, passes Maelstrom's Elle checks whenever the value
//! does not close a dependency cycle; Elle cannot place a version nobody wrote.

use ahash::AHashSet;
use simd_json::OwnedValue;

use super::{ExtraInput, Findings, describe};
use crate::harness::checkers::value::{identity_key, micro_ops};
use crate::harness::history::OpType;

/// Reads of values no invoked write (or append) produced.
pub fn check(input: &ExtraInput) -> OwnedValue {
    let list = input.workload == "txn-list-append";
    let mut written: AHashSet<(String, String)> = AHashSet::new();
    for op in input.history.client_ops() {
        if op.op_type != OpType::Invoke {
            continue;
        }
        for (f, k, v) in micro_ops(op).unwrap_or_default() {
            if f != "r" {
                written.insert((identity_key(k), identity_key(v)));
            }
        }
    }
    let mut findings = Findings::default();
    for op in input.history.client_ops() {
        if op.op_type != OpType::Ok {
            continue;
        }
        for (f, k, v) in micro_ops(op).unwrap_or_default() {
            if f != "r" {
                continue;
            }
            let values: Vec<&OwnedValue> = match v {
                OwnedValue::Array(items) if list => items.iter().collect(),
                OwnedValue::Static(simd_json::StaticNode::Null) => Vec::new(),
                other if !list => vec![other],
                _ => Vec::new(),
            };
            for value in values {
                if !written.contains(&(identity_key(k), identity_key(value))) {
                    findings.push(
                        format!(
                            "{} read {} from key {} but no transaction wrote {} to it",
                            describe(op),
                            value.encode_json(),
                            k.encode_json(),
                            value.encode_json()
                        ),
                        &[op],
                    );
                }
            }
        }
    }
    findings.result()
}

trait EncodeJson {
    fn encode_json(&self) -> String;
}

impl EncodeJson for OwnedValue {
    fn encode_json(&self) -> String {
        simd_json::to_string(self).unwrap_or_default()
    }
}
