//! `txn-rw-register` nodes in a simulated cluster (tests/counters_support: random latency,
//! so no FIFO; partitions toggled every 1–4 s; here also message loss and duplication).
//! Clients bound to nodes send random transactions; each completed one is checked at once,
//! on every read, by tests/common/causal_checker.rs: it sees whole transactions, never
//! goes back, and never misses a causally preceding write. Every transaction must succeed
//! at once (total availability). After healing, replicas converge to the newest version
//! of every key, the network falls silent and the commit logs are trimmed.
//!
//! Seeds 1–4 (`GLOMERS_SEEDS=n` for more, `GLOMERS_SEED=s` to replay one); a failure names
//! its seed.

#[path = "common/causal_checker.rs"]
mod causal_checker;
mod counters_support;

use std::collections::{BTreeMap, HashMap};

use causal_checker::CausalChecker;
use counters_support::Cluster;
use glomers::node::Rng;
use glomers::workloads::TxnRwRegister;
use glomers::workloads::txn_rw_register::{TxnStrategy, Version};
use serde_json::{Value, json};

/// Random transactions of 1–4 micro-ops over a few keys, values unique per key.
#[derive(Default)]
struct Transactions {
    next_value: HashMap<i64, i64>,
}

impl Transactions {
    fn next(&mut self, rng: &mut Rng, keys: u64) -> Value {
        let length = 1 + rng.below(4);
        let ops: Vec<Value> = (0..length)
            .map(|_| {
                let key = rng.below(keys) as i64;
                if rng.coin() {
                    json!(["r", key, null])
                } else {
                    let value = self.next_value.entry(key).or_insert(0);
                    *value += 1;
                    json!(["w", key, *value])
                }
            })
            .collect();
        json!({"type": "txn", "txn": ops})
    }
}

/// A cluster under test and what it committed.
struct Run {
    cluster: Cluster<TxnRwRegister>,
    checker: CausalChecker,
    /// Per key, the newest committed write: where replicas must converge.
    newest: BTreeMap<i64, (Version, i64)>,
    transactions: Transactions,
    context: String,
}

impl Run {
    fn new(nodes: usize, strategy: TxnStrategy, seed: u64, context: String) -> Run {
        let workloads = (0..nodes).map(|_| TxnRwRegister::new(strategy)).collect();
        let mut cluster = Cluster::new(workloads, seed, 30);
        cluster.add_clients(2 * nodes);
        Run {
            cluster,
            checker: CausalChecker::new(nodes),
            newest: BTreeMap::new(),
            transactions: Transactions::default(),
            context,
        }
    }

    /// Client `c` runs a random transaction; it must succeed at once and pass the checker.
    fn transaction(&mut self, c: usize, keys: u64) {
        let request = self.transactions.next(&mut self.cluster.rng, keys);
        let before = self.cluster.completed.len();
        self.cluster.invoke(c, request);
        let context = self.context.clone();
        assert_eq!(
            self.cluster.completed.len(),
            before + 1,
            "{context}: no reply"
        );
        let done = self.cluster.completed.last().expect("completed").clone();
        let reply = done.reply.clone().expect("answered at once");
        assert_eq!(reply["type"], "txn_ok", "{context}: {reply}");
        let txn = reply["txn"].as_array().expect("txn").clone();
        assert_eq!(
            txn.len(),
            done.request["txn"].as_array().expect("txn").len()
        );
        let version = self.committed_version(done.node, &txn);
        if let Err(why) = self.checker.observe(done.node, &txn, version) {
            panic!("{context}: {why}");
        }
    }

