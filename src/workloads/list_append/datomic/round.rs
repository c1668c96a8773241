//! The round state machine of the datomic strategy (see the parent module for why each
//! step is safe). One round is in flight per node; each attempt has its own epoch, carried
//! in the RPC tags ([`Tag`]), so a late reply can never be taken for the current attempt's.
//!
//! ```text
//! Idle ─► (appends) Load ─► WriteCommit ─► Cas ─┬─► succeed: answer, push to peers
//!    └──► (reads only) ReadRoot ─► Load ─► answer │
//!                                               └─► 22 ─► Resolve ─► succeed | retry
//! ```

use super::Ctx;
use super::commit::Cache;
use super::{Datomic, MAX_FETCHES, Tag, Txn};
use crate::node::Millis;
use crate::node::RpcReply;
use crate::node::kv::{Kv, KvOp, KvReply, KvValue, Service};
use crate::wire::ErrorCode;
use crate::workloads::list_append::txn::{self, Lists};
use crate::workloads::timely;

/// The lin-kv key of the root pointer.
pub const ROOT_KEY: &str = "root";
/// Fetch steps per attempt (a base commit, then the holders of its lists).
const MAX_LOADS: u32 = 8;

/// What the round waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Phase {
    #[default]
    Idle,
    ReadRoot,
    Load,
    WriteCommit,
    Cas,
    /// A swap failed while the root was `current`: is our commit in its history?
    Resolve {
        current: u64,
    },
}

/// The commit an attempt built: its id, our sequence number in it, height and JSON.
#[derive(Debug)]
pub(super) struct Built {
    pub(super) id: u64,
    pub(super) sequence: u64,
    pub(super) height: u64,
    pub(super) bytes: Vec<u8>,
}

/// The round in flight.
#[derive(Debug, Default)]
pub(super) struct Round {
    pub(super) txns: Vec<Txn>,
    pub(super) phase: Phase,
    pub(super) epoch: u32,
    pub(super) attempts: u32,
    /// The commit this attempt builds on or reads from (`None`: the empty database).
    pub(super) base: Option<u64>,
    /// The base came from this attempt's root read (required to answer reads alone).
    pub(super) fresh: bool,
    pub(super) fetching: u32,
    pub(super) fetch_failed: bool,
    pub(super) loads: u32,
    pub(super) built: Option<Built>,
    /// When the round's root read, commit write or swap was sent.
    pub(super) sent_at: Millis,
    /// The working copy of the touched lists.
    pub(super) work: Lists,
}

impl Datomic {
    /// Starts a round with the waiting transactions, unless one is in flight or the
    /// batching window is still open.
    pub(super) fn pump(&mut self, ctx: &mut Ctx<'_>) {
        if self.round.phase != Phase::Idle {
            return;
        }
        let Some(oldest) = self.waiting.first().map(|t| t.arrived) else {
            return;
        };
        let waited = ctx.now().saturating_sub(oldest);
        if waited < self.config.window_ms {
            if !self.timer_set {
                self.timer_set = ctx.set_timer(self.config.window_ms - waited, Tag::Window);
            }
            if self.timer_set {
                return;
            }
        }
        self.round.attempts = 0;
        self.attempt(ctx);
    }

