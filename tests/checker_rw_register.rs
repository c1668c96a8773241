//! txn-rw-register: one hand-built history per anomaly, judged under different models.

#[path = "common/txn_histories.rs"]
mod txn_histories;

use txn_histories::*;

fn judge(h: &History, model: &str) -> (Validity, Vec<String>) {
    txn_histories::judge("txn-rw-register", h, model)
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

#[test]
fn reading_a_value_the_txn_only_writes_later_is_a_future_read() {
    // Values are unique: nobody but T1 wrote 2, and T1 wrote it after reading it.
    let h = history(&[ok(json!([["r", 1, 2], ["w", 1, 2]]))], false);
    assert_eq!(
        judge(&h, "read-committed"),
        (Validity::Invalid, vec!["future-read".to_string()])
    );
    assert_eq!(judge(&h, "read-uncommitted").0, Validity::Valid);
}
