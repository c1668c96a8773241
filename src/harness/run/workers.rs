//! The worker threads (MAELSTROM.md §2.2, §2.3): each closed-loop, with its process id,
//! its current client and at most one op in flight. [`Workers`] owns all of that, the
//! workload's generator and its client factory; the phase logic only says *when* a free
//! worker should take an op.
//!
//! An op's life here: the generator picks it → the worker (re)opens its client if needed
//! → the invocation is recorded → the client either completes it at once or asks for an
//! RPC → each reply goes back to the client (which may ask for another RPC) or, for an
//! `error` reply or a timeout, through [`outcome`](crate::harness::clients::outcome)'s
//! mapping → the completion is recorded and shown to the generator → the worker is free.

use std::collections::VecDeque;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{Counts, RunError, World, fatal};
use crate::harness::clients::outcome::{Outcome, error_outcome, timeout_outcome};
use crate::harness::clients::{
    Client, ClientPolicy, ClientSide, FinalStep, Generator, OpSpec, Step, WorkerSlot,
};
use crate::harness::conduct::{LateReply, Lateness};
use crate::harness::history::{OpType, Process};
use crate::harness::hosts::{MS, Time};
use crate::harness::net::network::ClientRole;
use crate::node::rng::Rng;

/// Timed-out requests per client whose deadlines are kept (to say how late a late reply
/// came); older ones are still known to have timed out, only by how much is forgotten.
const TIMED_OUT_KEPT: usize = 64;

/// A worker's open client: its id on the network, its state, its next msg_id, and what
/// became of the requests it sent, so that a reply out of turn is told apart from a stray
/// one (MAELSTROM.md §1.9: every request is answered once, before its timeout).
struct OpenClient {
    id: String,
    client: Box<dyn Client>,
    next_msg_id: u64,
    /// Bit `msg_id - 1`: that request was answered (one bit per request sent).
    answered: Vec<u64>,
    /// `(msg_id, deadline)` of the latest timed-out requests, oldest first.
    timed_out: VecDeque<(u64, Time)>,
}

impl OpenClient {
    fn new(id: String, client: Box<dyn Client>) -> OpenClient {
        OpenClient {
            id,
            client,
            next_msg_id: 1,
            answered: Vec::new(),
            timed_out: VecDeque::new(),
        }
    }

    /// Marks request `msg_id` answered; returns whether it already was.
    fn answer(&mut self, msg_id: u64) -> bool {
        debug_assert!(msg_id >= 1 && msg_id < self.next_msg_id);
        let bit = msg_id - 1;
        let word = (bit / 64) as usize;
        if self.answered.len() <= word {
            self.answered.resize(word + 1, 0);
        }
        let mask = 1u64 << (bit % 64);
        let before = self.answered[word] & mask != 0;
        self.answered[word] |= mask;
        before
    }

    fn timed_out(&mut self, msg_id: u64, deadline: Time) {
        if self.timed_out.len() == TIMED_OUT_KEPT {
            self.timed_out.pop_front();
        }
        self.timed_out.push_back((msg_id, deadline));
    }

    fn deadline_of(&self, msg_id: u64) -> Option<Time> {
        self.timed_out
            .iter()
            .find(|(id, _)| *id == msg_id)
            .map(|(_, deadline)| *deadline)
    }
}

/// The op a worker is performing and the request it waits on.
struct InFlight {
    op: OpSpec,
    msg_id: u64,
    deadline: Time,
}

/// Where a worker stands in the final phase.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FinalState {
    /// Ask the generator when free.
    Asking,
    /// The generator said to ask again at this time.
    WaitUntil(Time),
    /// No more final ops.
    Done,
}

/// One worker thread.
struct Worker {
    thread: usize,
    /// Bound node index: `thread mod n`, for the whole test.
    node: usize,
    /// Current process id (starts at `thread`, +C after every `info`).
    process: u64,
    client: Option<OpenClient>,
    /// The client must be replaced before the next op (non-reusable client after `info`).
    replace: bool,
    in_flight: Option<InFlight>,
    final_state: FinalState,
}

