//! The default g-counter on `seq-kv` (challenge 4): one key per node
//! (`g-counter-total-<node id>`) holding that node's running total, written only by that
//! node; the counter is the sum of the keys. Reads are served from the node's view of the
//! totals, refreshed from seq-kv at most once per [`PerNodeConfig::stale_ms`].
//!
//! **Counted once, even when a request is delivered twice.** A node's key holds an
//! absolute total that only grows. Each `cas` goes `from` the total the node last saw in
//! seq-kv `to` its total with every add it has taken into a round (`adds`). The node is
//! the key's only writer, so `from` matches unless an earlier cas of its own applied: then
//! the cas fails (error 22 names the current total, the next `from`) and changes nothing.
//! A duplicated or delayed old cas likewise fails, as the key has moved past its `from`.
//!
//! **Durability.** An `add` is acknowledged once seq-kv shows the node's key at or above
//! the round's target (a `cas_ok`, or the total a failed cas names), never before. Totals
//! never decrease, so the delta stays. After [`PerNodeConfig::max_attempts`] requests
//! without that, the adds get error 13 (`crash`, indefinite): their deltas stay in the
//! node's total, so a later cas may apply them.
//!
//! **Why per-node keys, not one array key.** A node's cas on its own key always starts from
//! the value its own last cas left there (seq-kv never answers a node from a state older
//! than the last one it saw), so adds cost one cas each, with no contention between nodes.
//! The single array key of [`super::seq_kv`] changes with every node's add, so a node's
//! `from` is usually out of date and each add costs retries. The price is reading N−1 keys
//! per refresh instead of one, paid at most once per `stale_ms` per node.
//!
//! **Staleness (the exact guarantee of a read).** A `read` arriving at time t (this node's
//! clock) is answered with the sum of a view that
//!
//! * includes every add acknowledged *by this node* before t (its own entry is the total
//!   seq-kv acknowledged; read-your-writes);
//! * includes every add, on any node, acknowledged before the view's refresh began, and
//!   the refresh began at or after t − `stale_ms`: a refresh (`refresh`) writes a fresh
//!   number to this node's sentinel key (a state-changing request: seq-kv runs it on the
//!   newest state and this node's index moves there), then reads the other nodes' keys,
//!   which seq-kv answers from that state or a later one;
//! * holds only totals of adds already invoked, and never goes backwards on a node.
//!
//! A view younger than `stale_ms` answers at once; otherwise the read waits for a refresh
//! begun after it arrived (or one begun within `stale_ms` before). Refreshes happen only
//! when a read needs one. Maelstrom checks only the final reads, which come after 10 s of
//! quiet (longer than `stale_ms`), so each triggers a refresh and counts every
//! acknowledged add. `stale_ms` = 0 makes every read fresh (as [`super::seq_kv`]).
//!
//! Cost: an add round is one cas (batched: adds arriving while a cas is in flight, or
//! within [`PerNodeConfig::add_batch_ms`], share the next); a refresh is one write plus
//! N−1 reads, at most once per `stale_ms` per node.
//!
//! **In time** ([`timely`]): an op still waiting when its reply budget runs out is
//! answered by the deadline check ([`Tag::Check`], armed while ops wait) and dropped: a
//! read or an add not yet in a round with error 11 (nothing happened), an add in the round
//! with error 13 (its delta is in `wanted`, a cas may apply it).
//!
//! Messages: `add {delta}` → `add_ok` (deferred), `read` → `read_ok {value}`, and to seq-kv
//! `cas`, `write`, `read`. Two timers: the add batching window when it is set, and the
//! deadline check.

mod adds;
mod refresh;

use crate::node::kv::{Kv, ReplyTo, Service};
use crate::node::{Message, Millis, RequestError, RpcReply, Workload};
use crate::wire::ErrorCode;
use crate::workloads::g_counter::totals::sum;
use crate::workloads::timely::{self, Ticker};

/// Prefix of each node's total key (`g-counter-total-n0`).
pub const TOTAL_KEY_PREFIX: &str = "g-counter-total-";
/// Prefix of each node's sentinel key (`g-counter-sync-n0`), written to force freshness.
pub const SENTINEL_KEY_PREFIX: &str = "g-counter-sync-";
/// Adds, and reads, waiting for a round; beyond this, requests get error 11.
pub const MAX_WAITING: usize = 1024;

