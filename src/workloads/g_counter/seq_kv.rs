//! The g-counter kept in `seq-kv` (challenge 4): one integer under [`COUNTER_KEY`], no
//! counter state on the node that could be lost.
//!
//! **Durability.** An `add` is acknowledged only after a `cas` that includes its delta got
//! `cas_ok`: the delta is in seq-kv before `add_ok`. An add of 0 changes nothing and is
//! acknowledged at once. A cas that times out or fails indefinitely may or may not have
//! happened, so its adds get error 13 (`crash`, indefinite: the checker allows either).
//!
//! **Staleness.** seq-kv answers a lagging node from an old state, and a node that only
//! reads can lag forever; but any *state-changing* request runs on the newest state and
//! brings the node up to date (MAELSTROM.md §4.1). So every answer here comes from a
//! state-changing request sent *after* the client's request arrived:
//!
//! * ops are served in rounds, one round in flight per node; a round takes every op
//!   waiting when it starts (batching), and ops arriving meanwhile wait for the next one;
//! * with adds in the round: `cas key from=cached to=cached+Σdeltas` (create if missing).
//!   `cas_ok` means the newest state now holds `to`, so reads in the round get `to`. On
//!   error 22 the service's text names the value it saw (`current value 12 is not 10`):
//!   that becomes the next `from`, no extra read (a plain read if the text is odd);
//! * reads only: `write` a fresh number to this node's sentinel key (a write that always
//!   changes the state, so this node's seq-kv index jumps to the newest state), then `read`
//!   the counter: seq-kv never answers a node from a state older than its index, so the
//!   value includes every add acknowledged before the read arrived.
//!
//! Cost: a read round is 2 RPCs (4 messages), an add round 1 cas plus one per conflict.
//!
//! Messages: `add {delta}` → `add_ok`, `read` → `read_ok {value}` (deferred), and to
//! seq-kv `cas`, `write`, `read`. No timers (RPC timeouts are the core's).

use crate::node::kv::{Kv, KvOp, KvReply, KvValue, ReplyTo, Service};
use crate::node::{Ctx, Message, Millis, RequestError, RpcReply, Workload};
use crate::wire::ErrorCode;

/// The seq-kv key holding the counter.
pub const COUNTER_KEY: &str = "g-counter";
/// Client requests waiting for a round; beyond this, requests get error 11.
pub const MAX_WAITING: usize = 1024;

const TAG_CAS: u64 = 1;
const TAG_SYNC_WRITE: u64 = 2;
const TAG_SYNC_READ: u64 = 3;
const TAG_REFRESH: u64 = 4;

/// Knobs of the seq-kv strategy.
#[derive(Clone, Copy, Debug)]
pub struct SeqKvConfig {
    /// Timeout of each seq-kv request.
    pub kv_timeout_ms: Millis,
    /// Requests one round may make before its ops fail (cas conflicts, errors).
    pub max_attempts: u32,
    /// Ops older than this are dropped unanswered: Maelstrom's client gave up after 5 s,
    /// and a reply to a closed client breaks the node's output stream (MAELSTROM.md §1.8).
    pub reply_deadline_ms: Millis,
}

impl Default for SeqKvConfig {
    fn default() -> Self {
        SeqKvConfig {
            kv_timeout_ms: 1000,
            max_attempts: 64,
            reply_deadline_ms: 4000,
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

/// The request of the round in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    Idle,
    Cas { to: u64 },
    SyncWrite,
    SyncRead,
    Refresh,
}

/// The seq-kv-backed g-counter node.
#[derive(Debug)]
pub struct SeqKvCounter {
    config: SeqKvConfig,
    kv: Kv,
    /// `g-counter-sync-<node id>`, written to force freshness.
    sentinel: String,
    /// The counter's value in the newest seq-kv state this node has seen (a guess for
    /// the next cas `from`; never answered to a client without a fresh round).
    cached: u64,
    sync_sequence: u64,
    waiting: Vec<Op>,
    in_round: Vec<Op>,
    round: Round,
    attempts: u32,
}

impl SeqKvCounter {
    /// A node with the given knobs.
    pub fn new(config: SeqKvConfig) -> Self {
        SeqKvCounter {
            config,
            kv: Kv::new(Service::SeqKv, config.kv_timeout_ms),
            sentinel: String::new(),
            cached: 0,
            sync_sequence: 0,
            waiting: Vec::with_capacity(MAX_WAITING),
            in_round: Vec::with_capacity(2 * MAX_WAITING),
            round: Round::Idle,
            attempts: 0,
        }
    }

    fn enqueue(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        add: Option<u64>,
    ) -> Result<(), RequestError> {
        let Some(to) = ReplyTo::of(msg) else {
            return match msg.msg_id {
                None => Ok(()), // nobody to answer
                Some(_) => Err(RequestError::new(ErrorCode::Abort, "sender id too long")),
            };
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
        self.pump(ctx);
        Ok(())
    }

    /// Starts a round with every waiting op, unless one is in flight.
    fn pump(&mut self, ctx: &mut Ctx<'_>) {
        if self.round != Round::Idle || self.waiting.is_empty() {
            return;
        }
        std::mem::swap(&mut self.waiting, &mut self.in_round);
        self.attempts = 0;
        self.attempt(ctx);
    }

    /// Sends the round's next request: a cas when it holds adds, else a sentinel write.
    fn attempt(&mut self, ctx: &mut Ctx<'_>) {
        self.attempts += 1;
        if self.attempts > self.config.max_attempts {
            // Every cas so far failed definitely: no add happened.
            return self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "seq-kv contention");
        }
        let sum = self
            .in_round
            .iter()
            .filter_map(|op| op.add)
            .fold(0u64, u64::saturating_add);
        let key = KvValue::Str(COUNTER_KEY);
        let sent = if sum > 0 {
            let to = self.cached.saturating_add(sum);
            self.round = Round::Cas { to };
            self.kv.cas(
                ctx,
                key,
                KvValue::U64(self.cached),
                KvValue::U64(to),
                true,
                TAG_CAS,
            )
        } else {
            self.sync_sequence += 1;
            self.round = Round::SyncWrite;
            let value = KvValue::U64(self.sync_sequence);
            self.kv
                .write(ctx, KvValue::Str(&self.sentinel), value, TAG_SYNC_WRITE)
        };
        if sent.is_err() {
            self.fail_round(
                ctx,
                ErrorCode::TemporarilyUnavailable,
                "too many pending RPCs",
            );
        }
    }

    /// Takes ops that arrived during the failed request into the round, and tries again.
    /// They arrived before the next request is sent, so its answer is fresh for them too.
    fn retry(&mut self, ctx: &mut Ctx<'_>) {
        self.in_round.append(&mut self.waiting);
        self.attempt(ctx);
    }

    /// Answers the round: adds are durable and the counter was `value` in a state newer
    /// than every op's arrival.
    fn finish(&mut self, ctx: &mut Ctx<'_>, value: u64) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        for op in self.in_round.drain(..) {
            if now.saturating_sub(op.arrived) > deadline {
                continue;
            }
            match op.add {
                Some(_) => drop(op.to.reply(ctx, "add_ok")),
                None => drop(op.to.reply(ctx, "read_ok").u64("value", value)),
            }
        }
        self.round = Round::Idle;
        self.pump(ctx);
    }

    /// Answers every op in the round with an error.
    fn fail_round(&mut self, ctx: &mut Ctx<'_>, code: ErrorCode, text: &str) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        for op in self.in_round.drain(..) {
            if now.saturating_sub(op.arrived) <= deadline {
                op.to.error(ctx, code, text);
            }
        }
        self.round = Round::Idle;
        self.pump(ctx);
    }

