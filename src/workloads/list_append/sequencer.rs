//! The default strategy: one sequencer node (the first in `node_ids`) holds the database
//! and executes every transaction, one at a time, in arrival order; the other nodes
//! forward their clients' transactions to it in batches.
//!
//! **Why strict-serializable.** Transactions execute serially on one copy of the state,
//! each between its arrival at the sequencer and its reply, so the serial order respects
//! real time and every read sees every transaction acknowledged before it began.
//!
//! **Messages.** A transaction sent to the sequencer costs none; one sent elsewhere costs
//! its share of a `txn_batch` request and its reply. A node has one batch in flight at a
//! time, and transactions arriving meanwhile ride the next batch, so the cost per
//! transaction falls as latency grows: 2·(n−1)/n per op at zero latency (1 on two
//! nodes), a fraction of that at 100 ms.
//!
//! **Faults.** A batch the sequencer never answers (partition, loss) may or may not have
//! executed: its transactions get error 13 (`crash`, indefinite). The sequencer executes a
//! follower's batch only if its msg_id is above the highest it executed for that
//! follower: a follower sends its batches one after another with increasing msg_ids, so a
//! duplicated or stale copy (our `--duplicate`/`--reorder-ms` faults) is ignored instead
//! of appending twice; ignoring a stale batch is safe, its transactions already had their
//! indefinite reply.
//!
//! Messages: from clients `txn {txn}` → `txn_ok {txn}` (or an `error`); between nodes
//! `txn_batch {txns}` → `txn_batch_ok {txns}` (the completed transactions, in order).
//! No timers (RPC timeouts are the core's).

use ahash::AHashMap;

use super::txn::{self, Lists, MicroOp};
use crate::node::kv::ReplyTo;
use crate::node::{Ctx, Message, Millis, RequestError, RpcReply, RttEstimator, Workload};
use crate::wire::{ArrayWriter, ErrorCode, Json};

/// Transactions a follower holds before it answers error 11.
pub const MAX_WAITING: usize = 1024;
/// Shortest forwarding timeout, however fast the sequencer answers.
pub const MIN_TIMEOUT_MS: Millis = 100;

/// Knobs of the sequencer strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerConfig {
    /// Longest a follower waits for the sequencer's answer to a batch (the timeout
    /// adapts to the measured round trip, from [`MIN_TIMEOUT_MS`] up to this).
    pub forward_timeout_ms: Millis,
    /// Most transactions in one batch.
    pub max_batch: usize,
    /// Replies later than this after the request are dropped: Maelstrom's client gives up
    /// after 5 s of real time, and this node's clock may run slow. A transaction waits at
    /// most two forwarding timeouts (its batch's and the one before), well inside.
    pub reply_deadline_ms: Millis,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            forward_timeout_ms: 1000,
            max_batch: 256,
            reply_deadline_ms: crate::workloads::timely::REPLY_LAST_MS,
        }
    }
}

/// A client transaction a follower forwards.
#[derive(Clone, Debug)]
struct Forward {
    to: ReplyTo,
    arrived: Millis,
    ops: Vec<MicroOp>,
}

/// A sequencer-strategy node (the sequencer itself or a follower).
#[derive(Debug)]
pub struct Sequencer {
    config: SequencerConfig,
    /// The sequencer's id (`node_ids[0]`), set at init.
    sequencer: String,
    /// The database: only the sequencer's is ever used.
    lists: Lists,
    /// Sequencer: per follower, the highest batch msg_id executed.
    executed: AHashMap<String, u64>,
    /// Follower: transactions not yet sent.
    waiting: Vec<Forward>,
    /// Follower: the batch awaiting the sequencer's answer.
    in_flight: Vec<Forward>,
    batch_out: bool,
    /// When the batch in flight was sent.
    sent_at: Millis,
    /// The round trip to the sequencer, for timeouts.
    rtt: RttEstimator,
    ops: Vec<MicroOp>,
    scratch: Vec<u8>,
}

