//! Running a round's transactions: a working copy of the touched lists from the cache,
//! then either the answers (a read-only round, from a root it read) or the new commit,
//! written to lin-kv before the swap that publishes it.

use super::Ctx;
use super::commit::{Cache, Commit};
use super::round::{Built, Phase, Round};
use super::{Datomic, Tag};
use crate::node::kv::KvValue;
use crate::wire::ErrorCode;
use crate::workloads::list_append::txn::{self, MicroOp};

impl Datomic {
    /// Runs the round's transactions on the base; answers a read-only round, or writes
    /// the new commit.
    pub(super) fn execute(&mut self, ctx: &mut Ctx<'_>) {
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
            assert!(
                round.fresh,
                "a read-only round answers only from a root it read"
            );
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
    pub(super) fn build(&mut self, ctx: &mut Ctx<'_>, changed: &[u64]) {
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
        let write_tag = Tag::Write(self.round.epoch);
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
}

/// Whether every list a round touches could be copied out of the cache.
enum Copy {
    Ready,
    /// A holder commit is not cached (fetch it).
    Missing,
    /// A holder commit lacks the list its index promised.
    Corrupt,
}

/// Copies the current list of every key the round touches into `round.work`.
fn working_copy(
    cache: &Cache,
    base: Option<&Commit>,
    base_id: Option<u64>,
    round: &mut Round,
) -> Copy {
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