    /// A cas whose outcome is unknown: its adds get `crash` (indefinite), reads retry.
    fn cas_unknown(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let deadline = self.config.reply_deadline_ms;
        self.in_round.retain(|op| {
            if op.add.is_none() {
                return true;
            }
            if now.saturating_sub(op.arrived) <= deadline {
                op.to
                    .error(ctx, ErrorCode::Crash, "seq-kv cas outcome unknown");
            }
            false
        });
        if self.in_round.is_empty() {
            self.round = Round::Idle;
            return self.pump(ctx);
        }
        self.retry(ctx);
    }

    fn on_cas(&mut self, ctx: &mut Ctx<'_>, to: u64, reply: KvReply<'_>) {
        match reply {
            KvReply::Ok => {
                self.cached = to;
                self.finish(ctx, to);
            }
            KvReply::PreconditionFailed(_) => {
                match reply.current_i64().and_then(|v| u64::try_from(v).ok()) {
                    Some(current) => {
                        self.cached = current;
                        self.retry(ctx);
                    }
                    None => self.refresh(ctx),
                }
            }
            KvReply::KeyDoesNotExist => {
                self.cached = 0;
                self.retry(ctx);
            }
            KvReply::Value(_) | KvReply::Error(..) | KvReply::Timeout => self.cas_unknown(ctx),
        }
    }

    /// Re-reads the counter (only when a cas error did not name the current value).
    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        self.round = Round::Refresh;
        if self
            .kv
            .read(ctx, KvValue::Str(COUNTER_KEY), TAG_REFRESH)
            .is_err()
        {
            self.fail_round(
                ctx,
                ErrorCode::TemporarilyUnavailable,
                "too many pending RPCs",
            );
        }
    }
}

impl Workload for SeqKvCounter {
    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.sentinel = format!("{COUNTER_KEY}-sync-{}", ctx.node_id());
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

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: u64, reply: RpcReply<'_>) {
        match (self.round, tag) {
            (Round::Cas { to }, TAG_CAS) => self.on_cas(ctx, to, KvReply::decode(KvOp::Cas, reply)),
            (Round::SyncWrite, TAG_SYNC_WRITE) => match KvReply::decode(KvOp::Write, reply) {
                KvReply::Ok => {
                    self.round = Round::SyncRead;
                    if self
                        .kv
                        .read(ctx, KvValue::Str(COUNTER_KEY), TAG_SYNC_READ)
                        .is_err()
                    {
                        self.fail_round(
                            ctx,
                            ErrorCode::TemporarilyUnavailable,
                            "too many pending RPCs",
                        );
                    }
                }
                _ => self.retry(ctx),
            },
            (Round::SyncRead, TAG_SYNC_READ) => match KvReply::decode(KvOp::Read, reply) {
                KvReply::Value(value) => match value.as_u64() {
                    Some(value) => {
                        self.cached = self.cached.max(value);
                        self.finish(ctx, self.cached);
                    }
                    None => self.fail_round(
                        ctx,
                        ErrorCode::Crash,
                        "the counter key holds a non-integer",
                    ),
                },
                KvReply::KeyDoesNotExist => self.finish(ctx, self.cached),
                _ => self.retry(ctx),
            },
            (Round::Refresh, TAG_REFRESH) => {
                match KvReply::decode(KvOp::Read, reply) {
                    KvReply::Value(value) => self.cached = value.as_u64().unwrap_or(self.cached),
                    KvReply::KeyDoesNotExist => self.cached = 0,
                    _ => {}
                }
                self.retry(ctx);
            }
            _ => eprintln!(
                "g-counter: unexpected seq-kv reply (tag {tag}, round {:?})",
                self.round
            ),
        }
    }
}
