//! Log replication, commit, apply, and read-index reads.
//!
//! `append {term, prev_index, prev_term, commit, round, entries}` → `append_ok {term,
//! success, match, hint, round}`. Both are fire-and-forget: the leader matches answers by
//! term and round, so loss, duplication and reordering only cost retransmissions. A
//! follower never truncates entries that agree with the leader's (an old, reordered
//! `append` cannot shorten its log), and answers `match = prev_index + entries`, which
//! is what that message proves, not its whole log.

use super::Ctx;
use super::log::{Applied, ENTRY_FIELDS};
use super::{Entry, LinKv, Role, Tag};
use crate::node::{Message, RequestError};
use crate::wire::ErrorCode;

impl LinKv {
    /// Sends the batched entries and reads after `flush_ms` (at once when 0).
    pub(super) fn schedule_flush(&mut self, ctx: &mut Ctx<'_>) {
        if self.role != Role::Leader || self.flush_armed {
            return;
        }
        if self.config.flush_ms > 0 {
            self.flush_armed = ctx.set_timer(self.config.flush_ms, Tag::Flush);
        }
        if !self.flush_armed {
            self.send_round(ctx);
        }
    }

    /// A new round: one `append` to every follower. Alone, commits and serves at once.
    pub(super) fn send_round(&mut self, ctx: &mut Ctx<'_>) {
        self.round += 1;
        for peer in 0..self.peers.len() {
            if peer != self.me {
                self.send_append(ctx, peer);
            }
        }
        self.advance_commit(ctx);
    }

    /// Emits one `append` to `peer`: entries from its next index (at most `max_batch`,
    /// and at most `max_in_flight` beyond its acknowledged index), tagged with the round.
    pub(super) fn send_append(&mut self, ctx: &mut Ctx<'_>, peer: usize) {
        let Some(state) = self.peers.get(peer).copied() else {
            return;
        };
        let last = self.log.last_index();
        let window_end = state.matched + self.config.max_in_flight;
        let batch_end = state.next + self.config.max_batch as u64 - 1;
        let to = last.min(window_end).min(batch_end);
        // With nothing to send (or the window full) the message is a heartbeat anchored
        // where it surely matches when the window is full, else just before `next`.
        let (prev, entries) = if to >= state.next {
            (state.next - 1, self.log.slice(state.next, to))
        } else if state.next > window_end {
            (state.matched, &[][..])
        } else {
            (state.next - 1, &[][..])
        };
        let prev_term = self.log.term_at(prev).unwrap_or(0);
        let name = self.names.get(peer).map_or("", String::as_str);
        let mut body = ctx.send(name, "append");
        body.u64("term", self.term)
            .u64("prev_index", prev)
            .u64("prev_term", prev_term)
            .u64("commit", self.commit)
            .u64("round", self.round);
        let mut array = body.array("entries");
        for entry in entries {
            entry.write(&mut array);
        }
        drop(array);
        drop(body);
        let sent = entries.len() as u64;
        if let Some(state) = self.peers.get_mut(peer) {
            state.sent = ctx.now();
            if sent > 0 {
                state.next = prev + sent + 1;
            }
        }
    }

