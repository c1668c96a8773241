//! txn-list-append: one hand-built history per anomaly, judged under different models.

#[path = "common/txn_histories.rs"]
mod txn_histories;

use txn_histories::*;

fn judge(h: &History, model: &str) -> (Validity, Vec<String>) {
    txn_histories::judge("txn-list-append", h, model)
}

#[test]
fn aborted_and_intermediate_reads() {
    let g1a = history(
        &[
            (OpType::Fail, json!([["append", 1, 5]])),
            ok(json!([["r", 1, [5]]])),
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
            ok(json!([["append", 1, 1], ["append", 1, 2]])),
            ok(json!([["r", 1, [1]]])),
        ],
        false,
    );
    // T2 also missed T1's final append of 2, which (never read) comes after 1: T2 -rw-> T1
    // -wr-> T2 is a G-single-item cycle too, as Elle finds.
    assert_eq!(
        judge(&g1b, "serializable").1,
        vec!["G-single-item".to_string(), "G1b".to_string()]
    );
    assert_eq!(judge(&g1b, "read-committed").1, vec!["G1b".to_string()]);
}

#[test]
fn internal_and_incompatible_reads() {
    let internal = history(&[ok(json!([["append", 1, 3], ["r", 1, [1]]]))], false);
    assert_eq!(
        judge(&internal, "serializable").1,
        vec!["internal".to_string()]
    );
    assert_eq!(judge(&internal, "read-committed").0, Validity::Valid);
    let incompatible = history(
        &[
            ok(json!([["append", 1, 1]])),
            ok(json!([["append", 1, 2]])),
            ok(json!([["r", 1, [1, 2]]])),
            ok(json!([["r", 1, [2, 1]]])),
        ],
        true,
    );
    assert!(
        judge(&incompatible, "read-committed")
            .1
            .contains(&"incompatible-order".to_string())
    );
}

#[test]
fn lost_update() {
    let h = history(
        &[
            ok(json!([["r", 1, []], ["append", 1, 1]])),
            ok(json!([["r", 1, []], ["append", 1, 2]])),
            ok(json!([["r", 1, [1, 2]]])),
        ],
        true,
    );
    assert!(
        judge(&h, "repeatable-read")
            .1
            .contains(&"lost-update".to_string())
    );
    assert_eq!(judge(&h, "read-committed").0, Validity::Valid);
}

#[test]
fn write_cycles_g0_and_g1c() {
    let g0 = history(
        &[
            ok(json!([["append", "x", 1], ["append", "y", 2]])),
            ok(json!([["append", "x", 2], ["append", "y", 1]])),
            ok(json!([["r", "x", [1, 2]], ["r", "y", [1, 2]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&g0, "read-uncommitted"),
        (Validity::Invalid, vec!["G0".to_string()])
    );
    let g1c = history(
        &[
            ok(json!([["append", "x", 1], ["r", "y", [1]]])),
            ok(json!([["append", "y", 1], ["r", "x", [1]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&g1c, "read-committed"),
        (Validity::Invalid, vec!["G1c".to_string()])
    );
    assert_eq!(judge(&g1c, "read-uncommitted").0, Validity::Valid);
}

#[test]
fn anti_dependency_cycles_by_model() {
    // Read skew: T1 reads x before T2's append but z after it: G-single, banned by SI.
    let skew = history(
        &[
            ok(json!([["r", "x", []], ["r", "z", [1]]])),
            ok(json!([["append", "x", 1], ["append", "z", 1]])),
            ok(json!([["r", "x", [1]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&skew, "snapshot-isolation"),
        (Validity::Invalid, vec!["G-single-item".to_string()])
    );
    assert_eq!(judge(&skew, "read-committed").0, Validity::Valid);
    // Write skew: two adjacent rw edges (G2-item), allowed by SI, banned by serializable.
    let write_skew = history(
        &[
            ok(json!([["r", "x", []], ["append", "y", 1]])),
            ok(json!([["r", "y", []], ["append", "x", 1]])),
            ok(json!([["r", "x", [1]], ["r", "y", [1]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&write_skew, "serializable"),
        (Validity::Invalid, vec!["G2-item".to_string()])
    );
    assert_eq!(judge(&write_skew, "repeatable-read").0, Validity::Invalid);
    assert_eq!(judge(&write_skew, "snapshot-isolation").0, Validity::Valid);
    // Two rw edges separated by wr edges: G-nonadjacent, banned by SI.
    let nonadjacent = history(
        &[
            // T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1
            ok(json!([["r", "a", []], ["r", "d", [1]]])),
            ok(json!([["append", "a", 1], ["append", "b", 1]])),
            ok(json!([["r", "b", [1]], ["r", "c", []]])),
            ok(json!([["append", "c", 1], ["append", "d", 1]])),
            ok(json!([["r", "a", [1]], ["r", "c", [1]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&nonadjacent, "snapshot-isolation"),
        (Validity::Invalid, vec!["G-nonadjacent-item".to_string()])
    );
    assert_eq!(judge(&nonadjacent, "read-committed").0, Validity::Valid);
}

#[test]
fn stale_reads_break_only_strict_serializability() {
    // T2 starts after T1 committed its append, yet reads the list without it.
    let h = history(
        &[
            ok(json!([["append", "x", 1]])),
            ok(json!([["r", "x", []]])),
            ok(json!([["r", "x", [1]]])),
        ],
        false,
    );
    assert_eq!(
        judge(&h, "strict-serializable"),
        (
            Validity::Invalid,
            vec!["G-single-item-realtime".to_string()]
        )
    );
    assert_eq!(judge(&h, "serializable").0, Validity::Valid);
}

#[test]
fn an_append_no_read_showed_comes_after_every_element_read() {
    // T2 read x = [1] and appended 2, which nobody read; T3 read x = [1] too, and read y
    // from T2. So T3 missed T2's append (T3 -rw-> T2) yet saw its y (T2 -wr-> T3): a
    // G-single cycle, as Elle finds (Maelstrom's stale-read fixture has this shape).
    let h = history(
        &[
            ok(json!([["append", "x", 1]])),
            ok(json!([
                ["r", "x", [1]],
                ["append", "x", 2],
                ["append", "y", 1]
            ])),
            ok(json!([["r", "y", [1]], ["r", "x", [1]]])),
        ],
        true,
    );
    assert_eq!(
        judge(&h, "serializable"),
        (Validity::Invalid, vec!["G-single-item".to_string()])
    );
}

#[test]
fn internal_reads_join_the_version_order() {
    // T1 saw its own appends as [1] then [1 2]; T2 read [2]: no order of appends gives both.
    let h = history(
        &[
            ok(json!([
                ["r", "x", []],
                ["append", "x", 1],
                ["r", "x", [1]],
                ["append", "x", 2]
            ])),
            ok(json!([["r", "x", [2]]])),
        ],
        true,
    );
    assert!(
        judge(&h, "serializable")
            .1
            .contains(&"incompatible-order".to_string())
    );
}
