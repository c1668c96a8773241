//! Receiving a `kafka_sync` (wire shape in [`super::link`]): the peer's acknowledgements,
//! then its journal entries (appends to our replicas of its keys, answers to our
//! forwards, commits), then its forwards to us as owner (appended and journaled).
//!
//! A run of entries is applied only from the next position expected: earlier ones are
//! duplicates and skipped; a run starting later (a message before it was lost or is
//! late) is ignored whole and comes again. Entries a correct peer never sends — an
//! append for a key the sender does not own, or not at the replica's next offset — stop
//! the run and are counted ([`super::Owner::protocol_errors`]) instead of applied: a
//! replica must stay a gap-free prefix of the owner's log.

use super::super::store::{Full, KeyId};
use super::Ctx;
use super::Owner;
use super::journal::Entry;
use crate::node::{Message, RequestError};
use crate::wire::writer::write_json;
use crate::wire::{ErrorCode, Json, JsonKind};

/// Why an entry could not be applied.
enum Stop {
    /// The peer broke the protocol (logged, counted).
    Invalid(String),
    /// No room in our journal yet: the rest waits for the peer's resend.
    Backpressure,
}

impl Owner {
    pub(super) fn on_sync(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self
            .names
            .iter()
            .position(|name| name == msg.src)
            .filter(|&peer| peer != self.me)
            .ok_or_else(|| RequestError::malformed("kafka_sync from an unknown node"))?;
        let fwd_ack = msg.u64("fwd_ack")?;
        let rep_ack = msg.u64("rep_ack")?;
        let now = ctx.now();
        let released = self.take_acks(peer, fwd_ack, rep_ack, now);
        self.links[peer].last_heard = Some(now);
        self.apply_journal(ctx, peer, msg)?;
        let answered = self.apply_forwards(ctx, peer, msg)?;
        let link = &mut self.links[peer];
        if link.overdue(now, self.config.retry_ms) {
            // Heard from again while our data to it is overdue: the link healed.
            link.rewind(false);
            link.due_by(now);
        }
        if answered || released {
            link.due_by(now);
        }
        self.arm_flush(ctx);
        self.arm_maintenance(ctx);
        Ok(())
    }

    /// Applies acks no greater than what we could have sent; returns whether they
    /// released a backlog.
    fn take_acks(&mut self, peer: usize, fwd_ack: u64, rep_ack: u64, now: u64) -> bool {
        let link = &self.links[peer];
        if fwd_ack > link.queue.end() || rep_ack > self.journal.end() {
            self.protocol_error(peer, "an acknowledgement past what we sent".into());
            return false;
        }
        let released = self.links[peer].on_acks(fwd_ack, rep_ack, now);
        let lowest = self.peers().map(|p| self.links[p].rep_acked).min();
        self.journal.trim(lowest.unwrap_or(0));
        released
    }

    fn protocol_error(&mut self, peer: usize, why: String) {
        if self.protocol_errors == 0 {
            eprintln!("kafka: {} broke the sync protocol: {why}", self.names[peer]);
        }
        self.protocol_errors += 1;
    }

    /// The peer's journal run, if any: appends to replicas of its keys, answers to our
    /// forwards, commits.
    fn apply_journal(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: usize,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let Some((at, entries)) = run(msg, "rep_at", "rep")? else {
            return Ok(());
        };
        self.links[peer].owe_ack(ctx.now());
        let mut position = at;
        for entry in entries.items() {
            let expected = self.links[peer].rep_received;
            if position > expected {
                break; // a gap: this run waits for the resend of what came before
            }
            position += 1;
            if position <= expected {
                continue; // applied before
            }
            match self.apply_entry(ctx, peer, entry) {
                Ok(()) => self.links[peer].rep_received += 1,
                Err(why) => {
                    self.protocol_error(peer, why);
                    break;
                }
            }
        }
        Ok(())
    }

    fn apply_entry(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: usize,
        entry: Json<'_>,
    ) -> Result<(), String> {
        let mut items = entry.items();
        let mut next = || items.next().ok_or("a journal entry is too short");
        match next()?.as_u64() {
            Some(tag @ (0 | 1)) => {
                let name = next()?.as_str().ok_or("a key that is not a string")?;
                let offset = next()?.as_u64().ok_or("an offset that is not an integer")?;
                let message = next()?;
                let position = match tag {
                    1 => Some(
                        next()?
                            .as_u64()
                            .ok_or("a position that is not an integer")?,
                    ),
                    _ => None,
                };
                self.apply_append(peer, name, offset, message)?;
                if let Some(position) = position {
                    self.answer(ctx, peer, position, Ok(offset));
                }
            }
            Some(2) => {
                let name = next()?.as_str().ok_or("a key that is not a string")?;
                let offset = next()?.as_u64().ok_or("an offset that is not an integer")?;
                let key = self.store.intern(name).map_err(full)?;
                self.store.commit(key, offset);
            }
            Some(3) => {
                let position = next()?
                    .as_u64()
                    .ok_or("a position that is not an integer")?;
                self.answer(ctx, peer, position, Err(()));
            }
            Some(4) => {}
            _ => return Err("an unknown journal entry".into()),
        }
        Ok(())
    }