    /// A fresh attempt: takes in waiting transactions, then loads (appends) or reads the
    /// root (reads only).
    pub(super) fn attempt(&mut self, ctx: &mut Ctx<'_>) {
        let round = &mut self.round;
        round.attempts += 1;
        round.epoch = round.epoch.wrapping_add(1);
        (round.built, round.fresh, round.loads) = (None, false, 0);
        (round.fetching, round.fetch_failed) = (0, false);
        if round.attempts > self.config.max_attempts {
            let text = "lin-kv contention or errors; nothing committed";
            return self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, text);
        }
        // No earlier attempt's swap with these transactions can land any more (each
        // attempt starts only after a definite failure, or after `cas_unknown` took out
        // the transactions with appends), so the answered ones can go.
        round.txns.retain(|t| !t.answered);
        self.join_waiting();
        if self.round.txns.is_empty() {
            return self.idle(ctx);
        }
        if self.round.txns.iter().any(|t| txn::writes(&t.ops)) {
            self.round.base = self.newest.map(|(id, _)| id);
            self.round.phase = Phase::Load;
            return self.load(ctx);
        }
        self.round.phase = Phase::ReadRoot;
        let epoch = self.round.epoch;
        if self
            .kv(ctx)
            .read(ctx, KvValue::Str(ROOT_KEY), Tag::Root(epoch))
            .is_err()
        {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    /// The lin-kv client for the round's next request (timeout from the measured round
    /// trip); notes the send time.
    pub(super) fn kv(&mut self, ctx: &Ctx<'_>) -> Kv {
        self.round.sent_at = ctx.now();
        Kv::new(Service::LinKv, self.rtt.timeout())
    }

    /// Moves waiting transactions into the round while its micro-ops fit (at least one).
    pub(super) fn join_waiting(&mut self) {
        let mut total: usize = self.round.txns.iter().map(|t| t.ops.len()).sum();
        let mut count = 0;
        for txn in &self.waiting {
            let first = self.round.txns.is_empty() && count == 0;
            if !first && total + txn.ops.len() > self.config.max_round_ops {
                break;
            }
            total += txn.ops.len();
            count += 1;
        }
        self.round.txns.extend(self.waiting.drain(..count));
    }

    /// Fetches what the round needs (the base commit, then its lists' holders) or runs it.
    pub(super) fn load(&mut self, ctx: &mut Ctx<'_>) {
        self.round.loads += 1;
        if self.round.loads > MAX_LOADS {
            return self.attempt(ctx);
        }
        let missing = missing(&self.cache, &self.round);
        if missing.is_empty() {
            return self.execute(ctx);
        }
        let epoch = self.round.epoch;
        for id in missing {
            if !self.fetch(ctx, id, epoch) {
                break;
            }
        }
        if self.round.fetching == 0 {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    pub(super) fn fetch(&mut self, ctx: &mut Ctx<'_>, id: u64, epoch: u32) -> bool {
        if self.fetches >= MAX_FETCHES {
            return false;
        }
        let kv = Kv::new(Service::LinKv, self.rtt.timeout());
        let sent_at = ctx.now();
        let tag = Tag::Fetch(id, epoch, sent_at);
        if kv.read(ctx, KvValue::U64(id), tag).is_err() {
            return false;
        }
        self.fetches += 1;
        self.round.fetching += 1;
        true
    }

    /// One of this attempt's fetches finished (the commit, if any, is cached already).
    pub(super) fn fetched(&mut self, ctx: &mut Ctx<'_>, epoch: u32, ok: bool) {
        if epoch != self.round.epoch || self.round.fetching == 0 {
            return;
        }
        self.round.fetching -= 1;
        self.round.fetch_failed |= !ok;
        if self.round.fetching > 0 {
            return;
        }
        match (self.round.phase, self.round.fetch_failed) {
            // While resolving, our swap may have happened: never simply retry.
            (Phase::Resolve { .. }, true) => self.cas_unknown(ctx),
            (Phase::Resolve { .. }, false) => self.resolve(ctx),
            (Phase::Load, true) => self.attempt(ctx),
            (Phase::Load, false) => self.load(ctx),
            _ => {}
        }
    }

    /// A root read, commit write or swap answered (fetches go to [`Datomic::fetched`]).
    pub(super) fn on_round_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        let (Tag::Root(epoch) | Tag::Write(epoch) | Tag::Cas(epoch)) = tag else {
            unreachable!("{tag:?} is not a round's request");
        };
        if epoch != self.round.epoch {
            return eprintln!("txn-list-append: reply for an old attempt ({tag:?})");
        }
        self.measured(ctx.now(), self.round.sent_at, &reply);
        match (tag, self.round.phase) {
            (Tag::Root(_), Phase::ReadRoot) => match KvReply::decode(KvOp::Read, reply) {
                KvReply::Value(value) if value.as_u64().is_some() => {
                    self.read_root(ctx, value.as_u64())
                }
                KvReply::KeyDoesNotExist => self.read_root(ctx, None),
                _ => self.attempt(ctx),
            },
            (Tag::Write(_), Phase::WriteCommit) => match KvReply::decode(KvOp::Write, reply) {
                KvReply::Ok => self.swap(ctx),
                _ => self.attempt(ctx), // the commit is not referenced by anything
            },
            (Tag::Cas(_), Phase::Cas) => self.on_cas(ctx, KvReply::decode(KvOp::Cas, reply)),
            (tag, phase) => eprintln!("txn-list-append: reply {tag:?} in {phase:?}"),
        }
    }

    pub(super) fn read_root(&mut self, ctx: &mut Ctx<'_>, root: Option<u64>) {
        (self.round.base, self.round.fresh) = (root, true);
        self.round.phase = Phase::Load;
        self.load(ctx);
    }

    /// Answers every transaction with its completed form.
    pub(super) fn finish(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        for txn in self.round.txns.drain(..) {
            if !txn.answered && timely::in_time(now, txn.arrived) {
                txn.to.reply(ctx, "txn_ok").raw("txn", &txn.result);
            }
        }
        self.idle(ctx);
    }

    /// Answers every transaction with a definite error (nothing of the round committed).
    pub(super) fn fail_round(&mut self, ctx: &mut Ctx<'_>, code: ErrorCode, text: &str) {
        let now = ctx.now();
        for txn in self.round.txns.drain(..) {
            if !txn.answered && timely::in_time(now, txn.arrived) {
                txn.to.error(ctx, code, text);
            }
        }
        self.idle(ctx);
    }

    pub(super) fn idle(&mut self, ctx: &mut Ctx<'_>) {
        self.round.txns.clear();
        self.round.phase = Phase::Idle;
        self.round.built = None;
        self.pump(ctx);
    }
}

/// Commits the round still needs: the base, else the holders of the touched keys' lists.
fn missing(cache: &Cache, round: &Round) -> Vec<u64> {
    let Some(base) = round.base else {
        return Vec::new();
    };
    let Some(commit) = cache.get(base) else {
        return vec![base];
    };
    let mut missing = Vec::new();
    for op in round.txns.iter().flat_map(|t| t.ops.iter()) {
        let Some(holder) = commit.holder(op.key()) else {
            continue;
        };
        if holder != base && cache.get(holder).is_none() && !missing.contains(&holder) {
            missing.push(holder);
            if missing.len() >= MAX_FETCHES as usize {
                break;
            }
        }
    }
    missing
}
