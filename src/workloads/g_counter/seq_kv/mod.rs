//! The `seq-kv-fresh` g-counter strategy (every read fresh; the default strategy is
//! [`super::per_node`]): the counter kept in `seq-kv` (challenge 4) under one key,
//! [`COUNTER_KEY`], holding every node's running total as an array (`[t0, t1, …]`, see
//! [`super::totals`]); the counter is their sum. A node changes only its own entry, and nothing that matters lives on the node.
//!
//! **Counted once, even when a request is delivered twice.** An entry is an absolute
//! total, not an increment: every `cas` a node sends sets its entry to `wanted`, its total
//! of every add it has taken into a round (a number that only grows). However many copies
//! of a cas apply, and whenever, the entry holds some past value of `wanted`, so no delta
//! is counted twice. A cas applies only on an exact match of `from`, so it carries the
//! other entries through unchanged; and `from`'s own entry is a past `wanted` too, so an
//! entry never decreases.
//!
//! **Durability.** An `add` is acknowledged once some seq-kv state has this node's entry
//! at or above the round's `target` (`wanted` with the round's adds): a `cas_ok`, or the
//! value a failed cas or a read reports. Entries never decrease, so the delta stays. A cas
//! whose reply is lost is simply sent again (re-applying an absolute total is harmless).
//! After [`SeqKvConfig::max_attempts`] requests without that, the adds get error 13
//! (`crash`, indefinite): their deltas stay in `wanted`, so a later round may apply them.
//! An add of 0 changes nothing and is acknowledged at once.
//!
//! **Staleness.** seq-kv answers a lagging node from an old state, and a node that only
//! reads can lag forever; but any *state-changing* request runs on the newest state and
//! brings the node up to date (MAELSTROM.md §4.1). So every answer to a read comes from a
//! state-changing request sent *after* the read arrived:
//!
//! * ops are served in rounds, one round in flight per node; a round takes every op
//!   waiting when it starts (batching), and ops arriving meanwhile join it when a request
//!   is retried (they arrived before the retry is sent), else wait for the next round;
//! * with adds in the round: `cas key from=cached to=cached-with-own-entry=wanted`
//!   (create if missing). `cas_ok` means the newest state now holds `to`, so reads in the
//!   round get its sum. On error 22 the service's text names the value it saw (`current
//!   value [3 0 5] is not [3 0 4]`): that becomes the next `from`, no extra read (a plain
//!   read if the text is odd); if it already shows the target, an earlier copy of the cas
//!   applied, and the adds are done;
//! * reads only: `write` a fresh number to this node's sentinel key (a write that always
//!   changes the state, so this node's seq-kv index jumps to the newest state), then `read`
//!   the counter: seq-kv never answers a node from a state older than its index, so the
//!   value includes every add acknowledged before the read arrived.
//!
//! States are totally ordered and every entry only grows along them, so of two states'
//! arrays one is at least the other in every entry: `cached` keeps the later one.
//!
//! Cost: a read round is 2 RPCs (4 messages), an add round 1 cas plus one per conflict.
//!
//! **In time** ([`timely`]): an op still unanswered when its reply budget runs out is
//! answered by the deadline check ([`Tag::Check`], armed while ops wait) and dropped: a
//! read, or an add not yet taken into a round, with error 11 (nothing happened); an add in
//! the round with error 13 (its delta is in `wanted`, a cas may apply it). The round goes
//! on for the others.
//!
//! Messages: `add {delta}` → `add_ok`, `read` → `read_ok {value}` (deferred), and to
//! seq-kv `cas`, `write`, `read`. One timer: the deadline check.

mod replies;

use crate::node::kv::{Kv, KvValue, ReplyTo, Service};
use crate::node::{Message, Millis, RequestError, RpcReply, Workload};
use crate::wire::ErrorCode;
use crate::workloads::peer_sync::merge_max;
use crate::workloads::timely::{self, Ticker};

/// The seq-kv key holding the array of totals.
pub const COUNTER_KEY: &str = "g-counter";
/// Client requests waiting for a round; beyond this, requests get error 11.
pub const MAX_WAITING: usize = 1024;
/// Ops one round holds (those it started with plus those that joined on retries).
const MAX_IN_ROUND: usize = 2 * MAX_WAITING;

/// Knobs of the seq-kv strategy.
#[derive(Clone, Copy, Debug)]
pub struct SeqKvConfig {
    /// Timeout of each seq-kv request.
    pub kv_timeout_ms: Millis,
    /// Requests one round may make before its ops fail (cas conflicts, errors).
    pub max_attempts: u32,
}

impl Default for SeqKvConfig {
    fn default() -> Self {
        SeqKvConfig {
            kv_timeout_ms: 1000,
            max_attempts: 64,
        }
    }
}

