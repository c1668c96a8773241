//! The txn-list-append node driven as a script: client requests and hand-written lin-kv
//! and peer replies in, messages out. Each test pins one safety rule of a strategy (see
//! src/workloads/list_append): duplicated messages must not apply twice, unknown
//! outcomes must be indefinite, and reads must never come from a cached root.

use glomers::node::NodeCore;
use glomers::workloads::ListAppend;
use glomers::workloads::list_append::{DatomicConfig, SequencerConfig, Strategy};
use serde_json::{Value, json};

/// Feeds one message per line; returns the bodies sent, with their destinations.
fn feed(core: &mut NodeCore<ListAppend>, now: u64, messages: &[Value]) -> Vec<(String, Value)> {
    let mut input = String::new();
    for message in messages {
        input.push_str(&message.to_string());
        input.push('\n');
    }
    core.handle_input(now, input.as_bytes());
    output(core)
}

fn output(core: &mut NodeCore<ListAppend>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    core.take_output(&mut out);
    String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|line| {
            let message: Value = serde_json::from_str(line).expect("json line");
            let dest = message["dest"].as_str().expect("dest").to_string();
            (dest, message["body"].clone())
        })
        .collect()
}

fn message(src: &str, dest: &str, body: Value) -> Value {
    json!({"src": src, "dest": dest, "body": body})
}

/// Node `me` of `nodes`, initialised.
fn node(strategy: Strategy, me: &str, nodes: &[&str]) -> NodeCore<ListAppend> {
    let mut core = NodeCore::new(ListAppend::new(strategy), 7);
    let init = json!({"type": "init", "node_id": me, "node_ids": nodes, "msg_id": 1});
    let out = feed(&mut core, 0, &[message("c0", me, init)]);
    assert_eq!(out[0].1["type"], "init_ok");
    core
}

fn datomic() -> Strategy {
    Strategy::Datomic(DatomicConfig::default())
}

/// The one message sent, which must be of type `kind`.
fn only(out: &[(String, Value)], kind: &str) -> Value {
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].1["type"], kind, "{out:?}");
    out[0].1.clone()
}

/// A datomic node n0 (of n0, n1) with a client append in flight: the commit is written,
/// and the swap `cas root null → T` sent. Returns the node, T and the cas msg_id.
fn datomic_swap_in_flight() -> (NodeCore<ListAppend>, u64, u64) {
    let mut core = node(datomic(), "n0", &["n0", "n1"]);
    let txn = json!({"type": "txn", "msg_id": 3, "txn": [["append", 1, 5]]});
    let write = only(&feed(&mut core, 1, &[message("c9", "n0", txn)]), "write");
    let commit = write["key"].as_u64().expect("commit id");
    assert_eq!(write["value"]["lists"], json!([[1, [5]]]));
    let ok = json!({"type": "write_ok", "in_reply_to": write["msg_id"]});
    let cas = only(&feed(&mut core, 2, &[message("lin-kv", "n0", ok)]), "cas");
    assert_eq!(
        (cas["key"].clone(), cas["to"].as_u64()),
        (json!("root"), Some(commit))
    );
    (core, commit, cas["msg_id"].as_u64().expect("msg_id"))
}

fn precondition_failed(cas_msg_id: u64, current: u64) -> Value {
    let text = format!("current value {current} is not nil");
    let body = json!({"type": "error", "in_reply_to": cas_msg_id, "code": 22, "text": text});
    message("lin-kv", "n0", body)
}

