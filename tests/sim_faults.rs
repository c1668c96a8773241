//! Faults beyond Maelstrom, and the simulator catching broken nodes.
//!
//! * each knob does what it says at the network / clock level, is off by default, and is
//!   named in the results when on; process mode rejects what it cannot do;
//! * a deliberately naive broadcast node (fire-and-forget gossip, no retries) passes a
//!   fault-free test but is caught as invalid under `--loss`, which our broadcast survives;
//! * a node that panics is a crash (exit 255 semantics), reported with its panic;
//! * a reply that breaks its schema becomes an `info` op with an `:exception`, counted by
//!   the exceptions checker like Maelstrom's.

use std::path::Path;

use glomers::harness::hosts::MS;
use glomers::harness::hosts::sim::NodeClock;
use glomers::harness::net::faults::Faults;
use glomers::harness::net::nemesis::{Shape, grudge};
use glomers::harness::net::network::{ClientRole, Endpoint, LatencyDist, NetOptions, Network};
use glomers::harness::session::{Outcome, Sinks, execute, execute_with_nodes, test_config};
use glomers::node::{Ctx, DynNode, Message, NodeCore, RequestError, Rng, Workload};
use simd_json::OwnedValue;
use simd_json::prelude::*;

fn network(faults: Faults, latency_ms: u64) -> Network {
    let nodes = vec!["n0".to_string(), "n1".to_string()];
    let options = NetOptions {
        latency_ms,
        dist: LatencyDist::Constant,
        log_send: false,
        log_recv: false,
        faults,
        fault_rng: Rng::new(99),
    };
    let mut net = Network::new(&nodes, &[], options, Rng::new(1));
    let client = net.open_client(ClientRole::Worker(0));
    assert_eq!(client, "c0");
    net
}

fn body(i: u64) -> OwnedValue {
    let mut map = simd_json::owned::Object::new();
    map.insert("i".to_string(), i.into());
    OwnedValue::Object(Box::new(map))
}

/// Sends `count` n0→n1 messages 1 ms apart, then drains; returns the delivered `i`s in
/// delivery order.
fn deliveries(net: &mut Network, count: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for i in 0..count {
        net.send(i * MS, "n0".into(), "n1".into(), body(i))
            .expect("send");
        while let Some(d) = net.pop_due(i * MS).expect("pop") {
            out.push(d.message.body["i"].as_u64().unwrap_or(u64::MAX));
        }
    }
    while let Some(at) = net.next_due() {
        while let Some(d) = net.pop_due(at).expect("pop") {
            assert_eq!(d.to, Endpoint::Node(1));
            out.push(d.message.body["i"].as_u64().unwrap_or(u64::MAX));
        }
    }
    out
}

#[test]
fn network_faults_lose_duplicate_and_reorder_server_messages_only() {
    let none = deliveries(&mut network(Faults::default(), 10), 1000);
    assert_eq!(
        none,
        (0..1000).collect::<Vec<_>>(),
        "no faults: every message, in order"
    );

    let mut net = network(
        Faults {
            loss: 0.2,
            ..Faults::default()
        },
        10,
    );
    let lossy = deliveries(&mut net, 2000);
    assert!(
        (1500..1700).contains(&lossy.len()),
        "~20% lost: {} delivered",
        lossy.len()
    );
    let stats = net.stats();
    assert_eq!(
        stats.servers.send_count, 2000,
        "a lost message still counts as sent"
    );
    assert_eq!(stats.servers.recv_count, lossy.len() as u64);

    let mut net = network(
        Faults {
            duplicate: 0.1,
            ..Faults::default()
        },
        10,
    );
    let doubled = deliveries(&mut net, 2000);
    assert!(
        (2150..2250).contains(&doubled.len()),
        "~10% twice: {}",
        doubled.len()
    );
    assert_eq!(
        net.stats().servers.msg_count,
        2000,
        "duplicates are not new messages"
    );

    let reordered = deliveries(
        &mut network(
            Faults {
                reorder_ms: 50,
                ..Faults::default()
            },
            10,
        ),
        1000,
    );
    let mut sorted = reordered.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..1000).collect::<Vec<_>>(),
        "reordering loses nothing"
    );
    assert_ne!(reordered, sorted, "…but changes the order");

    // Client traffic is never faulted.
    let mut net = network(
        Faults {
            loss: 1.0,
            duplicate: 1.0,
            reorder_ms: 100,
            ..Faults::default()
        },
        10,
    );
    for i in 0..100 {
        net.send(0, "c0".into(), "n0".into(), body(i))
            .expect("send");
    }
    let mut got = 0;
    while net.pop_due(0).expect("pop").is_some() {
        got += 1;
    }
    assert_eq!(got, 100, "client requests arrive at once, exactly once");
}

