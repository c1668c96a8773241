//! The test's phases (MAELSTROM.md §2.1, §2.4): init → setup → main → drain → recovery →
//! final → done, the global op stagger, and the nemesis schedule (§5.3). [`Phases`] owns
//! the phase, its deadlines, which nodes it still waits on, the start of relative time,
//! the next op time and the nemesis; it tells the [`Workers`] when to take an op.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::replay::{NemesisEvent, ReplayPlan};
use super::workers::Workers;
use super::{RunError, World};
use crate::harness::clients::object;
use crate::harness::clients::schema::validate;
use crate::harness::history::{OpType, Process};
use crate::harness::hosts::{SECOND, Time};
use crate::harness::net::nemesis::{Schedule, Shape, grudge, grudge_json};
use crate::harness::net::network::ClientRole;
use crate::harness::net::topology;
use crate::harness::schedule::Partition;
use crate::node::rng::Rng;

/// Deadline for `init_ok`.
pub const INIT_TIMEOUT: Time = 10 * SECOND;
/// Deadline for setup RPCs (`topology`).
pub const SETUP_TIMEOUT: Time = 5 * SECOND;

/// Test phases, in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Phase {
    Init,
    Setup,
    Main,
    Drain,
    Recovery { until: Time },
    Final { since: Time },
    Done,
}

impl Phase {
    pub(super) fn label(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::Setup => "setup",
            Phase::Main => "main",
            Phase::Drain => "drain",
            Phase::Recovery { .. } => "recovery",
            Phase::Final { .. } => "final",
            Phase::Done => "done",
        }
    }
}

/// The phase machine and everything only it changes.
pub(super) struct Phases {
    phase: Phase,
    /// Deadline of the init or setup phase.
    deadline: Time,
    /// Nodes whose init (or topology) reply is still awaited.
    waiting: Vec<bool>,
    /// Host time at which the main phase began: relative time 0.
    t0: Time,
    /// Relative time at or after which the next client op may be issued, while the main
    /// phase issues ops: the last op's issue time plus a U[0, 2/rate) gap.
    next_op_at: Option<Time>,
    nemesis: Schedule,
    nemesis_rng: Rng,
    /// The schedule being replayed (`--schedule`): it replaces the op stagger, the
    /// generator's choices and the nemesis's draws in the main phase.
    replay: Option<ReplayPlan>,
}

impl Phases {
    /// Before init, for `node_count` nodes; nemesis draws come from `nemesis_rng`.
    pub(super) fn new(world: &World, nemesis_rng: Rng, replay: Option<ReplayPlan>) -> Phases {
        let config = world.config;
        Phases {
            replay,
            phase: Phase::Init,
            deadline: 0,
            waiting: vec![false; config.nodes.len()],
            t0: 0,
            next_op_at: None,
            nemesis: Schedule::new(config.nemesis, config.nemesis_interval_s),
            nemesis_rng,
        }
    }

    pub(super) fn phase(&self) -> Phase {
        self.phase
    }

    /// Host time at which the main phase began (0 before it began).
    pub(super) fn main_start(&self) -> Time {
        self.t0
    }

    /// Nanoseconds since the main phase started (0 before it).
    pub(super) fn relative(&self, now: Time) -> Time {
        now.saturating_sub(self.t0)
    }

    /// Sends `init` to every node from its own fresh client (c0, c1, … in node order).
    pub(super) fn start_init(&mut self, world: &mut World) -> Result<(), RunError> {
        let nodes = &world.config.nodes;
        let ids: Vec<OwnedValue> = nodes.iter().map(|n| n.as_str().into()).collect();
        for (node, name) in nodes.iter().enumerate() {
            let client = world.net.open_client(ClientRole::Init(node));
            let body = object(vec![
                ("type", "init".into()),
                ("node_id", name.as_str().into()),
                ("node_ids", OwnedValue::Array(Box::new(ids.clone()))),
                ("msg_id", 1.into()),
            ]);
            world
                .net
                .send(world.now, client, name.clone(), body)
                .map_err(|e| RunError::Fatal(e.to_string()))?;
        }
        self.waiting.iter_mut().for_each(|w| *w = true);
        self.phase = Phase::Init;
        self.deadline = world.now + INIT_TIMEOUT;
        Ok(())
    }

    /// A reply to node `node`'s init client `client`.
    pub(super) fn on_init_reply(
        &mut self,
        world: &mut World,
        node: usize,
        in_reply_to: u64,
        client: &str,
        body: &OwnedValue,
    ) -> Result<(), RunError> {
        if in_reply_to != 1 || !self.waiting.get(node).copied().unwrap_or(false) {
            return Ok(());
        }
        if body.get("type").and_then(|t| t.as_str()) != Some("init_ok") {
            return Err(RunError::Fatal(format!(
                "Node {} responded to init with {} instead of init_ok",
                world.node_name(node),
                body.encode()
            )));
        }
        self.waiting[node] = false;
        world.net.unregister(client);
        Ok(())
    }

