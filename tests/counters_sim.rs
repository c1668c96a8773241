//! g-counter (both strategies) and pn-counter in a simulated cluster: random latency,
//! partitions toggled every 1–4 s, closed-loop clients, then heal and final reads, which
//! must lie in Maelstrom's acceptable set. Seeds 1–4 (`GLOMERS_SEEDS=n` for more,
//! `GLOMERS_SEED=s` to replay one); a failure names its seed.

mod counters_support;

use counters_support::{Cluster, acceptable_counter_values, run_workload};
use glomers::node::Rng;
use glomers::workloads::PnCounter;
use glomers::workloads::g_counter::{
    GCounter, GCounterStrategy, PerNodeConfig, SeqKvConfig, SyncConfig,
};
use serde_json::{Value, json};

fn g_counter_op(rng: &mut Rng) -> Value {
    if rng.coin() {
        json!({"type": "add", "delta": rng.below(5)})
    } else {
        json!({"type": "read"})
    }
}

fn pn_counter_op(rng: &mut Rng) -> Value {
    if rng.coin() {
        json!({"type": "add", "delta": rng.range_inclusive(-5, 4)})
    } else {
        json!({"type": "read"})
    }
}

fn check_finals<W: glomers::node::Workload>(
    cluster: &Cluster<W>,
    finals: &[(usize, Value)],
    what: &str,
    seed: u64,
) {
    let acceptable = acceptable_counter_values(&cluster.completed);
    for (node, value) in finals {
        let value = value
            .as_i64()
            .unwrap_or_else(|| panic!("{what} seed {seed}: n{node} read {value}"));
        assert!(
            acceptable.contains(&value),
            "{what} seed {seed}: final read {value} on n{node} not in {:?}…",
            acceptable.iter().take(5).collect::<Vec<_>>()
        );
    }
}

/// After convergence a CRDT cluster sends nothing and keeps no timer.
fn assert_idle_quiet<W: glomers::node::Workload>(cluster: &mut Cluster<W>, what: &str, seed: u64) {
    let sent = cluster.server_messages;
    let t = cluster.now;
    cluster.run_until(t + 10_000);
    assert_eq!(
        cluster.server_messages, sent,
        "{what} seed {seed}: messages while idle"
    );
    assert!(
        cluster.is_quiet(),
        "{what} seed {seed}: timers or messages left while idle"
    );
}

/// Stronger than the checker: every ok read includes each add acknowledged before it was
/// invoked, and nothing not yet invoked when it completed.
fn assert_reads_fresh<W: glomers::node::Workload>(cluster: &Cluster<W>, seed: u64) {
    assert_reads_within(cluster, seed, 0);
}

/// Every ok read includes each add acknowledged more than `stale_ms` before it was invoked
/// and each add its own node acknowledged before it was invoked, and nothing not yet
/// invoked when it completed.
fn assert_reads_within<W: glomers::node::Workload>(cluster: &Cluster<W>, seed: u64, stale_ms: u64) {
    let adds: Vec<_> = cluster
        .completed
        .iter()
        .filter(|op| op.request["type"] == "add")
        .collect();
    for read in cluster
        .completed
        .iter()
        .filter(|op| op.request["type"] == "read")
    {
        let Some(value) = read.reply.as_ref().and_then(|r| r["value"].as_i64()) else {
            continue;
        };
        let delta =
            |op: &&&counters_support::Completed| op.request["delta"].as_i64().expect("delta");
        let acked = |op: &&&counters_support::Completed| {
            op.reply.as_ref().is_some_and(|r| r["type"] == "add_ok")
        };
        let lower: i64 = adds
            .iter()
            .filter(|op| {
                acked(op)
                    && (op.completed + stale_ms < read.invoked
                        || (op.node == read.node && op.completed < read.invoked))
            })
            .map(|op| delta(&op))
            .sum();
        let upper: i64 = adds
            .iter()
            .filter(|op| op.invoked <= read.completed)
            .map(|op| delta(&op))
            .sum();
        assert!(
            (lower..=upper).contains(&value),
            "seed {seed}: read {value} on n{} ∉ [{lower}, {upper}] (staleness {stale_ms} ms)",
            read.node
        );
    }
}

