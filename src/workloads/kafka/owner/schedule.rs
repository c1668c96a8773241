//! When the owner strategy sends: per-link batching deadlines ([`Tag::Flush`]), and the
//! periodic maintenance ([`Tag::Maintenance`]): resends with backoff, lone acknowledgements,
//! and error 13 for forwarded sends the owner did not confirm in time.

use super::Ctx;
use super::link::{Data, Link};
use super::{Owner, Tag};
use crate::wire::ErrorCode;

impl Owner {
    /// Sends everything unsent to `peer`, in as many messages as it takes.
    pub(super) fn flush_peer(&mut self, ctx: &mut Ctx<'_>, peer: usize) {
        let data = Data {
            store: &self.store,
            journal: &self.journal,
            batch: self.config.batch,
        };
        let Some(link) = self.links.get_mut(peer) else {
            return;
        };
        let name = self.names[peer].as_str();
        while link.send(ctx, name, peer as u32, data) {}
        assert!(!link.has_unsent(data.journal), "a flush sends every entry");
    }

    /// Sends one message to `peer` (a resend starts from the acknowledged positions).
    pub(super) fn send_once(&mut self, ctx: &mut Ctx<'_>, peer: usize) {
        let data = Data {
            store: &self.store,
            journal: &self.journal,
            batch: self.config.batch,
        };
        if let Some(link) = self.links.get_mut(peer) {
            link.send(ctx, &self.names[peer], peer as u32, data);
        }
    }

    pub(super) fn flush_due(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        for peer in self.peers() {
            if self.links[peer].due.is_some_and(|due| due <= now) {
                self.flush_peer(ctx, peer);
            }
        }
    }

    /// Arms [`Tag::Flush`] for the earliest due link, unless an earlier timer is armed.
    pub(super) fn arm_flush(&mut self, ctx: &mut Ctx<'_>) {
        let Some(due) = self.links.iter().filter_map(|l| l.due).min() else {
            return;
        };
        if self.flush_at.is_some_and(|armed| armed <= due) {
            return;
        }
        if ctx.set_timer(due.saturating_sub(ctx.now()), Tag::Flush) {
            self.flush_at = Some(due);
        } else {
            self.flush_due(ctx); // timer table full: better early than never
        }
    }

    /// Resends, lone acks and give-ups. Re-arms itself while anything is pending.
    pub(super) fn maintain(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let c = self.config;
        for peer in self.peers() {
            self.give_up_waiters(ctx, peer);
            let link = &mut self.links[peer];
            if link.maintenance_due(now, c.ack_ms, c.retry_ms, c.retry_max_ms) {
                if link.overdue(now, c.retry_ms) {
                    link.rewind(true);
                }
                self.send_once(ctx, peer);
            }
        }
        self.arm_maintenance(ctx);
    }

    /// Answers error 13 to clients whose forwarded send waited `give-up` ms: the owner
    /// may still store it, so the outcome is unknown.
    fn give_up_waiters(&mut self, ctx: &mut Ctx<'_>, peer: usize) {
        let now = ctx.now();
        let waiters = &mut self.links[peer].waiters;
        while let Some(waiter) = waiters.front() {
            if now.saturating_sub(waiter.arrived) < self.config.give_up_ms {
                break;
            }
            let text = "the key's owner did not confirm the send in time; it may still happen";
            waiter.to.error(ctx, ErrorCode::Crash, text);
            waiters.pop_front();
        }
    }

    pub(super) fn arm_maintenance(&mut self, ctx: &mut Ctx<'_>) {
        let busy = |l: &Link| l.in_flight() || l.ack_owed() || !l.waiters.is_empty();
        if self.maintenance_armed || !self.links.iter().any(busy) {
            return;
        }
        let c = self.config;
        let shortest = c.ack_ms.min(c.retry_ms).min(c.give_up_ms).min(c.suspect_ms);
        self.maintenance_armed = ctx.set_timer((shortest / 4).clamp(5, 250), Tag::Maintenance);
    }
}
