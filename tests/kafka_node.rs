//! The kafka node's protocol, message by message (tests/kafka_support drives real nodes and
//! holds every server message until the test delivers, drops, duplicates or reorders it):
//! the log semantics of MAELSTROM.md §3.11, forwarded sends answered exactly once,
//! replicas that are always gap-free prefixes, the behaviour when the owner is unreachable,
//! commits, refused forged entries, and the lin-kv strategy's exactly-once appends.

mod kafka_support;

use kafka_support::Net;
use serde_json::{Value, json};

fn send(net: &mut Net, node: usize, key: &str, msg: Value) -> u64 {
    net.request(node, json!({"type":"send","key":key,"msg":msg}))
}

fn offset(reply: Option<&Value>) -> Option<u64> {
    reply.filter(|r| r["type"] == "send_ok")?["offset"].as_u64()
}

fn code(reply: Option<&Value>) -> Option<u64> {
    reply.filter(|r| r["type"] == "error")?["code"].as_u64()
}

#[test]
fn single_node_offsets_polls_and_commits() {
    let mut net = Net::new(1, "default");
    for (i, msg) in [json!(7), json!({"a":[1,"x"]}), json!("s")]
        .into_iter()
        .enumerate()
    {
        let id = send(&mut net, 0, "k", msg);
        assert_eq!(offset(net.reply(id)), Some(i as u64));
    }
    let id = send(&mut net, 0, "other", json!(1));
    assert_eq!(offset(net.reply(id)), Some(0), "offsets are per key");
    let poll = net.call(
        0,
        json!({"type":"poll","offsets":{"k":1,"other":5,"nope":0}}),
    );
    assert_eq!(poll["msgs"], json!({"k":[[1,{"a":[1,"x"]}],[2,"s"]]}));
    let poll = net.call(0, json!({"type":"poll","offsets":{"k":-4}}));
    assert_eq!(
        poll["msgs"]["k"][0],
        json!([0, 7]),
        "a negative offset reads from 0"
    );
    net.call(
        0,
        json!({"type":"commit_offsets","offsets":{"k":2,"other":0}}),
    );
    net.call(0, json!({"type":"commit_offsets","offsets":{"k":1}}));
    let listed = net.call(
        0,
        json!({"type":"list_committed_offsets","keys":["k","other","nope"]}),
    );
    assert_eq!(
        listed["offsets"],
        json!({"k":2,"other":0}),
        "commits never go back"
    );
    let bad = net.call(0, json!({"type":"poll","offsets":{"k":"zero"}}));
    assert_eq!(code(Some(&bad)), Some(12));
    let huge = "x".repeat(2 << 20);
    let id = send(&mut net, 0, "k", json!(huge));
    assert_eq!(
        code(net.reply(id)),
        Some(14),
        "an oversized message is refused"
    );
    assert!(net.flights.is_empty(), "one node sends nothing to anyone");
}

#[test]
fn a_forwarded_send_is_answered_by_the_owner_and_replicated() {
    let mut net = Net::new(2, "default:forward=0,replicate=50");
    let key = net.key_owned_by(0, 0);
    let local = send(&mut net, 0, &key, json!("first"));
    assert_eq!(
        offset(net.reply(local)),
        Some(0),
        "the owner answers at once"
    );
    let forwarded = send(&mut net, 1, &key, json!("second"));
    assert!(
        net.reply(forwarded).is_none(),
        "a forwarded send waits for its owner"
    );
    net.settle();
    assert_eq!(offset(net.reply(forwarded)), Some(1));
    let expected = vec![(0, json!("first")), (1, json!("second"))];
    assert_eq!(net.poll_all(0, &key), expected);
    assert_eq!(
        net.poll_all(1, &key),
        expected,
        "the replica holds the owner's log"
    );
}

