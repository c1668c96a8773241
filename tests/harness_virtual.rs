//! The runner in virtual time: an in-process echo "cluster" behind [`NodeHost`] whose clock
//! jumps instead of waiting. A 10-second test runs in milliseconds, and the same seed
//! gives the same history — the property the in-process simulation will build on.

use std::collections::VecDeque;

use glomers::harness::checkers::Availability;
use glomers::harness::cli::TestConfig;
use glomers::harness::clients;
use glomers::harness::history::{History, OpType};
use glomers::harness::hosts::{CrashReport, HostEvent, MS, NodeHost, Time};
use glomers::harness::net::network::{LatencyDist, NetOptions, Network};
use glomers::harness::net::topology::TopologyKind;
use glomers::harness::run::Runner;
use glomers::harness::services::{SERVICE_NAMES, service};
use glomers::node::rng::Rng;
use simd_json::prelude::*;

/// Echo nodes that answer 1–3 ms after a request, on a virtual clock.
struct VirtualEcho {
    now: Time,
    rng: Rng,
    names: Vec<String>,
    outbox: VecDeque<(Time, usize, Vec<u8>)>,
    /// Ignore every k-th echo (0: answer all), to force timeouts.
    drop_every: u64,
    echoes: u64,
    /// Every client id that sent a request.
    clients: Vec<String>,
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
        let client = message["src"].as_str().unwrap_or_default().to_string();
        if !self.clients.contains(&client) {
            self.clients.push(client);
        }
        if kind == "echo" {
            self.echoes += 1;
            if self.drop_every > 0 && self.echoes.is_multiple_of(self.drop_every) {
                return Ok(());
            }
        }
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
        sim: false,
        faults: Default::default(),
        strategy: None,
        quiet: false,
        strict: false,
        extra_checks: None,
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
        keep_runs: None,
        journal: true,
        diagram: Default::default(),
        flags: Vec::new(),
        replay: None,
    }
}

fn run(seed: u64) -> History {
    run_with(config(seed), 0).0
}

fn run_with(config: TestConfig, drop_every: u64) -> (History, Vec<String>) {
    let (history, clients, _) = run_side(config, drop_every, clients::echo());
    (history, clients)
}

/// Runs `side` against the virtual echo cluster: history, client ids the nodes saw, and
/// the network's client message count.
fn run_side(
    config: TestConfig,
    drop_every: u64,
    side: clients::ClientSide,
) -> (History, Vec<String>, u64) {
    let seed = config.seed;
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
        faults: Default::default(),
        fault_rng: Rng::new(0),
    };
    let net = Network::new(&config.nodes, &SERVICE_NAMES, options, rng.fork());
    let host = VirtualEcho {
        now: 0,
        rng: rng.fork(),
        names: config.nodes.clone(),
        outbox: VecDeque::new(),
        drop_every,
        echoes: 0,
        clients: Vec::new(),
    };
    let clients = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    let host = Recording {
        inner: host,
        clients: clients.clone(),
    };
    let output = Runner::new(&config, host, net, services, side, rng)
        .run()
        .expect("run");
    let clients = clients.lock().clone();
    (output.history, clients, output.net.clients.send_count)
}

/// Passes through to the echo host and keeps its client list when the runner drops it.
struct Recording {
    inner: VirtualEcho,
    clients: std::sync::Arc<parking_lot::Mutex<Vec<String>>>,
}

