//! The `datomic` strategy: Maelstrom's "Datomic transactor" chapters. Nodes keep no state
//! that matters; the database lives in `lin-kv` as immutable [`commit`]s under unique ids,
//! and one mutable root pointer (key `"root"`) names the newest commit.
//!
//! **A round.** A node serves transactions in rounds, one round in flight; a round takes
//! every transaction waiting when it starts (chapter 4's batching exercise: many
//! transactions, one root swap), up to a bound on micro-ops.
//!
//! * With appends: run the batch *speculatively* on the newest commit the node knows
//!   (chapter 4's "caching the root"), write the new commit (`write id commit`), then
//!   `cas root from=base to=id`. `cas_ok` means `base` was still the root when the swap
//!   happened, after every transaction of the round arrived: the whole batch takes effect
//!   at that instant, reads included (strict-serializable).
//! * Read-only: `read root` first (after the transactions arrived), then answer from that
//!   commit. Skipping this read is chapter 4's stale-read bug (G-single-realtime).
//!
//! Commits never change, so every fetched or built commit is cached (chapter 4's "caching
//! thunks"), and after a successful swap a node sends the new commit to its peers
//! (`commit {id, commit}`, no reply), as Datomic's transactor pushes novelty to its peers.
//! That keeps each node's root guess current and its cache warm: without it, nearly
//! every speculative swap after another node's commit fails and costs a fetch and a
//! second write and swap. A lost push costs nothing but that.
//!
//! **A failed swap** (error 22) names the current root C in its text. Usually another
//! node swapped first, and the round retries on C. But under our `--duplicate` fault the
//! answer may come from the second copy of a swap whose first copy succeeded, and that
//! answer may arrive first. So the round asks whether its commit T is in C's history:
//! C == T, or C's `frontier` (see [`commit`]) holds T's sequence number. If so, the
//! round succeeded. If not, no copy of its swap can ever succeed (the root moved on from
//! `base` and never returns to it), and retrying is safe. The answer needs only C, which
//! the retry needs anyway.
//!
//! **Unknown outcomes.** A swap without an answer (timeout, an indefinite error) may
//! have happened: its transactions with appends get error 13 (`crash`, indefinite);
//! read-only ones are retried. Every other failure (a failed commit write, fetch or root
//! read, a swap that provably lost) changed nothing, and the round is retried, at most
//! `max_attempts` times before answering error 11 (definite).
//!
//! **In time** ([`timely`]): the deadline check ([`Tag::Check`], armed while transactions
//! wait) answers each transaction whose reply budget is spent: one still waiting for a
//! round with error 11 (dropped: it never runs); one in the round with error 11 if it is
//! read-only (a read changes nothing), else 13 (a swap carrying it may land). Answered
//! transactions stay in the round's current attempt, silent, and are dropped when the next
//! attempt starts: every attempt starts only once no swap of the round with appends can
//! still land (see `round`'s `attempt`), so a 13-answered transaction then simply never
//! happens, which its indefinite answer allows.
//!
//! **Messages** per round with appends: 2 (write) + 2 (cas) + n−1 pushes; read-only
//! rounds 2 (read), plus 2 per commit not yet cached. From clients `txn` → `txn_ok`; to
//! lin-kv `read`, `write`, `cas`; between nodes `commit`. Timers: the batching window
//! (only when `window_ms` > 0) and the deadline check.
//!
//! **Limit: speculation can starve.** A node learns of a peer's commit about two hops
//! after the swap (the push), and its own swap lands three hops after it builds (write,
//! then cas). So when a peer, never idle, swaps every four hops or less (`--latency 100`
//! with a busy client on each node), a node can lose every swap, and its clients time out
//! (indefinite: still valid, but unavailable). At Maelstrom's default zero latency a
//! round takes no time and this does not arise; the default sequencer has no such mode.

pub mod commit;
mod execute;
mod round;
mod swap;

