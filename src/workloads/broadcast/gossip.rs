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
//!   (piggybacked), or alone after `ack` ms if it has nothing to send (at once if our
//!   message was a full batch: more is waiting). An ack for `seq` proves everything up to
//!   that message's end arrived, because every message carries a prefix of `pending` and
//!   entries leave `pending` only from the front.
//! * If nothing was sent to the peer for the retry delay while values are in flight, we
//!   resend: first after `retry` (long enough for the peer's delayed ack), then every
//!   `resend` until an ack shows progress ([`retry_delay`]). Partitions and message loss
//!   only drop messages, so this is what heals them. If more than `batch` values are
//!   waiting, a flush does not re-send while a full batch is in flight; the ack that
//!   empties the flight sends the next batch at once instead (the flush policy already
//!   released them): one batch per round trip.
//! * **Resync.** `pending` holds at most `queue` values. One more (a long partition under
//!   heavy inflow) drops the queue and switches the link to resync: positions then index
//!   the node's append-only value log ([`super::Values::log`]) instead of `pending`, and
//!   each message carries the next `batch` values of the log from the last acknowledged
//!   position, exactly like a queue would. It starts at `synced`, a log position below
//!   which the peer is known to hold everything (the log length the last time `pending`
//!   was empty), and streams one batch per round trip once the peer answers; during the
//!   partition it retries one batch with backoff, like any link. Values learnt meanwhile
//!   are appended to the log, so the stream covers them; the ack that reaches the end of
//!   the log returns the link to queueing. The receiver dedups, so repeats are harmless.
//!
//! Wire shape: `{"type":"gossip","seq":S,"ack":A,"values":[…]}` (plus `"grid":<ms late>` on
//! a hub's periodic send) with no `msg_id` (nobody replies); `seq` is 0 on a message that
//! carries only an ack.

use super::Ctx;
use std::collections::VecDeque;

use crate::node::Millis;

/// Capacity `pending` starts with, and shrinks back to when a resync drops it.
const PENDING_INITIAL: usize = 1024;
/// Sends remembered one by one for matching acks.
const SENDS_REMEMBERED: usize = 64;
/// Every `SENDS_REMEMBERED`-th send is also kept here, so an ack up to
/// `SENDS_REMEMBERED²` sends old still advances the link (to that checkpoint's end, a
/// lower bound: acks are cumulative). Older acks are ignored; a later one covers them.
const CHECKPOINTS: usize = 64;

/// How long after our last send to the peer values in flight are retransmitted.
///
/// The first retransmit waits `retry_ms`, which must outlast the peer's delayed ack (its
/// `ack` delay plus a round trip) or it fires for nothing. Once one was due (`retrying`),
/// something was lost or the peer is cut off, and later ones come every `resend_ms`, which
/// may be shorter than `retry_ms`, with no backoff: the final reads come 10 s after the
/// last heal and a value may need two hops (leaf → hub → leaf), so on a lossy network each
/// hop needs several tries in that window. A backoff doubling to 4 s (×1.2 for a slow
/// clock) left a healed hop two or three, which 20% loss defeated in about one simulated
/// run in twenty. A cut-off peer costs one message per `resend_ms`.
pub fn retry_delay(retrying: bool, retry_ms: u64, resend_ms: u64) -> u64 {
    if retrying { resend_ms } else { retry_ms }
}

/// State of the link from this node to one peer.
#[derive(Clone, Debug)]
pub struct Link {
    /// Unacknowledged values, oldest first (empty while resyncing).
    pending: VecDeque<u64>,
    /// Most values `pending` may hold; one more starts a resync.
    queue_max: usize,
    /// Positions index the value log, not `pending` (see the module docs).
    resyncing: bool,
    /// Log position below which the peer holds every value.
    synced: u64,
    /// Absolute position of the first unacknowledged value: values ever dequeued from
    /// `pending`, or a log position while resyncing.
    base: u64,
    /// Absolute end of the last send: positions below it are in flight.
    sent_end: u64,
    /// Values were left behind because of `batch` (by a send, or a flush refused because
    /// a full batch was in flight): the ack that empties the flight sends them.
    backlog: bool,
    next_seq: u64,
    /// `(seq, absolute end)` of recent sends, indexed by `seq % SENDS_REMEMBERED`.
    sends: [(u64, u64); SENDS_REMEMBERED],
    /// `(seq, absolute end)` of sends whose seq is a multiple of `SENDS_REMEMBERED`.
    checkpoints: [(u64, u64); CHECKPOINTS],
    last_sent: Millis,
    /// A retransmit was due since the last ack that made progress: later ones come every
    /// `resend` ([`retry_delay`]).
    retrying: bool,
    /// Highest seq received from the peer.
    received: u64,
    /// Since when we owe the peer an ack for `received`.
    ack_owed_since: Option<Millis>,
    overflow_reported: bool,
}