    /// Opens one setup client per node; broadcast sends each node the whole topology.
    fn start_setup(&mut self, world: &mut World) -> Result<(), RunError> {
        let config = world.config;
        let sends_topology = config.spec().is_some_and(|spec| spec.sends_topology);
        let topology = topology::to_json(&topology::topology(config.topology, &config.nodes));
        for (node, name) in config.nodes.iter().enumerate() {
            let client = world.net.open_client(ClientRole::Setup(node));
            self.waiting[node] = sends_topology;
            if sends_topology {
                let body = object(vec![
                    ("type", "topology".into()),
                    ("topology", topology.clone()),
                    ("msg_id", 1.into()),
                ]);
                world
                    .net
                    .send(world.now, client, name.clone(), body)
                    .map_err(|e| RunError::Fatal(e.to_string()))?;
            }
        }
        self.phase = Phase::Setup;
        self.deadline = world.now + SETUP_TIMEOUT;
        Ok(())
    }

    /// A reply to node `node`'s setup client.
    pub(super) fn on_setup_reply(
        &mut self,
        world: &World,
        node: usize,
        in_reply_to: u64,
        body: &OwnedValue,
    ) -> Result<(), RunError> {
        if in_reply_to != 1 || !self.waiting.get(node).copied().unwrap_or(false) {
            return Ok(());
        }
        if let Err(why) = validate(body, "topology_ok", &[]) {
            return Err(RunError::Fatal(format!(
                "Node {} answered topology badly: {why}",
                world.node_name(node)
            )));
        }
        self.waiting[node] = false;
        Ok(())
    }

    /// Fails the run when init or setup is overdue.
    pub(super) fn check_deadline(&self, world: &World) -> Result<(), RunError> {
        let late = self.waiting.iter().position(|w| *w);
        match (self.phase, late) {
            (Phase::Init, Some(node)) if world.now >= self.deadline => {
                Err(RunError::Fatal(format!(
                    "Expected node {} to respond to an init message, but node did not respond. \
                     (Does it flush stdout after each message? Buffered output never reaches the \
                     harness.)",
                    world.node_name(node)
                )))
            }
            (Phase::Setup, Some(node)) if world.now >= self.deadline => {
                Err(RunError::Fatal(format!(
                    "Node {} did not answer the topology request within 5 s (client setup failed)",
                    world.node_name(node)
                )))
            }
            _ => Ok(()),
        }
    }

    /// The next time the phase logic wants to run.
    pub(super) fn due(&self, world: &World, workers: &Workers) -> Option<Time> {
        match self.phase {
            Phase::Init | Phase::Setup => Some(self.deadline),
            Phase::Main if self.replay.is_some() => self
                .replay
                .as_ref()
                .map(|plan| self.t0 + plan.due(|t| workers.is_free(t))),
            Phase::Main => {
                let limit = self.t0 + world.config.time_limit_s * SECOND;
                let mut due = limit;
                if workers.any_free()
                    && let Some(at) = self.next_op_at
                {
                    due = due.min(self.t0 + at);
                }
                if let Some(at) = self.nemesis.next_at {
                    due = due.min(self.t0 + at);
                }
                Some(due)
            }
            Phase::Recovery { until } => Some(until),
            Phase::Drain | Phase::Final { .. } | Phase::Done => None,
        }
    }

    /// Moves the test forward: phase transitions, nemesis ops, client invocations.
    pub(super) fn advance(
        &mut self,
        world: &mut World,
        workers: &mut Workers,
        rng: &mut Rng,
    ) -> Result<(), RunError> {
        let now = world.now;
        match self.phase {
            Phase::Init if !self.waiting.contains(&true) => self.start_setup(world)?,
            Phase::Setup if !self.waiting.contains(&true) => {
                self.t0 = now;
                world.relative = 0;
                self.phase = Phase::Main;
                self.next_op_at = (world.config.rate > 0.0).then_some(0);
            }
            Phase::Main if self.replay.is_some() => self.advance_replay(world, workers, rng)?,
            Phase::Main => self.advance_main(world, workers, rng)?,
            Phase::Drain if workers.idle() => self.start_final_phase(world, workers),
            Phase::Recovery { until } if now >= until => {
                self.phase = Phase::Final { since: now };
                self.advance(world, workers, rng)?;
            }
            Phase::Final { since } if workers.run_final(world, rng, now - since)? => {
                self.phase = Phase::Done;
            }
            _ => {}
        }
        Ok(())
    }