impl NodeHost for Recording {
    fn now(&self) -> Time {
        self.inner.now()
    }
    fn send_line(&mut self, node: usize, line: &[u8]) -> std::io::Result<()> {
        self.inner.send_line(node, line)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn poll(&mut self, until: Time) -> Option<HostEvent> {
        self.inner.poll(until)
    }
    fn crash_report(&mut self, node: usize) -> CrashReport {
        self.inner.crash_report(node)
    }
    fn shutdown(&mut self) -> Vec<CrashReport> {
        *self.clients.lock() = self.inner.clients.clone();
        Vec::new()
    }
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

#[test]
fn timeouts_bump_processes_and_replace_non_reusable_clients() {
    let mut config = config(5);
    config.nemesis = false;
    config.time_limit_s = 30;
    config.rate = 50.0;
    let concurrency = config.concurrency as u64;
    let (history, clients) = run_with(config, 20);
    let infos: Vec<_> = history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Info)
        .collect();
    assert!(!infos.is_empty(), "some echoes time out");
    for op in &infos {
        assert_eq!(
            op.error.as_ref().and_then(|e| e.as_str()),
            Some("net-timeout")
        );
        // 5 s client timeout in virtual time.
        let invoke = (0..op.index as usize)
            .rev()
            .map(|i| &history.ops[i])
            .find(|i| i.process == op.process);
        let waited = op.time_ns - invoke.expect("invocation").time_ns;
        assert!(
            (5_000 * MS..5_001 * MS).contains(&waited),
            "timeout after {waited} ns"
        );
    }
    let processes: std::collections::BTreeSet<u64> = history
        .ops
        .iter()
        .filter_map(|op| match op.process {
            glomers::harness::history::Process::Client(p) => Some(p),
            _ => None,
        })
        .collect();
    // One new process per info, except after a thread's last op (at most C of those).
    let expected = concurrency as usize + infos.len();
    assert!(
        (expected - 6..=expected).contains(&processes.len()),
        "{} processes",
        processes.len()
    );
    assert!(
        processes
            .iter()
            .all(|p| *p < concurrency * (1 + infos.len() as u64))
    );
    // Clients seen by the nodes: 3 init clients, then (after the 3 silent setup clients
    // c3..c5) worker clients from c6 on: 6 first ones plus one per info followed by
    // another op of that thread (all but at most 6 trailing ones).
    assert!(
        clients.len() + 6 >= 3 + 6 + infos.len(),
        "clients {clients:?}"
    );
    assert_eq!(&clients[..3], ["c0", "c1", "c2"]);
    assert!(
        !clients
            .iter()
            .any(|c| ["c3", "c4", "c5"].contains(&c.as_str()))
    );
    assert!(clients.iter().all(|c| c.starts_with('c')));
}

/// Maelstrom's client shapes, exercised with a test workload: `crash` completes as `info`
/// without any RPC; `twice` chains two echo RPCs (the second quotes the first reply) and
/// its value is its client's own count of completed `twice` ops; the generator counts
/// every completion; in the final phase each worker waits 100 ms, then runs one `twice`.
mod stateful {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use glomers::harness::clients::outcome::Outcome;
    use glomers::harness::clients::{
        Client, ClientPolicy, ClientSide, FinalStep, Generator, OpSpec, Step, WorkerSlot, object,
    };
    use glomers::harness::hosts::{MS, Time};
    use glomers::node::rng::Rng;
    use simd_json::OwnedValue;
    use simd_json::prelude::*;

    pub struct Counting {
        pub completions: Arc<AtomicU64>,
        finals: Vec<u8>,
    }

    impl Generator for Counting {
        fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
            if rng.below(5) == 0 {
                OpSpec::new("crash", OwnedValue::null())
            } else {
                OpSpec::new("twice", OwnedValue::null())
            }
        }

        fn has_final_phase(&self) -> bool {
            true
        }

        fn final_step(&mut self, _rng: &mut Rng, worker: WorkerSlot, _elapsed: Time) -> FinalStep {
            if self.finals.len() <= worker.thread {
                self.finals.resize(worker.thread + 1, 0);
            }
            let stage = &mut self.finals[worker.thread];
            *stage += 1;
            match *stage {
                1 => FinalStep::Wait(100 * MS),
                2 => FinalStep::Invoke(OpSpec::final_op("twice", OwnedValue::null())),
                _ => FinalStep::Done,
            }
        }

