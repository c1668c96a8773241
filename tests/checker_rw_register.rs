//! txn-rw-register: one hand-built history per anomaly, judged under different models.

use glomers::harness::checker::{Availability, CheckInput, NetStats, Validity, analyze};
use glomers::harness::history::{History, OpType, Process};
use simd_json::{OwnedValue, json};

/// Txns in history order; `overlap` makes all of them concurrent (invoked before any
/// completes), otherwise each completes before the next is invoked.
fn history(txns: &[(OpType, OwnedValue)], overlap: bool) -> History {
    let mut h = History::default();
    let invoke_value = |v: &OwnedValue| match v {
        OwnedValue::Array(mops) => OwnedValue::Array(Box::new(
            mops.iter()
                .map(|m| match m {
                    OwnedValue::Array(m)
                        if m.first().and_then(|f| f.as_str_value()) == Some("r") =>
                    {
                        json!(["r", m[1].clone(), null])
                    }
                    other => other.clone(),
                })
                .collect(),
        )),
        other => other.clone(),
    };
    if overlap {
        for (i, (_, v)) in txns.iter().enumerate() {
            h.push(
                i as u64,
                OpType::Invoke,
                Process::Client(i as u64),
                "txn",
                invoke_value(v),
            );
        }
        for (i, (t, v)) in txns.iter().enumerate() {
            h.push(
                100 + i as u64,
                *t,
                Process::Client(i as u64),
                "txn",
                v.clone(),
            );
        }
    } else {
        for (i, (t, v)) in txns.iter().enumerate() {
            h.push(
                2 * i as u64,
                OpType::Invoke,
                Process::Client(i as u64),
                "txn",
                invoke_value(v),
            );
            h.push(
                2 * i as u64 + 1,
                *t,
                Process::Client(i as u64),
                "txn",
                v.clone(),
            );
        }
    }
    h
}

trait AsStr {
    fn as_str_value(&self) -> Option<&str>;
}

impl AsStr for OwnedValue {
    fn as_str_value(&self) -> Option<&str> {
        match self {
            OwnedValue::String(s) => Some(s),
            _ => None,
        }
    }
}

fn judge(h: &History, model: &str) -> (Validity, Vec<String>) {
    let models = [model.to_string()];
    let r = analyze(&CheckInput {
        workload: "txn-rw-register",
        history: h,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &models,
    });
    let OwnedValue::Object(top) = &r else {
        panic!()
    };
    let Some(OwnedValue::Object(w)) = top.get("workload") else {
        panic!()
    };
    let types = match w.get("anomaly-types") {
        Some(OwnedValue::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str_value().map(String::from))
            .collect(),
        _ => vec![],
    };
    (Validity::from_value(w.get("valid?")), types)
}

fn ok(v: OwnedValue) -> (OpType, OwnedValue) {
    (OpType::Ok, v)
}

#[test]
fn aborted_intermediate_and_internal_reads() {
    let g1a = history(
        &[
            (OpType::Fail, json!([["w", 1, 5]])),
            ok(json!([["r", 1, 5]])),
        ],
        false,
    );
    assert_eq!(
        judge(&g1a, "read-committed"),
        (Validity::Invalid, vec!["G1a".to_string()])
    );
    assert_eq!(judge(&g1a, "read-uncommitted").0, Validity::Valid);
    let g1b = history(
        &[
            ok(json!([["w", 1, 1], ["w", 1, 2]])),
            ok(json!([["r", 1, 1]])),
        ],
        false,
    );
    assert!(judge(&g1b, "read-committed").1.contains(&"G1b".to_string()));
    let internal = history(&[ok(json!([["w", 1, 3], ["r", 1, 4]]))], false);
    assert_eq!(
        judge(&internal, "serializable").1,
        vec!["internal".to_string()]
    );
    assert_eq!(judge(&internal, "read-committed").0, Validity::Valid);
}

#[test]
fn lost_update_and_write_skew() {
    let lost = history(
        &[
            ok(json!([["r", 1, null], ["w", 1, 1]])),
            ok(json!([["r", 1, null], ["w", 1, 2]])),
        ],
        true,
    );
    assert!(
        judge(&lost, "repeatable-read")
            .1
            .contains(&"lost-update".to_string())
    );
    assert_eq!(judge(&lost, "read-committed").0, Validity::Valid);
    let skew = history(
        &[
            ok(json!([["r", "x", null], ["w", "y", 1]])),
            ok(json!([["r", "y", null], ["w", "x", 1]])),
        ],
        true,
    );
    assert_eq!(
        judge(&skew, "serializable"),
        (Validity::Invalid, vec!["G2-item".to_string()])
    );
    assert_eq!(judge(&skew, "read-committed").0, Validity::Valid);
}

#[test]
fn circular_information_flow_and_cyclic_versions() {
    let g1c = history(
        &[
            ok(json!([["w", "x", 1], ["r", "y", 1]])),
            ok(json!([["w", "y", 1], ["r", "x", 1]])),
        ],
        true,
    );
    assert_eq!(
        judge(&g1c, "read-committed"),
        (Validity::Invalid, vec!["G1c".to_string()])
    );
    // Writes follow reads both ways: 1 < 2 and 2 < 1.
    let cyclic = history(
        &[
            ok(json!([["w", 1, 1]])),
            ok(json!([["r", 1, 1], ["w", 1, 2]])),
            ok(json!([["r", 1, 2], ["w", 1, 1]])),
        ],
        false,
    );
    assert!(
        judge(&cyclic, "read-uncommitted")
            .1
            .contains(&"cyclic-versions".to_string())
    );
}

#[test]
fn healthy_serial_history_is_valid_under_strict_serializability() {
    let h = history(
        &[
            ok(json!([["r", 1, null], ["w", 1, 1]])),
            ok(json!([["r", 1, 1], ["w", 1, 2]])),
            ok(json!([["r", 1, 2], ["r", 2, null]])),
        ],
        false,
    );
    assert_eq!(judge(&h, "strict-serializable"), (Validity::Valid, vec![]));
}

#[test]
fn several_models_are_checked_as_their_union() {
    let skew = history(
        &[
            ok(json!([["r", "x", null], ["w", "y", 1]])),
            ok(json!([["r", "y", null], ["w", "x", 1]])),
        ],
        true,
    );
    let models = ["read-committed".to_string(), "serializable".to_string()];
    let r = analyze(&CheckInput {
        workload: "txn-rw-register",
        history: &skew,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &models,
    });
    let OwnedValue::Object(top) = &r else {
        panic!()
    };
    let Some(OwnedValue::Object(w)) = top.get("workload") else {
        panic!()
    };
    assert_eq!(Validity::from_value(w.get("valid?")), Validity::Invalid);
}
