//! The seq-kv g-counter's handling of each seq-kv reply (see the parent module for the
//! protocol).

use super::{
    COUNTER_KEY, Round, SeqKvCounter, TAG_CAS, TAG_REFRESH, TAG_SYNC_READ, TAG_SYNC_WRITE,
};
use crate::node::kv::{KvOp, KvReply, KvValue};
use crate::node::{Ctx, RpcReply};
use crate::workloads::g_counter::totals::{parse_current, read_array, sum};

impl SeqKvCounter {
    /// Routes a seq-kv reply to the handler of the round's request.
    pub(super) fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: u64, reply: RpcReply<'_>) {
        match (self.round, tag) {
            (Round::Cas, TAG_CAS) => self.on_cas(ctx, KvReply::decode(KvOp::Cas, reply)),
            (Round::SyncWrite, TAG_SYNC_WRITE) => {
                self.on_sync_write(ctx, KvReply::decode(KvOp::Write, reply))
            }
            (Round::SyncRead, TAG_SYNC_READ) => {
                self.on_sync_read(ctx, KvReply::decode(KvOp::Read, reply))
            }
            (Round::Refresh, TAG_REFRESH) => {
                self.on_refresh(ctx, KvReply::decode(KvOp::Read, reply))
            }
            _ => eprintln!(
                "g-counter: unexpected seq-kv reply (tag {tag}, round {:?})",
                self.round
            ),
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
        self.round = Round::Refresh;
        if self
            .kv
            .read(ctx, KvValue::Str(COUNTER_KEY), TAG_REFRESH)
            .is_err()
        {
            self.fail_round(ctx, "too many pending RPCs");
        }
    }

    fn on_sync_write(&mut self, ctx: &mut Ctx<'_>, reply: KvReply<'_>) {
        if !matches!(reply, KvReply::Ok) {
            return self.retry(ctx);
        }
        self.round = Round::SyncRead;
        if self
            .kv
            .read(ctx, KvValue::Str(COUNTER_KEY), TAG_SYNC_READ)
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
