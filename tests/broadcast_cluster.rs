//! Broadcast nodes in a tiny deterministic network: every [`NodeCore`] runs in-process, a
//! virtual clock jumps from event to event, node↔node messages take `latency` ms, client
//! messages 0 ms, and a partition drops messages at delivery (as Maelstrom does).
//!
//! Each test is a script: build a cluster from a seed, broadcast, maybe partition and heal,
//! run until quiet, assert that every node knows every value and that the network is
//! silent when idle. A failure prints the seed and strategy.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use glomers::node::{NodeCore, Rng};
use glomers::workloads::Broadcast;
use glomers::workloads::broadcast::Strategy;

/// One in-flight message: delivery time, tie-breaking sequence, destination, source, line.
type Flight = Reverse<(u64, u64, usize, usize, Vec<u8>)>;

struct Cluster {
    nodes: Vec<NodeCore<Broadcast>>,
    names: Vec<String>,
    now: u64,
    latency: u64,
    flights: BinaryHeap<Flight>,
    sequence: u64,
    /// `cut[dest][src]`: messages from src to dest are dropped.
    cut: Vec<Vec<bool>>,
    /// Node↔node messages sent so far.
    sent: u64,
    /// Replies to clients, as parsed JSON bodies.
    replies: Vec<serde_json::Value>,
    out: Vec<u8>,
}