use self::commit::{Cache, Commit};
use super::txn::{self, MicroOp};
use crate::node::kv::ReplyTo;
use crate::node::{Message, Millis, RequestError, RpcReply, RttEstimator, Workload};
use crate::wire::{ErrorCode, Json};
use crate::workloads::timely::{self, Ticker};

/// Transactions waiting for a round before new ones get error 11.
pub const MAX_WAITING: usize = 1024;
/// Commit fetches in flight at once.
pub const MAX_FETCHES: u32 = 64;
/// What a timer or a lin-kv reply continues. Each attempt of a round has its own
/// `epoch`, so a late reply can never be taken for the current attempt's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// Timer: the batching window closed.
    Window,
    /// Attempt (epoch) .0's read of the root pointer.
    Root(u32),
    /// Attempt .0's write of its new commit.
    Write(u32),
    /// Attempt .0's swap of the root pointer.
    Cas(u32),
    /// The read of commit .0 for attempt .1 (any attempt may use the cached commit),
    /// sent at .2 (for the round-trip estimate).
    Fetch(u64, u32, Millis),
    /// Timer: answer the transactions whose reply budget is spent.
    Check,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// Shortest lin-kv timeout, however fast the service answers.
pub const MIN_TIMEOUT_MS: Millis = 100;

/// Knobs of the datomic strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatomicConfig {
    /// Longest timeout of a lin-kv request (it adapts to the measured round trip, from
    /// [`MIN_TIMEOUT_MS`] up to this).
    pub kv_timeout_ms: Millis,
    /// Attempts of one round before its transactions fail (error 11).
    pub max_attempts: u32,
    /// Most micro-ops in one round (at least one transaction always goes).
    pub max_round_ops: usize,
    /// A round starts only once its oldest transaction has waited this long (batching).
    pub window_ms: Millis,
    /// Send each new commit to the peers.
    pub push: bool,
}

impl Default for DatomicConfig {
    fn default() -> Self {
        DatomicConfig {
            kv_timeout_ms: 1000,
            max_attempts: 32,
            max_round_ops: 512,
            window_ms: 0,
            push: true,
        }
    }
}

/// A client transaction and, once executed, its completed form.
#[derive(Clone, Debug)]
struct Txn {
    to: ReplyTo,
    arrived: Millis,
    ops: Vec<MicroOp>,
    result: Vec<u8>,
    /// The deadline check answered it already: nothing more goes to the client.
    answered: bool,
}

/// A datomic-strategy node.
#[derive(Debug)]
pub struct Datomic {
    config: DatomicConfig,
    /// The lin-kv round trip, for timeouts.
    rtt: RttEstimator,
    cache: Cache,
    /// The newest commit known to have been the root, with its height.
    newest: Option<(u64, u64)>,
    /// Commit ids are `sequence · node count + node index`: unique without coordination.
    sequence: u64,
    waiting: Vec<Txn>,
    round: round::Round,
    /// Fetches in flight: slot → (commit id, round epoch, sent at).
    fetches: u32,
    /// Whether a window timer is set.
    timer_set: bool,
    ops: Vec<MicroOp>,
    ticker: Ticker,
}

impl Datomic {
    /// A node with the given knobs.
    pub fn new(config: DatomicConfig) -> Self {
        Datomic {
            config,
            rtt: RttEstimator::new(MIN_TIMEOUT_MS, config.kv_timeout_ms),
            cache: Cache::default(),
            newest: None,
            sequence: 0,
            waiting: Vec::new(),
            round: round::Round::default(),
            fetches: 0,
            timer_set: false,
            ops: Vec::new(),
            ticker: Ticker::default(),
        }
    }

