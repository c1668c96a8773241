//! One `txn-rw-register` node driven line by line: transactions read their own writes and
//! answer at once; malformed requests get error 12 and change nothing; a commit that
//! arrives before its dependencies is held until they are applied, then applied whole.

use glomers::node::NodeCore;
use glomers::workloads::TxnRwRegister;
use serde_json::{Value, json};

/// A node named `me` in a cluster of `nodes`, initialised.
fn node(me: &str, nodes: &[&str]) -> NodeCore<TxnRwRegister> {
    let mut core = NodeCore::new(TxnRwRegister::default(), 1);
    let init = json!({"src": "c0", "dest": me, "body": {"type": "init", "node_id": me, "node_ids": nodes, "msg_id": 1}});
    send_line(&mut core, &init);
    core
}

fn send_line(core: &mut NodeCore<TxnRwRegister>, message: &Value) -> Vec<Value> {
    core.handle_input(0, format!("{message}\n").as_bytes());
    let mut out = Vec::new();
    core.take_output(&mut out);
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON"))
        .collect()
}

/// Sends `body` from `src`; returns the reply body.
fn request(core: &mut NodeCore<TxnRwRegister>, src: &str, body: Value) -> Value {
    let dest = core.node_id().to_string();
    let replies = send_line(core, &json!({"src": src, "dest": dest, "body": body}));
    assert_eq!(replies.len(), 1, "{replies:?}");
    replies[0]["body"].clone()
}

fn txn(core: &mut NodeCore<TxnRwRegister>, ops: Value) -> Value {
    let reply = request(core, "c1", json!({"type": "txn", "msg_id": 7, "txn": ops}));
    assert_eq!(reply["type"], "txn_ok", "{reply}");
    assert_eq!(reply["in_reply_to"], 7);
    reply["txn"].clone()
}

#[test]
fn a_transaction_reads_its_own_writes_and_only_its_last_write_is_kept() {
    let mut core = node("n0", &["n0"]);
    let done = txn(
        &mut core,
        json!([
            ["r", 1, null],
            ["w", 1, 5],
            ["r", 1, null],
            ["w", 1, 6],
            ["w", 2, 7]
        ]),
    );
    assert_eq!(
        done,
        json!([
            ["r", 1, null],
            ["w", 1, 5],
            ["r", 1, 5],
            ["w", 1, 6],
            ["w", 2, 7]
        ])
    );
    assert_eq!(
        txn(
            &mut core,
            json!([["r", 1, null], ["r", 2, null], ["r", 3, null]])
        ),
        json!([["r", 1, 6], ["r", 2, 7], ["r", 3, null]])
    );
    assert_eq!(txn(&mut core, json!([])), json!([]));
    let workload = core.workload();
    assert_eq!(workload.unconfirmed(), 0, "a single node keeps no log");
    assert_eq!(workload.applied(), &[1]);
}