/// A client request waiting for its round.
#[derive(Clone, Copy, Debug)]
struct Op {
    to: ReplyTo,
    arrived: Millis,
    /// `Some(delta)` for an add, `None` for a read.
    add: Option<u64>,
}

/// The seq-kv request a round has in flight (a round has one at a time), and so the
/// tag its reply comes back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// The cas of the array.
    Cas,
    /// The sentinel write that makes the next read fresh.
    SyncWrite,
    /// The read after the sentinel write.
    SyncRead,
    /// The read that refreshes a stale cas `from`.
    Refresh,
    /// Timer: answer the ops whose reply budget is spent.
    Check,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// The seq-kv-backed g-counter node.
#[derive(Debug)]
pub struct SeqKvCounter {
    config: SeqKvConfig,
    kv: Kv,
    /// `g-counter-sync-<node id>`, written to force freshness.
    sentinel: String,
    /// This node's index in the array.
    me: usize,
    /// The array in the latest seq-kv state this node has seen (the next cas `from`; never
    /// answered to a client without a fresh round).
    cached: Vec<u64>,
    /// The `to` of the cas in flight.
    to: Vec<u64>,
    /// An array parsed from a reply (reused).
    scratch: Vec<u64>,
    /// This node's total with every add taken into a round; only grows.
    wanted: u64,
    /// The highest own entry seen in any seq-kv state: adds up to it are in seq-kv.
    durable: u64,
    /// `wanted` once the round's adds were taken: they are durable when `durable` reaches it.
    target: u64,
    sync_sequence: u64,
    waiting: Vec<Op>,
    in_round: Vec<Op>,
    /// The request in flight (`None`: no round).
    round: Option<Tag>,
    attempts: u32,
    ticker: Ticker,
}

impl SeqKvCounter {
    /// A node with the given knobs.
    pub fn new(config: SeqKvConfig) -> Self {
        SeqKvCounter {
            config,
            kv: Kv::new(Service::SeqKv, config.kv_timeout_ms),
            sentinel: String::new(),
            me: 0,
            cached: Vec::new(),
            to: Vec::new(),
            scratch: Vec::new(),
            wanted: 0,
            durable: 0,
            target: 0,
            sync_sequence: 0,
            waiting: Vec::with_capacity(MAX_WAITING),
            in_round: Vec::with_capacity(MAX_IN_ROUND),
            round: None,
            attempts: 0,
            ticker: Ticker::default(),
        }
    }