/// Every sync from n1 is duplicated and the sequence is delivered newest first: the owner
/// applies each forward once, in order, and the replica stays a gap-free prefix.
#[test]
fn duplicated_and_reordered_syncs_apply_each_entry_once() {
    let mut net = Net::new(2, "default:forward=0,replicate=0,retry=50");
    let key = net.key_owned_by(0, 0);
    let ids: Vec<u64> = (0..6)
        .map(|i| {
            let id = send(&mut net, 1, &key, json!(i));
            net.advance(1); // each forward in its own message
            id
        })
        .collect();
    let forwards = net.drop_all();
    assert!(forwards.len() >= 6, "{forwards:?}");
    for flight in forwards.iter().rev() {
        net.hand_over(flight.clone());
        net.hand_over(flight.clone());
    }
    net.settle();
    let log = net.poll_all(0, &key);
    assert_eq!(log.len(), 6, "each send stored once: {log:?}");
    for (i, id) in ids.iter().enumerate() {
        let at = offset(net.reply(*id)).expect("answered");
        assert_eq!(
            log[at as usize].1,
            json!(i),
            "send {i} answered with its own offset"
        );
    }
    assert_eq!(net.poll_all(1, &key), log);
    for node in 0..2 {
        assert_eq!(protocol_errors(&net, node), 0);
    }
}

/// Replication delivered out of order: a poll on the replica never shows an offset whose
/// predecessor it lacks.
#[test]
fn a_replica_serves_only_a_gap_free_prefix() {
    let mut net = Net::new(2, "default:replicate=0,retry=50");
    let key = net.key_owned_by(0, 0);
    for i in 0..3 {
        send(&mut net, 0, &key, json!(i));
        net.advance(1);
    }
    let syncs = net.drop_all();
    assert_eq!(syncs.len(), 3, "one sync per append: {syncs:?}");
    net.hand_over(syncs[2].clone());
    net.hand_over(syncs[1].clone());
    assert_eq!(
        net.poll_now(1, &key),
        vec![],
        "later entries wait for the first"
    );
    net.drop_all();
    net.hand_over(syncs[0].clone());
    assert_eq!(net.poll_now(1, &key), vec![(0, json!(0))]);
    net.settle();
    assert_eq!(net.poll_all(1, &key).len(), 3, "the resend fills the rest");
}

fn protocol_errors(net: &Net, node: usize) -> u64 {
    match net.nodes[node].workload() {
        glomers::workloads::Kafka::Owner(owner) => owner.protocol_errors(),
        _ => 0,
    }
}

/// The owner is cut off: the waiting send gets 13 (indefinite), later ones 11 (definite,
/// never stored); after the heal the first one is stored exactly once.
#[test]
fn an_unreachable_owner_gives_13_then_11_and_heals_without_duplicates() {
    let mut net = Net::new(2, "default");
    let key = net.key_owned_by(0, 0);
    let waiting = send(&mut net, 1, &key, json!("maybe"));
    for _ in 0..30 {
        net.advance(50);
        net.drop_all();
    }
    assert_eq!(code(net.reply(waiting)), Some(13), "outcome unknown");
    let refused = send(&mut net, 1, &key, json!("never"));
    assert_eq!(
        code(net.reply(refused)),
        Some(11),
        "the owner is known unreachable"
    );
    let local_key = net.key_owned_by(1, 0);
    let local = send(&mut net, 1, &local_key, json!("own"));
    assert_eq!(
        offset(net.reply(local)),
        Some(0),
        "its own keys still take sends"
    );
    net.advance(5000);
    net.settle();
    let log = net.poll_all(0, &key);
    assert_eq!(
        log,
        vec![(0, json!("maybe"))],
        "stored once, the refused one never"
    );
    assert_eq!(net.poll_all(1, &key), log);
    assert_eq!(net.poll_all(0, &local_key), vec![(0, json!("own"))]);
    let again = send(&mut net, 1, &key, json!("later"));
    net.settle();
    assert_eq!(offset(net.reply(again)), Some(1), "healed");
}

#[test]
fn commits_reach_every_node_through_the_owner_and_never_go_back() {
    let mut net = Net::new(3, "default:replicate=10");
    let key = net.key_owned_by(0, 0);
    net.call(1, json!({"type":"commit_offsets","offsets":{&key: 4}}));
    net.call(2, json!({"type":"commit_offsets","offsets":{&key: 2}}));
    net.settle();
    for node in 0..3 {
        let listed = net.call(node, json!({"type":"list_committed_offsets","keys":[&key]}));
        assert_eq!(listed["offsets"], json!({&key: 4}), "node {node}");
    }
}