impl Link {
    /// A link queueing at most `queue_max` values (at least 1) before it resyncs instead.
    pub fn new(queue_max: usize) -> Self {
        let queue_max = queue_max.max(1);
        Link {
            pending: VecDeque::with_capacity(PENDING_INITIAL.min(queue_max)),
            queue_max,
            resyncing: false,
            synced: 0,
            base: 0,
            sent_end: 0,
            backlog: false,
            next_seq: 1,
            sends: [(0, 0); SENDS_REMEMBERED],
            checkpoints: [(0, 0); CHECKPOINTS],
            last_sent: 0,
            retrying: false,
            received: 0,
            ack_owed_since: None,
            overflow_reported: false,
        }
    }

    /// Queues `value`, which sits at `position` in the value log, for the peer; if the
    /// queue is full, drops it and resyncs from the log instead.
    pub fn queue(&mut self, value: u64, position: u64) {
        if self.resyncing {
            return; // the log already holds it, past our resync position
        }
        if self.pending.is_empty() {
            // Everything queued before was acknowledged: the peer holds the log so far.
            self.synced = position;
        }
        if self.pending.len() >= self.queue_max {
            self.start_resync();
            return;
        }
        self.pending.push_back(value);
    }

    /// Drops `pending` and streams the log from `synced` instead.
    fn start_resync(&mut self) {
        if !self.overflow_reported {
            eprintln!(
                "broadcast: more than {} values unacknowledged by one peer; resyncing it from the log",
                self.queue_max
            );
            self.overflow_reported = true;
        }
        self.pending.clear();
        self.pending.shrink_to(PENDING_INITIAL);
        self.resyncing = true;
        self.rebase(self.synced);
    }

    /// Moves positions to `base` in a new coordinate system, forgetting the old sends.
    fn rebase(&mut self, base: u64) {
        self.base = base;
        self.sent_end = base;
        self.backlog = false;
        self.sends = [(0, 0); SENDS_REMEMBERED];
        self.checkpoints = [(0, 0); CHECKPOINTS];
    }

    /// Whether the link is resyncing from the log.
    pub fn resyncing(&self) -> bool {
        self.resyncing
    }

    /// Absolute end of what the peer should get, given the log's length.
    fn end(&self, log_len: usize) -> u64 {
        if self.resyncing {
            log_len as u64
        } else {
            self.base + self.pending.len() as u64
        }
    }

    /// Values queued (or, resyncing, in the log) but never sent.
    pub fn has_unsent(&self, log_len: usize) -> bool {
        self.end(log_len) > self.sent_end
    }