impl Cluster {
    /// `n` nodes running `strategy`, initialised, with Maelstrom's grid topology sent.
    fn new(n: usize, strategy: &str, latency: u64, seed: u64) -> Cluster {
        let strategy = Strategy::parse(strategy).expect("strategy parses");
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let nodes = (0..n)
            .map(|i| NodeCore::new(Broadcast::new(strategy.clone()), seed + i as u64))
            .collect();
        let mut cluster = Cluster {
            nodes,
            names,
            now: 0,
            latency,
            flights: BinaryHeap::new(),
            sequence: 0,
            cut: vec![vec![false; n]; n],
            sent: 0,
            replies: Vec::new(),
            out: Vec::new(),
        };
        let ids = serde_json::to_string(&cluster.names).expect("json");
        let topology = serde_json::to_string(&grid(&cluster.names)).expect("json");
        for i in 0..n {
            let body = format!(r#"{{"type":"init","node_id":"n{i}","node_ids":{ids},"msg_id":1}}"#);
            cluster.client(i, &body);
            cluster.client(
                i,
                &format!(r#"{{"type":"topology","topology":{topology},"msg_id":2}}"#),
            );
        }
        cluster
    }

    /// Delivers a client request to node `i` now and collects its output.
    fn client(&mut self, i: usize, body: &str) {
        let line = format!("{{\"src\":\"c{i}\",\"dest\":\"n{i}\",\"body\":{body}}}\n");
        self.nodes[i].handle_input(self.now, line.as_bytes());
        self.collect(i);
    }

    fn broadcast(&mut self, i: usize, value: u64) {
        self.client(
            i,
            &format!(r#"{{"type":"broadcast","message":{value},"msg_id":3}}"#),
        );
        let reply = self.replies.last().expect("a reply");
        assert_eq!(reply["type"], "broadcast_ok", "{reply}");
    }

    fn read(&mut self, i: usize) -> BTreeSet<u64> {
        self.client(i, r#"{"type":"read","msg_id":4}"#);
        let reply = self.replies.last().expect("a reply");
        assert_eq!(
            reply["type"],
            "read_ok",
            "{:?}",
            &self.replies[self.replies.len().saturating_sub(3)..]
        );
        reply["messages"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|v| v.as_u64())
            .collect()
    }

    /// Routes node `i`'s output: to clients at once, to nodes after `latency`.
    fn collect(&mut self, i: usize) {
        self.nodes[i].take_output(&mut self.out);
        for line in self.out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let message: serde_json::Value =
                serde_json::from_slice(line).expect("node output is JSON");
            let dest = message["dest"].as_str().expect("dest");
            match self.names.iter().position(|name| name == dest) {
                Some(j) => {
                    self.sent += 1;
                    self.sequence += 1;
                    let at = self.now + self.latency;
                    let mut line = line.to_vec();
                    line.push(b'\n');
                    self.flights.push(Reverse((at, self.sequence, j, i, line)));
                }
                None => self.replies.push(message["body"].clone()),
            }
        }
    }

    /// Runs every event up to `until` (messages and node timers), in time order.
    fn run_until(&mut self, until: u64) {
        loop {
            let next_flight = self.flights.peek().map(|Reverse(f)| f.0);
            let next_timer = self.nodes.iter().filter_map(|n| n.next_deadline()).min();
            let Some(next) = next_flight
                .into_iter()
                .chain(next_timer)
                .min()
                .filter(|&t| t <= until)
            else {
                break;
            };
            self.now = self.now.max(next);
            if next_flight == Some(next) {
                let Some(Reverse((_, _, dest, src, line))) = self.flights.pop() else {
                    break;
                };
                if !self.cut[dest][src] {
                    self.nodes[dest].handle_input(self.now, &line);
                    self.collect(dest);
                }
            } else {
                for i in 0..self.nodes.len() {
                    if self.nodes[i].next_deadline().is_some_and(|d| d <= self.now) {
                        self.nodes[i].handle_timeout(self.now);
                        self.collect(i);
                    }
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Cuts the cluster into two sides (both directions).
    fn split(&mut self, side: &[usize]) {
        for a in 0..self.nodes.len() {
            for b in 0..self.nodes.len() {
                self.cut[a][b] = side.contains(&a) != side.contains(&b);
            }
        }
    }

    fn heal(&mut self) {
        self.cut.iter_mut().for_each(|row| row.fill(false));
    }

    fn assert_everyone_knows(&mut self, expected: &BTreeSet<u64>, context: &str) {
        for i in 0..self.nodes.len() {
            let known = self.read(i);
            let missing: Vec<_> = expected.difference(&known).collect();
            assert!(missing.is_empty(), "{context}: n{i} misses {missing:?}");
        }
    }
}

/// Maelstrom's `grid` topology (MAELSTROM.md §3.3).
fn grid(names: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let n = names.len();
    let side = (1..=n).find(|s| s * s >= n).unwrap_or(1);
    let mut map = serde_json::Map::new();
    for (k, name) in names.iter().enumerate() {
        let (i, j) = ((k / side) as i64, (k % side) as i64);
        let mut list = Vec::new();
        for (di, dj) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let (a, b) = (i + di, j + dj);
            if a >= 0 && b >= 0 && (b as usize) < side && ((a as usize) * side + b as usize) < n {
                list.push(serde_json::Value::from(
                    names[a as usize * side + b as usize].clone(),
                ));
            }
        }
        map.insert(name.clone(), list.into());
    }
    map
}

const STRATEGIES: &[&str] = &[
    "default",
    "3d",
    "3e",
    "flood",
    "flood:flush=50ms",
    "tree",
    "gossip:topology=tree3,flush=30ms",
    "star",
    "star:hub=n3,flush=60ms",
    "total:flush=20ms",
];

/// Broadcasts values `first..first + count` at random nodes, one every `gap` ms.
fn broadcast_some(
    cluster: &mut Cluster,
    rng: &mut Rng,
    first: u64,
    count: u64,
    gap: u64,
) -> BTreeSet<u64> {
    let n = cluster.nodes.len() as u64;
    let mut values = BTreeSet::new();
    for value in first..first + count {
        cluster.broadcast(rng.below(n) as usize, value);
        values.insert(value);
        let until = cluster.now + gap;
        cluster.run_until(until);
    }
    values
}

/// After values stop, the network must go quiet: nothing sent in a later 20 s window.
fn assert_quiet(cluster: &mut Cluster, context: &str) {
    let until = cluster.now + 20_000;
    cluster.run_until(until);
    let before = cluster.sent;
    let until = cluster.now + 20_000;
    cluster.run_until(until);
    assert_eq!(cluster.sent, before, "{context}: messages sent while idle");
    let unacked = unacknowledged(cluster);
    assert_eq!(
        unacked, 0,
        "{context}: values still unacknowledged when idle"
    );
}

#[test]
fn every_strategy_converges_and_falls_silent() {
    for &strategy in STRATEGIES {
        for (n, seed) in [(1, 1), (5, 2), (25, 3)] {
            let context = format!("strategy {strategy:?}, {n} nodes, seed {seed}");
            let mut cluster = Cluster::new(n, strategy, 100, seed);
            let mut rng = Rng::new(seed);
            let values = broadcast_some(&mut cluster, &mut rng, 0, 200, 10);
            let until = cluster.now + 5_000;
            cluster.run_until(until);
            cluster.assert_everyone_knows(&values, &context);
            assert_quiet(&mut cluster, &context);
        }
    }
}

#[test]
fn no_value_is_lost_across_partitions_and_all_converge_after_healing() {
    for &strategy in STRATEGIES {
        for seed in 10..13 {
            let context = format!("strategy {strategy:?}, 25 nodes, seed {seed}");
            let mut cluster = Cluster::new(25, strategy, 100, seed);
            let mut rng = Rng::new(seed);
            let mut values = BTreeSet::new();
            for round in 0..4u64 {
                let mut order: Vec<usize> = (0..25).collect();
                rng.shuffle(&mut order);
                cluster.split(&order[..rng.below(13) as usize]);
                values.extend(broadcast_some(&mut cluster, &mut rng, 100 * round, 100, 20));
                cluster.heal();
                let until = cluster.now + 300;
                cluster.run_until(until);
            }
            let until = cluster.now + 15_000;
            cluster.run_until(until);
            cluster.assert_everyone_knows(&values, &context);
            assert_quiet(&mut cluster, &context);
        }
    }
}

#[test]
fn a_node_cut_off_for_long_catches_up_without_flooding() {
    let mut cluster = Cluster::new(5, "default", 100, 7);
    let mut rng = Rng::new(7);
    cluster.split(&[2]);
    let values = broadcast_some(&mut cluster, &mut rng, 0, 100, 100);
    let until = cluster.now + 60_000;
    let before = cluster.sent;
    cluster.run_until(until);
    // Retransmits back off (1 s doubling to 4 s) instead of hammering the cut link.
    assert!(
        cluster.sent - before < 200,
        "{} messages in a minute of partition",
        cluster.sent - before
    );
    cluster.heal();
    let until = cluster.now + 10_000;
    cluster.run_until(until);
    cluster.assert_everyone_knows(&values, "after a long partition");
    assert_quiet(&mut cluster, "after a long partition");
}

#[test]
fn reads_reply_with_the_cached_array_and_bad_requests_get_errors() {
    let mut cluster = Cluster::new(1, "default", 100, 1);
    assert!(cluster.read(0).is_empty());
    cluster.broadcast(0, 5);
    cluster.broadcast(0, 5);
    cluster.broadcast(0, 7);
    assert_eq!(cluster.read(0), BTreeSet::from([5, 7]));
    cluster.client(0, r#"{"type":"broadcast","message":"five","msg_id":9}"#);
    assert_eq!(
        cluster.replies.last().map(|r| r["code"].clone()),
        Some(12.into())
    );
    cluster.client(
        0,
        r#"{"type":"gossip","seq":1,"ack":0,"values":[1],"msg_id":10}"#,
    );
    assert_eq!(
        cluster.replies.last().map(|r| r["code"].clone()),
        Some(12.into()),
        "gossip from a client"
    );
    cluster.client(0, r#"{"type":"frobnicate","msg_id":11}"#);
    assert_eq!(
        cluster.replies.last().map(|r| r["code"].clone()),
        Some(10.into())
    );
}

#[test]
fn strategy_grammar_falls_back_on_nonsense() {
    assert!(Strategy::parse("3e:period=500ms,margin=20").is_ok());
    assert!(
        Strategy::parse("star:hub=n7,leaf=10ms,ack=1s,retry=500,retry-max=2s,batch=100").is_ok()
    );
    for bad in [
        "nope",
        "star:flush",
        "star:flush=-1",
        "tree:topology=tree0",
        "3d:batch=999999999",
    ] {
        assert!(Strategy::parse(bad).is_err(), "{bad} should be rejected");
    }
}

/// `3e` in virtual time with Maelstrom's 100 ms latency: leaves time their batches to land
/// just before the hub's 500 ms tick, so every value is everywhere within one period plus
/// two hops and the margin, at under two messages per value.
#[test]
fn aligned_leaves_deliver_within_one_period_and_two_hops() {
    let mut cluster = Cluster::new(25, "3e", 100, 5);
    let mut rng = Rng::new(5);
    let (gap, bound) = (20, 500 + 2 * 100 + 30 + 10);
    let mut due: Vec<(u64, u64)> = Vec::new();
    let start_sent = cluster.sent;
    for value in 0..150u64 {
        cluster.broadcast(rng.below(25) as usize, value);
        due.push((cluster.now + bound, value));
        let until = cluster.now + gap;
        cluster.run_until(until);
        while let Some(&(at, value)) = due.first().filter(|(at, _)| *at <= cluster.now) {
            // Skip the first second: leaves learn the hub's grid from its first ticks.
            if value >= 50 {
                let context = format!("value {value} (checked at {at} ms)");
                cluster.assert_everyone_knows(&BTreeSet::from([value]), &context);
            }
            due.remove(0);
        }
    }
    let per_value = (cluster.sent - start_sent) as f64 / 150.0;
    assert!(per_value < 2.2, "{per_value} messages per value");
}

/// Each peer link queues at most `queue` unacknowledged values. With a tiny queue (16) and
/// small batches (8), a node cut off while 600 values arrive overflows the links to and
/// from it. After healing, those links resync from the value log: every node ends with
/// every value, the resync finishes (nothing unacknowledged) and the cluster falls silent.
#[test]
fn queue_overflow_during_a_partition_loses_no_value() {
    let strategies = [
        "default:queue=16,batch=8",
        "3e:queue=16,batch=8",
        "flood:queue=16,batch=8",
        "tree:queue=16,batch=8",
        "total:queue=16,batch=8",
    ];
    for strategy in strategies {
        for (cut, seed) in [(0, 31), (4, 32)] {
            let context = format!("strategy {strategy:?}, 9 nodes, n{cut} cut, seed {seed}");
            let mut cluster = Cluster::new(9, strategy, 100, seed);
            let mut rng = Rng::new(seed);
            cluster.split(&[cut]);
            let values = broadcast_some(&mut cluster, &mut rng, 0, 600, 5);
            let until = cluster.now + 10_000;
            cluster.run_until(until);
            assert!(resyncing(&cluster) > 0, "{context}: no queue overflowed");
            cluster.heal();
            let (healed, before) = (cluster.now, cluster.sent);
            while cluster.now < healed + 60_000
                && (unacknowledged(&cluster) > 0 || resyncing(&cluster) > 0)
            {
                let until = cluster.now + 100;
                cluster.run_until(until);
            }
            let (took_ms, messages) = (cluster.now - healed, cluster.sent - before);
            eprintln!("{context}: resync done {took_ms} ms after healing, {messages} messages");
            cluster.assert_everyone_knows(&values, &context);
            // 600 values in batches of 8 take 75 round trips of 200 ms, after up to one
            // 4 s backoff for the link to notice the heal.
            assert!(took_ms < 25_000, "{context}: resync took {took_ms} ms");
            assert!(messages < 5_000, "{context}: {messages} messages to resync");
            assert_eq!(resyncing(&cluster), 0, "{context}: a link still resyncing");
            assert_quiet(&mut cluster, &context);
        }
    }
}

fn unacknowledged(cluster: &Cluster) -> usize {
    cluster
        .nodes
        .iter()
        .map(|n| n.workload().unacknowledged())
        .sum()
}

fn resyncing(cluster: &Cluster) -> usize {
    cluster.nodes.iter().map(|n| n.workload().resyncing()).sum()
}

/// Under a sustained inflow every link sends far more than 64 messages per round trip, so
/// a peer's ack names a send older than the 64 remembered one by one. Checkpoints (every
/// 64th send) still advance the link, so the unacknowledged backlog stays near one round
/// trip's worth instead of growing until the inflow stops (and, with a small `queue`,
/// forcing a resync).
#[test]
fn acks_older_than_64_sends_still_drain_the_queue_under_sustained_inflow() {
    let mut cluster = Cluster::new(5, "total", 100, 41);
    let mut rng = Rng::new(41);
    let mut worst = 0;
    let mut values = BTreeSet::new();
    for chunk in 0..30 {
        values.extend(broadcast_some(&mut cluster, &mut rng, 100 * chunk, 100, 1));
        worst = worst.max(unacknowledged(&cluster));
    }
    eprintln!("most values unacknowledged during 3000 values at 1 per ms: {worst}");
    // 20 links × ~200 values per round trip. Matching only the last 64 sends, no ack
    // matched until the inflow stopped: 46812 here, growing 1600 per 100 ms.
    assert!(worst < 6_000, "{worst} values unacknowledged");
    let until = cluster.now + 5_000;
    cluster.run_until(until);
    cluster.assert_everyone_knows(&values, "sustained inflow");
    assert_quiet(&mut cluster, "sustained inflow");
}