#[test]
fn malformed_requests_get_error_12_and_change_nothing() {
    let mut core = node("n0", &["n0", "n1"]);
    let bad_txns = [
        json!(5),
        json!([["x", 1, 2]]),
        json!([["w", 1, 5], ["w", 2, null]]),
        json!([["w", 1, 5], ["w", "k", 1]]),
        json!([["w", 1, 5], ["r", 1]]),
        json!([["w", 1, 1.5]]),
        json!([["w", 1, 5], "r"]),
    ];
    for bad in bad_txns {
        let reply = request(
            &mut core,
            "c1",
            json!({"type": "txn", "msg_id": 3, "txn": bad}),
        );
        assert_eq!(reply["code"], 12, "{bad}: {reply}");
    }
    let reply = request(&mut core, "c1", json!({"type": "txn", "msg_id": 3}));
    assert_eq!(reply["code"], 12, "{reply}");
    assert!(
        core.workload().register(1).is_none(),
        "a rejected txn wrote"
    );
    assert_eq!(core.workload().applied(), &[0, 0]);
    let syncs = [
        ("c1", json!({"have": [0, 0], "from": 0, "txns": []})),
        ("n1", json!({"have": [0], "from": 0, "txns": []})),
        ("n1", json!({"have": [5, 0], "from": 0, "txns": []})),
        (
            "n1",
            json!({"have": [0, 0], "from": 0, "txns": [[0, [0, 0], [1, 2]]]}),
        ),
        (
            "n1",
            json!({"have": [0, 0], "from": 0, "txns": [[1, [0, 0], [1]]]}),
        ),
        (
            "n1",
            json!({"have": [0, 0], "from": 0, "txns": [[u64::MAX, [0, 0], [1, 2]]]}),
        ),
        ("n1", json!({"have": [0, 0], "txns": []})),
    ];
    for (src, mut body) in syncs {
        body["type"] = json!("txn_sync");
        body["msg_id"] = json!(4);
        let reply = request(&mut core, src, body.clone());
        assert_eq!(reply["code"], 12, "{src} {body}: {reply}");
    }
    assert!(
        core.workload().register(1).is_none(),
        "a rejected commit was applied"
    );
    // A message starting far past what we have (the fuzzer's u64::MAX) is ignored.
    let far = json!({"type": "txn_sync", "msg_id": 6, "have": [0, 0], "from": u64::MAX, "txns": [[1, [0, 0], [1, 2]]]});
    assert_eq!(request(&mut core, "n1", far)["have"], json!([0, 0]));
    let reply = request(&mut core, "c1", json!({"type": "frobnicate", "msg_id": 5}));
    assert_eq!(reply["code"], 10, "{reply}");
}

/// n2 of three nodes gets n1's commit 0, which depends on n0's commit 0, before that one:
/// it holds it (reads do not see it, `have` does not count it), applies it as soon as n0's
/// arrives, and its own next commit is newer than both.
#[test]
fn a_commit_is_held_until_its_dependencies_are_applied() {
    let mut core = node("n2", &["n0", "n1", "n2"]);
    let sync = |from_node: &str, have: Value, txns: Value| {
        (
            from_node.to_string(),
            json!({"type": "txn_sync", "msg_id": 9, "have": have, "from": 0, "txns": txns}),
        )
    };
    let (src, body) = sync(
        "n1",
        json!([1, 1, 0]),
        json!([[5, [1, 0, 0], [1, 10, 2, 11]]]),
    );
    let reply = request(&mut core, &src, body);
    assert_eq!(reply["type"], "txn_sync_ok", "{reply}");
    assert_eq!(
        reply["have"],
        json!([0, 0, 0]),
        "a held commit is not counted"
    );
    assert_eq!(
        txn(&mut core, json!([["r", 1, null], ["r", 2, null]])),
        json!([["r", 1, null], ["r", 2, null]])
    );
    // The same commit again (a retransmission) changes nothing.
    let (src, body) = sync(
        "n1",
        json!([1, 1, 0]),
        json!([[5, [1, 0, 0], [1, 10, 2, 11]]]),
    );
    assert_eq!(request(&mut core, &src, body)["have"], json!([0, 0, 0]));
    let (src, body) = sync("n0", json!([1, 0, 0]), json!([[3, [0, 0, 0], [3, 30]]]));
    let reply = request(&mut core, &src, body);
    assert_eq!(
        reply["have"],
        json!([1, 1, 0]),
        "n0's commit, then the held one"
    );
    assert_eq!(
        txn(
            &mut core,
            json!([["r", 1, null], ["r", 2, null], ["r", 3, null]])
        ),
        json!([["r", 1, 10], ["r", 2, 11], ["r", 3, 30]])
    );
    txn(&mut core, json!([["w", 1, 12]]));
    let register = core.workload().register(1).expect("written");
    assert_eq!((register.version.clock, register.version.origin), (6, 2));
    assert_eq!(core.workload().applied(), &[1, 1, 1]);
}