    fn enqueue(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let Some(to) = ReplyTo::for_request(msg)? else {
            return Ok(());
        };
        if self.waiting.len() >= MAX_WAITING {
            return Err(RequestError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many waiting transactions",
            ));
        }
        self.waiting.push(Txn {
            to,
            arrived: ctx.now(),
            ops: std::mem::take(&mut self.ops),
            result: Vec::new(),
            answered: false,
        });
        self.ticker.arm(ctx, Tag::Check);
        self.pump(ctx);
        Ok(())
    }

    /// The deadline check (see the module docs for the codes).
    fn on_check(&mut self, ctx: &mut Ctx<'_>) {
        self.ticker.fired();
        let now = ctx.now();
        timely::expire(
            &mut self.waiting,
            now,
            |t| t.arrived,
            |t| {
                let text = "lin-kv did not answer in time; nothing committed";
                t.to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
            },
        );
        for t in &mut self.round.txns {
            if t.answered || !timely::spent(now, t.arrived) {
                continue;
            }
            t.answered = true;
            match txn::writes(&t.ops) {
                true => {
                    t.to.error(ctx, ErrorCode::Crash, "not committed in time; it may be")
                }
                false => {
                    t.to.error(ctx, ErrorCode::TemporarilyUnavailable, "no answer in time")
                }
            }
        }
        if !self.waiting.is_empty() || self.round.txns.iter().any(|t| !t.answered) {
            self.ticker.arm(ctx, Tag::Check);
        }
    }

    /// Records that `id` (of `height`) was the root at some point.
    fn saw_root(&mut self, id: u64, height: u64) {
        if self.newest.is_none_or(|(_, newest)| height > newest) {
            self.newest = Some((id, height));
        }
    }

    /// Feeds the round trip of a lin-kv request (or its timeout) to the estimator.
    fn measured(&mut self, now: Millis, sent_at: Millis, reply: &RpcReply<'_>) {
        match reply {
            RpcReply::Timeout => self.rtt.timed_out(),
            _ => self.rtt.sample(now.saturating_sub(sent_at)),
        }
    }

    /// A peer's new commit: cache it, and it is the newest root we know of if higher.
    fn on_push(&mut self, msg: &Message<'_>) -> Result<(), RequestError> {
        let id = msg.u64("id")?;
        let commit = Commit::decode(msg.field("commit")?)
            .ok_or_else(|| RequestError::malformed("commit has the wrong shape"))?;
        self.saw_root(id, commit.height);
        self.cache.insert(id, commit);
        Ok(())
    }

    /// A fetched commit is cached whatever round asked for it (commits never change).
    fn on_fetch(
        &mut self,
        ctx: &mut Ctx<'_>,
        (id, epoch, sent_at): (u64, u32, Millis),
        reply: RpcReply<'_>,
    ) {
        assert!(self.fetches > 0, "a fetch reply with none in flight");
        self.fetches -= 1;
        self.measured(ctx.now(), sent_at, &reply);
        let commit = match reply {
            RpcReply::Ok(msg) if msg.kind == "read_ok" => msg.body.get("value"),
            _ => None,
        }
        .and_then(|value: Json<'_>| Commit::decode(value));
        let fetched = commit.is_some();
        if let Some(commit) = commit {
            self.cache.insert(id, commit);
        }
        self.fetched(ctx, epoch, fetched);
    }
}

impl Workload for Datomic {
    type Tag = Tag;

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "txn" => {
                txn::parse(msg.field("txn")?, &mut self.ops)?;
                self.enqueue(ctx, msg)
            }
            "commit" => self.on_push(msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::Window => {
                self.timer_set = false;
                self.pump(ctx);
            }
            Tag::Check => self.on_check(ctx),
            other => eprintln!("txn-list-append: an RPC tag came back as a timer: {other:?}"),
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        match tag {
            Tag::Fetch(id, epoch, sent_at) => self.on_fetch(ctx, (id, epoch, sent_at), reply),
            Tag::Root(_) | Tag::Write(_) | Tag::Cas(_) => self.on_round_reply(ctx, tag, reply),
            Tag::Window | Tag::Check => {
                eprintln!("txn-list-append: a timer tag came back as an RPC reply: {tag:?}");
            }
        }
    }
}