#[test]
fn forged_sync_entries_are_refused_and_counted() {
    let mut net = Net::new(2, "default");
    let theirs = net.key_owned_by(0, 0);
    let mine = net.key_owned_by(1, 0);
    let sync = |entries: Value| {
        json!({"src":"n0","dest":"n1","body":{"type":"kafka_sync","fwd_ack":0,"rep_ack":0,"rep_at":0,"rep":entries}}).to_string()
    };
    // An append past the replica's next offset, then one for a key n0 does not own.
    net.inject(1, &sync(json!([[0, &theirs, 3, "x"]])));
    net.inject(1, &sync(json!([[0, &mine, 0, "x"]])));
    assert_eq!(protocol_errors(&net, 1), 2);
    assert_eq!(net.poll_all(1, &theirs), vec![]);
    assert_eq!(net.poll_all(1, &mine), vec![]);
    net.inject(1, &sync(json!([[0, &theirs, 0, "ok"]])));
    assert_eq!(net.poll_all(1, &theirs), vec![(0, json!("ok"))]);
    net.inject(1, r#"{"src":"c3","dest":"n1","body":{"type":"kafka_sync","msg_id":5,"fwd_ack":0,"rep_ack":0}}"#);
    assert_eq!(code(net.reply(5)), Some(12), "only nodes sync");
}

/// lin-kv strategy: a cas whose reply is lost is settled by reading the log (the batch's
/// tag is there): the send is answered once, with its offset, and stored once.
#[test]
fn lin_kv_send_with_a_lost_cas_reply_is_stored_and_answered_once() {
    let mut net = Net::new(2, "lin-kv:timeout=100");
    let first = send(&mut net, 0, "k", json!("a"));
    net.settle();
    assert_eq!(offset(net.reply(first)), Some(0));
    net.request(1, json!({"type":"poll","offsets":{"k":0}})); // n1 reads the log
    net.settle();
    let second = send(&mut net, 1, "k", json!("b"));
    let cas = net
        .flights
        .iter()
        .position(|f| f.body["type"] == "cas")
        .expect("a cas");
    let request = net.flights[cas].clone();
    net.deliver(cas);
    net.hand_over(request); // delivered twice: the copy fails with 22
    let replies: Vec<usize> = (0..net.flights.len())
        .filter(|&i| net.flights[i].src == "lin-kv")
        .collect();
    assert_eq!(replies.len(), 2);
    net.flights.remove(replies[0]); // the cas_ok is lost; n1 sees only the 22
    net.settle();
    assert_eq!(
        offset(net.reply(second)),
        Some(1),
        "answered from the tag in the log"
    );
    let answers = net
        .replies
        .iter()
        .filter(|r| r["in_reply_to"] == second)
        .count();
    assert_eq!(answers, 1);
    assert_eq!(
        net.poll_all(1, "k"),
        vec![(0, json!("a")), (1, json!("b"))],
        "stored once"
    );
}

/// lin-kv strategy: a commit whose cas went unanswered is retried, but never below what
/// lin-kv is known to hold (regression: the retry sent `cas from 3 to 1` once the node had
/// read 3 meanwhile, lowering the committed offset).
#[test]
fn lin_kv_commit_retries_never_lower_the_committed_offset() {
    let mut net = Net::new(3, "lin-kv:timeout=100");
    net.call(0, json!({"type":"commit_offsets","offsets":{"k": 3}}));
    let id = net.request(1, json!({"type":"commit_offsets","offsets":{"k": 1}}));
    net.drop_all(); // its cas is lost
    net.call(1, json!({"type":"list_committed_offsets","keys":["k"]})); // n1 reads 3
    net.advance(500);
    net.settle();
    let done = net.reply(id).map(|r| r["type"].clone());
    assert_eq!(done, Some(json!("commit_offsets_ok")));
    let listed = net.call(2, json!({"type":"list_committed_offsets","keys":["k"]}));
    assert_eq!(listed["offsets"], json!({"k": 3}), "lin-kv still holds 3");
}