    /// The version the node gave the transaction's writes (all of them the same), and the
    /// newest write per key updated.
    fn committed_version(&mut self, node: usize, txn: &[Value]) -> Option<Version> {
        let mut last: BTreeMap<i64, i64> = BTreeMap::new();
        for op in txn.iter().filter(|op| op[0] == "w") {
            last.insert(op[1].as_i64().expect("key"), op[2].as_i64().expect("value"));
        }
        let mut version = None;
        for (&key, &value) in &last {
            let register = self.cluster.nodes[node].workload().register(key);
            let register = register.expect("a committed write is stored");
            assert_eq!(
                register.value, value,
                "{}: final write stored",
                self.context
            );
            assert!(
                version.is_none_or(|v| v == register.version),
                "one version per txn"
            );
            version = Some(register.version);
            let newest = self.newest.entry(key).or_insert((register.version, value));
            if register.version > newest.0 {
                *newest = (register.version, value);
            }
        }
        version
    }

    /// `main_ms` of transactions (each client about one per `gap` ms) with partitions
    /// toggled every 1–4 s; then heal.
    fn workload(&mut self, main_ms: u64, gap: u64, keys: u64) {
        let (mut next_nemesis, mut partitioned) = (500, false);
        let mut t = self.cluster.now;
        let end = t + main_ms;
        while t < end {
            t += 1;
            self.cluster.run_until(t);
            if t >= next_nemesis {
                if partitioned {
                    self.cluster.heal()
                } else {
                    self.cluster.random_partition()
                }
                partitioned = !partitioned;
                next_nemesis = t + 1000 + self.cluster.rng.below(3000);
            }
            for c in 0..self.cluster.clients.len() {
                if self.cluster.rng.below(gap) == 0 {
                    self.transaction(c, keys);
                }
            }
        }
        self.cluster.heal();
    }

    /// After healing: runs until quiet, then every replica holds the newest version of
    /// every key, has applied every commit and keeps at most one batch unconfirmed.
    fn assert_converged(&mut self) {
        let context = &self.context;
        let until = self.cluster.now + 30_000;
        self.cluster.run_until(until);
        assert!(
            self.cluster.is_quiet(),
            "{context}: still talking when idle"
        );
        let expected: BTreeMap<i64, i64> = self.newest.iter().map(|(&k, &(_, v))| (k, v)).collect();
        let commits: Vec<u64> = (0..self.cluster.nodes.len())
            .map(|n| self.cluster.nodes[n].workload().applied()[n])
            .collect();
        for (n, node) in self.cluster.nodes.iter().enumerate() {
            let node = node.workload();
            let held: BTreeMap<i64, i64> = node.registers().map(|(k, r)| (k, r.value)).collect();
            assert_eq!(held, expected, "{context}: n{n} registers");
            assert_eq!(node.applied(), &commits[..], "{context}: n{n} applied");
            // Commits sent in a reply are confirmed by the peer's next message: at most
            // the last reply's batch stays kept once the cluster is idle.
            let kept = node.unconfirmed();
            assert!(
                kept <= node.strategy().batch,
                "{context}: n{n} keeps {kept} commits"
            );
        }
    }
}

#[test]
fn every_read_is_causal_and_atomic_and_replicas_converge_under_faults() {
    let strategies = ["default", "eager", "lazy", "default:batch=3"];
    for seed in counters_support::seeds() {
        for (nodes, strategy) in [(2, 0), (3, 1), (5, 2), (3, 3), (3, 0)] {
            let name = strategies[(strategy + seed as usize) % strategies.len()];
            let context = format!("seed {seed}, {nodes} nodes, GLOMERS_TXN={name}");
            let strategy = TxnStrategy::parse(name).expect("strategy");
            let mut run = Run::new(nodes, strategy, seed, context);
            run.cluster.loss = 0.1;
            run.cluster.duplicate_percent = 5;
            run.workload(6000, 20, 8);
            run.assert_converged();
            assert!(run.checker.reads_checked > 1000, "{}", run.context);
        }
    }
}