impl Sequencer {
    /// A node with the given knobs.
    pub fn new(config: SequencerConfig) -> Self {
        Sequencer {
            config,
            sequencer: String::new(),
            lists: Lists::default(),
            executed: AHashMap::new(),
            waiting: Vec::new(),
            in_flight: Vec::new(),
            batch_out: false,
            sent_at: 0,
            rtt: RttEstimator::new(MIN_TIMEOUT_MS, config.forward_timeout_ms),
            ops: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn is_sequencer(&self, ctx: &Ctx<'_>) -> bool {
        ctx.node_id() == self.sequencer
    }

    /// The sequencer runs a client's transaction at once.
    fn execute_now(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) {
        self.scratch.clear();
        txn::execute(&mut self.lists, &self.ops, &mut self.scratch);
        ctx.reply(msg, "txn_ok").raw("txn", &self.scratch);
    }

    /// A follower queues a client's transaction for the next batch.
    fn enqueue(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let Some(to) = ReplyTo::for_request(msg)? else {
            return Ok(());
        };
        if self.waiting.len() >= MAX_WAITING {
            return Err(RequestError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many transactions waiting for the sequencer",
            ));
        }
        self.waiting.push(Forward {
            to,
            arrived: ctx.now(),
            ops: std::mem::take(&mut self.ops),
        });
        self.pump(ctx);
        Ok(())
    }

    /// Sends the waiting transactions as one batch, unless a batch is in flight.
    fn pump(&mut self, ctx: &mut Ctx<'_>) {
        if self.batch_out || self.waiting.is_empty() {
            return;
        }
        let take = self.waiting.len().min(self.config.max_batch);
        self.in_flight.clear();
        self.in_flight.extend(self.waiting.drain(..take));
        let timeout = self.rtt.timeout();
        self.sent_at = ctx.now();
        let sent = match ctx.rpc(&self.sequencer, "txn_batch", timeout, ()) {
            Ok(mut body) => {
                let mut txns = body.array("txns");
                for forward in &self.in_flight {
                    txn::write_request(&mut txns, &forward.ops);
                }
                true
            }
            Err(_) => false,
        };
        if sent {
            self.batch_out = true;
        } else {
            let text = "too many pending RPCs";
            self.answer_batch(ctx, Err((ErrorCode::TemporarilyUnavailable, text)));
        }
    }

    /// Answers the batch in flight: with the completed transactions, or an error.
    fn answer_batch(&mut self, ctx: &mut Ctx<'_>, outcome: Result<Json<'_>, (ErrorCode, &str)>) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        let mut results = outcome.map(|txns| txns.items());
        for forward in self.in_flight.drain(..) {
            let late = now.saturating_sub(forward.arrived) > deadline;
            match &mut results {
                Ok(items) => match items.next() {
                    Some(done) if !late => drop(forward.to.reply(ctx, "txn_ok").json("txn", done)),
                    Some(_) => {}
                    None if !late => forward.to.error(ctx, ErrorCode::Crash, "short batch reply"),
                    None => {}
                },
                Err((code, text)) if !late => forward.to.error(ctx, *code, text),
                Err(_) => {}
            }
        }
        self.batch_out = false;
        self.pump(ctx);
    }

    /// The sequencer executes a follower's batch (once per msg_id, in msg_id order).
    fn execute_batch(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        if !self.is_sequencer(ctx) {
            return Err(RequestError::new(
                ErrorCode::TemporarilyUnavailable,
                "not the sequencer",
            ));
        }
        let Some(msg_id) = msg.msg_id else {
            return Err(RequestError::malformed("txn_batch needs a msg_id"));
        };
        if !ctx.node_ids().iter().any(|id| id == msg.src) {
            return Err(RequestError::new(
                ErrorCode::Abort,
                "txn_batch from a non-node",
            ));
        }
        if self
            .executed
            .get(msg.src)
            .is_some_and(|&last| msg_id <= last)
        {
            return Ok(()); // a duplicate or stale copy: already answered or given up on
        }
        let txns = msg.field("txns")?;
        // Check every transaction before running any, so an error reply means "none ran".
        for request in txns.items() {
            txn::parse(request, &mut self.ops)?;
        }
        self.executed.insert(msg.src.to_string(), msg_id);
        self.scratch.clear();
        let mut done = ArrayWriter::new(&mut self.scratch);
        let mut one = Vec::new();
        for request in txns.items() {
            txn::parse(request, &mut self.ops)?;
            one.clear();
            txn::execute(&mut self.lists, &self.ops, &mut one);
            done.raw(&one);
        }
        drop(done);
        ctx.reply(msg, "txn_batch_ok").raw("txns", &self.scratch);
        Ok(())
    }
}

impl Workload for Sequencer {
    /// The only RPC is the batch to the sequencer; no timers.
    type Tag = ();

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.sequencer = ctx.node_ids().first().cloned().unwrap_or_default();
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "txn" => {
                txn::parse(msg.field("txn")?, &mut self.ops)?;
                if self.is_sequencer(ctx) {
                    self.execute_now(ctx, msg);
                    Ok(())
                } else {
                    self.enqueue(ctx, msg)
                }
            }
            "txn_batch" => self.execute_batch(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, (): (), reply: RpcReply<'_>) {
        assert!(self.batch_out, "the batch is the one RPC");
        match reply {
            RpcReply::Timeout => self.rtt.timed_out(),
            _ => self.rtt.sample(ctx.now().saturating_sub(self.sent_at)),
        }
        let count = self.in_flight.len();
        let outcome = match reply {
            RpcReply::Ok(msg) => match msg.body.get("txns") {
                Some(txns) if msg.kind == "txn_batch_ok" && txns.len() == count => Ok(txns),
                _ => Err((ErrorCode::Crash, "malformed answer from the sequencer")),
            },
            RpcReply::Error(code, text) if code.is_definite() => Err((code, text)),
            RpcReply::Error(..) => Err((ErrorCode::Crash, "the sequencer failed")),
            RpcReply::Timeout => Err((ErrorCode::Crash, "no answer from the sequencer")),
        };
        self.answer_batch(ctx, outcome);
    }
}
