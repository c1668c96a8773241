//! Sends in the lin-kv strategy: batched appends by cas, each exactly once.
//!
//! The lin-kv value of a key is `[[tag, msg], …]`. Per key and node one batch is in
//! progress: the sends waiting when it started, all tagged with a tag unique to the batch.
//! Its cas goes from the log as this node last saw it to that log plus the batch, and
//! creates the key if the copy is empty. Then:
//!
//! * `cas_ok`: the batch holds offsets `len(from)…`; each send is answered with its own.
//! * error 22 (the log moved on), or no answer: read the log. If it holds the batch's tag,
//!   some attempt succeeded (a lost reply, a duplicated request): answer from where the
//!   tag sits. If not, retry from the log just read.
//!
//! Exactly once: an attempt can only succeed while lin-kv's log equals its `from`, and the
//! log only grows, so once the log is seen without the tag and different from an attempt's
//! `from`, that attempt can never succeed; a retry is sent only from such a fresh read (or
//! from the same `from`, when the read failed — and then at most one of the two matches).
//! After `attempts` tries the batch fails: error 11 when no attempt can still succeed
//! (every one was refused, or its `from` is gone), error 13 when the last one might.
//!
//! In time ([`timely`]): a send whose reply budget runs out gets error 13 if its batch has
//! started (an attempt may have landed or still land) and error 11 if it is still waiting
//! (no cas ever carried it; it is dropped, so none ever will). A batch whose every send was
//! answered that way is abandoned at its next step instead of retried: nobody waits for it,
//! and the sends behind it should not.

use super::super::requests::{MAX_MESSAGE_BYTES, read_send};
use super::super::store::KeyId;
use super::Ctx;
use super::{KeyState, LinKvKafka, Phase, Tag, write_kv_key};
use crate::node::kv::{KvReply, KvValue, ReplyTo};
use crate::node::{Message, Millis, RequestError};
use crate::wire::ErrorCode;
use crate::workloads::timely;

/// Most sends waiting on one key.
pub const MAX_WAITING_PER_KEY: usize = 1024;
/// Most bytes of one key's log kept in lin-kv (a cas carries it twice).
pub const MAX_LOG_BYTES: usize = 4 * MAX_MESSAGE_BYTES;

/// A send waiting for its cas.
#[derive(Clone, Copy, Debug)]
pub(super) struct Send {
    to: Option<ReplyTo>,
    arrived: Millis,
    /// Where its message ends in the key's `waiting_bytes`.
    end: usize,
}

/// The batch being appended.
#[derive(Clone, Copy, Debug)]
pub(super) struct Batch {
    tag: u64,
    /// How many of the waiting sends it holds.
    count: usize,
    attempts: u32,
    /// The local log's length when the last attempt was sent (its `from`).
    from_len: u64,
    /// The last attempt's outcome is unknown (no answer).
    unknown: bool,
}

impl LinKvKafka {
    pub(super) fn on_send(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let name = read_send(msg, &mut self.scratch)?;
        let to = ReplyTo::for_request(msg)?;
        let key = self.intern(name)?;
        let state = &mut self.keys[key as usize];
        let bytes =
            self.store.log(key).heap_bytes() + state.waiting_bytes.len() + self.scratch.len();
        if state.waiting.len() >= MAX_WAITING_PER_KEY || bytes > MAX_LOG_BYTES {
            let text = "the key has too many sends waiting or too long a log";
            return Err(RequestError::new(ErrorCode::TemporarilyUnavailable, text));
        }
        state.waiting_bytes.extend_from_slice(&self.scratch);
        let end = state.waiting_bytes.len();
        state.waiting.push_back(Send {
            to,
            arrived: ctx.now(),
            end,
        });
        self.ticker.arm(ctx, Tag::Check);
        self.pump(ctx, key);
        Ok(())
    }

