//! kafka, txn-list-append, txn-rw-register and lin-kv through `glomers test` against small
//! Python nodes (tests/nodes): correct nodes are valid, each broken one is invalid with the
//! error or anomaly type Jepsen gives it. Runs are 3 s each, in parallel.

#[path = "common/e2e.rs"]
mod e2e;

use e2e::{Store, expect, run};

const VALID: &str = "Everything looks good!";
const INVALID: &str = "Analysis invalid!";

/// Runs `cases` at once in a store of their own, `name`: the tests of this file run in
/// parallel threads of one process, and a shared store would be removed under the feet of
/// the others by the first to finish.
fn in_parallel(name: &str, cases: &[(&str, i32, &[&str])]) {
    let store = Store::new(name);
    std::thread::scope(|s| {
        for (line, code, needles) in cases {
            let store = &store;
            s.spawn(move || expect(store, line, *code, needles));
        }
    });
}

#[test]
fn kafka_correct_lossy_reusing_and_skipping_nodes() {
    let base = "-w kafka --bin tests/nodes/kafka.py --node-count 1 --concurrency 2n --time-limit 3 --rate 200";
    let lose = format!("{base} -- lose");
    let reuse = format!("{base} -- reuse");
    let skip = format!("{base} -- skip");
    in_parallel(
        "kafka",
        &[
            (base, 0, &[VALID, ":error-types ()"]),
            (&lose, 1, &[INVALID, "\"unseen\""]),
            (&reuse, 1, &[INVALID, "\"inconsistent-offsets\""]),
            (&skip, 1, &[INVALID, "\"int-poll-skip\""]),
        ],
    );
}

#[test]
fn txn_list_append_correct_stale_and_lossy_nodes() {
    let base = "-w txn-list-append --bin tests/nodes/txn.py --time-limit 3 --rate 100";
    let single = format!("{base} --node-count 1");
    let stale = format!("{base} --node-count 2");
    let lose = format!("{base} --node-count 1 -- lose");
    in_parallel(
        "txn-list-append",
        &[
            (&single, 0, &[VALID]),
            (&stale, 1, &[INVALID, ":anomaly-types"]),
            (&lose, 1, &[INVALID, ":anomaly-types"]),
        ],
    );
}

#[test]
fn txn_rw_register_correct_intermediate_and_aborted_reads() {
    let base =
        "-w txn-rw-register --bin tests/nodes/txn.py --node-count 1 --time-limit 3 --rate 100";
    let serializable = format!("{base} --consistency-models serializable");
    let intermediate = format!("{base} --consistency-models read-committed -- intermediate");
    let aborted = format!("{base} --consistency-models read-committed -- aborted");
    in_parallel(
        "txn-rw-register",
        &[
            (&serializable, 0, &[VALID]),
            (&intermediate, 1, &[INVALID, "(\"G1b\")"]),
            (&aborted, 1, &[INVALID, "(\"G1a\")"]),
        ],
    );
}

#[test]
fn lin_kv_single_node_is_linearizable_and_unreplicated_nodes_are_not() {
    let base = "-w lin-kv --bin tests/nodes/lin_kv.py --time-limit 3 --rate 50";
    let one = format!("{base} --node-count 1 --concurrency 2n");
    let two = format!("{base} --node-count 2 --concurrency 2n");
    in_parallel(
        "lin-kv",
        &[(&one, 0, &[VALID]), (&two, 1, &[INVALID, ":failures (0)"])],
    );
    let store = Store::new("lin-kv-concurrency");
    let refused = run(&store, &format!("{base} --node-count 2 --concurrency 3"));
    assert_eq!(refused.code, 254, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("multiple of 2n = 4"),
        "{}",
        refused.stderr
    );
}