#[test]
fn one_way_partition_shapes_cut_one_direction() {
    let mut rng = Rng::new(5);
    let n = 5;
    let cut = |g: &Vec<Vec<usize>>, dest: usize, src: usize| g[dest].contains(&src);
    let g = grudge(Shape::OneWayMajority, n, &mut rng);
    let deaf: Vec<usize> = (0..n).filter(|&d| !g[d].is_empty()).collect();
    assert_eq!(deaf.len(), 3, "the larger half drops the smaller: {g:?}");
    for &d in &deaf {
        for &s in &g[d] {
            assert!(!cut(&g, s, d), "one way only: {g:?}");
        }
    }
    let g = grudge(Shape::MuteOne, n, &mut rng);
    let muted: Vec<usize> = (0..n)
        .filter(|&s| (0..n).filter(|&d| d != s).all(|d| cut(&g, d, s)))
        .collect();
    assert_eq!(muted.len(), 1, "{g:?}");
    assert!(g[muted[0]].is_empty(), "the mute node still hears everyone");
    let g = grudge(Shape::DeafOne, n, &mut rng);
    let deaf: Vec<usize> = (0..n).filter(|&d| g[d].len() == n - 1).collect();
    assert_eq!(deaf.len(), 1);
    assert_eq!(
        (0..n).filter(|&d| !g[d].is_empty()).count(),
        1,
        "everyone hears the deaf node"
    );
}

#[test]
fn skewed_clocks_map_deadlines_back_to_host_time() {
    let mut rng = Rng::new(3);
    for _ in 0..1000 {
        let clock = NodeClock::skewed(0.5, &mut rng);
        assert!((0.5..=1.5).contains(&clock.rate));
        for deadline in [
            0,
            1,
            17,
            clock.offset_ms,
            clock.offset_ms + 1,
            clock.offset_ms + 123_457,
        ] {
            let at = clock.host_time(deadline);
            assert!(clock.local(at) >= deadline, "{clock:?} {deadline}");
            // …and the earliest such time, to within a microsecond.
            assert!(
                at == 0 || clock.local(at.saturating_sub(1000)) < deadline,
                "{clock:?} {deadline}"
            );
        }
    }
    assert_eq!(NodeClock::EXACT.host_time(250), 250 * MS);
    assert_eq!(NodeClock::EXACT.local(250 * MS + 999_999), 250);
}

fn run(flags: &[&str]) -> Result<Outcome, String> {
    let config = test_config(flags, 0)?;
    execute(
        &config,
        Sinks {
            journal: None,
            node_logs: Path::new(""),
        },
    )
}