/// Under `--duplicate`, the failing second copy of a successful swap can answer first: the
/// root it names is our own commit, so the transaction committed.
#[test]
fn datomic_swap_failing_on_its_own_commit_succeeded() {
    let (mut core, commit, cas) = datomic_swap_in_flight();
    let out = feed(&mut core, 3, &[precondition_failed(cas, commit)]);
    let kinds: Vec<&str> = out
        .iter()
        .map(|(_, b)| b["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["commit", "txn_ok"],
        "pushed to n1, answered; no second write"
    );
    assert_eq!(out[1].1["txn"], json!([["append", 1, 5]]));
}

/// The same, but another node already built on our commit: the root's frontier holds our
/// commit's sequence number, so it is in the history. A frontier without it means we lost.
#[test]
fn datomic_swap_resolved_by_the_roots_frontier() {
    for (frontier_of_ours, committed) in [(1, true), (0, false)] {
        let (mut core, commit, cas) = datomic_swap_in_flight();
        let fetch = only(
            &feed(&mut core, 3, &[precondition_failed(cas, 999)]),
            "read",
        );
        assert_eq!(fetch["key"], 999, "fetches the current root");
        let root = json!({"height": 2, "parent": commit, "frontier": [frontier_of_ours, 1],
            "index": [[1, 999]], "lists": [[1, [5, 6]]]});
        let read_ok = json!({"type": "read_ok", "in_reply_to": fetch["msg_id"], "value": root});
        let out = feed(&mut core, 4, &[message("lin-kv", "n0", read_ok)]);
        if committed {
            let kinds: Vec<&str> = out
                .iter()
                .map(|(_, b)| b["type"].as_str().unwrap())
                .collect();
            assert_eq!(kinds, ["commit", "txn_ok"]);
        } else {
            let write = only(&out, "write");
            assert_eq!(
                write["value"]["parent"], 999,
                "retried on top of the new root"
            );
            assert_eq!(write["value"]["lists"], json!([[1, [5, 6, 5]]]));
        }
    }
}

/// A swap without an answer may have happened: its transaction gets error 13, never a
/// definite error.
#[test]
fn datomic_swap_timeout_is_indefinite() {
    let (mut core, _, _) = datomic_swap_in_flight();
    core.handle_timeout(2_000);
    let out = output(&mut core);
    let error = only(&out, "error");
    assert_eq!(
        (error["code"].as_u64(), error["in_reply_to"].as_u64()),
        (Some(13), Some(3))
    );
}

/// A read-only transaction reads the root pointer first, even when a peer's push told the
/// node the newest commit (answering from it is chapter 4's stale read).
#[test]
fn datomic_reads_only_after_reading_the_root() {
    let mut core = node(datomic(), "n1", &["n0", "n1"]);
    let pushed = json!({"height": 1, "parent": null, "frontier": [1],
        "index": [[4, 2]], "lists": [[4, [1]]]});
    let push = json!({"type": "commit", "id": 2, "commit": pushed});
    assert!(feed(&mut core, 1, &[message("n0", "n1", push)]).is_empty());
    let txn = json!({"type": "txn", "msg_id": 5, "txn": [["r", 4, null]]});
    let read = only(&feed(&mut core, 2, &[message("c8", "n1", txn)]), "read");
    assert_eq!(read["key"], "root");
    let reply = json!({"type": "read_ok", "in_reply_to": read["msg_id"], "value": 2});
    let answer = only(
        &feed(&mut core, 3, &[message("lin-kv", "n1", reply)]),
        "txn_ok",
    );
    assert_eq!(
        answer["txn"],
        json!([["r", 4, [1]]]),
        "cached commit 2, no fetch"
    );
}

/// The sequencer runs a follower's batch once per msg_id: a duplicated or stale copy is
/// ignored rather than appended again.
#[test]
fn sequencer_executes_each_batch_once() {
    let mut core = node(
        Strategy::Sequencer(SequencerConfig::default()),
        "n0",
        &["n0", "n1"],
    );
    let batch = |msg_id: u64, value: u64| {
        let txns = json!([[["append", 1, value]], [["r", 1, null]]]);
        message(
            "n1",
            "n0",
            json!({"type": "txn_batch", "msg_id": msg_id, "txns": txns}),
        )
    };
    let first = only(&feed(&mut core, 1, &[batch(5, 10)]), "txn_batch_ok");
    assert_eq!(first["txns"][1], json!([["r", 1, [10]]]));
    assert!(feed(&mut core, 2, &[batch(5, 10)]).is_empty(), "duplicate");
    assert!(feed(&mut core, 3, &[batch(4, 11)]).is_empty(), "stale");
    let read = json!({"type": "txn", "msg_id": 2, "txn": [["r", 1, null]]});
    let answer = only(&feed(&mut core, 4, &[message("c3", "n0", read)]), "txn_ok");
    assert_eq!(answer["txn"], json!([["r", 1, [10]]]));
}

/// A follower whose batch gets no answer reports its transactions as indefinite (13).
#[test]
fn sequencer_follower_timeout_is_indefinite() {
    let mut core = node(
        Strategy::Sequencer(SequencerConfig::default()),
        "n1",
        &["n0", "n1"],
    );
    let txn = json!({"type": "txn", "msg_id": 4, "txn": [["append", 2, 1]]});
    let batch = only(
        &feed(&mut core, 1, &[message("c5", "n1", txn)]),
        "txn_batch",
    );
    assert_eq!(batch["txns"], json!([[["append", 2, 1]]]));
    core.handle_timeout(2_000);
    let error = only(&output(&mut core), "error");
    assert_eq!(
        (error["code"].as_u64(), error["in_reply_to"].as_u64()),
        (Some(13), Some(4))
    );
}

mod hostile {
    //! Both strategies fed plausible but hostile traffic: client transactions, forged
    //! pushes and batches, and lin-kv replies with any msg_id, code or value. No panic,
    //! and every line out is one JSON message.
    use super::*;
    use proptest::prelude::{Just, ProptestConfig, prop, prop_oneof, proptest};
    use proptest::strategy::Strategy as Generate;

    fn small_commit() -> impl Generate<Value = Value> {
        let pair = (0u64..4, 0u64..40);
        (
            0u64..4,
            prop::option::of(0u64..40),
            prop::collection::vec(0u64..6, 0..3),
            prop::collection::vec(pair.clone(), 0..3),
            prop::collection::vec(pair, 0..3),
        )
            .prop_map(|(height, parent, frontier, index, lists)| {
                let lists: Vec<Value> = lists.iter().map(|(k, v)| json!([k, [v]])).collect();
                json!({"height": height, "parent": parent, "frontier": frontier,
                    "index": index.iter().map(|(k, id)| json!([k, id])).collect::<Vec<_>>(),
                    "lists": lists})
            })
    }

    fn value() -> impl Generate<Value = Value> {
        prop_oneof![
            (0u64..40).prop_map(|n| json!(n)),
            small_commit(),
            Just(json!("x")),
            Just(json!(null)),
        ]
    }

    /// (from, body) pairs a node may receive.
    fn input() -> impl Generate<Value = (String, Value)> {
        let op = prop_oneof![
            (0u64..5).prop_map(|k| json!(["r", k, null])),
            (0u64..5, 0u64..9).prop_map(|(k, v)| json!(["append", k, v])),
        ];
        let txn = prop::collection::vec(op, 1..4);
        prop_oneof![
            (1u64..50, txn.clone()).prop_map(|(id, txn)| (
                "c7".into(),
                json!({"type": "txn", "msg_id": id, "txn": txn})
            )),
            (0u64..40, small_commit()).prop_map(|(id, c)| (
                "n1".into(),
                json!({"type": "commit", "id": id, "commit": c})
            )),
            (1u64..50, prop::collection::vec(txn, 1..3)).prop_map(|(id, txns)| {
                (
                    "n1".into(),
                    json!({"type": "txn_batch", "msg_id": id, "txns": txns}),
                )
            }),
            (1u64..40, value()).prop_map(|(to, v)| {
                (
                    "lin-kv".into(),
                    json!({"type": "read_ok", "in_reply_to": to, "value": v}),
                )
            }),
            (1u64..40, prop_oneof![Just("write_ok"), Just("cas_ok")])
                .prop_map(|(to, kind)| ("lin-kv".into(), json!({"type": kind, "in_reply_to": to}))),
            (
                1u64..40,
                prop_oneof![Just(11u64), Just(13), Just(20), Just(22)],
                0u64..40
            )
                .prop_map(|(to, code, current)| {
                    let text = format!("current value {current} is not nil");
                    let body =
                        json!({"type": "error", "in_reply_to": to, "code": code, "text": text});
                    ("lin-kv".into(), body)
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
        ))]

        #[test]
        fn hostile_traffic_never_panics(inputs in prop::collection::vec((input(), 0u64..300), 1..40)) {
            for strategy in [datomic(), Strategy::Sequencer(SequencerConfig::default())] {
                for me in ["n0", "n1"] {
                    let mut core = node(strategy, me, &["n0", "n1"]);
                    let mut now = 1;
                    for ((from, body), wait) in &inputs {
                        now += wait;
                        core.handle_timeout(now);
                        output(&mut core);
                        feed(&mut core, now, &[message(from, me, body.clone())]);
                    }
                }
            }
        }
    }
}