    /// Sends the key's batch's next cas (starting a batch with every waiting send if none
    /// is in progress), unless a request for the key is in flight.
    pub(super) fn pump(&mut self, ctx: &mut Ctx<'_>, key: KeyId) {
        let state = &mut self.keys[key as usize];
        if state.phase != Phase::Idle || state.waiting.is_empty() {
            return;
        }
        if let Some(batch) = state.batch
            && batch.attempts > 0
            && state
                .waiting
                .iter()
                .take(batch.count)
                .all(|s| s.to.is_none())
        {
            // Every send of it was answered already (error 13): abandon it.
            state.batch = None;
            remove_range(state, 0, batch.count);
            return self.pump(ctx, key);
        }
        let tag = &mut self.next_tag;
        let batch = state.batch.get_or_insert_with(|| {
            *tag += 1;
            Batch {
                tag: *tag,
                count: state.waiting.len(),
                attempts: 0,
                from_len: 0,
                unknown: false,
            }
        });
        if batch.attempts >= self.config.attempts {
            let (code, text) = match batch.unknown {
                true => (
                    ErrorCode::Crash,
                    "lin-kv did not confirm the append; it may have happened",
                ),
                false => (
                    ErrorCode::TemporarilyUnavailable,
                    "lin-kv contention: every cas failed",
                ),
            };
            let count = batch.count;
            self.fail(ctx, key, count, code, text);
            return self.pump(ctx, key);
        }
        batch.attempts += 1;
        batch.from_len = self.store.log(key).len();
        let batch = *batch;
        self.write_cas_values(key, batch);
        write_kv_key(&mut self.kv_key, "kafka/log/", self.store.name(key));
        let (k, from, to) = (
            KvValue::Raw(&self.kv_key),
            KvValue::Raw(&self.from),
            KvValue::Raw(&self.to),
        );
        let create = batch.from_len == 0;
        match self.kv.cas(ctx, k, from, to, create, Tag::Cas(key)) {
            Ok(()) => self.keys[key as usize].phase = Phase::Cas,
            Err(_) => {
                let text = "too many lin-kv requests in flight";
                self.fail(
                    ctx,
                    key,
                    batch.count,
                    ErrorCode::TemporarilyUnavailable,
                    text,
                );
            }
        }
    }

    /// `from` = the local log as `[[tag,msg],…]`; `to` = that plus the batch.
    fn write_cas_values(&mut self, key: KeyId, batch: Batch) {
        let (log, state) = (self.store.log(key), &self.keys[key as usize]);
        self.from.clear();
        self.from.push(b'[');
        for (offset, tag) in state.tags.iter().enumerate() {
            let message = log.get(offset as u64).unwrap_or(b"null");
            push_pair(&mut self.from, *tag, message);
        }
        self.to.clear();
        self.to.extend_from_slice(&self.from);
        self.from.push(b']');
        let mut start = 0;
        for send in state.waiting.iter().take(batch.count) {
            push_pair(
                &mut self.to,
                batch.tag,
                &state.waiting_bytes[start..send.end],
            );
            start = send.end;
        }
        self.to.push(b']');
    }

    pub(super) fn on_cas(&mut self, ctx: &mut Ctx<'_>, key: KeyId, reply: KvReply<'_>) {
        let state = &mut self.keys[key as usize];
        assert_eq!(state.phase, Phase::Cas, "one request per key");
        state.phase = Phase::Idle;
        let Some(batch) = state.batch.as_mut() else {
            return;
        };
        match reply {
            KvReply::Ok => {
                let offset = batch.from_len;
                self.appended(ctx, key, offset);
            }
            KvReply::PreconditionFailed(_) | KvReply::KeyDoesNotExist => {
                self.cas_failures += 1;
                batch.unknown = false;
                self.read_log(ctx, key);
            }
            KvReply::Value(_) | KvReply::Error(..) | KvReply::Timeout => {
                batch.unknown = true;
                self.read_log(ctx, key);
            }
        }
    }

    /// After a read: the batch succeeded if its tag is in the log; else it is retried
    /// (and the last attempt, whose `from` the log has left, can no longer succeed).
    pub(super) fn settle(&mut self, ctx: &mut Ctx<'_>, key: KeyId) {
        let state = &mut self.keys[key as usize];
        let Some(batch) = state.batch.as_mut() else {
            return self.pump(ctx, key);
        };
        if let Some(at) = state.tags.iter().position(|&tag| tag == batch.tag) {
            return self.appended(ctx, key, at as u64);
        }
        if state.tags.len() as u64 != batch.from_len {
            batch.unknown = false;
        }
        self.pump(ctx, key);
    }

