//! Every client request is answered within the reply budget, whatever happens to the
//! cluster. Maelstrom's client gives up after max(10 × latency, 1000) ms, and a reply to a
//! client that already gave up counts against the node (MAELSTROM.md §1.8), so an answer
//! that comes late is worse than an error in time.
//!
//! A leader that cannot reach a majority (partitioned, or deposed and not yet told) holds
//! writes, cas and reads that may never complete; a periodic check answers those whose
//! deadline passed: a read with 11 (it had no effect, so the error is definite), a write
//! or cas with 13 (its entry may still commit, through us or a later leader, so the
//! outcome is unknown). A proposal answered here is forgotten, so applying its entry
//! later answers nobody: one answer per request. Forwards are bounded by their RPC
//! timeout (the same budget) in [`super::client`].

use super::{Ctx, LinKv, Tag};
use crate::wire::ErrorCode;

impl LinKv {
    /// Makes sure a deadline check will run while any request waits here.
    pub(super) fn arm_deadline_check(&mut self, ctx: &mut Ctx<'_>) {
        if self.deadline_armed || (self.proposals.is_empty() && self.reads.is_empty()) {
            return;
        }
        self.deadline_armed = ctx.set_timer(self.config.deadline_check_ms.max(1), Tag::Deadline);
    }

    /// Answers every waiting request whose deadline passed; re-arms while any waits.
    pub(super) fn on_deadline_timer(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        // Reads queue in arrival order, so their deadlines never decrease.
        while let Some(read) = self.reads.front().copied() {
            if read.deadline > now {
                break;
            }
            self.reads.pop_front();
            read.to.error(
                ctx,
                ErrorCode::TemporarilyUnavailable,
                "no quorum confirmed this read in time",
            );
        }
        self.expired.clear();
        self.expired.extend(
            self.proposals
                .iter()
                .filter(|(_, p)| p.deadline <= now)
                .map(|(&index, _)| index),
        );
        // The map's order is not fixed; answers go out by index so runs replay exactly.
        self.expired.sort_unstable();
        for i in 0..self.expired.len() {
            let Some(proposal) = self.proposals.remove(&self.expired[i]) else {
                continue;
            };
            proposal.to.error(
                ctx,
                ErrorCode::Crash,
                "not committed in time; the operation may have happened",
            );
        }
        self.arm_deadline_check(ctx);
    }
}
