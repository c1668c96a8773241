//! The test runner: one discrete-event loop over "next due time" that drives the nodes
//! (through a [`NodeHost`]), the simulated network, the services, the worker clients, the
//! generator and the nemesis (MAELSTROM.md §2).
//!
//! Each turn: deliver due messages, expire client timeouts, advance the phase (which may
//! invoke ops), flush node input, then wait on the host until the earliest due time. The
//! runner never reads a clock itself, so a virtual-time host makes the run deterministic.

mod phases;
mod workers;

use std::collections::VecDeque;

use crate::harness::checkers::NetStats;
use crate::harness::cli::TestConfig;
use crate::harness::clients::Workload;
use crate::harness::clients::outcome::Worker;
use crate::harness::console::Progress;
use crate::harness::history::History;
use crate::harness::hosts::{HostEvent, MS, NodeHost, SECOND, Time};
use crate::harness::net::envelope::{describe, parse_envelope};
use crate::harness::net::nemesis::Schedule;
use crate::harness::net::network::{ClientRole, Delivery, Endpoint, Network};
use crate::harness::services::Service;
use crate::node::rng::Rng;

/// Longest gap between loop turns, so progress and phase checks stay fresh.
const MAX_WAIT: Time = 250 * MS;
/// Deadline for `init_ok`.
pub const INIT_TIMEOUT: Time = 10 * SECOND;
/// Deadline for setup RPCs (`topology`).
pub const SETUP_TIMEOUT: Time = 5 * SECOND;

/// Why a run stopped without a history to check (exit 255).
#[derive(Debug)]
pub enum RunError {
    /// A node exited, or could not be written to.
    Crash(String),
    /// The node broke the protocol, or the harness failed.
    Fatal(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Crash(m) | RunError::Fatal(m) => f.write_str(m),
        }
    }
}

/// What a finished run hands to the checkers.
pub struct RunOutput {
    /// The history.
    pub history: History,
    /// Journal counts.
    pub net: NetStats,
}

/// Test phases, in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Phase {
    Init,
    Setup,
    Main,
    Drain,
    Recovery { until: Time },
    Final,
    Done,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::Setup => "setup",
            Phase::Main => "main",
            Phase::Drain => "drain",
            Phase::Recovery { .. } => "recovery",
            Phase::Final => "final",
            Phase::Done => "done",
        }
    }
}

/// ok / fail / info completions so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// ok completions.
    pub ok: u64,
    /// fail completions.
    pub fail: u64,
    /// info completions.
    pub info: u64,
}

/// The runner's state. Fields are shared with the phase logic in `lifecycle.rs`.
pub struct Runner<'a, H: NodeHost> {
    pub(super) config: &'a TestConfig,
    pub(super) host: H,
    pub(super) net: Network,
    pub(super) services: Vec<(String, Box<dyn Service + Send>)>,
    pub(super) workload: Box<dyn Workload>,
    pub(super) workers: Vec<Worker>,
    pub(super) free: VecDeque<usize>,
    pub(super) history: History,
    pub(super) rng: Rng,
    pub(super) nemesis_rng: Rng,
    pub(super) next_client: u64,
    pub(super) phase: Phase,
    pub(super) phase_deadline: Time,
    pub(super) waiting: Vec<bool>,
    pub(super) t0: Time,
    pub(super) next_op_at: Option<Time>,
    pub(super) nemesis: Schedule,
    pub(super) counts: Counts,
    pub(super) progress: Progress,
}

impl<'a, H: NodeHost> Runner<'a, H> {
    /// A runner over started nodes. `services` are named participants the network knows.
    pub fn new(
        config: &'a TestConfig,
        host: H,
        net: Network,
        services: Vec<(String, Box<dyn Service + Send>)>,
        workload: Box<dyn Workload>,
        mut rng: Rng,
    ) -> Self {
        let n = config.nodes.len();
        let nemesis_rng = rng.fork();
        Runner {
            config,
            host,
            net,
            services,
            workload,
            workers: (0..config.concurrency).map(|t| Worker::new(t, n)).collect(),
            free: (0..config.concurrency).collect(),
            history: History::default(),
            rng,
            nemesis_rng,
            next_client: 0,
            phase: Phase::Init,
            phase_deadline: 0,
            waiting: vec![false; n],
            t0: 0,
            next_op_at: None,
            nemesis: Schedule::new(config.nemesis, config.nemesis_interval_s),
            counts: Counts::default(),
            progress: Progress::new(config.time_limit_s, config.quiet),
        }
    }

    /// Runs the whole test: init, setup, main phase, final phase, teardown.
    pub fn run(mut self) -> Result<RunOutput, RunError> {
        let outcome = self.drive();
        self.progress.finish();
        self.net.heal();
        let crashed = self.host.shutdown();
        let _ = self.net.flush_journal();
        outcome?;
        if let Some(report) = crashed.into_iter().next() {
            let name = self.node_name(report.node);
            return Err(RunError::Crash(format!("Node {name} {report}")));
        }
        Ok(RunOutput {
            history: self.history,
            net: self.net.stats(),
        })
    }

