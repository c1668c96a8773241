//! Committed offsets in lin-kv: one integer per key under `"kafka/commit/<key>"`, only ever
//! raised, by cas.
//!
//! `commit_offsets` is a gather: one cas chain per key whose committed offset this node
//! does not already know to be high enough, all in parallel, answered once every chain
//! ended. A chain's cas goes from the value last seen (or creates the key) to the target;
//! on error 22 the service's text names the current value: at or above the target the
//! chain is done, below it the next cas starts from it. `commit_offsets_ok` therefore
//! means lin-kv holds at least each offset. A cas without an answer is simply retried
//! (raising to at least the target is idempotent). A commit must not fail definitely: the
//! client has already moved its offsets past the polled messages, so a `fail` poll that
//! it keeps polling after would skip them (`poll-skip`). A chain that runs out of
//! attempts ([`COMMIT_ATTEMPTS`]) therefore gets error 13, which ends the client.
//!
//! `list_committed_offsets` reads every requested key (in parallel) and answers with what
//! it read, the local knowledge filling in for a failed read.
//!
//! In time ([`timely`]): a gather whose reply budget runs out is answered at once — a
//! commit with error 13 (some cas may have landed), a list with error 11 (a read changes
//! nothing) — and stays in the table, silent, until its requests end (their tags name its
//! slot, which must not be reused before).

use super::super::requests::{self, read_keys, read_offsets};
use super::super::store::KeyId;
use super::Ctx;
use super::{LinKvKafka, Tag};
use crate::node::kv::{KvReply, KvValue, ReplyTo};
use crate::node::{Message, Millis, RequestError};
use crate::wire::ErrorCode;
use crate::workloads::timely;

/// Cas attempts of one key's commit. Each refused cas means another node raised the
/// offset, and a lost one is retried, so a chain practically always ends well before.
pub const COMMIT_ATTEMPTS: u32 = 64;
/// Most commit and list requests in progress at once (more get error 11).
pub const MAX_GATHERS: u32 = 1024;

/// One key of a gather.
#[derive(Clone, Copy, Debug)]
struct Item {
    key: KeyId,
    /// The offset to commit (unused by a list).
    target: u64,
    attempts: u32,
    done: bool,
}

/// A commit or list request waiting for its lin-kv requests.
#[derive(Debug)]
pub struct Gather {
    to: Option<ReplyTo>,
    arrived: Millis,
    list: bool,
    items: Vec<Item>,
    /// Some item failed: the request gets error 13.
    failed: bool,
}

impl LinKvKafka {
    pub(super) fn on_commit(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let mut items = Vec::new();
        for (name, offset) in read_offsets(msg)?.entries() {
            let Some(target) = requests::offset_of(offset) else {
                continue;
            };
            let key = self.intern(name)?;
            if self.store.committed(key).is_none_or(|known| known < target) {
                items.push(Item {
                    key,
                    target,
                    attempts: 0,
                    done: false,
                });
            }
        }
        if items.is_empty() {
            drop(ctx.reply(msg, "commit_offsets_ok"));
            return Ok(());
        }
        // Error 13, never a definite one: see the module docs.
        let slot = self
            .start_gather(ctx, msg, items, false)
            .map_err(|e| RequestError::new(ErrorCode::Crash, e.text))?;
        let count = self.gathers.get_mut(slot).map_or(0, |g| g.items.len());
        for index in 0..count {
            self.commit_step(ctx, slot, index);
        }
        self.finish_if_done(ctx, slot);
        Ok(())
    }

    pub(super) fn on_list(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let mut items = Vec::new();
        for name in read_keys(msg)?.items().filter_map(|k| k.as_str()) {
            let key = self.intern(name)?;
            items.push(Item {
                key,
                target: 0,
                attempts: 0,
                done: false,
            });
        }
        let slot = self.start_gather(ctx, msg, items, true)?;
        let count = self.gathers.get_mut(slot).map_or(0, |g| g.items.len());
        for index in 0..count {
            let key = self.gathers.get_mut(slot).map(|g| g.items[index].key);
            let Some(key) = key else { break };
            super::write_kv_key(&mut self.kv_key, "kafka/commit/", self.store.name(key));
            let tag = Tag::List(slot, index);
            if self.kv.read(ctx, KvValue::Raw(&self.kv_key), tag).is_err() {
                self.item_done(slot, index, false);
            }
        }
        self.finish_if_done(ctx, slot);
        Ok(())
    }