#[test]
fn faults_are_named_in_results_only_when_on_and_checked_at_parse_time() {
    let base = [
        "-w",
        "g-set",
        "--sim",
        "--node-count",
        "3",
        "--time-limit",
        "3",
        "--rate",
        "20",
        "--recovery-time",
        "2",
    ];
    let plain = run(&base).expect("run");
    assert!(
        plain.results.get("faults").is_none(),
        "Maelstrom-compatible output by default"
    );
    let mut flags = base.to_vec();
    flags.extend(["--loss", "0.2", "--clock-skew", "0.3", "--seed", "4"]);
    let faulty = run(&flags).expect("run");
    assert_eq!(faulty.results["faults"]["loss"].as_f64(), Some(0.2));
    assert_eq!(faulty.results["faults"]["clock-skew"].as_f64(), Some(0.3));
    assert_eq!(
        faulty.results["valid?"].as_bool(),
        Some(true),
        "g-set survives loss and skew"
    );
    let servers = &faulty.results["net"]["servers"];
    assert!(servers["recv-count"].as_u64() < servers["send-count"].as_u64());

    for bad in [
        vec!["--loss", "1.5"],
        vec!["--duplicate", "-0.1"],
        vec!["--clock-skew", "0.95"],
        vec!["--asymmetric-partitions"],
        vec!["--reorder-ms", "100000"],
    ] {
        let mut flags = base.to_vec();
        flags.extend(bad.iter());
        assert!(test_config(&flags, 0).is_err(), "{bad:?} rejected");
    }
    // A process reads its own clock: skew needs --sim, and --sim takes no --bin.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "test",
            "-w",
            "echo",
            "--bin",
            "tests/nodes/echo.py",
            "--clock-skew",
            "0.1",
        ])
        .output()
        .expect("glomers");
    assert_eq!(out.status.code(), Some(254));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sim"));
    assert!(test_config(&["-w", "echo", "--sim", "--bin", "tests/nodes/echo.py"], 0).is_err());
}

#[test]
fn asymmetric_partitions_appear_in_the_history() {
    let outcome = run(&[
        "-w",
        "g-set",
        "--sim",
        "--node-count",
        "5",
        "--time-limit",
        "20",
        "--rate",
        "10",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--asymmetric-partitions",
        "--recovery-time",
        "2",
        "--seed",
        "8",
    ])
    .expect("run");
    let shapes: Vec<String> = outcome
        .history
        .ops
        .iter()
        // The invocation's value is the shape's name; the completion's is the grudge.
        .filter(|op| op.f == "start-partition")
        .filter_map(|op| op.value.as_str().map(String::from))
        .collect();
    assert!(
        shapes
            .iter()
            .any(|s| ["one-way-majority", "mute-one", "deaf-one"].contains(&s.as_str())),
        "{shapes:?}"
    );
    assert_eq!(outcome.results["valid?"].as_bool(), Some(true));
}

/// Broadcast the naive way: forward each new value once to every other node, no acks, no
/// retries. Correct on a perfect network; loses values when messages are lost.
#[derive(Default)]
struct NaiveBroadcast {
    values: Vec<u64>,
}

impl Workload for NaiveBroadcast {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "broadcast" | "gossip" => {
                let value = msg.u64("message")?;
                if !self.values.contains(&value) {
                    self.values.push(value);
                    if msg.kind == "broadcast" {
                        let me = ctx.node_id().to_string();
                        let peers: Vec<String> = ctx
                            .node_ids()
                            .iter()
                            .filter(|p| **p != me)
                            .cloned()
                            .collect();
                        for peer in peers {
                            ctx.send(&peer, "gossip").u64("message", value);
                        }
                    }
                }
                if msg.kind == "broadcast" {
                    drop(ctx.reply(msg, "broadcast_ok"));
                }
                Ok(())
            }
            "read" => {
                ctx.reply(msg, "read_ok")
                    .u64_array("messages", self.values.iter().copied());
                Ok(())
            }
            "topology" => {
                drop(ctx.reply(msg, "topology_ok"));
                Ok(())
            }
            other => Err(RequestError::not_supported(other)),
        }
    }
}

fn naive(_: usize, seed: u64) -> Box<dyn DynNode> {
    Box::new(NodeCore::new(NaiveBroadcast::default(), seed))
}

fn run_with(
    flags: &[&str],
    nodes: &dyn Fn(usize, u64) -> Box<dyn DynNode>,
) -> Result<Outcome, String> {
    let config = test_config(flags, 0)?;
    execute_with_nodes(
        &config,
        Sinks {
            journal: None,
            node_logs: Path::new(""),
        },
        nodes,
    )
}

