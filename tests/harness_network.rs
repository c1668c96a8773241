//! The simulated network: latency, deadline order, partition check at dequeue, counting
//! (MAELSTROM.md §5.1, §5.4).

use glomers::harness::hosts::MS;
use glomers::harness::net::network::{ClientRole, Endpoint, LatencyDist, NetOptions, Network};
use glomers::node::rng::Rng;
use simd_json::OwnedValue;
use simd_json::prelude::*;

fn body(kind: &str) -> OwnedValue {
    let mut map = simd_json::owned::Object::new();
    map.insert("type".to_string(), kind.into());
    OwnedValue::Object(Box::new(map))
}

fn net(latency_ms: u64) -> Network {
    let nodes = vec!["n0".to_string(), "n1".to_string(), "n2".to_string()];
    let options = NetOptions {
        latency_ms,
        dist: LatencyDist::Constant,
        log_send: false,
        log_recv: false,
        faults: Default::default(),
        fault_rng: Rng::new(0),
    };
    let mut net = Network::new(&nodes, &["lin-kv", "seq-kv"], options, Rng::new(1));
    let client = net.open_client(ClientRole::Worker(0));
    assert_eq!(client, "c0");
    net
}

#[test]
fn client_traffic_is_immediate_and_server_traffic_is_delayed() {
    let mut net = net(100);
    let now = 1_000 * MS;
    // Client → node: no latency.
    assert!(
        net.send(now, "c0".into(), "n0".into(), body("echo"))
            .unwrap()
            .is_none()
    );
    assert_eq!(net.next_due(), Some(now));
    let d = net.pop_due(now).unwrap().expect("due now");
    assert_eq!(d.to, Endpoint::Node(0));
    assert_eq!(d.message.id, 0);
    // Node → client: delivered at once.
    let d = net
        .send(now, "n0".into(), "c0".into(), body("echo_ok"))
        .unwrap()
        .expect("client delivery");
    assert_eq!(d.to, Endpoint::Client(ClientRole::Worker(0)));
    // Node → node and node → service: 100 ms.
    net.send(now, "n0".into(), "n1".into(), body("gossip"))
        .unwrap();
    net.send(now, "n0".into(), "seq-kv".into(), body("read"))
        .unwrap();
    assert_eq!(net.next_due(), Some(now + 100 * MS));
    assert!(net.pop_due(now + 99 * MS).unwrap().is_none());
    assert!(net.pop_due(now + 100 * MS).unwrap().is_some());
    assert!(net.pop_due(now + 100 * MS).unwrap().is_some());
    let stats = net.stats();
    assert_eq!(
        (
            stats.all.send_count,
            stats.all.recv_count,
            stats.all.msg_count
        ),
        (4, 4, 4)
    );
    assert_eq!((stats.clients.send_count, stats.clients.recv_count), (2, 2));
    assert_eq!((stats.servers.send_count, stats.servers.recv_count), (2, 2));
    assert!(
        net.send(now, "n0".into(), "c9".into(), body("x")).is_err(),
        "unknown dest"
    );
}

#[test]
fn partitions_drop_at_dequeue_and_never_touch_clients_or_services() {
    let mut net = net(10);
    // n1's writer is busy with a message from n2 (held until t = 10 ms) …
    net.send(0, "n2".into(), "n1".into(), body("first"))
        .unwrap();
    // … so this one from n0 waits in the queue, and is checked only when dequeued.
    net.send(0, "n0".into(), "n1".into(), body("queued"))
        .unwrap();
    // n1 starts dropping messages from n0.
    let mut drops = vec![Vec::new(); 3];
    drops[1] = vec![0];
    net.set_grudge(&drops);
    // Sent to an idle writer during a partition: dropped at once, even if healed later.
    let mut drops_n2 = drops.clone();
    drops_n2[2] = vec![0];
    net.set_grudge(&drops_n2);
    net.send(0, "n0".into(), "n2".into(), body("dropped"))
        .unwrap();
    net.set_grudge(&drops);
    net.send(0, "n0".into(), "n2".into(), body("direct"))
        .unwrap();
    // Services and clients are never cut off.
    net.send(0, "n0".into(), "seq-kv".into(), body("read"))
        .unwrap();
    net.send(0, "c0".into(), "n1".into(), body("echo")).unwrap();
    let mut delivered = Vec::new();
    while let Some(due) = net.next_due() {
        let d = net.pop_due(due.max(10 * MS)).unwrap().expect("due");
        delivered.push(
            d.message.body["type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // "dropped" was checked at send time, during n2's grudge; "queued" was checked when
    // "first" was delivered, during n1's. The client's "echo" waited behind "first" (one
    // writer per destination) and then went ahead of "queued" (earlier deadline).
    assert_eq!(delivered, vec!["first", "echo", "direct", "read"]);
    let stats = net.stats();
    assert_eq!(
        (
            stats.servers.send_count,
            stats.servers.recv_count,
            stats.servers.msg_count
        ),
        (5, 3, 5)
    );
    net.heal();
    net.send(20 * MS, "n0".into(), "n1".into(), body("c"))
        .unwrap();
    assert!(net.pop_due(30 * MS).unwrap().is_some());
}

#[test]
fn deadline_order_not_fifo_with_uniform_latency() {
    let nodes = vec!["n0".to_string(), "n1".to_string()];
    let options = NetOptions {
        latency_ms: 50,
        dist: LatencyDist::Uniform,
        log_send: false,
        log_recv: false,
        faults: Default::default(),
        fault_rng: Rng::new(0),
    };
    let mut net = Network::new(&nodes, &[], options, Rng::new(3));
    for _ in 0..50 {
        net.send(0, "n0".into(), "n1".into(), body("x")).unwrap();
    }
    let mut now = 0;
    let mut ids = Vec::new();
    while let Some(due) = net.next_due() {
        assert!(due < 100 * MS);
        // The writer holds one message at a time: a later one is never early.
        now = now.max(due);
        ids.push(net.pop_due(now).unwrap().expect("due").message.id);
    }
    assert_eq!(ids.len(), 50);
    assert_ne!(
        ids,
        (0..50).collect::<Vec<u64>>(),
        "uniform delays reorder messages"
    );
}