    fn drive(&mut self) -> Result<(), RunError> {
        let now = self.host.now();
        self.start_init(now)?;
        loop {
            let now = self.host.now();
            self.deliver_due(now)?;
            self.expire(now)?;
            self.advance(now)?;
            if self.phase == Phase::Done {
                return Ok(());
            }
            self.deliver_due(now)?;
            self.host
                .flush()
                .map_err(|e| RunError::Crash(format!("cannot write to a node: {e}")))?;
            let (phase, elapsed) = (self.phase.label(), self.relative(now));
            let messages = self.net.stats().all.send_count;
            self.progress
                .tick(now, phase, elapsed, self.counts, messages);
            let until = self.next_due(now);
            match self.host.poll(until) {
                Some(HostEvent::Line { node, line }) => self.on_line(node, line)?,
                Some(HostEvent::Transmit {
                    node,
                    src,
                    dest,
                    body,
                }) => self.on_message(node, src, dest, body)?,
                Some(HostEvent::Exited { node }) => return Err(self.crashed(node)),
                None => {}
            }
        }
    }

    pub(super) fn node_name(&self, node: usize) -> &str {
        self.config
            .nodes
            .get(node)
            .map(String::as_str)
            .unwrap_or("?")
    }

    fn crashed(&mut self, node: usize) -> RunError {
        let report = self.host.crash_report(node);
        RunError::Crash(format!("Node {} {report}", self.node_name(node)))
    }

    /// Nanoseconds since the main phase started (0 before it).
    pub(super) fn relative(&self, now: Time) -> Time {
        now.saturating_sub(self.t0)
    }

    fn next_due(&self, now: Time) -> Time {
        let mut due = now + MAX_WAIT;
        let mut consider = |t: Option<Time>| {
            if let Some(t) = t {
                due = due.min(t);
            }
        };
        consider(self.net.next_due());
        self.workers
            .iter()
            .for_each(|w| consider(w.pending.as_ref().map(|p| p.deadline)));
        consider(self.phase_due());
        due
    }

    /// Delivers every message due by `now` to nodes and services.
    fn deliver_due(&mut self, now: Time) -> Result<(), RunError> {
        while let Some(delivery) = self.net.pop_due(now).map_err(fatal)? {
            match delivery.to {
                Endpoint::Node(node) => {
                    let line = crate::harness::net::envelope::envelope(&delivery.message);
                    if let Err(e) = self.host.send_line(node, &line) {
                        let name = self.node_name(node);
                        return Err(RunError::Crash(format!(
                            "Node {name} cannot take input: {e}"
                        )));
                    }
                }
                Endpoint::Service(index) => self.deliver_to_service(now, index, delivery)?,
                Endpoint::Client(role) => self.deliver_to_client(now, role, delivery)?,
            }
        }
        Ok(())
    }

    fn deliver_to_service(
        &mut self,
        now: Time,
        index: usize,
        delivery: Delivery,
    ) -> Result<(), RunError> {
        let Some((name, service)) = self.services.get_mut(index) else {
            return Ok(());
        };
        let message = delivery.message;
        let Some(reply) = service.handle(&message.src, &message.body) else {
            return Ok(());
        };
        let name = name.clone();
        if self.net.lookup(&message.src).is_none() {
            return Ok(());
        }
        match self
            .net
            .send(now, name, message.src, reply)
            .map_err(fatal)?
        {
            Some(d) => self.deliver_to_client(now, client_role(d.to), d),
            None => Ok(()),
        }
    }

    /// Parses and routes one stdout line of a node (MAELSTROM.md §1.8, strictly).
    fn on_line(&mut self, node: usize, line: Vec<u8>) -> Result<(), RunError> {
        let (src, dest, body) = parse_envelope(line)
            .map_err(|why| RunError::Fatal(format!("Node {} {why}", self.node_name(node))))?;
        self.on_message(node, src, dest, body)
    }

    /// Routes one message a node sent (parsed from its line, or handed over in parts by
    /// the in-process host): src and dest must be known participants.
    fn on_message(
        &mut self,
        node: usize,
        src: String,
        dest: String,
        body: simd_json::OwnedValue,
    ) -> Result<(), RunError> {
        let now = self.host.now();
        for (role, id) in [("source", &src), ("dest", &dest)] {
            if self.net.lookup(id).is_none() {
                return Err(RunError::Fatal(format!(
                    "Node {} sent a message with an invalid {role} {id:?} (not a node, open client or service): {}",
                    self.node_name(node),
                    describe(&src, &dest, &body)
                )));
            }
        }
        if let Some(delivery) = self.net.send(now, src, dest, body).map_err(fatal)? {
            self.deliver_to_client(now, client_role(delivery.to), delivery)?;
        }
        Ok(())
    }
}

pub(super) fn fatal(e: std::io::Error) -> RunError {
    RunError::Fatal(e.to_string())
}

pub(super) fn client_role(to: Endpoint) -> ClientRole {
    match to {
        Endpoint::Client(role) => role,
        _ => ClientRole::Init(usize::MAX),
    }
}