/// What each seq-kv reply, and the one timer, continue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// The add round's cas of this node's key.
    Cas,
    /// The sentinel write of refresh number .0 (a reply to an abandoned one is ignored).
    Sentinel(u64),
    /// Refresh .0's read of node .1's key.
    KeyRead(u64, usize),
    /// Timer: the add batching window closed.
    AddBatch,
    /// Timer: answer the ops whose reply budget is spent.
    Check,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// Knobs of the per-node-key strategy.
#[derive(Clone, Copy, Debug)]
pub struct PerNodeConfig {
    /// A read is answered from a view refreshed at most this long before it arrived.
    pub stale_ms: Millis,
    /// An add round starts once its oldest add waited this long (0: at once).
    pub add_batch_ms: Millis,
    /// Timeout of each seq-kv request.
    pub kv_timeout_ms: Millis,
    /// Requests one add round, or one refresh, may make before its ops fail.
    pub max_attempts: u32,
}

impl Default for PerNodeConfig {
    fn default() -> Self {
        PerNodeConfig {
            stale_ms: 1000,
            add_batch_ms: 0,
            kv_timeout_ms: 1000,
            max_attempts: 64,
        }
    }
}

/// A client request waiting for a round.
#[derive(Clone, Copy, Debug)]
struct Op {
    to: ReplyTo,
    arrived: Millis,
    /// The add's delta (0 for a read).
    delta: u64,
}

/// Where the refresh of the view stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refresh {
    Idle,
    /// The sentinel write is in flight.
    Sentinel,
    /// The reads of the other nodes' keys are in flight.
    Reads,
}

/// The per-node-key g-counter node.
#[derive(Debug)]
pub struct PerNodeCounter {
    config: PerNodeConfig,
    kv: Kv,
    /// This node's index among the nodes.
    me: usize,
    /// Every node's total key, by index.
    keys: Vec<String>,
    sentinel: String,
    /// Each node's total as last seen in seq-kv; entries only grow. This node's own entry
    /// is the highest total seq-kv acknowledged for it: adds up to it are durable.
    view: Vec<u64>,
    /// This node's total with every add taken into a round; only grows.
    wanted: u64,
    /// `wanted` when the round's adds were taken: they are durable once `view[me]` is.
    target: u64,
    adds_waiting: Vec<Op>,
    adds_in_round: Vec<Op>,
    cas_in_flight: bool,
    cas_attempts: u32,
    batch_timer_set: bool,
    reads_waiting: Vec<Op>,
    refresh: Refresh,
    refresh_attempts: u32,
    /// Tells this refresh's replies from those of an abandoned one.
    refresh_generation: u64,
    /// When the current refresh's sentinel write was sent.
    refresh_sent_at: Millis,
    /// When the view's last completed refresh began (None: never refreshed).
    fresh_at: Option<Millis>,
    /// Which other nodes' keys this refresh still waits for.
    reads_left: Vec<bool>,
    sync_sequence: u64,
    ticker: Ticker,
}

impl PerNodeCounter {
    /// A node with the given knobs.
    pub fn new(config: PerNodeConfig) -> Self {
        PerNodeCounter {
            config,
            kv: Kv::new(Service::SeqKv, config.kv_timeout_ms),
            me: 0,
            keys: Vec::new(),
            sentinel: String::new(),
            view: Vec::new(),
            wanted: 0,
            target: 0,
            adds_waiting: Vec::with_capacity(MAX_WAITING),
            adds_in_round: Vec::with_capacity(MAX_WAITING),
            cas_in_flight: false,
            cas_attempts: 0,
            batch_timer_set: false,
            reads_waiting: Vec::with_capacity(MAX_WAITING),
            refresh: Refresh::Idle,
            refresh_attempts: 0,
            refresh_generation: 0,
            refresh_sent_at: 0,
            fresh_at: None,
            reads_left: Vec::new(),
            sync_sequence: 0,
            ticker: Ticker::default(),
        }
    }

    /// The counter as this node's view has it.
    fn value(&self) -> u64 {
        sum(&self.view)
    }

    /// True when the view was refreshed no more than `stale_ms` before `arrived`.
    fn fresh_for(&self, arrived: Millis) -> bool {
        self.fresh_at
            .is_some_and(|at| at.saturating_add(self.config.stale_ms) >= arrived)
    }