impl Worker {
    fn slot(&self, time: Time) -> WorkerSlot {
        WorkerSlot {
            thread: self.thread,
            process: self.process,
            time,
        }
    }
}

/// Every worker, the generator and the client factory of the test's workload.
pub(super) struct Workers {
    generator: Box<dyn Generator>,
    open_client: Box<dyn Fn() -> Box<dyn Client> + Send>,
    policy: ClientPolicy,
    workers: Vec<Worker>,
    /// Free threads, in the order they became free (the main phase takes the front).
    free: VecDeque<usize>,
    counts: Counts,
}

impl Workers {
    /// `concurrency` workers over `node_count` nodes.
    pub(super) fn new(side: ClientSide, concurrency: usize, node_count: usize) -> Workers {
        let workers = (0..concurrency)
            .map(|thread| Worker {
                thread,
                node: thread % node_count.max(1),
                process: thread as u64,
                client: None,
                replace: false,
                in_flight: None,
                final_state: FinalState::Asking,
            })
            .collect();
        Workers {
            generator: side.generator,
            open_client: side.open_client,
            policy: side.policy,
            workers,
            free: (0..concurrency).collect(),
            counts: Counts::default(),
        }
    }

    /// ok / fail / info completions so far.
    pub(super) fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether some worker is free for a main-phase op.
    pub(super) fn any_free(&self) -> bool {
        !self.free.is_empty()
    }

    /// Whether no op is in flight.
    pub(super) fn idle(&self) -> bool {
        self.workers.iter().all(|w| w.in_flight.is_none())
    }

    /// Whether the workload has a final phase.
    pub(super) fn has_final_phase(&self) -> bool {
        self.generator.has_final_phase()
    }

    /// The earliest request deadline or final-phase wake-up.
    pub(super) fn next_due(&self) -> Option<Time> {
        let deadlines = self.workers.iter().filter_map(|w| {
            let wake = match w.final_state {
                FinalState::WaitUntil(at) => Some(at),
                _ => None,
            };
            match (&w.in_flight, wake) {
                (Some(f), _) => Some(f.deadline),
                (None, wake) => wake,
            }
        });
        deadlines.min()
    }

    /// Gives the next main-phase op to the free worker the generator picks (by default the
    /// longest-free one). False if none is free.
    pub(super) fn invoke_main(
        &mut self,
        world: &mut World,
        rng: &mut Rng,
    ) -> Result<bool, RunError> {
        if self.free.is_empty() {
            return Ok(false);
        }
        let pick = self.generator.pick_worker(rng, self.free.make_contiguous());
        let index = if pick < self.free.len() { pick } else { 0 };
        let Some(thread) = self.free.remove(index) else {
            return Ok(false);
        };
        let slot = self.workers[thread].slot(world.relative);
        let op = self.generator.next_op(rng, slot);
        world.record_op(thread, op.f, &op.value);
        self.invoke(world, thread, op)?;
        Ok(true)
    }

    /// Whether worker `thread` is free for a main-phase op.
    pub(super) fn is_free(&self, thread: usize) -> bool {
        self.free.contains(&thread)
    }

    /// Replays a scheduled main-phase op on its own worker `thread`, which must be free.
    /// The generator is still asked for an op (and the answer dropped), so that its state
    /// and the random stream advance as in the recorded run: an unedited schedule replays
    /// byte for byte, and the final phase sees the generator it expects.
    pub(super) fn invoke_scheduled(
        &mut self,
        world: &mut World,
        rng: &mut Rng,
        thread: usize,
        f: &'static str,
        value: OwnedValue,
    ) -> Result<(), RunError> {
        let Some(index) = self.free.iter().position(|&t| t == thread) else {
            return Ok(());
        };
        let _ = self.generator.pick_worker(rng, self.free.make_contiguous());
        self.free.remove(index);
        let slot = self.workers[thread].slot(world.relative);
        let _ = self.generator.next_op(rng, slot);
        world.record_op(thread, f, &value);
        self.invoke(world, thread, OpSpec::new(f, value))
    }

