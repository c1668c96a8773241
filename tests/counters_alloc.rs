//! After warm-up, the counter and g-set nodes allocate nothing per request: g-counter on
//! seq-kv, both strategies (client adds and reads, the cas / write / read rounds, the KV client decoding the
//! service's replies), the pn-counter (adds, reads, gossip exchanges) and the g-set (reads,
//! repeated adds). Only calls into the node core are counted; the test's own routing (it
//! plays seq-kv and the peers with serde_json) is not. One test in this file, so no other
//! test thread allocates while we count.

use glomers::harness::services::{SimulatedService, service};
use glomers::node::{NodeCore, Rng, Workload};
use glomers::workloads::g_counter::{
    GCounter, GCounterStrategy, PerNodeConfig, SeqKvConfig, SyncConfig,
};
use glomers::workloads::{GSet, PnCounter};
use serde_json::{Value, json};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

/// One node of `["n0","n1"]`, with the test playing seq-kv and n1.
struct Driver<W: Workload> {
    core: NodeCore<W>,
    out: Vec<u8>,
    seq_kv: Box<dyn SimulatedService + Send>,
    /// Lines for the node, gathered unmeasured, fed measured.
    inbox: Vec<u8>,
    counted: u64,
    /// Requests the test answered as seq-kv or n1 (to show the paths ran).
    routed: u64,
}

impl<W: Workload> Driver<W> {
    fn new(workload: W) -> Self {
        let mut driver = Driver {
            core: NodeCore::new(workload, 1),
            out: Vec::with_capacity(1 << 20),
            seq_kv: service("seq-kv", Rng::new(3)).expect("seq-kv"),
            inbox: Vec::with_capacity(1 << 20),
            counted: 0,
            routed: 0,
        };
        let init = b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\"],\"msg_id\":1}}\n";
        driver.core.handle_input(0, init);
        driver
    }

    fn measured(&mut self, now: u64, input: &[u8]) {
        let before = allocations();
        self.core.handle_input(now, input);
        self.core.handle_timeout(now);
        self.core.take_output(&mut self.out);
        self.counted += allocations() - before;
    }

    /// Feeds `input`, then answers the node's seq-kv and peer requests until it is idle.
    fn step(&mut self, now: u64, input: &[u8]) {
        self.measured(now, input);
        for _ in 0..100 {
            self.inbox.clear();
            for line in self.out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let message: Value = serde_json::from_slice(line).expect("node output");
                let body = &message["body"];
                let reply = match message["dest"].as_str() {
                    Some("seq-kv") => {
                        let mut bytes = body.to_string().into_bytes();
                        let request = simd_json::to_owned_value(&mut bytes).expect("body");
                        let reply = self.seq_kv.handle("n0", &request).expect("seq-kv reply");
                        let reply: Value =
                            serde_json::from_str(&simd_json::to_string(&reply).expect("json"))
                                .expect("json");
                        json!({"src": "seq-kv", "dest": "n0", "body": reply})
                    }
                    Some("n1") if body["msg_id"].is_u64() => {
                        let mut reply = body.clone();
                        reply["type"] =
                            json!(format!("{}_ok", body["type"].as_str().expect("type")));
                        reply["in_reply_to"] = body["msg_id"].clone();
                        json!({"src": "n1", "dest": "n0", "body": reply})
                    }
                    _ => continue,
                };
                self.routed += 1;
                self.inbox.extend_from_slice(reply.to_string().as_bytes());
                self.inbox.push(b'\n');
            }
            if self.inbox.is_empty() {
                return;
            }
            let input = std::mem::take(&mut self.inbox);
            self.measured(now, &input);
            self.inbox = input;
        }
        panic!("the node never went idle");
    }

    /// Allocations counted over rounds 200..1200 of `script(round)` (after 200 warm-up),
    /// and how many seq-kv / peer requests the node made.
    fn allocations_after_warm_up(mut self, script: impl Fn(u64) -> Vec<u8>) -> (u64, u64) {
        let scripts: Vec<Vec<u8>> = (0..1200).map(&script).collect();
        for (round, input) in scripts.iter().enumerate() {
            if round == 200 {
                self.counted = 0;
            }
            // 150 ms apart, so every gossip flush timer fires once per round.
            self.step(round as u64 * 150, input);
        }
        (self.counted, self.routed)
    }
}