#[test]
fn loss_catches_a_broadcast_that_never_retries() {
    let flags = |loss: &'static str, seed: &'static str| {
        vec![
            "-w",
            "broadcast",
            "--sim",
            "--node-count",
            "5",
            "--time-limit",
            "5",
            "--rate",
            "20",
            "--latency",
            "10",
            "--recovery-time",
            "2",
            "--loss",
            loss,
            "--seed",
            seed,
        ]
    };
    for seed in ["1", "2", "3"] {
        let clean = run_with(&flags("0", seed), &naive).expect("run");
        assert_eq!(
            clean.results["valid?"].as_bool(),
            Some(true),
            "naive is fine without loss (seed {seed})"
        );
        let lossy = run_with(&flags("0.1", seed), &naive).expect("run");
        assert_eq!(
            lossy.results["valid?"].as_bool(),
            Some(false),
            "loss exposes it (seed {seed})"
        );
        assert!(lossy.results["workload"]["lost-count"].as_u64() > Some(0));
        let ours = run(&flags("0.1", seed)).expect("run");
        assert_eq!(
            ours.results["valid?"].as_bool(),
            Some(true),
            "our broadcast retries (seed {seed})"
        );
    }
}

/// unique-ids that panics on its 20th request.
#[derive(Default)]
struct Panicky {
    served: u64,
}

impl Workload for Panicky {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        self.served += 1;
        assert!(self.served < 20, "deliberate bug: out of ids");
        let id = self.served * 1000 + ctx.node_index() as u64;
        ctx.reply(msg, "generate_ok").u64("id", id);
        Ok(())
    }
}

#[test]
fn a_node_panic_is_a_crash_with_its_message() {
    let flags = [
        "-w",
        "unique-ids",
        "--sim",
        "--node-count",
        "2",
        "--time-limit",
        "5",
        "--rate",
        "50",
    ];
    let make = |_: usize, seed: u64| -> Box<dyn DynNode> {
        Box::new(NodeCore::new(Panicky::default(), seed))
    };
    let error = run_with(&flags, &make).err().expect("a crash");
    assert!(
        error.contains("panic") && error.contains("deliberate bug"),
        "{error}"
    );
    assert!(error.contains("Node n"), "names the node: {error}");
}

/// echo whose reply carries a key the schema does not allow.
struct ExtraKey;

impl Workload for ExtraKey {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let value = msg.field("echo")?;
        ctx.reply(msg, "echo_ok")
            .json("echo", value)
            .u64("extra", 1);
        Ok(())
    }
}

#[test]
fn schema_invalid_replies_are_exceptions() {
    let flags = [
        "-w",
        "echo",
        "--sim",
        "--node-count",
        "1",
        "--time-limit",
        "2",
        "--rate",
        "10",
    ];
    let make =
        |_: usize, seed: u64| -> Box<dyn DynNode> { Box::new(NodeCore::new(ExtraKey, seed)) };
    let outcome = run_with(&flags, &make).expect("run");
    let infos = outcome
        .history
        .ops
        .iter()
        .filter(|op| op.exception.is_some())
        .count();
    assert!(infos > 5, "every echo is info with an exception");
    let exceptions = &outcome.results["exceptions"];
    assert_eq!(
        exceptions["valid?"].as_bool(),
        Some(true),
        "exceptions never invalidate"
    );
    let first = &exceptions["exceptions"][0];
    assert_eq!(first["count"].as_u64(), Some(infos as u64));
    assert_eq!(first["class"].as_str(), Some("clojure.lang.ExceptionInfo"));
    assert_eq!(first["example"]["type"].as_str(), Some("info"));
    assert_eq!(
        outcome.results["workload"]["valid?"].as_bool(),
        Some(true),
        "as under the real Maelstrom (MAELSTROM.md §1.7, §1.8), info echoes are no echo error"
    );
}