    /// Lets every free worker take its next final-phase step; `elapsed` counts from the
    /// start of the final ops. Returns whether every worker is done and idle.
    pub(super) fn run_final(
        &mut self,
        world: &mut World,
        rng: &mut Rng,
        elapsed: Time,
    ) -> Result<bool, RunError> {
        for thread in 0..self.workers.len() {
            let worker = &self.workers[thread];
            let ready = match worker.final_state {
                FinalState::Asking => true,
                FinalState::WaitUntil(at) => at <= world.now,
                FinalState::Done => false,
            };
            if !ready || worker.in_flight.is_some() {
                continue;
            }
            match self
                .generator
                .final_step(rng, worker.slot(world.relative), elapsed)
            {
                FinalStep::Invoke(op) => {
                    self.workers[thread].final_state = FinalState::Asking;
                    self.free.retain(|&t| t != thread);
                    self.invoke(world, thread, op)?;
                }
                FinalStep::Wait(delay) => {
                    self.workers[thread].final_state = FinalState::WaitUntil(world.now + delay)
                }
                FinalStep::Done => self.workers[thread].final_state = FinalState::Done,
            }
        }
        let done = self
            .workers
            .iter()
            .all(|w| w.final_state == FinalState::Done && w.in_flight.is_none());
        Ok(done)
    }

    /// Starts `op` on worker `thread`: (re)opens its client, records the invocation, and
    /// lets the client send its first request or complete the op at once.
    fn invoke(&mut self, world: &mut World, thread: usize, op: OpSpec) -> Result<(), RunError> {
        let worker = &mut self.workers[thread];
        debug_assert!(worker.in_flight.is_none(), "a worker runs one op at a time");
        if worker.client.is_none() || worker.replace {
            if let Some(old) = worker.client.take() {
                world.net.unregister(&old.id);
            }
            worker.client = Some(OpenClient::new(
                world.net.open_client(ClientRole::Worker(thread)),
                (self.open_client)(),
            ));
            worker.replace = false;
        }
        let index = world.history.push(
            world.relative,
            OpType::Invoke,
            Process::Client(worker.process),
            op.f,
            op.value.clone(),
        );
        if let Some(record) = world.history.ops.get_mut(index as usize) {
            record.is_final = op.is_final;
        }
        let step = match worker.client.as_mut() {
            Some(open) => open.client.invoke(&op),
            None => return Ok(()),
        };
        self.follow(world, thread, op, step)
    }

    /// Carries out a client's [`Step`] for `op`.
    fn follow(
        &mut self,
        world: &mut World,
        thread: usize,
        op: OpSpec,
        step: Step,
    ) -> Result<(), RunError> {
        match step {
            Step::Send(request) => self.send_request(world, thread, op, request),
            Step::Done(outcome) => {
                self.complete(world, thread, &op, outcome);
                Ok(())
            }
        }
    }

    fn send_request(
        &mut self,
        world: &mut World,
        thread: usize,
        op: OpSpec,
        mut request: OwnedValue,
    ) -> Result<(), RunError> {
        let timeout = self.policy.timeout_ms * MS;
        let worker = &mut self.workers[thread];
        let Some(open) = worker.client.as_mut() else {
            return Ok(());
        };
        let msg_id = open.next_msg_id;
        open.next_msg_id += 1;
        if let Some(map) = request.as_object_mut() {
            map.insert("msg_id".to_string(), msg_id.into());
        }
        let node = world
            .config
            .nodes
            .get(worker.node)
            .cloned()
            .unwrap_or_default();
        let client = open.id.clone();
        worker.in_flight = Some(InFlight {
            op,
            msg_id,
            deadline: world.now + timeout,
        });
        world
            .net
            .send(world.now, client, node, request)
            .map_err(fatal)?;
        Ok(())
    }