    /// Whether a flush should send to this peer now: something is unsent and the flight
    /// is not already a full batch. With a full flight, the values wait for the ack that
    /// empties it ([`Link::backlog_ready`]) instead of re-sending the same batch per flush.
    pub fn flush_wanted(&mut self, log_len: usize, batch: usize) -> bool {
        if !self.has_unsent(log_len) {
            return false;
        }
        if self.sent_end.saturating_sub(self.base) >= batch as u64 {
            self.backlog = true;
            return false;
        }
        true
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
    pub fn pending_len(&self, log_len: usize) -> usize {
        self.end(log_len).saturating_sub(self.base) as usize
    }

    /// Values left behind by `batch` wait for the next send, and nothing is in flight.
    pub fn backlog_ready(&self) -> bool {
        self.backlog && !self.in_flight()
    }

    /// The absolute end proven received by an ack for `seq`, if we remember it.
    fn acked_end(&self, seq: u64) -> Option<u64> {
        if seq == 0 || seq >= self.next_seq {
            return None;
        }
        let (sent_seq, end) = self.sends[seq as usize % SENDS_REMEMBERED];
        if sent_seq == seq {
            return Some(end);
        }
        let stride = SENDS_REMEMBERED as u64;
        let checkpoint = seq - seq % stride;
        let (sent_seq, end) = self.checkpoints[(checkpoint / stride) as usize % CHECKPOINTS];
        (checkpoint > 0 && sent_seq == checkpoint).then_some(end)
    }

    /// The seq of the latest message with values sent (0: none), for the planted bug
    /// `planted-ack-all` (docs/planted-bugs.md).
    #[cfg(feature = "planted-bugs")]
    pub fn latest_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The peer received our message `seq` and everything before it; `log_len` is the
    /// value log's length (a resync that reached it is over).
    pub fn on_ack(&mut self, seq: u64, log_len: usize) {
        let Some(end) = self.acked_end(seq).filter(|&end| end > self.base) else {
            return;
        };
        debug_assert!(end <= self.sent_end, "an ack past what was sent");
        if !self.resyncing {
            let acknowledged = (end - self.base) as usize;
            self.pending.drain(..acknowledged.min(self.pending.len()));
        }
        self.base = end;
        self.retrying = false;
        if self.resyncing && self.base >= log_len as u64 {
            self.resyncing = false;
            self.synced = log_len as u64;
            self.rebase(0);
        }
    }

    /// The peer sent us message `seq` (0: an ack-only message, nothing to acknowledge).
    pub fn on_received(&mut self, seq: u64, now: Millis) {
        if seq == 0 {
            return;
        }
        self.received = self.received.max(seq);
        self.ack_owed_since.get_or_insert(now);
    }

    /// Whether a retransmit is due: values in flight and nothing sent to the peer for
    /// [`retry_delay`].
    pub fn retry_due(&self, now: Millis, retry_ms: u64, resend_ms: u64) -> bool {
        let delay = retry_delay(self.retrying, retry_ms, resend_ms);
        self.in_flight() && now.saturating_sub(self.last_sent) >= delay
    }

    /// Whether the ack we owe has waited `ack_ms` for a ride and must go alone.
    pub fn ack_due(&self, now: Millis, ack_ms: u64) -> bool {
        self.ack_owed_since
            .is_some_and(|since| now.saturating_sub(since) >= ack_ms)
    }

    /// We are about to resend the values in flight — a retransmit, or an owed ack, which
    /// carries them too — and restart the retry timer. Later retransmits take the
    /// `resend_ms` pace if a retransmit was due, or if that pace cannot bring the next
    /// one sooner than `retry_ms` after our previous send (so it never beats an ack the
    /// peer may still be delaying). Otherwise an owed ack sent every `ack` ms would keep
    /// pushing the first retransmit back, and be the only tries a lossy link gets.
    pub fn note_resend(&mut self, now: Millis, retry_ms: u64, resend_ms: u64) {
        let since = now.saturating_sub(self.last_sent);
        let due = self.retry_due(now, retry_ms, resend_ms);
        if self.in_flight() && (due || since.saturating_add(resend_ms) >= retry_ms) {
            self.retrying = true;
        }
    }

    /// Sends one gossip message to `dest`: the first `batch` unacknowledged values (from
    /// `pending`, or from `log` while resyncing) and our ack; `grid` is set on a send made
    /// on a [`super::Flush::Period`] tick, with how many ms after the nominal tick it went
    /// out (aligned leaves time their sends from those). Emits exactly one `gossip`.
    pub fn send(
        &mut self,
        ctx: &mut Ctx<'_>,
        dest: &str,
        batch: usize,
        grid: Option<u64>,
        log: &[u64],
    ) {
        let now = ctx.now();
        let available = self.pending_len(log.len());
        let count = available.min(batch);
        let seq = if count > 0 { self.next_seq } else { 0 };
        {
            let mut body = ctx.send(dest, "gossip");
            body.u64("seq", seq).u64("ack", self.received);
            if let Some(late) = grid {
                body.u64("grid", late);
            }
            let mut values = body.array("values");
            if self.resyncing {
                let start = self.base as usize;
                let slice = log.get(start..start + count).unwrap_or_default();
                debug_assert_eq!(slice.len(), count, "resync position past the log");
                for &value in slice {
                    values.u64(value);
                }
            } else {
                for &value in self.pending.iter().take(count) {
                    values.u64(value);
                }
            }
        }
        self.record_send(seq, count, available, now);
    }

    /// Bookkeeping for a message just sent: `seq` (0 for an ack alone) carrying the first
    /// `count` of the `available` unacknowledged values, and our ack.
    fn record_send(&mut self, seq: u64, count: usize, available: usize, now: Millis) {
        if count > 0 {
            self.next_seq += 1;
            self.sent_end = self.sent_end.max(self.base + count as u64);
            self.sends[seq as usize % SENDS_REMEMBERED] = (seq, self.sent_end);
            if seq.is_multiple_of(SENDS_REMEMBERED as u64) {
                let slot = (seq / SENDS_REMEMBERED as u64) as usize % CHECKPOINTS;
                self.checkpoints[slot] = (seq, self.sent_end);
            }
            self.last_sent = now;
        }
        self.backlog = available > count;
        self.ack_owed_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3e's timers: the peer may hold its ack 1500 ms, so the first retransmit waits
    /// 2000 ms; later ones come every 1000 ms.
    const ACK: u64 = 1500;
    const RETRY: u64 = 2000;
    const RESEND: u64 = 1000;

    /// What `send` records, without composing a message: the next seq with every
    /// unacknowledged value (log length 0: not resyncing).
    fn send_all(link: &mut Link, now: Millis) -> u64 {
        let available = link.pending_len(0);
        let seq = if available > 0 { link.next_seq } else { 0 };
        link.record_send(seq, available, available, now);
        seq
    }

    /// One maintenance tick, as `Broadcast::maintain` runs it; true if it sent.
    fn maintain(link: &mut Link, now: Millis) -> bool {
        if !(link.retry_due(now, RETRY, RESEND) || link.ack_due(now, ACK)) {
            return false;
        }
        link.note_resend(now, RETRY, RESEND);
        send_all(link, now);
        true
    }

    #[test]
    fn first_retransmit_waits_for_a_delayed_ack_then_resends_at_a_steady_pace() {
        let mut link = Link::new(16);
        link.queue(7, 0);
        let seq = send_all(&mut link, 0);
        assert!(
            !maintain(&mut link, RETRY - 1),
            "the peer may still be holding its ack"
        );
        let mut sends = Vec::new();
        for now in (RETRY..12_000).step_by(10) {
            if maintain(&mut link, now) {
                sends.push(now);
            }
        }
        // No backoff: a healed link that keeps losing messages gets a try every second
        // (3e's old schedule, doubling to 4000, gave 2000, 6000 and 10000).
        assert_eq!(
            sends,
            [2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000]
        );
        link.on_ack(seq, 0);
        assert!(
            !link.in_flight(),
            "the first message's ack still covers the value"
        );
        link.queue(8, 1);
        send_all(&mut link, 20_000);
        assert!(
            !link.retry_due(20_000 + RESEND, RETRY, RESEND),
            "progress: fresh values wait for a delayed ack again"
        );
    }

    #[test]
    fn owed_acks_do_not_postpone_retransmits_for_ever() {
        // The peer keeps sending us values (so we owe it an ack every `ACK` ms) while our
        // messages to it are lost: each owed ack carries our values too, and must count as
        // a try rather than restart the 2000 ms wait each time.
        let mut link = Link::new(16);
        link.queue(7, 0);
        send_all(&mut link, 0);
        let mut sends = Vec::new();
        for now in (10..9_000).step_by(10) {
            if now % 1600 == 10 {
                link.on_received(now / 1600 + 1, now); // a gossip from the peer, no ack
            }
            if maintain(&mut link, now) {
                sends.push(now);
            }
        }
        // The ack owed since 10 goes at 1510 with our value: a try, so the next comes
        // 1000 ms later, and so on. (Were it not counted, each owed ack would restart
        // the 2000 ms wait, and the only tries would be the acks, 1600 ms apart.)
        assert_eq!(sends, [1510, 2510, 3510, 4510, 5510, 6510, 7510, 8510]);
        // But a resend never comes sooner than `RETRY` after the send before, unless one was
        // due: with a shorter `ack`, an ack sent 300 ms after a fresh send (the peer may
        // still be holding its own ack for it) leaves the 2000 ms wait alone.
        let mut link = Link::new(16);
        link.queue(7, 0);
        send_all(&mut link, 0);
        link.note_resend(300, RETRY, RESEND);
        send_all(&mut link, 300);
        assert!(!link.retry_due(300 + RESEND, RETRY, RESEND));
        assert!(link.retry_due(300 + RETRY, RETRY, RESEND));
    }
}