    /// The batch is in lin-kv from `offset` on: copy it to the local log if the copy does
    /// not have it yet, and answer each send with its offset.
    fn appended(&mut self, ctx: &mut Ctx<'_>, key: KeyId, offset: u64) {
        let now = ctx.now();
        let state = &mut self.keys[key as usize];
        let Some(batch) = state.batch.take() else {
            return;
        };
        let Some(log) = self.store.log_mut(key) else {
            return;
        };
        let mut start = 0;
        for (index, send) in state.waiting.iter().take(batch.count).enumerate() {
            let message = &state.waiting_bytes[start..send.end];
            start = send.end;
            let at = offset + index as u64;
            if at == log.len() && log.append(message).is_ok() {
                state.tags.push(batch.tag);
            }
            debug_assert_eq!(
                state.tags.get(at as usize),
                Some(&batch.tag),
                "batch in the copy"
            );
            if let Some(to) = send.to.filter(|_| timely::in_time(now, send.arrived)) {
                to.reply(ctx, "send_ok").u64("offset", at);
            }
        }
        remove_range(state, 0, batch.count);
        self.pump(ctx, key);
    }

    /// Answers the first `count` waiting sends of `key` with an error and drops them.
    fn fail(&mut self, ctx: &mut Ctx<'_>, key: KeyId, count: usize, code: ErrorCode, text: &str) {
        let now = ctx.now();
        let state = &mut self.keys[key as usize];
        for send in state.waiting.iter().take(count) {
            if let Some(to) = send.to.filter(|_| timely::in_time(now, send.arrived)) {
                to.error(ctx, code, text);
            }
        }
        state.batch = None;
        remove_range(state, 0, count);
    }

    /// Answers `key`'s sends whose reply budget is spent: error 13 for those in the batch
    /// (kept, their reply address taken), error 11 for those not yet in any cas (dropped).
    pub(super) fn expire_sends(&mut self, ctx: &mut Ctx<'_>, key: KeyId) {
        let now = ctx.now();
        let state = &mut self.keys[key as usize];
        let in_batch = state.batch.map_or(0, |b| b.count);
        for send in state.waiting.iter_mut().take(in_batch) {
            if timely::spent(now, send.arrived)
                && let Some(to) = send.to.take()
            {
                let text = "lin-kv has not confirmed the append in time; it may still happen";
                to.error(ctx, ErrorCode::Crash, text);
            }
        }
        // Arrival order: the spent ones not yet in a batch are the first after it.
        let spent = state
            .waiting
            .iter()
            .skip(in_batch)
            .take_while(|s| timely::spent(now, s.arrived))
            .count();
        for send in state.waiting.iter_mut().skip(in_batch).take(spent) {
            if let Some(to) = send.to.take() {
                let text = "the key's earlier appends took too long; this one was not made";
                to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
            }
        }
        remove_range(state, in_batch, spent);
    }
}

/// Appends `[tag,message]` (with a comma unless it is the array's first item).
fn push_pair(out: &mut Vec<u8>, tag: u64, message: &[u8]) {
    if out.last() != Some(&b'[') {
        out.push(b',');
    }
    out.push(b'[');
    crate::wire::writer::write_u64(out, tag);
    out.push(b',');
    out.extend_from_slice(message);
    out.push(b']');
}

/// Drops `count` waiting sends from index `start` on, with their bytes (after they were
/// answered).
fn remove_range(state: &mut KeyState, start: usize, count: usize) {
    let start = start.min(state.waiting.len());
    let count = count.min(state.waiting.len() - start);
    if count == 0 {
        return;
    }
    let from = match start {
        0 => 0,
        _ => state.waiting[start - 1].end,
    };
    let to = state.waiting[start + count - 1].end;
    state.waiting.drain(start..start + count);
    state.waiting_bytes.drain(from..to);
    for send in state.waiting.iter_mut().skip(start) {
        send.end -= to - from;
    }
    debug_assert_eq!(
        state.waiting.back().map_or(0, |s| s.end),
        state.waiting_bytes.len(),
        "waiting bytes match the sends"
    );
}
