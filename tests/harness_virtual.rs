//! The runner in virtual time: an in-process echo "cluster" behind [`NodeHost`] whose clock
//! jumps instead of waiting. A 10-second test runs in milliseconds, and the same seed
//! gives the same history — the property the in-process simulation will build on.

use std::collections::VecDeque;

use glomers::harness::checker::Availability;
use glomers::harness::cli::TestConfig;
use glomers::harness::generator::workload;
use glomers::harness::history::{History, OpType};
use glomers::harness::host::{CrashReport, HostEvent, MS, NodeHost, Time};
use glomers::harness::network::{LatencyDist, NetOptions, Network};
use glomers::harness::runner::Runner;
use glomers::harness::services::{SERVICE_NAMES, service};
use glomers::harness::topology::TopologyKind;
use glomers::node::rng::Rng;
use simd_json::prelude::*;

/// Echo nodes that answer 1–3 ms after a request, on a virtual clock.
struct VirtualEcho {
    now: Time,
    rng: Rng,
    names: Vec<String>,
    outbox: VecDeque<(Time, usize, Vec<u8>)>,
}

impl NodeHost for VirtualEcho {
    fn now(&self) -> Time {
        self.now
    }

    fn send_line(&mut self, node: usize, line: &[u8]) -> std::io::Result<()> {
        let mut bytes = line.to_vec();
        let message = simd_json::to_owned_value(&mut bytes).map_err(std::io::Error::other)?;
        let body = &message["body"];
        let kind = body["type"].as_str().unwrap_or_default();
        let reply = match kind {
            "init" => format!(
                "{{\"type\":\"init_ok\",\"in_reply_to\":{}}}",
                body["msg_id"]
            ),
            "echo" => format!(
                "{{\"type\":\"echo_ok\",\"echo\":{},\"in_reply_to\":{}}}",
                body["echo"].encode(),
                body["msg_id"]
            ),
            _ => return Ok(()),
        };
        let src = &self.names[node];
        let dest = message["src"].as_str().unwrap_or_default();
        let out = format!("{{\"src\":\"{src}\",\"dest\":\"{dest}\",\"body\":{reply}}}");
        let at = self.now + (1 + self.rng.below(3)) * MS;
        let position = self.outbox.partition_point(|(t, _, _)| *t <= at);
        self.outbox.insert(position, (at, node, out.into_bytes()));
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn poll(&mut self, until: Time) -> Option<HostEvent> {
        match self.outbox.front() {
            Some((at, _, _)) if *at <= until => {
                let (at, node, line) = self.outbox.pop_front()?;
                self.now = self.now.max(at);
                Some(HostEvent::Line { node, line })
            }
            _ => {
                self.now = self.now.max(until);
                None
            }
        }
    }

    fn crash_report(&mut self, node: usize) -> CrashReport {
        CrashReport {
            node,
            status: "never".into(),
            stdout_tail: vec![],
            stderr_tail: vec![],
        }
    }

    fn shutdown(&mut self) -> Vec<CrashReport> {
        Vec::new()
    }
}

fn config(seed: u64) -> TestConfig {
    TestConfig {
        workload: "echo".into(),
        bin: "/dev/null".into(),
        args: vec![],
        nodes: (0..3).map(|i| format!("n{i}")).collect(),
        concurrency: 6,
        time_limit_s: 10,
        rate: 200.0,
        latency_ms: 0,
        latency_dist: LatencyDist::Constant,
        nemesis: true,
        nemesis_interval_s: 2.0,
        topology: TopologyKind::Grid,
        availability: Availability::Any,
        consistency_models: vec![],
        key_count: 10,
        max_txn_length: 4,
        max_writes_per_key: 16,
        log_stderr: false,
        log_net_send: false,
        log_net_recv: false,
        test_count: 1,
        seed,
        recovery_s: 10.0,
        store: "store".into(),
    }
}

fn run(seed: u64) -> History {
    let config = config(seed);
    let mut rng = Rng::new(seed);
    let services = SERVICE_NAMES
        .iter()
        .filter_map(|n| service(n, rng.fork()).map(|s| (n.to_string(), s)))
        .collect();
    let options = NetOptions {
        latency_ms: 0,
        dist: LatencyDist::Constant,
        log_send: false,
        log_recv: false,
    };
    let net = Network::new(&config.nodes, &SERVICE_NAMES, options, rng.fork());
    let host = VirtualEcho {
        now: 0,
        rng: rng.fork(),
        names: config.nodes.clone(),
        outbox: VecDeque::new(),
    };
    let workload = workload("echo").expect("echo");
    let output = Runner::new(&config, host, net, services, workload, rng)
        .run()
        .expect("run");
    output.history
}

#[test]
fn virtual_time_runs_are_fast_and_seed_replayable() {
    let started = std::time::Instant::now();
    let a = run(11);
    let b = run(11);
    assert!(
        started.elapsed().as_secs() < 5,
        "virtual time must not sleep"
    );
    assert_eq!(a, b, "same seed, same history");
    assert_ne!(a, run(12), "another seed, another history");
    let oks = a.ops.iter().filter(|op| op.op_type == OpType::Ok).count();
    // ~200 ops/s for 10 s, bounded by nothing else.
    assert!((1500..2500).contains(&oks), "{oks} ok ops");
    let last = a.ops.last().expect("ops").time_ns;
    assert!(
        last < 10_100 * MS,
        "main phase cut off at the time limit: {last}"
    );
    assert!(
        a.ops.iter().any(|op| op.f == "start-partition"),
        "nemesis ran"
    );
    assert_eq!(
        a.ops.first().map(|op| op.f.as_str()),
        Some("start-partition"),
        "first op is the nemesis at t≈0"
    );
}
