//! The test runner: one discrete-event loop over "next due time" that drives the nodes
//! (through a [`NodeHost`]), the simulated network, the services, the workers and their
//! clients, the generator and the nemesis (MAELSTROM.md §2).
//!
//! Each turn: deliver due messages, expire client timeouts, advance the phase (which may
//! invoke ops), flush node input, then wait on the host until the earliest due time. The
//! runner never reads a clock itself, so a virtual-time host makes the run deterministic.
//!
//! Each piece of state has one owner: [`Runner`] holds the host, the services and the
//! history; `phases::Phases` the phase machine, op stagger and nemesis; `workers::Workers`
//! the worker threads, their clients and the generator; the network its queues and client
//! ids. A `World` lends the shared parts (network, history, clock) to the one acting.

pub mod execute;
mod phases;
mod replay;
pub mod store_run;
mod workers;

use crate::harness::checkers::NetStats;
use crate::harness::cli::TestConfig;
use crate::harness::clients::ClientSide;
use crate::harness::command_line::pinned_flags;
use crate::harness::conduct::{Conduct, Muted};
use crate::harness::history::History;
use crate::harness::hosts::{HostEvent, MS, NodeHost, Time};
use crate::harness::net::envelope::{describe, parse_envelope};
use crate::harness::net::network::{ClientRole, Delivery, Endpoint, Network};
use crate::harness::results::console::{Counts, Progress};
use crate::harness::schedule::{Schedule, ScheduledOp};
use crate::harness::services::SimulatedService;
use crate::node::rng::Rng;
use phases::{Phase, Phases};
use replay::ReplayPlan;
use simd_json::prelude::*;
use workers::Workers;

pub use phases::{INIT_TIMEOUT, SETUP_TIMEOUT};

/// Longest gap between loop turns, so progress and phase checks stay fresh.
const MAX_WAIT: Time = 250 * MS;

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

/// A run that stopped without a history, and what it had recorded of its schedule.
#[derive(Debug)]
pub struct RunFailure {
    /// Why it stopped.
    pub error: RunError,
    /// Its schedule up to the crash (`--sim` runs; boxed: errors stay small).
    pub schedule: Option<Box<Schedule>>,
}

/// What a finished run hands to the checkers.
pub struct RunOutput {
    /// The history.
    pub history: History,
    /// Journal counts.
    pub net: NetStats,
    /// Host time (the journal's clock) at which the main phase began: history time 0.
    pub main_start: Time,
    /// Muted nodes, late and second replies.
    pub conduct: Conduct,
    /// What the run's choices were (`--sim` runs only), for replays and `glomers shrink`.
    pub schedule: Option<Schedule>,
}

/// The services, by index into the network's service list, with their names.
pub type Services = Vec<(String, Box<dyn SimulatedService + Send>)>;

/// What the acting component may touch during one step: the clock, the network and the
/// history (lent by the [`Runner`], which owns the history).
pub(super) struct World<'r> {
    pub(super) config: &'r TestConfig,
    /// Host time.
    pub(super) now: Time,
    /// Relative time (history `:time`): nanoseconds since the main phase began.
    pub(super) relative: Time,
    pub(super) net: &'r mut Network,
    pub(super) history: &'r mut History,
    /// Late and second replies the workers saw.
    pub(super) conduct: &'r mut Conduct,
    /// The schedule being recorded (`--sim` runs; otherwise left empty).
    pub(super) schedule: &'r mut Schedule,
}

impl World<'_> {
    pub(super) fn node_name(&self, node: usize) -> &str {
        node_name(self.config, node)
    }

    /// Records a main-phase op in the schedule (`--sim` runs only).
    pub(super) fn record_op(
        &mut self,
        thread: usize,
        f: &'static str,
        value: &simd_json::OwnedValue,
    ) {
        if self.config.sim {
            self.schedule.ops.push(ScheduledOp {
                at: self.relative,
                thread,
                f,
                value: value.clone(),
            });
        }
    }
}

fn node_name(config: &TestConfig, node: usize) -> &str {
    config.nodes.get(node).map(String::as_str).unwrap_or("?")
}

/// The runner: the host and services it drives, and the components of the test.
pub struct Runner<'a, H: NodeHost> {
    config: &'a TestConfig,
    host: H,
    net: Network,
    services: Services,
    history: History,
    conduct: Conduct,
    schedule: Schedule,
    phases: Phases,
    workers: Workers,
    /// The generator's and the op stagger's random stream.
    rng: Rng,
    progress: Progress,
    /// Why the run cannot start (a schedule that does not fit the configuration).
    setup_error: Option<String>,
}