    fn enqueue(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        add: Option<u64>,
    ) -> Result<(), RequestError> {
        let Some(to) = ReplyTo::for_request(msg)? else {
            return Ok(()); // nobody to answer
        };
        if self.waiting.len() >= MAX_WAITING {
            return Err(RequestError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many waiting requests",
            ));
        }
        self.waiting.push(Op {
            to,
            arrived: ctx.now(),
            add,
        });
        self.ticker.arm(ctx, Tag::Check);
        self.pump(ctx);
        Ok(())
    }

    /// The deadline check: answers and drops the ops whose budget is spent (see the
    /// module docs for the codes), and checks again while any op waits.
    fn on_check(&mut self, ctx: &mut Ctx<'_>) {
        self.ticker.fired();
        let now = ctx.now();
        let late = |op: &Op| op.arrived;
        timely::expire(&mut self.waiting, now, late, |op| {
            let text = "seq-kv did not answer in time; nothing was done";
            op.to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
        });
        timely::expire(&mut self.in_round, now, late, |op| {
            let (code, text) = match op.add {
                Some(_) => (
                    ErrorCode::Crash,
                    "seq-kv did not confirm the add in time; it may still apply",
                ),
                None => (
                    ErrorCode::TemporarilyUnavailable,
                    "seq-kv did not answer the read in time",
                ),
            };
            op.to.error(ctx, code, text);
        });
        if !self.waiting.is_empty() || !self.in_round.is_empty() {
            self.ticker.arm(ctx, Tag::Check);
        }
    }

    /// Starts a round with every waiting op, unless one is in flight.
    fn pump(&mut self, ctx: &mut Ctx<'_>) {
        if self.round.is_some() || self.waiting.is_empty() {
            return;
        }
        self.attempts = 0;
        self.take_waiting();
        self.attempt(ctx);
    }

    /// Moves the waiting ops into the round (if they fit), adding their deltas to `wanted`.
    fn take_waiting(&mut self) {
        if self.in_round.len() + self.waiting.len() > MAX_IN_ROUND {
            return; // they start the next round
        }
        for op in &self.waiting {
            self.wanted = self.wanted.saturating_add(op.add.unwrap_or(0));
        }
        self.target = self.wanted;
        self.in_round.append(&mut self.waiting);
    }

    /// Sends the round's next request: a cas while it holds adds not yet durable, else a
    /// sentinel write (or ends the round when nothing is left).
    fn attempt(&mut self, ctx: &mut Ctx<'_>) {
        self.acknowledge_durable_adds(ctx);
        if self.in_round.is_empty() {
            self.round = None;
            return self.pump(ctx);
        }
        self.attempts += 1;
        if self.attempts > self.config.max_attempts {
            return self.fail_round(ctx, "seq-kv: no outcome after the round's attempts");
        }
        let sent = if self.in_round.iter().any(|op| op.add.is_some()) {
            self.round = Some(Tag::Cas);
            self.to.copy_from_slice(&self.cached);
            if let Some(own) = self.to.get_mut(self.me) {
                *own = self.wanted;
            }
            // A cas that changed nothing could be answered from an old state. (Adds left
            // mean durable < target = wanted, and cached's own entry is at most durable.)
            assert!(self.to != self.cached, "a cas must raise this node's entry");
            self.kv.cas(
                ctx,
                KvValue::Str(COUNTER_KEY),
                KvValue::U64Array(&self.cached),
                KvValue::U64Array(&self.to),
                true,
                Tag::Cas,
            )
        } else {
            self.sync_sequence += 1;
            self.round = Some(Tag::SyncWrite);
            let value = KvValue::U64(self.sync_sequence);
            self.kv
                .write(ctx, KvValue::Str(&self.sentinel), value, Tag::SyncWrite)
        };
        if sent.is_err() {
            self.fail_round(ctx, "too many pending RPCs");
        }
    }

    /// After a request that did not finish the round: acknowledges the adds now durable,
    /// takes in the ops that arrived meanwhile (the next request is sent after they
    /// arrived, so its answer is fresh for them too), and sends the next request.
    fn retry(&mut self, ctx: &mut Ctx<'_>) {
        self.acknowledge_durable_adds(ctx);
        self.take_waiting();
        self.attempt(ctx);
    }

    /// Answers the round's adds once `durable` reached the round's target.
    fn acknowledge_durable_adds(&mut self, ctx: &mut Ctx<'_>) {
        if self.durable < self.target {
            return;
        }
        let now = ctx.now();
        self.in_round.retain(|op| {
            if op.add.is_none() {
                return true;
            }
            if timely::in_time(now, op.arrived) {
                drop(op.to.reply(ctx, "add_ok"));
            }
            false
        });
    }

    /// Answers the round: its adds are durable and the counter was `value` in a state
    /// newer than every op's arrival.
    fn finish(&mut self, ctx: &mut Ctx<'_>, value: u64) {
        assert!(
            self.durable >= self.target || self.in_round.iter().all(|op| op.add.is_none()),
            "a round finished with adds not yet in seq-kv"
        );
        let now = ctx.now();
        for op in self.in_round.drain(..) {
            if !timely::in_time(now, op.arrived) {
                continue;
            }
            match op.add {
                Some(_) => drop(op.to.reply(ctx, "add_ok")),
                None => drop(op.to.reply(ctx, "read_ok").u64("value", value)),
            }
        }
        self.round = None;
        self.pump(ctx);
    }

    /// Gives up on the round: adds get `crash` (indefinite: their deltas stay in `wanted`,
    /// and a cas may still apply), reads a definite error 11.
    fn fail_round(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        let now = ctx.now();
        for op in self.in_round.drain(..) {
            if timely::in_time(now, op.arrived) {
                let code = match op.add {
                    Some(_) => ErrorCode::Crash,
                    None => ErrorCode::TemporarilyUnavailable,
                };
                op.to.error(ctx, code, text);
            }
        }
        self.round = None;
        self.pump(ctx);
    }

    /// Takes in the array `scratch` of some seq-kv state this node was answered from.
    fn observe_scratch(&mut self) {
        merge_max(&mut self.cached, &self.scratch);
        let own = self.scratch.get(self.me).copied().unwrap_or(0);
        if own > self.wanted {
            eprintln!(
                "g-counter: seq-kv holds {own} for this node, which added {}",
                self.wanted
            );
        }
        self.durable = self.durable.max(own);
    }
}

impl Workload for SeqKvCounter {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.sentinel = format!("{COUNTER_KEY}-sync-{}", ctx.node_id());
        self.me = ctx.node_index(); // 0 when not listed: then nodes is at least 1
        let nodes = ctx.node_ids().len().max(1);
        self.cached = vec![0; nodes];
        self.to = vec![0; nodes];
        self.scratch = vec![0; nodes];
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "add" => {
                let delta = msg.i64("delta")?;
                let delta = u64::try_from(delta).map_err(|_| {
                    RequestError::malformed("a g-counter delta must not be negative")
                })?;
                if delta == 0 {
                    ctx.reply(msg, "add_ok");
                    return Ok(());
                }
                self.enqueue(ctx, msg, Some(delta))
            }
            "read" => self.enqueue(ctx, msg, None),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        self.on_reply(ctx, tag, reply);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::Check => self.on_check(ctx),
            other => eprintln!("g-counter: an RPC tag came back as a timer: {other:?}"),
        }
    }
}
