//! The round state machine of the datomic strategy (see the parent module for why each
//! step is safe). One round is in flight per node; each attempt has its own epoch, carried
//! in the RPC tags, so a late reply can never be taken for the current attempt's.
//!
//! ```text
//! Idle ─► (appends) Load ─► WriteCommit ─► Cas ─┬─► succeed: answer, push to peers
//!    └──► (reads only) ReadRoot ─► Load ─► answer │
//!                                               └─► 22 ─► Resolve ─► succeed | retry
//! ```

use super::commit::{Cache, Commit};
use super::{Datomic, Txn};
use crate::node::Ctx;
use crate::node::RpcReply;
use crate::node::Millis;
use crate::node::kv::{Kv, KvOp, KvReply, KvValue, Service, tag};
use crate::wire::ErrorCode;
use crate::workloads::list_append::txn::{self, Lists, MicroOp};

/// RPC kinds (the high half of a tag; the low half is the epoch, or a fetch slot).
pub(super) const ROOT: u32 = 1;
pub(super) const FETCH: u32 = 2;
pub(super) const WRITE: u32 = 3;
pub(super) const CAS: u32 = 4;

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
    Resolve { current: u64 },
}

/// The commit an attempt built: its id, our sequence number in it, height and JSON.
#[derive(Debug)]
pub(super) struct Built {
    id: u64,
    sequence: u64,
    height: u64,
    bytes: Vec<u8>,
}

/// The round in flight.
#[derive(Debug, Default)]
pub(super) struct Round {
    txns: Vec<Txn>,
    phase: Phase,
    epoch: u32,
    attempts: u32,
    /// The commit this attempt builds on or reads from (`None`: the empty database).
    base: Option<u64>,
    /// The base came from this attempt's root read (required to answer reads alone).
    fresh: bool,
    fetching: u32,
    fetch_failed: bool,
    loads: u32,
    built: Option<Built>,
    /// When the round's root read, commit write or swap was sent.
    sent_at: Millis,
    /// The working copy of the touched lists.
    work: Lists,
}

