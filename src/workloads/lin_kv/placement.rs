//! Leadership placement: the leader moves to the node where the client requests enter.
//!
//! A request that reaches a follower costs two more messages (the forward and its
//! answer). Jepsen's clients do not spread evenly: an op goes to the first free thread at
//! or after a cursor, so the lowest thread of each group takes most ops, and those
//! threads are bound to n0. With n0 leading, about a quarter of the requests are
//! forwarded; with another leader, nearly all of them are.
//!
//! The leader counts the requests it takes by the node they entered at (itself, or the
//! follower that forwarded them). At the end of each `placement_window_ms` window, if one
//! follower brought at least `placement_min_requests` and more than `placement_ratio`
//! times what reached the leader directly, and every peer was heard from lately (no
//! partition, no election under way), the leader hands its leadership to that follower
//! (Raft thesis §3.10):
//!
//! 1. it stops accepting writes and cas (answered 11, surely not done), so its log is
//!    frozen; reads are still served;
//! 2. once the target holds the whole log it sends `timeout_now {term}`, resent every
//!    half heartbeat while the transfer lasts (loss);
//! 3. the target, if it still follows us in that term, starts an election at once,
//!    skipping pre-vote, and marks its `vote`s `transfer: true`; voters then ignore
//!    leader stickiness for that vote only (a leader only for the target of its own
//!    transfer). Votes are still granted only to an up-to-date log, one per term, so
//!    safety is Raft's own.
//!
//! The transfer is abandoned after `election_min_ms` (the leader accepts writes again),
//! and ends when the leader steps down. Ratio and minimum give hysteresis (with n0
//! leading, n0 takes ≈ 3× what each follower forwards, so leadership does not move
//! back), and a new leader waits a whole window before it may move leadership again.

use std::cmp::Reverse;

use super::{Ctx, LinKv, Role};
use crate::node::{Message, Millis, RequestError};

/// A leadership transfer under way (only ever on a leader).
#[derive(Clone, Copy, Debug)]
pub(super) struct Transfer {
    /// The follower that is to lead.
    pub(super) target: usize,
    /// The log's last index when the transfer began: nothing is appended during it.
    pub(super) last_index: u64,
    /// The transfer is abandoned at this time.
    pub(super) deadline: Millis,
    /// When `timeout_now` was last sent.
    pub(super) sent: Option<Millis>,
}

impl LinKv {
    /// Counts a client request this leader takes, by the node it entered at.
    pub(super) fn count_entry(&mut self, node: usize) {
        if let Some(count) = self.entered.get_mut(node) {
            *count += 1;
        }
    }

    /// True while a transfer is under way (writes are then refused); abandons one whose
    /// deadline passed.
    pub(super) fn transferring(&mut self, now: Millis) -> bool {
        match self.transfer {
            Some(transfer) if now >= transfer.deadline => {
                self.transfer = None;
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Leader tick, after check-quorum: resends `timeout_now` during a transfer; at the
    /// end of a placement window, starts a transfer if a follower clearly brings more
    /// requests than reach us.
    pub(super) fn check_placement(&mut self, ctx: &mut Ctx<'_>) {
        debug_assert!(self.role == Role::Leader);
        let now = ctx.now();
        if self.transferring(now) {
            self.try_timeout_now(ctx);
            return;
        }
        let window = self.config.placement_window_ms;
        if window == 0 || now.saturating_sub(self.window_start) < window {
            return;
        }
        self.window_start = now;
        let mine = self.entered.get(self.me).copied().unwrap_or(0);
        let best = (0..self.entered.len())
            .filter(|&node| node != self.me)
            .max_by_key(|&node| (self.entered[node], Reverse(node)));
        let theirs = best.map_or(0, |node| self.entered[node]);
        self.entered.iter_mut().for_each(|count| *count = 0);
        let Some(target) = best else {
            return;
        };
        if theirs < self.config.placement_min_requests
            || theirs <= mine.saturating_mul(self.config.placement_ratio)
        {
            return;
        }
        let fresh = self.config.heartbeat_ms.saturating_mul(2);
        let healthy = (0..self.peers.len())
            .all(|peer| peer == self.me || now.saturating_sub(self.peers[peer].heard) < fresh);
        if !healthy {
            return;
        }
        assert!(target != self.me && target < self.peers.len());
        self.transfer = Some(Transfer {
            target,
            last_index: self.log.last_index(),
            deadline: now.saturating_add(self.config.election_min_ms),
            sent: None,
        });
        // Send what is batched now, so the target can catch up within a round trip.
        self.send_round(ctx);
        self.try_timeout_now(ctx);
    }

    /// During a transfer: sends `timeout_now` once the target holds our whole log (again
    /// half a heartbeat after the last one, in case it was lost).
    pub(super) fn try_timeout_now(&mut self, ctx: &mut Ctx<'_>) {
        let Some(mut transfer) = self.transfer else {
            return;
        };
        let now = ctx.now();
        let last = self.log.last_index();
        let matched = self
            .peers
            .get(transfer.target)
            .map_or(0, |peer| peer.matched);
        let resend = self.config.heartbeat_ms / 2;
        if matched < last
            || transfer
                .sent
                .is_some_and(|at| now.saturating_sub(at) < resend)
        {
            return;
        }
        // The target may only be told to stand once it holds everything we ever appended.
        assert!(
            self.role == Role::Leader,
            "a transfer outlived its leadership"
        );
        assert_eq!(
            last, transfer.last_index,
            "an entry was appended during a transfer"
        );
        assert_eq!(matched, last, "the transfer target is not caught up");
        if transfer.sent.is_none() {
            self.transfers += 1;
        }
        transfer.sent = Some(now);
        self.transfer = Some(transfer);
        ctx.send(self.name(transfer.target), "timeout_now")
            .u64("term", self.term);
    }

    /// `timeout_now` from the leader we follow in this term: start an election at once,
    /// without pre-vote, with votes marked as a transfer. Stale or duplicated ones (another
    /// term, another leader, or we already stand) are ignored.
    pub(super) fn on_timeout_now(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        if term != self.term || self.role != Role::Follower || self.leader != Some(peer) {
            return Ok(());
        }
        self.start_election(ctx, true);
        assert!(
            self.term == term + 1,
            "a transfer election must be for the next term"
        );
        assert!(matches!(self.role, Role::Candidate | Role::Leader));
        Ok(())
    }

    /// Whether a `vote` from `candidate` marked as a transfer may ignore leader
    /// stickiness here: on a leader only when it is handing leadership to that candidate.
    pub(super) fn honours_transfer(&self, candidate: usize) -> bool {
        self.role != Role::Leader || self.transfer.is_some_and(|t| t.target == candidate)
    }
}