    fn on_read(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        if self.fresh_for(ctx.now()) {
            ctx.reply(msg, "read_ok").u64("value", self.value());
            return Ok(());
        }
        let Some(op) = waiting_op(ctx, msg, 0, self.reads_waiting.len())? else {
            return Ok(());
        };
        self.reads_waiting.push(op);
        self.ticker.arm(ctx, Tag::Check);
        self.start_refresh(ctx);
        Ok(())
    }

    fn on_add(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let delta = msg.i64("delta")?;
        let delta = u64::try_from(delta)
            .map_err(|_| RequestError::malformed("a g-counter delta must not be negative"))?;
        if delta == 0 {
            ctx.reply(msg, "add_ok");
            return Ok(());
        }
        let Some(op) = waiting_op(ctx, msg, delta, self.adds_waiting.len())? else {
            return Ok(());
        };
        self.adds_waiting.push(op);
        self.ticker.arm(ctx, Tag::Check);
        self.pump_adds(ctx);
        Ok(())
    }

    /// The deadline check: answers and drops the ops whose budget is spent (see the
    /// module docs for the codes), and checks again while any op waits.
    fn on_check(&mut self, ctx: &mut Ctx<'_>) {
        self.ticker.fired();
        let now = ctx.now();
        let text = "seq-kv did not answer in time; nothing was done";
        let late = |op: &Op| op.arrived;
        timely::expire(&mut self.reads_waiting, now, late, |op| {
            op.to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
        });
        timely::expire(&mut self.adds_waiting, now, late, |op| {
            op.to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
        });
        timely::expire(&mut self.adds_in_round, now, late, |op| {
            let text = "seq-kv did not confirm the add in time; it may still apply";
            op.to.error(ctx, ErrorCode::Crash, text);
        });
        let waiting = [&self.reads_waiting, &self.adds_waiting, &self.adds_in_round];
        if waiting.iter().any(|ops| !ops.is_empty()) {
            self.ticker.arm(ctx, Tag::Check);
        }
    }
}

/// The op to queue for `msg`, or None when nobody waits for an answer; error 11 when
/// `queued` ops already wait.
fn waiting_op(
    ctx: &Ctx<'_>,
    msg: &Message<'_>,
    delta: u64,
    queued: usize,
) -> Result<Option<Op>, RequestError> {
    let Some(to) = ReplyTo::for_request(msg)? else {
        return Ok(None); // nobody to answer
    };
    if queued >= MAX_WAITING {
        return Err(RequestError::new(
            ErrorCode::TemporarilyUnavailable,
            "too many waiting requests",
        ));
    }
    Ok(Some(Op {
        to,
        arrived: ctx.now(),
        delta,
    }))
}

/// True when an op that arrived at `arrived` may still be answered at `now`.
fn in_time(now: Millis, arrived: Millis) -> bool {
    timely::in_time(now, arrived)
}

impl Workload for PerNodeCounter {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.me = ctx.node_index(); // 0 when not listed: then there is at least 1 key
        self.sentinel = format!("{SENTINEL_KEY_PREFIX}{}", ctx.node_id());
        self.keys = ctx
            .node_ids()
            .iter()
            .map(|id| format!("{TOTAL_KEY_PREFIX}{id}"))
            .collect();
        if self.keys.is_empty() {
            self.keys
                .push(format!("{TOTAL_KEY_PREFIX}{}", ctx.node_id()));
        }
        self.view = vec![0; self.keys.len()];
        self.reads_left = vec![false; self.keys.len()];
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "add" => self.on_add(ctx, msg),
            "read" => self.on_read(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::AddBatch => {
                self.batch_timer_set = false;
                self.pump_adds(ctx);
            }
            Tag::Check => self.on_check(ctx),
            Tag::Cas | Tag::Sentinel(_) | Tag::KeyRead(..) => {
                eprintln!("g-counter: an RPC tag came back as a timer: {tag:?}");
            }
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        match tag {
            Tag::Cas => self.on_cas(ctx, reply),
            Tag::Sentinel(generation) => self.on_sentinel(ctx, generation, reply),
            Tag::KeyRead(generation, index) => self.on_key_read(ctx, generation, index, reply),
            Tag::AddBatch | Tag::Check => {
                eprintln!("g-counter: a timer tag came back as an RPC reply: {tag:?}");
            }
        }
    }
}