/// Many keys, long transactions and a tiny batch: replication spans many messages.
#[test]
fn many_keys_and_small_batches_converge() {
    for seed in counters_support::seeds() {
        let context = format!("seed {seed}, 4 nodes, batch=2");
        let strategy = TxnStrategy::parse("eager:batch=2").expect("strategy");
        let mut run = Run::new(4, strategy, seed, context);
        run.cluster.duplicate_percent = 20;
        run.workload(3000, 5, 200);
        run.assert_converged();
    }
}

/// One node cut off for a minute while its clients keep writing: every transaction still
/// succeeds at once, retries back off instead of hammering the cut links, and after
/// healing the node's commits reach the others (and theirs reach it).
#[test]
fn a_node_cut_off_for_a_minute_keeps_answering_and_catches_up() {
    let context = "3 nodes, n2 cut off".to_string();
    let mut run = Run::new(3, TxnStrategy::default(), 7, context);
    run.cluster.partition(vec![0, 0, 1]);
    let before = run.cluster.server_messages;
    for step in 0..6000u64 {
        let until = run.cluster.now + 10;
        run.cluster.run_until(until);
        run.transaction((step % 6) as usize, 8);
    }
    let during = run.cluster.server_messages - before;
    // n0 and n1 exchange every flush (50 ms); across the cut, retries every ≤ 2 s.
    let across_cut_bound = 4 * 2 * 60 / 2 + 40;
    assert!(
        during < 4 * 60_000 / 50 + across_cut_bound,
        "{during} messages in a minute"
    );
    run.cluster.heal();
    // While cut off, n0 and n1 committed in lockstep (each commit depending on the other's
    // latest); n2 holds early commits until their dependencies arrive, so it catches up in
    // a few exchanges, not one per dependency step.
    let healed = run.cluster.now;
    let caught_up = |run: &Run| {
        let applied = |n: usize| run.cluster.nodes[n].workload().applied().to_vec();
        applied(2) == applied(0) && applied(2) == applied(1)
    };
    // At most the backed-off retry (2 s) plus a few exchanges (1.4 s measured).
    while !caught_up(&run) {
        let until = run.cluster.now + 10;
        run.cluster.run_until(until);
        assert!(
            run.cluster.now < healed + 3000,
            "n2 still behind 3 s after healing"
        );
    }
    run.assert_converged();
}

/// The checker itself: hand-made histories with a torn transaction, a read going back on
/// a node, and an intermediate read are rejected; a causal one passes.
#[test]
fn checker_rejects_torn_backward_and_intermediate_reads() {
    let version = |clock, origin| Some(Version { clock, origin });
    let txn = |ops: Value| ops.as_array().expect("ops").clone();
    // Session 0 writes x=1, y=1 together; session 1 reads x=1 then y=nil: torn.
    let mut checker = CausalChecker::new(2);
    let both = txn(json!([["w", 1, 1], ["w", 2, 1]]));
    assert!(checker.observe(0, &both, version(1, 0)).is_ok());
    let torn = txn(json!([["r", 1, 1], ["r", 2, null]]));
    assert!(checker.observe(1, &torn, None).is_err(), "torn read");
    // Session 1 reads x=1 and then, in a later txn, x=nil: backwards.
    let mut checker = CausalChecker::new(2);
    assert!(checker.observe(0, &both, version(1, 0)).is_ok());
    assert!(checker.observe(1, &txn(json!([["r", 1, 1]])), None).is_ok());
    let back = checker.observe(1, &txn(json!([["r", 1, null]])), None);
    assert!(back.is_err(), "read went back");
    // An intermediate write read by another session (G1b).
    let mut checker = CausalChecker::new(2);
    let twice = txn(json!([["w", 1, 1], ["w", 1, 2]]));
    assert!(checker.observe(0, &twice, version(1, 0)).is_ok());
    assert!(
        checker
            .observe(1, &txn(json!([["r", 1, 1]])), None)
            .is_err()
    );
    // Causal: session 1 sees x=1 then writes y=5 at a newer version; session 0 reads y=5
    // and x=1, fine; reading x=nil with y=5 would not be.
    let mut checker = CausalChecker::new(2);
    assert!(
        checker
            .observe(0, &txn(json!([["w", 1, 1]])), version(1, 0))
            .is_ok()
    );
    let relay = txn(json!([["r", 1, 1], ["w", 2, 5]]));
    assert!(checker.observe(1, &relay, version(2, 1)).is_ok());
    let mut fresh = CausalChecker::new(3);
    assert!(
        fresh
            .observe(0, &txn(json!([["w", 1, 1]])), version(1, 0))
            .is_ok()
    );
    assert!(fresh.observe(1, &relay, version(2, 1)).is_ok());
    let stale = txn(json!([["r", 2, 5], ["r", 1, null]]));
    assert!(
        fresh.observe(2, &stale, None).is_err(),
        "misses a causal dependency"
    );
    assert!(
        checker
            .observe(0, &txn(json!([["r", 2, 5], ["r", 1, 1]])), None)
            .is_ok()
    );
}