#[test]
fn g_counter_on_seq_kv_fresh_final_reads_exact_and_every_read_fresh() {
    for seed in counters_support::seeds() {
        let nodes = (0..3)
            .map(|_| GCounter::new(GCounterStrategy::SeqKvFresh(SeqKvConfig::default())))
            .collect();
        let mut cluster = Cluster::new(nodes, seed, 5);
        cluster.add_clients(6);
        let finals = run_workload(&mut cluster, 8000, 2000, g_counter_op);
        check_finals(&cluster, &finals, "g-counter seq-kv-fresh", seed);
        assert_reads_fresh(&cluster, seed);
        let messages_per_op = cluster.server_messages as f64 / cluster.completed.len() as f64;
        eprintln!(
            "g-counter seq-kv-fresh seed {seed}: {messages_per_op:.2} server messages per op"
        );
        assert!(
            messages_per_op < 6.0,
            "seed {seed}: {messages_per_op} messages per op"
        );
    }
}

/// A seq-kv request or reply delivered twice: a duplicated `cas` (the first copy applied,
/// the second's error 22 answered first) must not count its adds twice.
#[test]
fn g_counter_on_seq_kv_fresh_counts_duplicated_requests_once() {
    for seed in counters_support::seeds() {
        let nodes = (0..3)
            .map(|_| GCounter::new(GCounterStrategy::SeqKvFresh(SeqKvConfig::default())))
            .collect();
        let mut cluster = Cluster::new(nodes, seed, 5);
        cluster.duplicate_percent = 20;
        cluster.add_clients(6);
        let finals = run_workload(&mut cluster, 8000, 2000, g_counter_op);
        check_finals(
            &cluster,
            &finals,
            "g-counter seq-kv-fresh, duplicates",
            seed,
        );
        assert_reads_fresh(&cluster, seed);
    }
}

/// The default: final reads exact, every read at most `stale_ms` stale (and up to date
/// with its own node's adds), also with requests delivered twice.
#[test]
fn g_counter_on_seq_kv_final_reads_exact_and_reads_within_the_staleness_bound() {
    let config = PerNodeConfig::default();
    for seed in counters_support::seeds() {
        for duplicate_percent in [0, 20] {
            let nodes = (0..3)
                .map(|_| GCounter::new(GCounterStrategy::SeqKv(config)))
                .collect();
            let mut cluster = Cluster::new(nodes, seed, 5);
            cluster.duplicate_percent = duplicate_percent;
            cluster.add_clients(6);
            let finals = run_workload(&mut cluster, 8000, 2000, g_counter_op);
            check_finals(&cluster, &finals, "g-counter seq-kv", seed);
            assert_reads_within(&cluster, seed, config.stale_ms);
            let messages_per_op = cluster.server_messages as f64 / cluster.completed.len() as f64;
            eprintln!(
                "g-counter seq-kv seed {seed}, {duplicate_percent}% duplicated: \
                 {messages_per_op:.2} server messages per op"
            );
        }
    }
}

/// Client `client` sends `body`; runs the cluster until the reply, which it returns.
fn complete(cluster: &mut Cluster<GCounter>, client: usize, body: Value) -> Value {
    let before = cluster.completed.len();
    cluster.invoke(client, body);
    while cluster.completed.len() == before {
        let next = cluster.now + 1;
        cluster.run_until(next);
    }
    let reply = cluster.completed.last().and_then(|op| op.reply.clone());
    reply.expect("a reply")
}

