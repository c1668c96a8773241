//! The runner's phases (MAELSTROM.md §2.1, §2.4): init → setup → main → drain → recovery
//! → final → done, plus the nemesis schedule (§5.3).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::clients::object;
use crate::harness::clients::schema::validate;
use crate::harness::history::{OpType, Process};
use crate::harness::hosts::{NodeHost, SECOND, Time};
use crate::harness::net::nemesis::{Shape, grudge, grudge_json};
use crate::harness::net::network::ClientRole;
use crate::harness::net::topology;
use crate::harness::run::{INIT_TIMEOUT, Phase, RunError, Runner, SETUP_TIMEOUT};

impl<H: NodeHost> Runner<'_, H> {
    fn open_client(&mut self, role: ClientRole) -> String {
        let name = format!("c{}", self.next_client);
        self.next_client += 1;
        self.net.register_client(name.clone(), role);
        name
    }

    /// Sends `init` to every node from its own fresh client (c0, c1, … in node order).
    pub(super) fn start_init(&mut self, now: Time) -> Result<(), RunError> {
        let ids: Vec<OwnedValue> = self
            .config
            .nodes
            .iter()
            .map(|n| n.as_str().into())
            .collect();
        for (node, name) in self.config.nodes.clone().into_iter().enumerate() {
            let client = self.open_client(ClientRole::Init(node));
            let body = object(vec![
                ("type", "init".into()),
                ("node_id", name.as_str().into()),
                ("node_ids", OwnedValue::Array(Box::new(ids.clone()))),
                ("msg_id", 1.into()),
            ]);
            self.net
                .send(now, client, name, body)
                .map_err(|e| RunError::Fatal(e.to_string()))?;
        }
        self.waiting.iter_mut().for_each(|w| *w = true);
        self.phase = Phase::Init;
        self.phase_deadline = now + INIT_TIMEOUT;
        Ok(())
    }

    pub(super) fn on_init_reply(
        &mut self,
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
                self.node_name(node),
                body.encode()
            )));
        }
        self.waiting[node] = false;
        self.net.unregister(client);
        Ok(())
    }

    /// Opens one setup client per node; broadcast sends each node the whole topology.
    fn start_setup(&mut self, now: Time) -> Result<(), RunError> {
        let broadcast = self.config.workload == "broadcast";
        let topology = topology::to_json(&topology::topology(
            self.config.topology,
            &self.config.nodes,
        ));
        for (node, name) in self.config.nodes.clone().into_iter().enumerate() {
            let client = self.open_client(ClientRole::Setup(node));
            self.waiting[node] = broadcast;
            if broadcast {
                let body = object(vec![
                    ("type", "topology".into()),
                    ("topology", topology.clone()),
                    ("msg_id", 1.into()),
                ]);
                self.net
                    .send(now, client, name, body)
                    .map_err(|e| RunError::Fatal(e.to_string()))?;
            }
        }
        self.phase = Phase::Setup;
        self.phase_deadline = now + SETUP_TIMEOUT;
        Ok(())
    }

    pub(super) fn on_setup_reply(
        &mut self,
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
                self.node_name(node)
            )));
        }
        self.waiting[node] = false;
        Ok(())
    }

    pub(super) fn check_phase_deadline(&mut self, now: Time) -> Result<(), RunError> {
        let late = self.waiting.iter().position(|w| *w);
        match (self.phase, late) {
            (Phase::Init, Some(node)) if now >= self.phase_deadline => {
                Err(RunError::Fatal(format!(
                    "Expected node {} to respond to an init message, but node did not respond.",
                    self.node_name(node)
                )))
            }
            (Phase::Setup, Some(node)) if now >= self.phase_deadline => {
                Err(RunError::Fatal(format!(
                    "Node {} did not answer the topology request within 5 s (client setup failed)",
                    self.node_name(node)
                )))
            }
            _ => Ok(()),
        }
    }

    /// The next time the phase logic wants to run.
    pub(super) fn phase_due(&self) -> Option<Time> {
        match self.phase {
            Phase::Init | Phase::Setup => Some(self.phase_deadline),
            Phase::Main => {
                let limit = self.t0 + self.config.time_limit_s * SECOND;
                let mut due = limit;
                if !self.free.is_empty()
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
            Phase::Drain | Phase::Final | Phase::Done => None,
        }
    }

    fn idle(&self) -> bool {
        self.workers.iter().all(|w| w.pending.is_none())
    }

    /// Moves the test forward: phase transitions, nemesis ops, client invocations.
    pub(super) fn advance(&mut self, now: Time) -> Result<(), RunError> {
        match self.phase {
            Phase::Init if !self.waiting.contains(&true) => self.start_setup(now)?,
            Phase::Setup if !self.waiting.contains(&true) => {
                self.t0 = now;
                self.phase = Phase::Main;
                self.next_op_at = (self.config.rate > 0.0).then_some(0);
            }
            Phase::Main => self.advance_main(now)?,
            Phase::Drain if self.idle() => self.start_final_phase(now),
            Phase::Recovery { until } if now >= until => {
                for thread in 0..self.workers.len() {
                    if let Some(op) = self.workload.final_op(thread) {
                        self.free.retain(|&t| t != thread);
                        self.invoke(now, thread, op)?;
                    }
                }
                self.phase = Phase::Final;
            }
            Phase::Final if self.idle() => self.phase = Phase::Done,
            _ => {}
        }
        Ok(())
    }

    fn advance_main(&mut self, now: Time) -> Result<(), RunError> {
        let limit = self.config.time_limit_s * SECOND;
        let rel = self.relative(now);
        while let Some(at) = self.nemesis.next_at.filter(|&at| at <= rel && at < limit) {
            let _ = at;
            self.nemesis_op(now);
            self.nemesis.advance(&mut self.nemesis_rng);
        }
        while let Some(at) = self.next_op_at.filter(|&at| at <= rel && at < limit) {
            let Some(thread) = self.free.pop_front() else {
                break;
            };
            let op = self.workload.next_op(&mut self.rng, thread);
            self.invoke(now, thread, op)?;
            let gap = self.rng.unit_f64() * 2.0 / self.config.rate * SECOND as f64;
            self.next_op_at = Some(at + gap as Time);
        }
        let clients_done = self.next_op_at.is_none_or(|at| at >= limit) && self.config.rate > 0.0;
        let nemesis_done = self.nemesis.next_at.is_none_or(|at| at >= limit);
        if rel >= limit || (clients_done && nemesis_done) {
            self.phase = Phase::Drain;
        }
        Ok(())
    }

    /// Heals (with a nemesis op when the nemesis is on), then sleeps before final reads.
    fn start_final_phase(&mut self, now: Time) {
        let has_final = self.workload.final_op(0).is_some();
        if !has_final {
            self.phase = Phase::Done;
            return;
        }
        if self.config.nemesis {
            self.stop_partition(now);
        }
        if !self.config.quiet {
            eprintln!("Waiting for recovery...");
        }
        let sleep = (self.config.recovery_s * SECOND as f64) as Time;
        self.phase = Phase::Recovery { until: now + sleep };
    }

    fn nemesis_op(&mut self, now: Time) {
        if !self.nemesis.next_is_start {
            self.stop_partition(now);
            return;
        }
        let shapes: &[Shape] = if self.config.faults.asymmetric_partitions {
            &Shape::WITH_ASYMMETRIC
        } else {
            &Shape::ALL
        };
        let pick = self.nemesis_rng.below(shapes.len() as u64) as usize;
        let shape = shapes.get(pick).copied().unwrap_or(Shape::One);
        let rel = self.relative(now);
        self.history.push(
            rel,
            OpType::Invoke,
            Process::Nemesis,
            "start-partition",
            shape.name().into(),
        );
        let drops = grudge(shape, self.config.nodes.len(), &mut self.nemesis_rng);
        self.net.set_grudge(&drops);
        let value = grudge_json(&drops, &self.config.nodes);
        self.history.push(
            rel,
            OpType::Info,
            Process::Nemesis,
            "start-partition",
            value,
        );
    }

    fn stop_partition(&mut self, now: Time) {
        let rel = self.relative(now);
        self.history.push(
            rel,
            OpType::Invoke,
            Process::Nemesis,
            "stop-partition",
            OwnedValue::null(),
        );
        self.net.heal();
        self.history.push(
            rel,
            OpType::Info,
            Process::Nemesis,
            "stop-partition",
            "network-healed".into(),
        );
    }
}