/// Whether every list a round touches could be copied out of the cache.
enum Copy {
    Ready,
    /// A holder commit is not cached (fetch it).
    Missing,
    /// A holder commit lacks the list its index promised.
    Corrupt,
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
                self.timer_set = ctx.set_timer(self.config.window_ms - waited, 0);
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
    fn attempt(&mut self, ctx: &mut Ctx<'_>) {
        let round = &mut self.round;
        round.attempts += 1;
        round.epoch = round.epoch.wrapping_add(1);
        (round.built, round.fresh, round.loads) = (None, false, 0);
        (round.fetching, round.fetch_failed) = (0, false);
        if round.attempts > self.config.max_attempts {
            let text = "lin-kv contention or errors; nothing committed";
            return self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, text);
        }
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
        if self.kv(ctx).read(ctx, KvValue::Str(ROOT_KEY), tag(ROOT, epoch)).is_err() {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    /// The lin-kv client for the round's next request (timeout from the measured round
    /// trip); notes the send time.
    fn kv(&mut self, ctx: &Ctx<'_>) -> Kv {
        self.round.sent_at = ctx.now();
        Kv::new(Service::LinKv, self.rtt.timeout())
    }

    /// Moves waiting transactions into the round while its micro-ops fit (at least one).
    fn join_waiting(&mut self) {
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
    fn load(&mut self, ctx: &mut Ctx<'_>) {
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

    fn fetch(&mut self, ctx: &mut Ctx<'_>, id: u64, epoch: u32) -> bool {
        let Some(slot) = self.fetches.insert((id, epoch, ctx.now())) else {
            return false;
        };
        let kv = Kv::new(Service::LinKv, self.rtt.timeout());
        if kv.read(ctx, KvValue::U64(id), tag(FETCH, slot)).is_err() {
            self.fetches.remove(slot);
            return false;
        }
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

    /// Runs the round's transactions on the base; answers a read-only round, or writes
    /// the new commit.
    fn execute(&mut self, ctx: &mut Ctx<'_>) {
        let base = self.round.base.and_then(|id| self.cache.get(id));
        match working_copy(&self.cache, base, self.round.base, &mut self.round) {
            Copy::Ready => {}
            Copy::Missing => return self.load(ctx),
            Copy::Corrupt => return self.attempt(ctx),
        }
        let round = &mut self.round;
        let mut changed = Vec::new();
        for txn in &mut round.txns {
            txn.result.clear();
            txn::execute(&mut round.work, &txn.ops, &mut txn.result);
            changed.extend(txn.ops.iter().filter_map(|op| match *op {
                MicroOp::Append(key, _) => Some(key),
                MicroOp::Read(_) => None,
            }));
        }
        if changed.is_empty() {
            assert!(round.fresh, "a read-only round answers only from a root it read");
            if let Some(id) = round.base {
                let height = self.cache.get(id).map_or(0, |c| c.height);
                self.saw_root(id, height);
            }
            return self.finish(ctx);
        }
        changed.sort_unstable();
        changed.dedup();
        self.build(ctx, &changed);
    }

    /// Builds the child of the base holding the changed lists, caches it, writes it.
    fn build(&mut self, ctx: &mut Ctx<'_>, changed: &[u64]) {
        self.sequence += 1;
        let nodes = ctx.node_ids().len().max(1) as u64;
        let id = self.sequence * nodes + ctx.node_index() as u64;
        let sequence = self.sequence;
        let base = self.round.base.and_then(|b| self.cache.get(b));
        let mut frontier = base.map(|c| c.frontier.clone()).unwrap_or_default();
        let me = ctx.node_index();
        if frontier.len() <= me {
            frontier.resize(me + 1, 0);
        }
        if frontier[me] >= sequence {
            // Only a corrupted store could show a commit of ours we have not built yet.
            let text = "the root's history holds a commit of ours from the future";
            return self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, text);
        }
        frontier[me] = sequence;
        let mut index = base.map(|c| c.index.clone()).unwrap_or_default();
        for &key in changed {
            match index.binary_search_by_key(&key, |&(k, _)| k) {
                Ok(at) => index[at].1 = id,
                Err(at) => index.insert(at, (key, id)),
            }
        }
        let work = &self.round.work;
        let lists = changed
            .iter()
            .map(|&key| (key, work.get(&key).cloned().unwrap_or_default()))
            .collect();
        let commit = Commit {
            height: base.map_or(0, |c| c.height) + 1,
            parent: self.round.base,
            frontier,
            index,
            lists,
        };
        let mut bytes = Vec::new();
        commit.encode(&mut bytes);
        let height = commit.height;
        self.cache.insert(id, commit);
        self.round.phase = Phase::WriteCommit;
        let value = KvValue::Raw(&bytes);
        let write_tag = tag(WRITE, self.round.epoch);
        let sent = self.kv(ctx).write(ctx, KvValue::U64(id), value, write_tag);
        self.round.built = Some(Built {
            id,
            sequence,
            height,
            bytes,
        });
        if sent.is_err() {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    /// A root read, commit write or swap answered (fetches go to [`Datomic::fetched`]).
    pub(super) fn on_round_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: u32,
        epoch: u32,
        reply: RpcReply<'_>,
    ) {
        if epoch != self.round.epoch {
            return eprintln!("txn-list-append: reply for an old attempt (kind {kind})");
        }
        self.measured(ctx.now(), self.round.sent_at, &reply);
        match (kind, self.round.phase) {
            (ROOT, Phase::ReadRoot) => match KvReply::decode(KvOp::Read, reply) {
                KvReply::Value(value) if value.as_u64().is_some() => {
                    self.read_root(ctx, value.as_u64())
                }
                KvReply::KeyDoesNotExist => self.read_root(ctx, None),
                _ => self.attempt(ctx),
            },
            (WRITE, Phase::WriteCommit) => match KvReply::decode(KvOp::Write, reply) {
                KvReply::Ok => self.swap(ctx),
                _ => self.attempt(ctx), // the commit is not referenced by anything
            },
            (CAS, Phase::Cas) => self.on_cas(ctx, KvReply::decode(KvOp::Cas, reply)),
            (kind, phase) => eprintln!("txn-list-append: reply kind {kind} in {phase:?}"),
        }
    }

    fn read_root(&mut self, ctx: &mut Ctx<'_>, root: Option<u64>) {
        (self.round.base, self.round.fresh) = (root, true);
        self.round.phase = Phase::Load;
        self.load(ctx);
    }

    /// `cas root from=base to=built` (creating the root on the empty database).
    fn swap(&mut self, ctx: &mut Ctx<'_>) {
        let Some(built) = &self.round.built else {
            return self.attempt(ctx);
        };
        let from = match self.round.base {
            Some(base) => KvValue::U64(base),
            None => KvValue::Raw(b"null"),
        };
        let (to, create) = (KvValue::U64(built.id), self.round.base.is_none());
        self.round.phase = Phase::Cas;
        let cas_tag = tag(CAS, self.round.epoch);
        let kv = self.kv(ctx);
        if kv.cas(ctx, KvValue::Str(ROOT_KEY), from, to, create, cas_tag).is_err() {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    fn on_cas(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        if self.round.built.is_none() {
            return self.attempt(ctx);
        }
        match reply {
            KvReply::Ok => self.succeed(ctx),
            KvReply::PreconditionFailed(_) => {
                match reply.current_i64().and_then(|c| u64::try_from(c).ok()) {
                    Some(current) => {
                        self.round.phase = Phase::Resolve { current };
                        self.resolve(ctx);
                    }
                    None => self.cas_unknown(ctx),
                }
            }
            KvReply::KeyDoesNotExist => {
                self.newest = None;
                self.attempt(ctx);
            }
            reply if reply.is_definite_failure() => self.attempt(ctx),
            _ => self.cas_unknown(ctx),
        }
    }

    /// Whether our commit is in the history of the current root: exactly when the root's
    /// frontier holds our commit's sequence number (see [`super::commit`]; our next
    /// commit is not built yet, so nothing newer of ours can be there). The root may be our
    /// own commit, cached when built: a duplicated swap whose failing copy answered first.
    fn resolve(&mut self, ctx: &mut Ctx<'_>) {
        let Phase::Resolve { current } = self.round.phase else {
            return;
        };
        let Some(sequence) = self.round.built.as_ref().map(|b| b.sequence) else {
            return self.cas_unknown(ctx);
        };
        let Some(commit) = self.cache.get(current) else {
            if !self.fetch(ctx, current, self.round.epoch) {
                self.cas_unknown(ctx);
            }
            return;
        };
        let (height, ours) = (commit.height, commit.newest_of(ctx.node_index()));
        self.saw_root(current, height);
        match ours.cmp(&sequence) {
            std::cmp::Ordering::Equal => self.succeed(ctx),
            std::cmp::Ordering::Less => self.attempt(ctx), // lost: retry on the new root
            std::cmp::Ordering::Greater => {
                eprintln!("txn-list-append: root {current} holds a commit of ours we never built");
                self.cas_unknown(ctx)
            }
        }
    }

    /// The swap may or may not have happened: transactions with appends get error 13;
    /// read-only ones are retried.
    fn cas_unknown(&mut self, ctx: &mut Ctx<'_>) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        self.round.txns.retain(|t| {
            if !txn::writes(&t.ops) {
                return true;
            }
            if now.saturating_sub(t.arrived) <= deadline {
                t.to.error(ctx, ErrorCode::Crash, "lin-kv cas outcome unknown");
            }
            false
        });
        match self.round.txns.is_empty() {
            true => self.idle(ctx),
            false => self.attempt(ctx),
        }
    }

    /// Our commit is the root (or was, under later ones): answer, and push it to peers.
    fn succeed(&mut self, ctx: &mut Ctx<'_>) {
        let Some(built) = self.round.built.take() else {
            return self.attempt(ctx);
        };
        self.saw_root(built.id, built.height);
        if self.config.push {
            for peer in ctx.node_ids().to_vec() {
                if peer != ctx.node_id() {
                    ctx.send(&peer, "commit")
                        .u64("id", built.id)
                        .raw("commit", &built.bytes);
                }
            }
        }
        self.finish(ctx);
    }

    /// Answers every transaction with its completed form.
    fn finish(&mut self, ctx: &mut Ctx<'_>) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        for txn in self.round.txns.drain(..) {
            if now.saturating_sub(txn.arrived) <= deadline {
                txn.to.reply(ctx, "txn_ok").raw("txn", &txn.result);
            }
        }
        self.idle(ctx);
    }

    /// Answers every transaction with a definite error (nothing of the round committed).
    fn fail_round(&mut self, ctx: &mut Ctx<'_>, code: ErrorCode, text: &str) {
        let (now, deadline) = (ctx.now(), self.config.reply_deadline_ms);
        for txn in self.round.txns.drain(..) {
            if now.saturating_sub(txn.arrived) <= deadline {
                txn.to.error(ctx, code, text);
            }
        }
        self.idle(ctx);
    }

    fn idle(&mut self, ctx: &mut Ctx<'_>) {
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
            if missing.len() >= super::MAX_FETCHES as usize {
                break;
            }
        }
    }
    missing
}

/// Copies the current list of every key the round touches into `round.work`.
fn working_copy(cache: &Cache, base: Option<&Commit>, base_id: Option<u64>, round: &mut Round) -> Copy {
    round.work.clear();
    let Some(commit) = base else {
        return match base_id {
            Some(_) => Copy::Missing,
            None => Copy::Ready, // the empty database
        };
    };
    for op in round.txns.iter().flat_map(|t| t.ops.iter()) {
        let key = op.key();
        if round.work.contains_key(&key) {
            continue;
        }
        let Some(holder) = commit.holder(key) else {
            continue;
        };
        let list = match holder {
            _ if Some(holder) == base_id => commit.list(key),
            _ => match cache.get(holder) {
                Some(holding) => holding.list(key),
                None => return Copy::Missing,
            },
        };
        match list {
            Some(list) => round.work.insert(key, list.to_vec()),
            None => return Copy::Corrupt,
        };
    }
    Copy::Ready
}