/// With one peer unreachable (its retries backed off to 2 s), commits still reach the
/// reachable peers within a flush and a round trip, not at the unreachable one's retry
/// pace.
#[test]
fn an_unreachable_peer_does_not_slow_replication_to_the_others() {
    let context = "3 nodes, n2 cut off".to_string();
    let mut run = Run::new(3, TxnStrategy::default(), 11, context);
    run.cluster.partition(vec![0, 0, 1]);
    let mut worst = 0;
    for value in 1..=40 {
        let until = run.cluster.now + 500;
        run.cluster.run_until(until);
        run.cluster
            .invoke(0, json!({"type": "txn", "txn": [["w", 1, value]]}));
        let written = run.cluster.now;
        while run.cluster.nodes[1].workload().register(1).map(|r| r.value) != Some(value) {
            let until = run.cluster.now + 1;
            run.cluster.run_until(until);
            assert!(
                run.cluster.now < written + 10_000,
                "value {value} never arrived"
            );
        }
        worst = worst.max(run.cluster.now - written);
    }
    // flush 50 ms + request + reply latency (≤ 30 ms each) + the reply's own latency.
    assert!(worst <= 50 + 3 * 30, "a commit took {worst} ms to reach n1");
}

/// n0 holds a commit that depends on n1's, and can reach only n2, which lacks n1's: n2
/// answers every request without taking anything. n0 backs off instead of resending at
/// the pace of the round trip (with `eager` and 1 ms latency that was hundreds of
/// exchanges a second; with 0 ms latency the simulation never left the instant).
#[test]
fn a_peer_that_cannot_take_our_commits_yet_is_not_flooded() {
    let strategy = TxnStrategy::parse("eager").expect("strategy");
    let workloads = (0..3).map(|_| TxnRwRegister::new(strategy)).collect();
    let mut cluster = Cluster::new(workloads, 3, 1);
    cluster.add_clients(3);
    cluster.partition(vec![0, 0, 1]);
    cluster.invoke(1, json!({"type": "txn", "txn": [["w", 1, 1]]}));
    cluster.run_until(100);
    cluster.invoke(
        0,
        json!({"type": "txn", "txn": [["r", 1, null], ["w", 2, 1]]}),
    );
    let read = &cluster
        .completed
        .last()
        .expect("done")
        .reply
        .as_ref()
        .expect("reply")["txn"];
    assert_eq!(read[0], json!(["r", 1, 1]), "n0 saw n1's commit");
    cluster.partition(vec![0, 1, 0]);
    let before = cluster.server_messages;
    cluster.run_until(10_100);
    let sent = cluster.server_messages - before;
    assert!(sent < 100, "{sent} messages in 10 s");
    assert_eq!(cluster.nodes[2].workload().applied(), &[0, 0, 0]);
    cluster.heal();
    cluster.run_until(13_000);
    for node in &cluster.nodes {
        assert_eq!(
            node.workload().applied(),
            &[1, 1, 0],
            "converged after healing"
        );
    }
}