impl<'a, H: NodeHost> Runner<'a, H> {
    /// A runner over started nodes. `services` are named participants the network knows;
    /// `clients` is the workload's generator and client factory.
    pub fn new(
        config: &'a TestConfig,
        host: H,
        mut net: Network,
        services: Services,
        clients: ClientSide,
        mut rng: Rng,
    ) -> Self {
        let nemesis_rng = rng.fork();
        let mut history = History::default();
        let mut conduct = Conduct::default();
        let mut schedule = Schedule::default();
        let world = World {
            config,
            now: 0,
            relative: 0,
            net: &mut net,
            history: &mut history,
            conduct: &mut conduct,
            schedule: &mut schedule,
        };
        let (replay, setup_error) = match config.replay.as_ref() {
            Some(r) => match ReplayPlan::new(&r.schedule, config.concurrency) {
                Ok(plan) => (Some(plan), None),
                Err(why) => (None, Some(why)),
            },
            None => (None, None),
        };
        let phases = Phases::new(&world, nemesis_rng, replay);
        Runner {
            config,
            host,
            net,
            services,
            history,
            conduct,
            schedule,
            phases,
            workers: Workers::new(clients, config.concurrency, config.nodes.len()),
            rng,
            progress: Progress::new(config.time_limit_s, config.quiet),
            setup_error,
        }
    }

    /// Runs the whole test: init, setup, main phase, final phase, teardown.
    pub fn run(self) -> Result<RunOutput, RunError> {
        self.run_recorded().map_err(|failure| failure.error)
    }

    /// [`Runner::run`], keeping the schedule of a run that crashed too (`glomers shrink`
    /// shrinks crashes): its main phase ends where the crash came.
    pub fn run_recorded(mut self) -> Result<RunOutput, RunFailure> {
        let outcome = self.drive();
        self.progress.finish();
        self.net.heal();
        let crashed = self.host.shutdown();
        let _ = self.net.flush_journal();
        let error = match outcome {
            Err(error) => Some(error),
            Ok(()) => crashed.into_iter().next().map(|report| {
                let name = node_name(self.config, report.node);
                RunError::Crash(format!("Node {name} {report}"))
            }),
        };
        if error.is_some()
            && matches!(
                self.phases.phase(),
                Phase::Init | Phase::Setup | Phase::Main
            )
        {
            self.schedule.main_end = self.phases.relative(self.host.now());
        }
        let schedule = self.config.sim.then(|| {
            let mut schedule = std::mem::take(&mut self.schedule);
            schedule.workload = self.config.workload.clone();
            schedule.flags = pinned_flags(&self.config.flags, self.config.seed);
            schedule.strategy = self.config.strategy.clone();
            schedule.participants = self.net.participants().to_vec();
            schedule.node_count = self.config.nodes.len();
            schedule.messages = self.net.take_fates();
            schedule
        });
        if let Some(error) = error {
            return Err(RunFailure {
                error,
                schedule: schedule.map(Box::new),
            });
        }
        Ok(RunOutput {
            history: self.history,
            net: self.net.stats(),
            main_start: self.phases.main_start(),
            conduct: self.conduct,
            schedule,
        })
    }

    /// The shared parts, lent for one step at host time `now`.
    fn world(&mut self, now: Time) -> (World<'_>, &mut Phases, &mut Workers, &mut Rng) {
        let world = World {
            config: self.config,
            now,
            relative: self.phases.relative(now),
            net: &mut self.net,
            history: &mut self.history,
            conduct: &mut self.conduct,
            schedule: &mut self.schedule,
        };
        (world, &mut self.phases, &mut self.workers, &mut self.rng)
    }

