//! Refreshing the per-node-key g-counter's view: a `write` of a fresh number to this
//! node's sentinel key (state-changing, so seq-kv moves this node to its newest state),
//! then a `read` of every other node's key, all answered from that state or a later one.
//! The view is then fresh as of the moment the write was sent (see the parent module).

use super::Ctx;
use super::{PerNodeCounter, Refresh, Tag, in_time};
use crate::node::RpcReply;
use crate::node::kv::{KvOp, KvReply, KvValue};
use crate::wire::ErrorCode;

impl PerNodeCounter {
    /// Starts a refresh for the waiting reads, unless one is in flight.
    pub(super) fn start_refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.refresh != Refresh::Idle || self.reads_waiting.is_empty() {
            return;
        }
        self.refresh_attempts = 0;
        self.refresh_generation += 1;
        self.send_sentinel(ctx);
    }

    /// Counts one request of the refresh; false (and the reads failed) past the limit.
    fn attempt(&mut self, ctx: &mut Ctx<'_>) -> bool {
        self.refresh_attempts += 1;
        if self.refresh_attempts > self.config.max_attempts {
            self.fail_reads(ctx, "seq-kv: no outcome after the refresh's attempts");
            return false;
        }
        true
    }

    fn send_sentinel(&mut self, ctx: &mut Ctx<'_>) {
        if !self.attempt(ctx) {
            return;
        }
        self.sync_sequence += 1;
        self.refresh = Refresh::Sentinel;
        self.refresh_sent_at = ctx.now();
        let sent = self.kv.write(
            ctx,
            KvValue::Str(&self.sentinel),
            KvValue::U64(self.sync_sequence),
            Tag::Sentinel(self.refresh_generation),
        );
        if sent.is_err() {
            self.fail_reads(ctx, "too many pending RPCs");
        }
    }

    pub(super) fn on_sentinel(&mut self, ctx: &mut Ctx<'_>, generation: u64, reply: RpcReply<'_>) {
        if self.refresh != Refresh::Sentinel || generation != self.refresh_generation {
            return; // an abandoned refresh's reply
        }
        if !matches!(KvReply::decode(KvOp::Write, reply), KvReply::Ok) {
            return self.send_sentinel(ctx);
        }
        self.refresh = Refresh::Reads;
        for (index, left) in self.reads_left.iter_mut().enumerate() {
            *left = index != self.me;
        }
        for index in 0..self.keys.len() {
            if index != self.me && !self.send_key_read(ctx, index) {
                return;
            }
        }
        self.complete_if_read_all(ctx);
    }

    /// Reads node `index`'s key; false (and the reads failed) when it cannot be sent.
    fn send_key_read(&mut self, ctx: &mut Ctx<'_>, index: usize) -> bool {
        if !self.attempt(ctx) {
            return false;
        }
        let Some(key) = self.keys.get(index) else {
            self.fail_reads(ctx, "no such node");
            return false;
        };
        let generation = self.refresh_generation;
        let tag = Tag::KeyRead(generation, index);
        if self.kv.read(ctx, KvValue::Str(key), tag).is_err() {
            self.fail_reads(ctx, "too many pending RPCs");
            return false;
        }
        true
    }

    pub(super) fn on_key_read(
        &mut self,
        ctx: &mut Ctx<'_>,
        generation: u64,
        index: usize,
        reply: RpcReply<'_>,
    ) {
        let current = self.refresh == Refresh::Reads
            && generation == self.refresh_generation
            && self.reads_left.get(index) == Some(&true);
        if !current {
            return; // an abandoned refresh's reply
        }
        match KvReply::decode(KvOp::Read, reply) {
            KvReply::Value(value) => match (value.as_u64(), self.view.get_mut(index)) {
                (Some(total), Some(seen)) => *seen = (*seen).max(total),
                _ => return self.fail_reads(ctx, "a counter key holds no total"),
            },
            KvReply::KeyDoesNotExist => {} // that node has added nothing yet
            _ => {
                self.send_key_read(ctx, index);
                return;
            }
        }
        if let Some(left) = self.reads_left.get_mut(index) {
            *left = false;
        }
        self.complete_if_read_all(ctx);
    }

    /// Once every key is read: the view is fresh as of the sentinel write; answers the
    /// waiting reads it is fresh enough for, and refreshes again for any others.
    fn complete_if_read_all(&mut self, ctx: &mut Ctx<'_>) {
        if self.reads_left.contains(&true) {
            return;
        }
        self.refresh = Refresh::Idle;
        self.fresh_at = Some(self.refresh_sent_at);
        let (now, value) = (ctx.now(), self.value());
        let (fresh_at, stale_ms) = (self.refresh_sent_at, self.config.stale_ms);
        self.reads_waiting.retain(|op| {
            if fresh_at.saturating_add(stale_ms) < op.arrived {
                return true; // arrived too long after the write: needs a newer view
            }
            if in_time(now, op.arrived) {
                op.to.reply(ctx, "read_ok").u64("value", value);
            }
            false
        });
        self.start_refresh(ctx);
    }

    /// Gives up on the refresh: the waiting reads get a definite error 11.
    fn fail_reads(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        let now = ctx.now();
        for op in self.reads_waiting.drain(..) {
            if in_time(now, op.arrived) {
                op.to.error(ctx, ErrorCode::TemporarilyUnavailable, text);
            }
        }
        self.refresh = Refresh::Idle;
    }
}
