//! The seq-kv g-counter's handling of each seq-kv reply (see the parent module for the
//! protocol).

use super::Ctx;
use super::{COUNTER_KEY, SeqKvCounter, Tag};
use crate::node::RpcReply;
use crate::node::kv::{KvOp, KvReply, KvValue};
use crate::workloads::g_counter::totals::{parse_current, read_array, sum};

impl SeqKvCounter {
    /// Routes a seq-kv reply to the handler of the round's request.
    pub(super) fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        assert_eq!(self.round, Some(tag), "a round has one request in flight");
        match tag {
            Tag::Cas => self.on_cas(ctx, KvReply::decode(KvOp::Cas, reply)),
            Tag::SyncWrite => self.on_sync_write(ctx, KvReply::decode(KvOp::Write, reply)),
            Tag::SyncRead => self.on_sync_read(ctx, KvReply::decode(KvOp::Read, reply)),
            Tag::Refresh => self.on_refresh(ctx, KvReply::decode(KvOp::Read, reply)),
            Tag::Check => {}
        }
    }

    fn on_cas(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        match reply {
            KvReply::Ok => {
                self.cached.copy_from_slice(&self.to);
                let own = self.to.get(self.me).copied().unwrap_or(0);
                self.durable = self.durable.max(own);
                let value = sum(&self.cached);
                self.finish(ctx, value);
            }
            KvReply::PreconditionFailed(text) => {
                if parse_current(text, &mut self.scratch) {
                    self.observe_scratch();
                    self.retry(ctx);
                } else {
                    self.refresh(ctx);
                }
            }
            // Missing key (cannot happen: the cas creates it), an error or no reply: the
            // cas may or may not have applied; sending it again is harmless.
            KvReply::KeyDoesNotExist
            | KvReply::Value(_)
            | KvReply::Error(..)
            | KvReply::Timeout => self.retry(ctx),
        }
    }

    /// Re-reads the counter (only when a cas error did not name the current value).
    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        self.round = Some(Tag::Refresh);
        if self
            .kv
            .read(ctx, KvValue::Str(COUNTER_KEY), Tag::Refresh)
            .is_err()
        {
            self.fail_round(ctx, "too many pending RPCs");
        }
    }

    fn on_sync_write(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        if !matches!(reply, KvReply::Ok) {
            return self.retry(ctx);
        }
        self.round = Some(Tag::SyncRead);
        if self
            .kv
            .read(ctx, KvValue::Str(COUNTER_KEY), Tag::SyncRead)
            .is_err()
        {
            self.fail_round(ctx, "too many pending RPCs");
        }
    }

    fn on_sync_read(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        match reply {
            KvReply::Value(value) if read_array(value, &mut self.scratch) => {
                self.observe_scratch();
                let value = sum(&self.scratch);
                self.finish(ctx, value);
            }
            KvReply::Value(_) => self.fail_round(ctx, "the counter key holds no array of totals"),
            KvReply::KeyDoesNotExist => {
                let value = sum(&self.cached);
                self.finish(ctx, value);
            }
            _ => self.retry(ctx),
        }
    }

    fn on_refresh(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        if let KvReply::Value(value) = reply
            && read_array(value, &mut self.scratch)
        {
            self.observe_scratch();
        }
        self.retry(ctx);
    }
}
