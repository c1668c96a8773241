//! Publishing a round's commit: `cas root from=base to=commit`, deciding what a failed
//! swap means (see the parent module), and answering the round.

use super::Ctx;
use super::round::{Phase, ROOT_KEY};
use super::{Datomic, Tag};
use crate::node::kv::{KvReply, KvValue};
use crate::wire::ErrorCode;
use crate::workloads::list_append::txn;
use crate::workloads::timely;

impl Datomic {
    /// `cas root from=base to=built` (creating the root on the empty database).
    pub(super) fn swap(&mut self, ctx: &mut Ctx<'_>) {
        let Some(built) = &self.round.built else {
            return self.attempt(ctx);
        };
        let from = match self.round.base {
            Some(base) => KvValue::U64(base),
            None => KvValue::Raw(b"null"),
        };
        let (to, create) = (KvValue::U64(built.id), self.round.base.is_none());
        self.round.phase = Phase::Cas;
        let cas_tag = Tag::Cas(self.round.epoch);
        let kv = self.kv(ctx);
        if kv
            .cas(ctx, KvValue::Str(ROOT_KEY), from, to, create, cas_tag)
            .is_err()
        {
            self.fail_round(ctx, ErrorCode::TemporarilyUnavailable, "too many RPCs");
        }
    }

    pub(super) fn on_cas(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
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
    pub(super) fn resolve(&mut self, ctx: &mut Ctx<'_>) {
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
    pub(super) fn cas_unknown(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        self.round.txns.retain(|t| {
            if !txn::writes(&t.ops) {
                return true;
            }
            if !t.answered && timely::in_time(now, t.arrived) {
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
    pub(super) fn succeed(&mut self, ctx: &mut Ctx<'_>) {
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
}
