//! g-set in a simulated five-node cluster: random latency, partitions toggled every 1–4 s,
//! then heal and final reads, which must hold every acknowledged element and nothing
//! never added. Also: a large backlog crosses a healed partition in capped batches, and a
//! converged cluster is silent. Seeds 1–4 (`GLOMERS_SEEDS=n` for more, `GLOMERS_SEED=s` to
//! replay one); a failure names its seed.

mod counters_support;

use std::collections::BTreeSet;

use counters_support::{Cluster, run_workload};
use glomers::workloads::GSet;
use glomers::workloads::g_set::MAX_BATCH;
use glomers::workloads::peer_sync::SyncConfig;
use serde_json::{Value, json};

/// Elements are mostly integers (as Maelstrom sends), with some strings and objects.
fn element(n: u64) -> Value {
    match n % 7 {
        3 => json!(format!("s{n}")),
        5 => json!({"n": n, "tag": [1, "x"]}),
        _ => json!(n),
    }
}

fn set_of(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(Value::to_string)
        .collect()
}

#[test]
fn g_set_keeps_every_acknowledged_element_across_partitions() {
    for seed in counters_support::seeds() {
        let nodes = (0..5).map(|_| GSet::new(SyncConfig::default())).collect();
        let mut cluster = Cluster::new(nodes, seed, 20);
        cluster.add_clients(10);
        let mut next = 0;
        let finals = run_workload(&mut cluster, 8000, 5000, |rng| {
            if rng.coin() {
                next += 1;
                json!({"type": "add", "element": element(next)})
            } else {
                json!({"type": "read"})
            }
        });
        let adds = cluster
            .completed
            .iter()
            .filter(|op| op.request["type"] == "add");
        let attempted: BTreeSet<String> = adds
            .clone()
            .map(|op| op.request["element"].to_string())
            .collect();
        let acked: BTreeSet<String> = adds
            .filter(|op| op.reply.as_ref().is_some_and(|r| r["type"] == "add_ok"))
            .map(|op| op.request["element"].to_string())
            .collect();
        assert!(acked.len() > 300, "seed {seed}: only {} adds", acked.len());
        for (node, value) in &finals {
            let read = set_of(value);
            let unique: BTreeSet<String> = read.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                read.len(),
                "seed {seed}: duplicates on n{node}"
            );
            let lost: Vec<_> = acked.difference(&unique).collect();
            assert!(lost.is_empty(), "seed {seed}: n{node} lost {lost:?}");
            assert!(
                unique.is_subset(&attempted),
                "seed {seed}: n{node} read elements never added"
            );
        }
        let sent = cluster.server_messages;
        let t = cluster.now;
        cluster.run_until(t + 10_000);
        assert_eq!(
            cluster.server_messages, sent,
            "seed {seed}: messages while idle"
        );
        assert!(cluster.is_quiet(), "seed {seed}: timers left while idle");
    }
}

#[test]
fn a_backlog_larger_than_a_batch_crosses_a_healed_partition() {
    let nodes = (0..3).map(|_| GSet::new(SyncConfig::default())).collect();
    let mut cluster = Cluster::new(nodes, 7, 10);
    cluster.add_clients(3);
    cluster.partition(vec![0, 1, 1]);
    let count = 2 * MAX_BATCH as u64 + 17;
    for n in 0..count {
        cluster.invoke(0, json!({"type": "add", "element": n}));
        cluster.invoke(0, json!({"type": "add", "element": n})); // a duplicate is absorbed
    }
    cluster.run_until(3000);
    cluster.heal();
    cluster.run_until(8000);
    for c in 0..3 {
        cluster.invoke(c, json!({"type": "read"}));
        let reply = cluster
            .completed
            .last()
            .and_then(|op| op.reply.clone())
            .expect("read reply");
        assert_eq!(set_of(&reply["value"]).len() as u64, count, "n{c}");
    }
    assert!(
        cluster.server_messages < 60,
        "{} messages",
        cluster.server_messages
    );
}
