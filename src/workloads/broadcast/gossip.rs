//! One directed link's reliability state: values the peer has not confirmed, sequence
//! numbers, and the acknowledgement we owe it.
//!
//! The protocol, per ordered pair of nodes (me → peer):
//!
//! * `pending` holds every value queued for the peer and not yet acknowledged, oldest
//!   first. Each gossip message carries the first `batch` of them — new ones and any still
//!   unacknowledged — so a lost message is repaired by the next one at no extra message
//!   cost; only bytes are repeated.
//! * Each message with values has a fresh `seq`; we remember where in `pending` it ended.
//!   The peer reports the highest `seq` it received as `ack` on whatever it next sends us
//!   (piggybacked), or alone after `ack` ms if it has nothing to send. An ack for `seq`
//!   proves everything up to that message's end arrived, because every message carries a
//!   prefix of `pending` and entries leave `pending` only from the front.
//! * If nothing was sent to the peer for the retry delay while values are in flight, we
//!   resend (backoff doubling up to `retry-max`). Partitions only drop messages, so this
//!   is what heals them.
//!
//! Wire shape: `{"type":"gossip","seq":S,"ack":A,"values":[…]}` (plus `"grid":<ms late>` on
//! a hub's periodic send) with no `msg_id` (nobody replies); `seq` is 0 on a message that
//! carries only an ack.

use std::collections::VecDeque;

use crate::node::{Ctx, Millis};

/// Most values queued for one peer; beyond this a value is not queued for that peer (and a
/// stderr line says so). 2 MiB of u64 per link.
pub const MAX_PENDING: usize = 1 << 18;
/// Sends remembered for matching acks; an ack for an older send is ignored (a later ack
/// will cover it, since acks are cumulative).
const SENDS_REMEMBERED: usize = 64;

/// State of the link from this node to one peer.
#[derive(Clone, Debug)]
pub struct Link {
    /// Unacknowledged values, oldest first.
    pending: VecDeque<u64>,
    /// Absolute position (values ever dequeued) of `pending[0]`.
    base: u64,
    /// Absolute end of the last send: positions below it are in flight.
    sent_end: u64,
    next_seq: u64,
    /// `(seq, absolute end)` of recent sends, indexed by `seq % SENDS_REMEMBERED`.
    sends: [(u64, u64); SENDS_REMEMBERED],
    last_sent: Millis,
    attempts: u32,
    /// Highest seq received from the peer.
    received: u64,
    /// Since when we owe the peer an ack for `received`.
    ack_owed_since: Option<Millis>,
    overflow_reported: bool,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            pending: VecDeque::with_capacity(1024),
            base: 0,
            sent_end: 0,
            next_seq: 1,
            sends: [(0, 0); SENDS_REMEMBERED],
            last_sent: 0,
            attempts: 0,
            received: 0,
            ack_owed_since: None,
            overflow_reported: false,
        }
    }
}

impl Link {
    /// Queues `value` for the peer.
    pub fn queue(&mut self, value: u64) {
        if self.pending.len() >= MAX_PENDING {
            if !self.overflow_reported {
                eprintln!(
                    "broadcast: more than {MAX_PENDING} values unacknowledged by one peer; not queueing more"
                );
                self.overflow_reported = true;
            }
            return;
        }
        self.pending.push_back(value);
    }

    /// Values queued but never sent.
    pub fn has_unsent(&self) -> bool {
        self.base + self.pending.len() as u64 > self.sent_end
    }

    /// Values sent but not acknowledged.
    pub fn in_flight(&self) -> bool {
        self.sent_end > self.base
    }

    /// Whether we owe the peer an ack.
    pub fn ack_owed(&self) -> bool {
        self.ack_owed_since.is_some()
    }

    /// Number of values the peer has not acknowledged.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The peer received our message `seq` and everything before it in `pending`.
    pub fn on_ack(&mut self, seq: u64) {
        let (sent_seq, end) = self.sends[seq as usize % SENDS_REMEMBERED];
        if seq == 0 || sent_seq != seq || end <= self.base {
            return;
        }
        let acknowledged = (end - self.base) as usize;
        debug_assert!(
            acknowledged <= self.pending.len(),
            "an ack past what was sent"
        );
        self.pending.drain(..acknowledged.min(self.pending.len()));
        self.base = end;
        self.attempts = 0;
    }

    /// The peer sent us message `seq` (0: an ack-only message, nothing to acknowledge).
    pub fn on_received(&mut self, seq: u64, now: Millis) {
        if seq == 0 {
            return;
        }
        self.received = self.received.max(seq);
        self.ack_owed_since.get_or_insert(now);
    }

    /// Values in flight for at least `retry_ms` without an ack (probably lost).
    pub fn overdue(&self, now: Millis, retry_ms: u64) -> bool {
        self.in_flight() && now.saturating_sub(self.last_sent) >= retry_ms
    }

    /// The peer is reachable again: restart the retransmit backoff.
    pub fn revive(&mut self) {
        self.attempts = 0;
    }

    /// Whether a resend (values in flight, silence for the backoff) or a lone ack is due.
    pub fn maintenance_due(
        &self,
        now: Millis,
        ack_ms: u64,
        retry_ms: u64,
        retry_max_ms: u64,
    ) -> bool {
        let backoff = retry_ms
            .saturating_mul(1 << self.attempts.min(16))
            .min(retry_max_ms);
        let retry = self.in_flight() && now.saturating_sub(self.last_sent) >= backoff;
        let ack = self
            .ack_owed_since
            .is_some_and(|since| now.saturating_sub(since) >= ack_ms);
        retry || ack
    }

    /// The next send is a retransmit made by the maintenance timer: back off further.
    pub fn note_retry(&mut self) {
        if self.in_flight() {
            self.attempts = self.attempts.saturating_add(1);
        }
    }

    /// Sends one gossip message to `dest`: the first `batch` pending values (if any) and
    /// our ack; `grid` is set on a send made on a [`super::Flush::Period`] tick, with how
    /// many ms after the nominal tick it went out (aligned leaves time their sends from
    /// those). Emits exactly one `gossip` message.
    pub fn send(&mut self, ctx: &mut Ctx<'_>, dest: &str, batch: usize, grid: Option<u64>) {
        let now = ctx.now();
        let count = self.pending.len().min(batch);
        let seq = if count > 0 { self.next_seq } else { 0 };
        {
            let mut body = ctx.send(dest, "gossip");
            body.u64("seq", seq).u64("ack", self.received);
            if let Some(late) = grid {
                body.u64("grid", late);
            }
            let mut values = body.array("values");
            for &value in self.pending.iter().take(count) {
                values.u64(value);
            }
        }
        if count > 0 {
            self.next_seq += 1;
            self.sent_end = self.sent_end.max(self.base + count as u64);
            self.sends[seq as usize % SENDS_REMEMBERED] = (seq, self.sent_end);
            self.last_sent = now;
        }
        self.ack_owed_since = None;
    }
}