        fn on_complete(&mut self, _worker: WorkerSlot, _op: &OpSpec, _outcome: &Outcome) {
            self.completions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One worker process's client: how many `twice` ops it completed, and the first
    /// reply of the op in progress.
    #[derive(Default)]
    struct Twice {
        completed: u64,
        first_reply: Option<String>,
    }

    fn echo(text: String) -> Step {
        Step::Send(object(vec![("type", "echo".into()), ("echo", text.into())]))
    }

    impl Client for Twice {
        fn invoke(&mut self, op: &OpSpec) -> Step {
            match op.f {
                "crash" => Step::Done(Outcome::info(OwnedValue::null(), Some("crashed".into()))),
                _ => echo("first".to_string()),
            }
        }

        fn on_reply(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
            let text = body["echo"].as_str().unwrap_or_default().to_string();
            match self.first_reply.take() {
                None => {
                    self.first_reply = Some(text.clone());
                    echo(format!("second after {text}"))
                }
                Some(first) => {
                    assert_eq!(text, format!("second after {first}"), "{op:?}");
                    self.completed += 1;
                    Step::ok(self.completed.into())
                }
            }
        }
    }

    pub fn side(completions: Arc<AtomicU64>) -> ClientSide {
        ClientSide {
            generator: Box::new(Counting {
                completions,
                finals: Vec::new(),
            }),
            open_client: Box::new(|| Box::new(Twice::default())),
            policy: ClientPolicy::DEFAULT,
        }
    }
}

#[test]
fn stateful_clients_chain_rpcs_and_complete_without_one() {
    let mut config = config(21);
    config.nemesis = false;
    config.time_limit_s = 5;
    config.rate = 100.0;
    config.recovery_s = 1.0;
    let completions = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (history, clients, client_messages) =
        run_side(config.clone(), 0, stateful::side(completions.clone()));
    let done: Vec<_> = history
        .ops
        .iter()
        .filter(|op| op.op_type != OpType::Invoke)
        .collect();
    assert_eq!(
        completions.load(std::sync::atomic::Ordering::Relaxed),
        done.len() as u64,
        "the generator sees every completion"
    );
    let crashes = done.iter().filter(|op| op.f == "crash").count();
    let twices: Vec<_> = done.iter().filter(|op| op.f == "twice").collect();
    assert!(
        crashes > 10 && twices.len() > 100,
        "{crashes} {}",
        twices.len()
    );
    assert!(
        done.iter()
            .filter(|op| op.f == "crash")
            .all(|op| op.op_type == OpType::Info)
    );
    assert!(twices.iter().all(|op| op.op_type == OpType::Ok));
    // Only `twice` sends anything: 2 requests + 2 replies each, after 3 inits + 3 init_oks.
    assert_eq!(client_messages, 6 + 4 * twices.len() as u64);
    // A process's values count its own client's completions: 1, 2, 3, … A crash (info)
    // moves the thread to a new process, whose fresh client counts from 1 again.
    let mut per_process: std::collections::BTreeMap<_, Vec<u64>> = Default::default();
    for op in &twices {
        per_process
            .entry(op.process)
            .or_default()
            .push(op.value.as_u64().expect("count"));
    }
    for (process, values) in &per_process {
        let expected: Vec<u64> = (1..=values.len() as u64).collect();
        assert_eq!(values, &expected, "process {process:?}");
    }
    assert!(
        per_process.len() > config.concurrency,
        "crashes changed processes"
    );
    // Non-reusable clients: a new client id per process that sent something, after the
    // 3 init and 3 setup clients.
    assert!(clients.len() >= 3 + per_process.len(), "{clients:?}");
    // Final phase: one `twice` per worker, flagged, ≥ 100 ms after the recovery sleep.
    let finals: Vec<_> = history.ops.iter().filter(|op| op.is_final).collect();
    assert_eq!(
        finals.len(),
        2 * config.concurrency,
        "invoke + ok per worker"
    );
    let last_main = history
        .ops
        .iter()
        .filter(|op| !op.is_final)
        .map(|op| op.time_ns)
        .max()
        .unwrap_or(0);
    assert!(finals.iter().all(|op| op.time_ns >= last_main + 1_100 * MS));
}