    fn drive(&mut self) -> Result<(), RunError> {
        if let Some(why) = self.setup_error.take() {
            return Err(RunError::Fatal(why));
        }
        let now = self.host.now();
        let (mut world, phases, _, _) = self.world(now);
        phases.start_init(&mut world)?;
        loop {
            let now = self.host.now();
            self.deliver_due(now)?;
            let (mut world, phases, workers, rng) = self.world(now);
            workers.expire(&mut world);
            phases.check_deadline(&world)?;
            phases.advance(&mut world, workers, rng)?;
            if self.phases.phase() == Phase::Done {
                return Ok(());
            }
            self.deliver_due(now)?;
            self.host
                .flush()
                .map_err(|e| RunError::Crash(format!("cannot write to a node: {e}")))?;
            let phase = self.phases.phase().label();
            let elapsed = self.phases.relative(now);
            let messages = self.net.stats().all.send_count;
            self.progress
                .tick(now, phase, elapsed, self.workers.counts(), messages);
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
                Some(HostEvent::Fault { node, why }) => {
                    let name = node_name(self.config, node);
                    return Err(RunError::Fatal(format!("Node {name} {why}")));
                }
                None => {}
            }
        }
    }

    fn crashed(&mut self, node: usize) -> RunError {
        let report = self.host.crash_report(node);
        RunError::Crash(format!("Node {} {report}", node_name(self.config, node)))
    }

    fn next_due(&mut self, now: Time) -> Time {
        let (world, phases, workers, _) = self.world(now);
        [
            world.net.next_due(),
            workers.next_due(),
            phases.due(&world, workers),
        ]
        .into_iter()
        .flatten()
        .fold(now + MAX_WAIT, Time::min)
    }
    /// Delivers every message due by `now` to nodes and services.
    fn deliver_due(&mut self, now: Time) -> Result<(), RunError> {
        while let Some(delivery) = self.net.pop_due(now).map_err(fatal)? {
            match delivery.to {
                Endpoint::Node(node) => {
                    let line = crate::harness::net::envelope::envelope(&delivery.message);
                    if let Err(e) = self.host.send_line(node, &line) {
                        let name = node_name(self.config, node);
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

    /// Routes a message that reached a client: init and setup replies to the phases,
    /// worker replies to the workers. Replies without `in_reply_to` are dropped.
    fn deliver_to_client(
        &mut self,
        now: Time,
        role: ClientRole,
        delivery: Delivery,
    ) -> Result<(), RunError> {
        let message = delivery.message;
        let Some(in_reply_to) = message.body.get("in_reply_to").and_then(|v| v.as_u64()) else {
            return Ok(());
        };
        let (mut world, phases, workers, _) = self.world(now);
        match role {
            ClientRole::Init(node) => {
                phases.on_init_reply(&mut world, node, in_reply_to, &message.dest, &message.body)
            }
            ClientRole::Setup(node) => {
                phases.on_setup_reply(&world, node, in_reply_to, &message.body)
            }
            ClientRole::Worker(thread) => {
                workers.on_reply(&mut world, thread, &message.src, in_reply_to, &message.body)
            }
        }
    }

    /// Parses and routes one stdout line of a node (MAELSTROM.md §1.8): a line that is
    /// not JSON or not a well-formed envelope fails the run (stricter than Maelstrom, which
    /// only logs it); a muted node's lines are dropped unread, as Maelstrom's reader does.
    fn on_line(&mut self, node: usize, line: Vec<u8>) -> Result<(), RunError> {
        if self.drop_if_muted(node) {
            return Ok(());
        }
        let (src, dest, body) = parse_envelope(line).map_err(|why| {
            RunError::Fatal(format!("Node {} {why}", node_name(self.config, node)))
        })?;
        self.on_message(node, src, dest, body)
    }

    /// Routes one message a node sent (parsed from its line, or handed over in parts by
    /// the in-process host). A src or dest that is not a registered participant mutes the
    /// node, as the real Maelstrom does, or fails the run under `--strict`.
    fn on_message(
        &mut self,
        node: usize,
        src: String,
        dest: String,
        body: simd_json::OwnedValue,
    ) -> Result<(), RunError> {
        if self.drop_if_muted(node) {
            return Ok(());
        }
        let now = self.host.now();
        for (role, id) in [("source", &src), ("dest", &dest)] {
            if self.net.lookup(id).is_none() {
                let why = format!("invalid {role} {id:?} (not a node, open client or service)");
                return self.mute(now, node, why, describe(&src, &dest, &body));
            }
        }
        if let Some(delivery) = self.net.send(now, src, dest, body).map_err(fatal)? {
            self.deliver_to_client(now, client_role(delivery.to), delivery)?;
        }
        Ok(())
    }

    /// Whether node `node` is muted; counts the message it drops.
    fn drop_if_muted(&mut self, node: usize) -> bool {
        let muted = self.conduct.is_muted(node_name(self.config, node));
        if muted {
            self.conduct.dropped_after_mute += 1;
        }
        muted
    }

    /// Stops reading node `node` for the rest of the run (MAELSTROM.md §1.8), saying so
    /// loudly; under `--strict` fails the run instead.
    fn mute(
        &mut self,
        now: Time,
        node: usize,
        why: String,
        message: String,
    ) -> Result<(), RunError> {
        let name = node_name(self.config, node).to_string();
        if self.config.strict {
            return Err(RunError::Fatal(format!(
                "Node {name} sent a message with an {why}: {message}"
            )));
        }
        let muted = Muted {
            node: name,
            time_ns: self.phases.relative(now),
            why,
            message,
        };
        if !self.config.quiet {
            self.progress.finish();
            eprintln!("{}", mute_warning(&muted));
        }
        self.conduct.muted.push(muted);
        Ok(())
    }
}

/// The loud warning printed when a node is muted.
pub fn mute_warning(muted: &Muted) -> String {
    let node = &muted.node;
    format!(
        "WARN: node {node} sent a message with an {why} at {time:.3} s:\n  {message}\n  \
         The real Maelstrom stops reading {node}'s output here (\"Invalid dest for message\"): \
         every later message from {node} is lost and its remaining ops time out, though the run \
         may still be valid. Usually this is a reply sent after the client's timeout, to a client \
         that was already closed: reply to every request in time, and once. glomers does the \
         same as Maelstrom; pass --strict to stop the run here instead.",
        why = muted.why,
        time = muted.time_ns as f64 / 1e9,
        message = muted.message,
    )
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
