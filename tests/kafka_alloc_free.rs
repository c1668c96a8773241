//! After warm-up, two kafka nodes (the default owner strategy) handling local sends,
//! forwarded sends, polls and commits, with the batched syncs, acks, answers and timers
//! these cause, allocate nothing.
//!
//! The only allocation left in steady state is a key's log outgrowing its capacity
//! (amortised doubling); the measured window is sized to stay within the capacities the
//! warm-up reached (every key gets the same fixed-size messages). A counting global
//! allocator wraps the system one; this file holds one test so that no other test thread
//! allocates while we count, and the test itself routes lines through reused buffers.

use std::io::Write;

use glomers::node::NodeCore;
use glomers::workloads::Kafka;
use glomers::workloads::kafka::Strategy;
use glomers::workloads::kafka::owner::owner_of;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

const KEYS: usize = 2;

fn init(node: &str) -> Vec<u8> {
    format!(
        "{{\"src\":\"c0\",\"dest\":\"{node}\",\"body\":{{\"type\":\"init\",\"node_id\":\"{node}\",\"node_ids\":[\"n0\",\"n1\"],\"msg_id\":1}}}}\n"
    )
    .into_bytes()
}

/// Key names owned by node `owner`, `KEYS` of them.
fn keys_of(owner: usize) -> Vec<String> {
    (0..)
        .map(|k| format!("k{k}"))
        .filter(|k| owner_of(k, 2) == owner)
        .take(KEYS)
        .collect()
}

struct Cluster {
    nodes: [NodeCore<Kafka>; 2],
    inputs: [Vec<u8>; 2],
    out: Vec<u8>,
    now: u64,
}

impl Cluster {
    /// Moves every server line each node wrote to the other's input; drops client lines.
    fn route(&mut self) {
        for from in 0..2 {
            self.nodes[from].take_output(&mut self.out);
            for line in self.out.split(|&b| b == b'\n') {
                let head = &line[..line.len().min(32)];
                let to_peer = head.windows(9).any(|w| w == b"\"dest\":\"n");
                if to_peer && !line.is_empty() {
                    self.inputs[1 - from].extend_from_slice(line);
                    self.inputs[1 - from].push(b'\n');
                }
            }
        }
    }

    /// Feeds pending inputs and fires due timers until no server message is left.
    fn run(&mut self) {
        for _ in 0..8 {
            self.route();
            if self.inputs.iter().all(|i| i.is_empty()) {
                return;
            }
            for node in 0..2 {
                self.nodes[node].handle_input(self.now, &self.inputs[node]);
                self.inputs[node].clear();
                self.nodes[node].handle_timeout(self.now);
            }
        }
    }

    fn round(&mut self, round: u64, mine: &[String], theirs: &[String]) {
        self.now += 11;
        let (a, b) = (&mine[round as usize % KEYS], &theirs[round as usize % KEYS]);
        let msg = 1000 + round % 9000; // four digits: every message the same size
        let input = &mut self.inputs[0];
        let _ = writeln!(
            input,
            r#"{{"src":"c1","dest":"n0","body":{{"type":"send","key":"{a}","msg":{msg},"msg_id":{round}}}}}"#
        );
        let _ = writeln!(
            input,
            r#"{{"src":"c2","dest":"n0","body":{{"type":"send","key":"{b}","msg":{msg},"msg_id":{round}}}}}"#
        );
        let _ = writeln!(
            input,
            r#"{{"src":"c4","dest":"n0","body":{{"type":"poll","offsets":{{"{a}":{},"{b}":0}},"msg_id":{round}}}}}"#,
            round / 4
        );
        let _ = writeln!(
            input,
            r#"{{"src":"c4","dest":"n0","body":{{"type":"commit_offsets","offsets":{{"{a}":{round},"{b}":{round}}},"msg_id":{round}}}}}"#
        );
        let _ = writeln!(
            self.inputs[1],
            r#"{{"src":"c3","dest":"n1","body":{{"type":"send","key":"{a}","msg":{msg},"msg_id":{round}}}}}"#
        );
        for node in 0..2 {
            self.nodes[node].handle_input(self.now, &self.inputs[node]);
            self.inputs[node].clear();
            self.nodes[node].handle_timeout(self.now);
        }
        self.run();
    }
}

#[test]
fn sends_polls_commits_and_syncs_allocate_nothing_after_warm_up() {
    let strategy = Strategy::parse("default").expect("default parses");
    let mut cluster = Cluster {
        nodes: [
            NodeCore::new(Kafka::new(strategy), 1),
            NodeCore::new(Kafka::new(strategy), 2),
        ],
        inputs: [Vec::with_capacity(1 << 16), Vec::with_capacity(1 << 16)],
        out: Vec::with_capacity(1 << 20),
        now: 0,
    };
    for (node, id) in ["n0", "n1"].iter().enumerate() {
        cluster.nodes[node].handle_input(0, &init(id));
    }
    let (mine, theirs) = (keys_of(0), keys_of(1));
    // Four-byte messages; a key of `mine` gets 2 every KEYS rounds, of `theirs` 1. After
    // the warm-up: 2100 and 1050 messages per key; after the measured rounds 3900 and 1950.
    // Both stay within the capacities reached (offsets: 4096 and 2048; text: chunks up
    // to 4032 and 1984 messages' worth; see store.rs).
    let (warm_up, measured) = (2100, 1800);
    for round in 0..warm_up {
        cluster.round(round, &mine, &theirs);
    }
    let before = allocations();
    for round in warm_up..warm_up + measured {
        cluster.round(round, &mine, &theirs);
    }
    let allocations = allocations() - before;
    for round in 0..2000 {
        cluster.now += 50; // let the last batches, acks and timers play out
        cluster.nodes[round % 2].handle_timeout(cluster.now);
        cluster.run();
    }
    let Kafka::Owner(owner) = cluster.nodes[0].workload() else {
        panic!("the default strategy");
    };
    let stored: u64 = mine
        .iter()
        .chain(&theirs)
        .map(|k| {
            let key = owner.store().find(k).expect("key");
            owner.store().log(key).len()
        })
        .sum();
    eprintln!("allocations over {measured} rounds: {allocations}; messages stored {stored}");
    assert_eq!(stored, 3 * (warm_up + measured), "every send stored on n0");
    assert_eq!(owner.waiting(), 0, "every forwarded send answered");
    assert_eq!(owner.journal_len(), 0, "n1 acknowledged the whole journal");
    assert_eq!(owner.protocol_errors(), 0);
    assert_eq!(
        allocations, 0,
        "send/poll/commit/sync allocated after warm-up"
    );
}
