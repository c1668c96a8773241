//! Add rounds of the per-node-key g-counter: the adds waiting when a round starts are
//! summed into this node's total, which one `cas` on the node's own key writes; their
//! `add_ok`s go out once seq-kv shows the key at that total (see the parent module).

use super::Ctx;
use super::{PerNodeCounter, Tag, in_time};
use crate::node::RpcReply;
use crate::node::kv::{KvOp, KvReply, KvValue};
use crate::wire::ErrorCode;

impl PerNodeCounter {
    /// Starts a round with every waiting add, unless one is in flight or the batching
    /// window of the oldest waiting add is still open.
    pub(super) fn pump_adds(&mut self, ctx: &mut Ctx<'_>) {
        if self.cas_in_flight {
            return;
        }
        let Some(oldest) = self.adds_waiting.first() else {
            return;
        };
        let opens = oldest.arrived.saturating_add(self.config.add_batch_ms);
        if ctx.now() < opens {
            if self.batch_timer_set {
                return;
            }
            self.batch_timer_set = ctx.set_timer(opens - ctx.now(), Tag::AddBatch);
            if self.batch_timer_set {
                return;
            }
            eprintln!("g-counter: timer table full; adding without a batching window");
        }
        assert!(
            self.adds_in_round.is_empty(),
            "an add round is already open"
        );
        for op in &self.adds_waiting {
            self.wanted = self.wanted.saturating_add(op.delta);
        }
        self.target = self.wanted;
        self.adds_in_round.append(&mut self.adds_waiting);
        self.cas_attempts = 0;
        self.cas_in_flight = true;
        self.send_cas(ctx);
    }

    /// Sends `cas own-key from=durable to=wanted` (creating the key when this node has
    /// never seen it), or fails the round after its attempts.
    fn send_cas(&mut self, ctx: &mut Ctx<'_>) {
        self.cas_attempts += 1;
        if self.cas_attempts > self.config.max_attempts {
            return self.fail_adds(ctx, "seq-kv: no outcome after the round's attempts");
        }
        let durable = self.durable();
        assert!(durable < self.wanted, "a cas must raise this node's total");
        let Some(key) = self.keys.get(self.me) else {
            return self.fail_adds(ctx, "this node has no key");
        };
        let sent = self.kv.cas(
            ctx,
            KvValue::Str(key),
            KvValue::U64(durable),
            KvValue::U64(self.wanted),
            durable == 0,
            Tag::Cas,
        );
        if sent.is_err() {
            self.fail_adds(ctx, "too many pending RPCs");
        }
    }

    /// This node's total as seq-kv last acknowledged it.
    pub(super) fn durable(&self) -> u64 {
        self.view.get(self.me).copied().unwrap_or(0)
    }

    /// Takes in a total seq-kv showed for this node's key.
    fn observe_own(&mut self, total: u64) {
        if total > self.wanted {
            eprintln!(
                "g-counter: seq-kv holds {total} for this node, which added {}",
                self.wanted
            );
        }
        if let Some(own) = self.view.get_mut(self.me) {
            *own = (*own).max(total);
        }
    }

    pub(super) fn on_cas(&mut self, ctx: &mut Ctx<'_>, reply: RpcReply<'_>) {
        if !self.cas_in_flight {
            return eprintln!("g-counter: cas reply with no round open");
        }
        let reply = KvReply::decode(KvOp::Cas, reply);
        match reply {
            KvReply::Ok => self.observe_own(self.wanted),
            KvReply::PreconditionFailed(_) => match reply.current_i64() {
                Some(current) => self.observe_own(u64::try_from(current).unwrap_or(0)),
                None => eprintln!("g-counter: cas error without a readable total"),
            },
            // Missing key (cannot happen: a node that saw no total creates it), an error or
            // no reply: the cas may or may not have applied; sending it again is harmless.
            KvReply::KeyDoesNotExist
            | KvReply::Value(_)
            | KvReply::Error(..)
            | KvReply::Timeout => {}
        }
        if self.durable() >= self.target {
            self.finish_adds(ctx);
        } else {
            self.send_cas(ctx);
        }
    }

    /// Acknowledges the round's adds (now in seq-kv) and starts the next round.
    fn finish_adds(&mut self, ctx: &mut Ctx<'_>) {
        assert!(
            self.durable() >= self.target,
            "adds acknowledged before seq-kv has them"
        );
        let now = ctx.now();
        for op in self.adds_in_round.drain(..) {
            if in_time(now, op.arrived) {
                drop(op.to.reply(ctx, "add_ok"));
            }
        }
        self.cas_in_flight = false;
        self.pump_adds(ctx);
    }

    /// Gives up on the round: its adds get `crash` (indefinite: their deltas stay in
    /// `wanted`, and a later cas may apply them).
    fn fail_adds(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        let now = ctx.now();
        for op in self.adds_in_round.drain(..) {
            if in_time(now, op.arrived) {
                op.to.error(ctx, ErrorCode::Crash, text);
            }
        }
        self.cas_in_flight = false;
        self.pump_adds(ctx);
    }
}