    /// Appends the owner's message at `offset` to our replica: only the owner's, and only
    /// at the replica's next offset, so the replica stays a gap-free prefix.
    fn apply_append(
        &mut self,
        peer: usize,
        name: &str,
        offset: u64,
        message: Json<'_>,
    ) -> Result<(), String> {
        if self.owner_of(name) != peer {
            return Err(format!("an append for key {name:?}, which it does not own"));
        }
        let key = self.store.intern(name).map_err(full)?;
        let log = self.store.log_mut(key).ok_or("no such key")?;
        if offset != log.len() {
            return Err(format!(
                "offset {offset} of key {name:?} is not the next ({})",
                log.len()
            ));
        }
        self.scratch.clear();
        write_json(&mut self.scratch, message);
        let appended = log.append(&self.scratch).map_err(full)?;
        assert_eq!(appended, offset, "a replica appends at the owner's offset");
        Ok(())
    }

    /// The owner stored (or refused) our forward at `position`: answers its client.
    fn answer(&mut self, ctx: &mut Ctx<'_>, peer: usize, position: u64, outcome: Result<u64, ()>) {
        let waiters = &mut self.links[peer].waiters;
        while let Some(waiter) = waiters.front().copied() {
            if waiter.position > position {
                break; // that client was already told error 13
            }
            waiters.pop_front();
            if waiter.position < position {
                continue; // cannot happen: every forward is answered in order
            }
            match outcome {
                Ok(offset) => {
                    waiter.to.reply(ctx, "send_ok").u64("offset", offset);
                }
                Err(()) => waiter.to.error(
                    ctx,
                    ErrorCode::TemporarilyUnavailable,
                    "the key's owner is full",
                ),
            }
            break;
        }
    }

    /// The peer's forwards to us as owner: sends appended and journaled with their
    /// origin, commits raised. Returns whether any send was appended (to answer at once).
    fn apply_forwards(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: usize,
        msg: &Message<'_>,
    ) -> Result<bool, RequestError> {
        let Some((at, entries)) = run(msg, "fwd_at", "fwd")? else {
            return Ok(false);
        };
        self.links[peer].owe_ack(ctx.now());
        let (mut position, mut answered) = (at, false);
        for entry in entries.items() {
            let expected = self.links[peer].fwd_received;
            if position > expected {
                break;
            }
            position += 1;
            if position <= expected {
                continue;
            }
            match self.apply_forward(ctx, peer, expected, entry) {
                Ok(sent) => answered |= sent,
                Err(Stop::Backpressure) => break,
                Err(Stop::Invalid(why)) => {
                    self.protocol_error(peer, why);
                    break;
                }
            }
            self.links[peer].fwd_received += 1;
        }
        Ok(answered)
    }

    /// One forward at `position`; returns whether it was a send.
    fn apply_forward(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: usize,
        position: u64,
        entry: Json<'_>,
    ) -> Result<bool, Stop> {
        let invalid = |why: &str| Stop::Invalid(why.to_string());
        let mut items = entry.items();
        let tag = items.next().and_then(|t| t.as_u64());
        let name = items
            .next()
            .and_then(|n| n.as_str())
            .ok_or_else(|| invalid("a forward without a key"))?;
        let value = items
            .next()
            .ok_or_else(|| invalid("a forward without a value"))?;
        if self.owner_of(name) != self.me {
            return Err(invalid("a forward for a key we do not own"));
        }
        if self.journal.room() == 0 {
            return Err(Stop::Backpressure);
        }
        match tag {
            Some(0) => {
                let entry = match self.store_forwarded(name, value) {
                    Ok((key, offset)) => Entry::Append {
                        key,
                        offset,
                        origin: Some((peer as u32, position)),
                    },
                    Err(_) => Entry::Reject {
                        peer: peer as u32,
                        position,
                    },
                };
                self.journal_append(ctx, entry);
                Ok(true)
            }
            Some(1) => {
                let offset = value
                    .as_u64()
                    .ok_or_else(|| invalid("a commit without an offset"))?;
                let key = self
                    .store
                    .intern(name)
                    .map_err(|_| invalid("too many keys"))?;
                if self.store.commit(key, offset) {
                    self.journal_append(ctx, Entry::Commit { key, offset });
                }
                Ok(false)
            }
            _ => Err(invalid("an unknown forward")),
        }
    }

    fn store_forwarded(&mut self, name: &str, value: Json<'_>) -> Result<(KeyId, u64), Full> {
        let key = self.store.intern(name)?;
        let log = self.store.log_mut(key).ok_or(Full::Keys)?;
        self.scratch.clear();
        write_json(&mut self.scratch, value);
        Ok((key, log.append(&self.scratch)?))
    }
}

/// A message's run of entries: its start position and its array, if present.
fn run<'m>(
    msg: &Message<'m>,
    at: &'static str,
    field: &'static str,
) -> Result<Option<(u64, Json<'m>)>, RequestError> {
    let Some(entries) = msg.body.get(field) else {
        return Ok(None);
    };
    if entries.kind() != JsonKind::Array {
        return Err(RequestError::malformed("sync entries must be an array"));
    }
    Ok(Some((msg.u64(at)?, entries)))
}

fn full(reason: Full) -> String {
    format!("our store is full ({reason:?})")
}