/// A read within `stale_ms` of the last refresh costs no message; after that, the next
/// read refreshes the view first (sentinel write plus a read of each other node's key)
/// and so sees another node's add.
#[test]
fn g_counter_default_reads_a_view_refreshed_once_per_staleness_bound() {
    let config = PerNodeConfig::default();
    let nodes = (0..2)
        .map(|_| GCounter::new(GCounterStrategy::SeqKv(config)))
        .collect();
    let mut cluster = Cluster::new(nodes, 1, 0);
    cluster.add_clients(2);
    let value_read_by = |cluster: &mut Cluster<GCounter>, client: usize| {
        let reply = complete(cluster, client, json!({"type": "read"}));
        reply["value"].as_i64().expect("value")
    };
    assert_eq!(value_read_by(&mut cluster, 0), 0);
    let refresh = cluster.server_messages;
    assert_eq!(refresh, 4, "a refresh is a sentinel write and one key read");
    complete(&mut cluster, 1, json!({"type": "add", "delta": 3}));
    assert_eq!(cluster.server_messages, refresh + 2, "an add is one cas");
    assert_eq!(value_read_by(&mut cluster, 1), 3, "n1 reads its own add");
    let n1_refreshed = cluster.server_messages;
    assert_eq!(
        value_read_by(&mut cluster, 0),
        0,
        "n0's view is still fresh enough"
    );
    assert_eq!(value_read_by(&mut cluster, 0), 0);
    assert_eq!(
        cluster.server_messages, n1_refreshed,
        "fresh-enough reads cost nothing"
    );
    let later = cluster.now + config.stale_ms + 1;
    cluster.run_until(later);
    assert_eq!(
        value_read_by(&mut cluster, 0),
        3,
        "a stale view is refreshed first"
    );
    assert_eq!(cluster.server_messages, n1_refreshed + refresh);
}

#[test]
fn g_counter_crdt_final_reads_exact_and_quiet_when_idle() {
    for seed in counters_support::seeds() {
        let nodes = (0..3)
            .map(|_| GCounter::new(GCounterStrategy::Crdt(SyncConfig::default())))
            .collect();
        let mut cluster = Cluster::new(nodes, seed, 5);
        cluster.add_clients(6);
        let finals = run_workload(&mut cluster, 8000, 5000, g_counter_op);
        check_finals(&cluster, &finals, "g-counter crdt", seed);
        assert_idle_quiet(&mut cluster, "g-counter crdt", seed);
    }
}

#[test]
fn pn_counter_final_reads_exact_with_five_nodes_and_quiet_when_idle() {
    for seed in counters_support::seeds() {
        let nodes = (0..5)
            .map(|_| PnCounter::new(SyncConfig::default()))
            .collect();
        let mut cluster = Cluster::new(nodes, seed, 20);
        cluster.add_clients(10);
        let finals = run_workload(&mut cluster, 8000, 5000, pn_counter_op);
        check_finals(&cluster, &finals, "pn-counter", seed);
        assert_idle_quiet(&mut cluster, "pn-counter", seed);
    }
}

#[test]
fn g_counter_rejects_negative_deltas_and_acks_zero_at_once() {
    for strategy in [
        GCounterStrategy::from_name(Some("seq-kv")),
        GCounterStrategy::from_name(Some("seq-kv-fresh")),
        GCounterStrategy::from_name(Some("crdt")),
    ] {
        let mut cluster = Cluster::new(vec![GCounter::new(strategy)], 1, 0);
        cluster.add_clients(1);
        cluster.invoke(0, json!({"type": "add", "delta": -1}));
        cluster.invoke(0, json!({"type": "add", "delta": 0}));
        let replies: Vec<_> = cluster
            .completed
            .iter()
            .map(|op| op.reply.clone().expect("reply"))
            .collect();
        assert_eq!(replies[0]["code"], 12, "{strategy:?}: {replies:?}");
        assert_eq!(replies[1]["type"], "add_ok", "{strategy:?}: {replies:?}");
        assert_eq!(
            cluster.server_messages, 0,
            "{strategy:?}: an add of 0 needs no message"
        );
    }
}

#[test]
fn strategy_names_parse_and_unknown_falls_back_to_seq_kv() {
    assert!(matches!(
        GCounterStrategy::from_name(None),
        GCounterStrategy::SeqKv(_)
    ));
    assert!(matches!(
        GCounterStrategy::from_name(Some("")),
        GCounterStrategy::SeqKv(_)
    ));
    assert!(matches!(
        GCounterStrategy::from_name(Some("crdt")),
        GCounterStrategy::Crdt(_)
    ));
    assert!(matches!(
        GCounterStrategy::from_name(Some("seq-kv-fresh")),
        GCounterStrategy::SeqKvFresh(_)
    ));
    assert!(matches!(
        GCounterStrategy::from_name(Some("bogus")),
        GCounterStrategy::SeqKv(_)
    ));
}