fn client_line(msg_id: u64, body: &str) -> String {
    format!("{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"msg_id\":{msg_id},{body}}}}}\n")
}

#[test]
fn counters_and_g_set_allocate_nothing_per_request_after_warm_up() {
    let adds_and_reads = |round: u64| {
        let delta = round % 5;
        format!(
            "{}{}{}",
            client_line(3 * round, &format!("\"type\":\"add\",\"delta\":{delta}")),
            client_line(3 * round + 1, "\"type\":\"read\""),
            client_line(3 * round + 2, "\"type\":\"add\",\"delta\":2"),
        )
        .into_bytes()
    };
    // Rounds are 150 ms apart: a 100 ms staleness bound makes every read refresh the view.
    let per_node = PerNodeConfig {
        stale_ms: 100,
        ..PerNodeConfig::default()
    };
    let seq_kv = GCounter::new(GCounterStrategy::SeqKv(per_node));
    let seq_kv = Driver::new(seq_kv).allocations_after_warm_up(adds_and_reads);
    let reads_only = |round: u64| client_line(round, "\"type\":\"read\"").into_bytes();
    let seq_kv_reads = GCounter::new(GCounterStrategy::SeqKv(per_node));
    let seq_kv_reads = Driver::new(seq_kv_reads).allocations_after_warm_up(reads_only);
    let fresh = GCounter::new(GCounterStrategy::SeqKvFresh(SeqKvConfig::default()));
    let fresh = Driver::new(fresh).allocations_after_warm_up(adds_and_reads);
    let fresh_reads = GCounter::new(GCounterStrategy::SeqKvFresh(SeqKvConfig::default()));
    let fresh_reads = Driver::new(fresh_reads).allocations_after_warm_up(reads_only);
    let crdt = GCounter::new(GCounterStrategy::Crdt(SyncConfig::default()));
    let crdt = Driver::new(crdt).allocations_after_warm_up(adds_and_reads);
    let pn =
        Driver::new(PnCounter::new(SyncConfig::default())).allocations_after_warm_up(|round| {
            client_line(
                2 * round,
                &format!("\"type\":\"add\",\"delta\":{}", round as i64 % 7 - 3),
            )
            .into_bytes()
            .into_iter()
            .chain(client_line(2 * round + 1, "\"type\":\"read\"").into_bytes())
            .collect()
        });
    let g_set = Driver::new(GSet::new(SyncConfig::default())).allocations_after_warm_up(|round| {
        let element = round % 50; // the same 50 elements again and again
        format!(
            "{}{}",
            client_line(
                2 * round,
                &format!("\"type\":\"add\",\"element\":{element}")
            ),
            client_line(2 * round + 1, "\"type\":\"read\"")
        )
        .into_bytes()
    });
    // The g-set adds the same 50 elements again: after warm-up nothing new to gossip.
    let all = [
        ("g-counter seq-kv", seq_kv, 2000),
        ("g-counter seq-kv reads", seq_kv_reads, 2000),
        ("g-counter seq-kv-fresh", fresh, 2000),
        ("g-counter seq-kv-fresh reads", fresh_reads, 2000),
        ("g-counter crdt", crdt, 500),
        ("pn-counter", pn, 500),
        ("g-set", g_set, 1),
    ];
    for (name, (allocations, requests), minimum) in all {
        eprintln!(
            "{name}: {allocations} allocations after warm-up, {requests} seq-kv/peer requests"
        );
        assert_eq!(allocations, 0, "{name} allocated");
        assert!(
            requests >= minimum,
            "{name} made only {requests} seq-kv/peer requests"
        );
    }
}
