//! Elections: randomized timeouts, pre-vote (§9.6 of Ongaro's thesis), votes, leader
//! stickiness and check-quorum, and the role changes they cause.
//!
//! Messages: `pre_vote {term, last_index, last_term}` → `pre_vote_ok {term, proposed,
//! granted}` (no state changes on the receiver), and `vote {term, last_index,
//! last_term}` → `vote_ok {term, granted}`.

use super::Ctx;
use super::{LinKv, Peer, Role, Tag};
use crate::node::{Message, RequestError};
use crate::wire::ErrorCode;

impl LinKv {
    /// Picks a new random election deadline and makes sure a timer will check it.
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Ctx<'_>) {
        let spread = self.config.election_spread_ms.max(1);
        let timeout = self.config.election_min_ms + ctx.rng().below(spread);
        self.election_deadline = ctx.now() + timeout;
        if !self.election_armed {
            self.election_armed = ctx.set_timer(timeout, Tag::Election);
        }
    }

    /// The election timer fired: start a pre-vote if the deadline really passed.
    pub(super) fn on_election_timer(&mut self, ctx: &mut Ctx<'_>) {
        if self.role == Role::Leader {
            return;
        }
        let now = ctx.now();
        if now < self.election_deadline {
            self.election_armed = ctx.set_timer(self.election_deadline - now, Tag::Election);
            return;
        }
        self.reset_election_timer(ctx);
        self.start_pre_vote(ctx);
    }

    /// True while a leader is known to be alive (we are it, or heard from it lately).
    fn leader_recently_heard(&self, ctx: &Ctx<'_>) -> bool {
        self.role == Role::Leader
            || (self.leader.is_some()
                && ctx.now().saturating_sub(self.leader_heard) < self.config.election_min_ms)
    }

    fn clear_grants(&mut self) {
        self.grants.iter_mut().for_each(|grant| *grant = false);
        if let Some(mine) = self.grants.get_mut(self.me) {
            *mine = true;
        }
    }

    fn won(&self) -> bool {
        self.grants.iter().filter(|&&grant| grant).count() >= self.majority()
    }

    /// Asks every peer whether it would vote for us in term + 1. Emits `pre_vote`s.
    fn start_pre_vote(&mut self, ctx: &mut Ctx<'_>) {
        self.role = Role::PreCandidate;
        self.leader = None;
        self.clear_grants();
        if self.won() {
            return self.start_election(ctx, false);
        }
        for peer in 0..self.names.len() {
            if peer != self.me {
                let name = self.names.get(peer).map_or("", String::as_str);
                ctx.send(name, "pre_vote")
                    .u64("term", self.term + 1)
                    .u64("last_index", self.log.last_index())
                    .u64("last_term", self.log.last_term());
            }
        }
    }

    /// Becomes a candidate in a new term and asks for votes. Emits `vote`s, marked
    /// `transfer: true` when the leader handed us its leadership (see [`super::placement`]).
    pub(super) fn start_election(&mut self, ctx: &mut Ctx<'_>, transfer: bool) {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.role = Role::Candidate;
        self.clear_grants();
        self.reset_election_timer(ctx);
        if self.won() {
            return self.become_leader(ctx);
        }
        for peer in 0..self.names.len() {
            if peer != self.me {
                let name = self.names.get(peer).map_or("", String::as_str);
                let mut body = ctx.send(name, "vote");
                body.u64("term", self.term)
                    .u64("last_index", self.log.last_index())
                    .u64("last_term", self.log.last_term());
                if transfer {
                    body.bool("transfer", true);
                }
            }
        }
    }

    /// `pre_vote`: grant if the proposed term is ahead of ours, the candidate's log is
    /// up to date, and no leader is alive. Emits `pre_vote_ok`.
    pub(super) fn on_pre_vote(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let proposed = super::read_term(msg)?;
        let (last_index, last_term) = (msg.u64("last_index")?, msg.u64("last_term")?);
        let granted = proposed > self.term
            && self.log.candidate_up_to_date(last_term, last_index)
            && !self.leader_recently_heard(ctx);
        ctx.send(self.name(peer), "pre_vote_ok")
            .u64("term", self.term)
            .u64("proposed", proposed)
            .bool("granted", granted);
        Ok(())
    }

    /// `pre_vote_ok`: with a majority of grants, start the real election.
    pub(super) fn on_pre_vote_ok(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        let proposed = msg.u64("proposed")?;
        if term > self.term {
            self.become_follower(ctx, term);
            return Ok(());
        }
        let granted = msg.body.get("granted").and_then(|g| g.as_bool()) == Some(true);
        if self.role == Role::PreCandidate && proposed == self.term + 1 && granted {
            if let Some(grant) = self.grants.get_mut(peer) {
                *grant = true;
            }
            if self.won() {
                self.start_election(ctx, false);
            }
        }
        Ok(())
    }

    /// `vote`: ignored while a leader is alive (stickiness), unless it is marked as a
    /// leadership transfer we honour; otherwise adopt a higher term, and grant if we have
    /// not voted for another and the candidate's log is up to date. Emits `vote_ok`.
    pub(super) fn on_vote(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        let (last_index, last_term) = (msg.u64("last_index")?, msg.u64("last_term")?);
        let transfer = msg.body.get("transfer").and_then(|t| t.as_bool()) == Some(true);
        let sticky = self.leader_recently_heard(ctx) && !(transfer && self.honours_transfer(peer));
        if term > self.term && !sticky {
            self.become_follower(ctx, term);
        }
        let free = match self.voted_for {
            None => true,
            Some(voted) => voted == peer || self.config.broken_double_vote,
        };
        let granted =
            term == self.term && free && self.log.candidate_up_to_date(last_term, last_index);
        if granted && self.voted_for.is_none() {
            self.voted_for = Some(peer);
        }
        if granted {
            self.reset_election_timer(ctx);
        }
        ctx.send(self.name(peer), "vote_ok")
            .u64("term", self.term)
            .bool("granted", granted);
        Ok(())
    }

    /// `vote_ok`: with a majority, become leader.
    pub(super) fn on_vote_ok(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        if term > self.term {
            self.become_follower(ctx, term);
            return Ok(());
        }
        let granted = msg.body.get("granted").and_then(|g| g.as_bool()) == Some(true);
        if self.role == Role::Candidate && term == self.term && granted {
            if let Some(grant) = self.grants.get_mut(peer) {
                *grant = true;
            }
            if self.won() {
                self.become_leader(ctx);
            }
        }
        Ok(())
    }

    /// Adopts `term` (forgetting the vote if it is new) and follows; a leader that steps
    /// down fails its waiting reads (code 11: a read has no effect, so it surely did not
    /// happen). Proposals stay: they are answered when their index is applied.
    pub(super) fn become_follower(&mut self, ctx: &mut Ctx<'_>, term: u64) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.leader = None;
        }
        if self.role == Role::Leader {
            self.leader = None;
            self.transfer = None;
            while let Some(read) = self.reads.pop_front() {
                read.to
                    .error(ctx, ErrorCode::TemporarilyUnavailable, "leadership lost");
            }
            self.reset_election_timer(ctx);
        }
        self.role = Role::Follower;
    }

    /// Takes the lead: resets peer bookkeeping, appends a noop of this term, sends it.
    fn become_leader(&mut self, ctx: &mut Ctx<'_>) {
        self.role = Role::Leader;
        self.leader = Some(self.me);
        self.leader_heard = ctx.now();
        self.window_start = ctx.now();
        self.entered.iter_mut().for_each(|count| *count = 0);
        debug_assert!(self.transfer.is_none());
        let next = self.log.last_index() + 1;
        for peer in &mut self.peers {
            *peer = Peer {
                next,
                heard: ctx.now(),
                ..Peer::default()
            };
        }
        self.term_start = self.log.push(super::Entry {
            term: self.term,
            op: super::Op::Noop,
        });
        if !self.heartbeat_armed {
            self.heartbeat_armed = ctx.set_timer(self.config.heartbeat_ms / 2 + 1, Tag::Heartbeat);
        }
        self.send_round(ctx);
    }

    /// Leader tick: step down without a majority heard from lately (check-quorum), else
    /// send an `append` to every follower we have been silent to for a heartbeat.
    pub(super) fn on_heartbeat_timer(&mut self, ctx: &mut Ctx<'_>) {
        if self.role != Role::Leader {
            return;
        }
        let now = ctx.now();
        let window = self.config.election_min_ms;
        let alive = (0..self.peers.len())
            .filter(|&p| p == self.me || now.saturating_sub(self.peers[p].heard) < window)
            .count();
        if alive < self.majority() {
            self.become_follower(ctx, self.term);
            return;
        }
        self.leader_heard = now;
        self.round += 1;
        for peer in 0..self.peers.len() {
            if peer != self.me
                && now.saturating_sub(self.peers[peer].sent) >= self.config.heartbeat_ms
            {
                self.send_append(ctx, peer);
            }
        }
        self.check_placement(ctx);
        self.heartbeat_armed = ctx.set_timer(self.config.heartbeat_ms / 2 + 1, Tag::Heartbeat);
    }
}