    /// `append` from a leader: follow it, check the previous entry, append what is new,
    /// advance the commit index. Emits `append_ok`.
    pub(super) fn on_append(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        let (prev, prev_term) = (msg.u64("prev_index")?, msg.u64("prev_term")?);
        let (leader_commit, round) = (msg.u64("commit")?, msg.u64("round")?);
        let entries = msg.field("entries")?;
        let mut count = 0u64;
        Entry::read_all(entries, |_| count += 1)
            .ok_or_else(|| RequestError::malformed("entries must be 5-integer groups"))?;
        let reply = |ctx: &mut Ctx<'_>, me: &LinKv, success: bool, matched: u64, hint: u64| {
            ctx.send(msg.src, "append_ok")
                .u64("term", me.term)
                .bool("success", success)
                .u64("match", matched)
                .u64("hint", hint)
                .u64("round", round);
        };
        if term < self.term {
            reply(ctx, self, false, 0, 0);
            return Ok(());
        }
        if self.role == Role::Leader && term == self.term {
            eprintln!("lin-kv: two leaders in term {term} ({} and us)", msg.src);
            return Ok(());
        }
        self.become_follower(ctx, term);
        self.leader = Some(peer);
        self.leader_heard = ctx.now();
        self.reset_election_timer(ctx);
        let last = self.log.last_index();
        if prev > last {
            reply(ctx, self, false, 0, last);
            return Ok(());
        }
        if self.log.term_at(prev) != Some(prev_term) {
            reply(ctx, self, false, 0, prev.saturating_sub(1).max(self.commit));
            return Ok(());
        }
        if !self.append_entries(prev, entries) {
            eprintln!(
                "lin-kv: {} sent entries conflicting with committed ones",
                msg.src
            );
            reply(ctx, self, false, 0, self.commit);
            return Ok(());
        }
        let matched = prev + count;
        let commit = leader_commit.min(matched);
        if commit > self.commit {
            self.commit = commit;
            self.apply_committed(ctx);
        }
        reply(ctx, self, true, matched, 0);
        Ok(())
    }

    /// Appends the entries after `prev`, skipping those we hold already and dropping our
    /// suffix at the first conflict. Returns false, leaving the log as far as it got, if
    /// a conflict would touch a committed entry (only a broken peer can cause that).
    fn append_entries(&mut self, prev: u64, entries: crate::wire::Json<'_>) -> bool {
        let mut index = prev;
        let mut consistent = true;
        let (log, commit) = (&mut self.log, self.commit);
        let _ = Entry::read_all(entries, |entry| {
            index += 1;
            match log.term_at(index) {
                _ if !consistent => {}
                Some(term) if term == entry.term => {}
                Some(_) if index <= commit => consistent = false,
                Some(_) => {
                    log.truncate_after(index - 1);
                    log.push(entry);
                }
                None => {
                    log.push(entry);
                }
            }
        });
        debug_assert_eq!(ENTRY_FIELDS, 5);
        consistent
    }

    /// `append_ok` to a leader: record the ack and match, repair a gap, commit, serve.
    pub(super) fn on_append_ok(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer(msg)?;
        let term = super::read_term(msg)?;
        let round = msg.u64("round")?;
        let (matched, hint) = (msg.u64("match")?, msg.u64("hint")?);
        let success = msg.body.get("success").and_then(|s| s.as_bool()) == Some(true);
        if term > self.term {
            self.become_follower(ctx, term);
            return Ok(());
        }
        if self.role != Role::Leader || term < self.term {
            return Ok(());
        }
        let last = self.log.last_index();
        let Some(state) = self.peers.get_mut(peer) else {
            return Ok(());
        };
        state.heard = ctx.now();
        state.acked_round = state.acked_round.max(round);
        let mut resend = false;
        if success {
            state.matched = state.matched.max(matched.min(last));
            state.next = state.next.max(state.matched + 1);
            resend = state.next <= last && state.next <= state.matched + 1;
        } else if round >= state.repaired_round {
            let next = hint.saturating_add(1).max(state.matched + 1);
            if next < state.next {
                state.next = next;
                state.repaired_round = self.round + 1;
                resend = true;
            }
        }
        if resend {
            self.round += 1;
            self.send_append(ctx, peer);
        }
        self.advance_commit(ctx);
        if self.transfer.is_some_and(|t| t.target == peer) {
            self.try_timeout_now(ctx);
        }
        Ok(())
    }

    /// The largest index a majority holds, committed if it is of this term (§5.4.2).
    fn advance_commit(&mut self, ctx: &mut Ctx<'_>) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.log.last_index();
        let mut matches = [0u64; 64];
        let n = self.peers.len().min(matches.len());
        for (slot, (peer, state)) in matches.iter_mut().zip(self.peers.iter().enumerate()) {
            *slot = if peer == self.me { last } else { state.matched };
        }
        let matches = &mut matches[..n];
        matches.sort_unstable_by(|a, b| b.cmp(a));
        let majority_match = matches.get(self.majority() - 1).copied().unwrap_or(0);
        if majority_match > self.commit && self.log.term_at(majority_match) == Some(self.term) {
            self.commit = majority_match;
            self.apply_committed(ctx);
        }
        self.serve_reads(ctx);
    }

    /// Applies every committed entry; answers the proposal waiting at each index.
    fn apply_committed(&mut self, ctx: &mut Ctx<'_>) {
        while self.applied < self.commit {
            self.applied += 1;
            let Some(entry) = self.log.get(self.applied).copied() else {
                break;
            };
            let outcome = self.store.apply(entry.op);
            let Some(proposal) = self.proposals.remove(&self.applied) else {
                continue;
            };
            let to = proposal.to;
            if proposal.term != entry.term {
                // Another entry won this index, so ours can never commit.
                to.error(ctx, ErrorCode::TemporarilyUnavailable, "lost leadership");
                continue;
            }
            match (entry.op, outcome) {
                (super::Op::Write { .. }, _) => drop(to.reply(ctx, "write_ok")),
                (super::Op::Noop, _) => {}
                (_, Applied::Done) => drop(to.reply(ctx, "cas_ok")),
                (_, Applied::KeyMissing) => {
                    to.error(ctx, ErrorCode::KeyDoesNotExist, "no such key")
                }
                (super::Op::Cas { from, .. }, Applied::Mismatch(current)) => {
                    let text = format!("current value {current} is not {from}");
                    to.error(ctx, ErrorCode::PreconditionFailed, &text);
                }
            }
        }
    }

    /// The highest round a majority (us included) has answered.
    fn quorum_round(&self) -> u64 {
        let mut rounds = [0u64; 64];
        let n = self.peers.len().min(rounds.len());
        for (slot, (peer, state)) in rounds.iter_mut().zip(self.peers.iter().enumerate()) {
            *slot = if peer == self.me {
                u64::MAX
            } else {
                state.acked_round
            };
        }
        let rounds = &mut rounds[..n];
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        rounds.get(self.majority() - 1).copied().unwrap_or(0)
    }

    /// Answers the reads whose round a majority answered and whose index is applied.
    fn serve_reads(&mut self, ctx: &mut Ctx<'_>) {
        if self.role != Role::Leader || self.reads.is_empty() {
            return;
        }
        let confirmed = self.quorum_round();
        while let Some(read) = self.reads.front().copied() {
            if read.round > confirmed || read.index > self.applied {
                break;
            }
            self.reads.pop_front();
            match self.store.read(read.key) {
                Some(value) => drop(read.to.reply(ctx, "read_ok").i64("value", value)),
                None => read
                    .to
                    .error(ctx, ErrorCode::KeyDoesNotExist, "no such key"),
            }
        }
    }
}