    /// A reply from `node` to worker `thread`'s client. One that answers the request in
    /// flight continues the op; one that answers an earlier request of this client (after
    /// its timeout, or a second time) is recorded in the run's conduct and discarded, as
    /// Maelstrom's client discards it; anything else is ignored.
    pub(super) fn on_reply(
        &mut self,
        world: &mut World,
        thread: usize,
        node: &str,
        in_reply_to: u64,
        body: &OwnedValue,
    ) -> Result<(), RunError> {
        let Some(worker) = self.workers.get_mut(thread) else {
            return Ok(());
        };
        let Some(open) = worker.client.as_mut() else {
            return Ok(());
        };
        if in_reply_to == 0 || in_reply_to >= open.next_msg_id {
            return Ok(());
        }
        let in_flight = worker.in_flight.as_ref().map(|f| f.msg_id) == Some(in_reply_to);
        let answered_before = open.answer(in_reply_to);
        if !in_flight {
            let deadline = open.deadline_of(in_reply_to);
            let lateness = if answered_before {
                Lateness::Second
            } else {
                Lateness::AfterTimeout
            };
            world.conduct.record_late(LateReply {
                node: node.to_string(),
                client: open.id.clone(),
                in_reply_to,
                reply_type: body
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("?")
                    .to_string(),
                time_ns: world.relative,
                late_by_ns: deadline.map_or(0, |d| world.now.saturating_sub(d)),
                lateness,
            });
            return Ok(());
        }
        assert!(
            !answered_before,
            "the request in flight was not answered yet"
        );
        let Some(in_flight) = worker.in_flight.take() else {
            return Ok(());
        };
        let op = in_flight.op;
        let step = if body.get("type").and_then(|t| t.as_str()) == Some("error") {
            Step::Done(error_outcome(&self.policy, &op, body))
        } else {
            open.client.on_reply(&op, body)
        };
        self.follow(world, thread, op, step)
    }

    /// Gives up on requests whose deadline passed.
    pub(super) fn expire(&mut self, world: &mut World) {
        for thread in 0..self.workers.len() {
            let worker = &mut self.workers[thread];
            let expired = worker
                .in_flight
                .as_ref()
                .is_some_and(|f| f.deadline <= world.now);
            if expired && let Some(in_flight) = worker.in_flight.take() {
                if let Some(open) = worker.client.as_mut() {
                    open.timed_out(in_flight.msg_id, in_flight.deadline);
                }
                let outcome = timeout_outcome(&self.policy, &in_flight.op);
                self.complete(world, thread, &in_flight.op, outcome);
            }
        }
    }

    /// Records a completion, shows it to the generator, bumps the process after `info`
    /// (replacing a non-reusable client before the next op), and frees the worker.
    fn complete(&mut self, world: &mut World, thread: usize, op: &OpSpec, outcome: Outcome) {
        let concurrency = self.workers.len() as u64;
        let worker = &mut self.workers[thread];
        self.generator
            .on_complete(worker.slot(world.relative), op, &outcome);
        let index = world.history.push(
            world.relative,
            outcome.op_type,
            Process::Client(worker.process),
            op.f,
            outcome.value,
        );
        if let Some(record) = world.history.ops.get_mut(index as usize) {
            record.error = outcome.error;
            record.exception = outcome.exception;
            record.is_final = op.is_final;
        }
        match outcome.op_type {
            OpType::Ok => self.counts.ok += 1,
            OpType::Fail => self.counts.fail += 1,
            _ => {
                self.counts.info += 1;
                worker.process += concurrency;
                worker.replace = !self.policy.reusable;
            }
        }
        self.free.push_back(thread);
    }
}