    fn start_gather(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        items: Vec<Item>,
        list: bool,
    ) -> Result<u32, RequestError> {
        let to = ReplyTo::of(msg);
        let gather = Gather {
            to,
            arrived: ctx.now(),
            list,
            items,
            failed: false,
        };
        let slot = self.gathers.insert(gather).ok_or_else(|| {
            RequestError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many requests in progress",
            )
        })?;
        self.ticker.arm(ctx, Tag::Check);
        Ok(slot)
    }

    /// Answers every gather whose reply budget is spent (see the module docs).
    pub(super) fn expire_gathers(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        for (_, gather) in self.gathers.iter_mut() {
            if !timely::spent(now, gather.arrived) {
                continue;
            }
            let Some(to) = gather.to.take() else {
                continue;
            };
            match gather.list {
                true => to.error(
                    ctx,
                    ErrorCode::TemporarilyUnavailable,
                    "lin-kv did not answer the reads in time",
                ),
                false => to.error(
                    ctx,
                    ErrorCode::Crash,
                    "lin-kv did not confirm the committed offsets in time; some may be stored",
                ),
            }
        }
    }

    /// Sends item `index`'s next cas, or ends it out of attempts.
    fn commit_step(&mut self, ctx: &mut Ctx<'_>, slot: u32, index: usize) {
        let Some(item) = self.gathers.get_mut(slot).map(|g| g.items[index]) else {
            return;
        };
        if item.attempts >= COMMIT_ATTEMPTS {
            return self.item_done(slot, index, true);
        }
        let known = self.store.committed(item.key);
        if known.is_some_and(|known| known >= item.target) {
            // lin-kv already holds as much (learnt meanwhile): never cas it lower.
            return self.item_done(slot, index, false);
        }
        super::write_kv_key(&mut self.kv_key, "kafka/commit/", self.store.name(item.key));
        let key = KvValue::Raw(&self.kv_key);
        let (from, to) = (KvValue::U64(known.unwrap_or(0)), KvValue::U64(item.target));
        let tag = Tag::Commit(slot, index);
        match self.kv.cas(ctx, key, from, to, known.is_none(), tag) {
            Ok(()) => {
                if let Some(gather) = self.gathers.get_mut(slot) {
                    gather.items[index].attempts += 1;
                }
            }
            Err(_) => self.item_done(slot, index, true),
        }
    }

    fn item_done(&mut self, slot: u32, index: usize, failed: bool) {
        if let Some(gather) = self.gathers.get_mut(slot) {
            gather.items[index].done = true;
            gather.failed |= failed;
        }
    }

    /// A list request's read of one key's committed offset came back.
    pub(super) fn on_list_read(&mut self, slot: u32, index: usize, reply: KvReply<'_>) {
        let item = self.gathers.get_mut(slot).and_then(|g| g.items.get(index));
        let Some(key) = item.map(|i| i.key) else {
            return;
        };
        if let KvReply::Value(value) = reply
            && let Some(committed) = value.as_u64()
        {
            self.store.commit(key, committed);
        }
        self.item_done(slot, index, false);
    }

    pub(super) fn on_commit_cas(
        &mut self,
        ctx: &mut Ctx<'_>,
        slot: u32,
        index: usize,
        reply: KvReply<'_>,
    ) {
        let Some(item) = self.gathers.get_mut(slot).map(|g| g.items[index]) else {
            return;
        };
        match reply {
            KvReply::Ok => {
                self.store.commit(item.key, item.target);
                self.item_done(slot, index, false);
            }
            KvReply::PreconditionFailed(_) => {
                self.cas_failures += 1;
                match reply.current_i64().and_then(|v| u64::try_from(v).ok()) {
                    Some(current) => {
                        self.store.commit(item.key, current);
                        if current >= item.target {
                            return self.item_done(slot, index, false);
                        }
                        self.commit_step(ctx, slot, index);
                    }
                    None => self.item_done(slot, index, true),
                }
            }
            // Someone's value vanished (never, in lin-kv): try again creating the key.
            KvReply::KeyDoesNotExist => self.commit_step(ctx, slot, index),
            KvReply::Value(_) | KvReply::Error(..) | KvReply::Timeout => {
                self.commit_step(ctx, slot, index);
            }
        }
    }

    /// Answers the gather once every item is done.
    pub(super) fn finish_if_done(&mut self, ctx: &mut Ctx<'_>, slot: u32) {
        let done = self
            .gathers
            .get_mut(slot)
            .is_some_and(|g| g.items.iter().all(|item| item.done));
        let Some(gather) = done.then(|| self.gathers.remove(slot)).flatten() else {
            return;
        };
        let Some(to) = gather.to else {
            return;
        };
        if !timely::in_time(ctx.now(), gather.arrived) {
            return;
        }
        if gather.list {
            let mut body = to.reply(ctx, "list_committed_offsets_ok");
            let mut offsets = body.object("offsets");
            for item in &gather.items {
                if let Some(committed) = self.store.committed(item.key) {
                    offsets.u64(self.store.name(item.key), committed);
                }
            }
        } else {
            match gather.failed {
                false => drop(to.reply(ctx, "commit_offsets_ok")),
                true => {
                    let text = "lin-kv did not confirm every committed offset; some may be stored";
                    to.error(ctx, ErrorCode::Crash, text);
                }
            }
        }
    }
}