    fn advance_main(
        &mut self,
        world: &mut World,
        workers: &mut Workers,
        rng: &mut Rng,
    ) -> Result<(), RunError> {
        let limit = world.config.time_limit_s * SECOND;
        let relative = self.relative(world.now);
        while self
            .nemesis
            .next_at
            .is_some_and(|at| at <= relative && at < limit)
        {
            self.nemesis_op(world);
            self.nemesis.advance(&mut self.nemesis_rng);
        }
        // Jepsen's `stagger` draws each next time from the moment the op was actually
        // issued, not from when it was due: an op that waited for a free worker pushes
        // the schedule back, so ops "due" while every worker was stuck are never issued
        // and no burst follows a stall (MAELSTROM.md §2.4, "No backlog").
        while self
            .next_op_at
            .is_some_and(|at| at <= relative && at < limit)
        {
            if !workers.invoke_main(world, rng)? {
                break;
            }
            let gap = rng.unit_f64() * 2.0 / world.config.rate * SECOND as f64;
            self.next_op_at = Some(relative + gap as Time);
        }
        let clients_done = self.next_op_at.is_none_or(|at| at >= limit) && world.config.rate > 0.0;
        let nemesis_done = self.nemesis.next_at.is_none_or(|at| at >= limit);
        if relative >= limit || (clients_done && nemesis_done) {
            self.end_main(world);
        }
        Ok(())
    }

    /// The main phase of a replayed schedule: its nemesis events, then its ops, as they
    /// come due (see [`ReplayPlan`]); the random stream still advances once per op, as the
    /// stagger's draw does in the recorded run.
    fn advance_replay(
        &mut self,
        world: &mut World,
        workers: &mut Workers,
        rng: &mut Rng,
    ) -> Result<(), RunError> {
        let relative = self.relative(world.now);
        let Some(plan) = self.replay.as_mut() else {
            return Ok(());
        };
        let main_end = plan.main_end;
        let mut events = Vec::new();
        while let Some(event) = plan.next_nemesis(relative.min(main_end)) {
            events.push(event);
        }
        for event in events {
            match event {
                NemesisEvent::Start(partition) => self.start_partition(world, partition),
                NemesisEvent::Stop => self.stop_partition(world, true),
            }
        }
        while let Some(op) = self
            .replay
            .as_mut()
            .and_then(|plan| plan.next_op(relative.min(main_end), |t| workers.is_free(t)))
        {
            workers.invoke_scheduled(world, rng, op.thread, op.f, op.value)?;
            let _stagger = rng.unit_f64();
        }
        if relative >= main_end {
            self.end_main(world);
        }
        Ok(())
    }

    /// Ends the main phase (recording when, for the schedule).
    fn end_main(&mut self, world: &mut World) {
        world.schedule.main_end = world.relative;
        self.phase = Phase::Drain;
    }

    /// Heals (with a nemesis op when the nemesis is on), then sleeps before final ops.
    fn start_final_phase(&mut self, world: &mut World, workers: &Workers) {
        if !workers.has_final_phase() {
            self.phase = Phase::Done;
            return;
        }
        if world.config.nemesis {
            self.stop_partition(world, false);
        }
        if !world.config.quiet {
            eprintln!("Waiting for recovery...");
        }
        let sleep = (world.config.recovery_s * SECOND as f64) as Time;
        self.phase = Phase::Recovery {
            until: world.now + sleep,
        };
    }

    fn nemesis_op(&mut self, world: &mut World) {
        if !self.nemesis.next_is_start {
            self.stop_partition(world, true);
            return;
        }
        let config = world.config;
        let shapes: &[Shape] = if config.faults.asymmetric_partitions {
            &Shape::WITH_ASYMMETRIC
        } else {
            &Shape::ALL
        };
        let pick = self.nemesis_rng.below(shapes.len() as u64) as usize;
        let shape = shapes.get(pick).copied().unwrap_or(Shape::One);
        let drops = grudge(shape, config.nodes.len(), &mut self.nemesis_rng);
        self.start_partition(
            world,
            Partition {
                start: world.relative,
                end: None,
                shape: shape.name().to_string(),
                grudge: drops,
            },
        );
    }

    /// Starts a partition (drawn, or replayed from a schedule) and records it.
    fn start_partition(&mut self, world: &mut World, partition: Partition) {
        let relative = world.relative;
        // Jepsen's nemesis ops are `:info` at invocation too (jepsen.nemesis.combined's
        // partition generator emits `{:type :info, :f :start-partition, …}`).
        world.history.push(
            relative,
            OpType::Info,
            Process::Nemesis,
            "start-partition",
            partition.shape.as_str().into(),
        );
        world.net.set_grudge(&partition.grudge);
        let value = grudge_json(&partition.grudge, &world.config.nodes);
        world.history.push(
            relative,
            OpType::Info,
            Process::Nemesis,
            "start-partition",
            value,
        );
        if world.config.sim {
            world.schedule.partitions.push(Partition {
                start: relative,
                ..partition
            });
        }
    }

    /// Heals; `in_main` records the heal as the end of the current partition.
    fn stop_partition(&mut self, world: &mut World, in_main: bool) {
        let relative = world.relative;
        world.history.push(
            relative,
            OpType::Info,
            Process::Nemesis,
            "stop-partition",
            OwnedValue::null(),
        );
        world.net.heal();
        world.history.push(
            relative,
            OpType::Info,
            Process::Nemesis,
            "stop-partition",
            "network-healed".into(),
        );
        if in_main
            && let Some(last) = world.schedule.partitions.last_mut()
            && last.end.is_none()
        {
            last.end = Some(relative);
        }
    }
}
