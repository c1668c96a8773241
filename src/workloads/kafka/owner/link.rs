//! One peer link of the owner strategy: the two streams this node sends the peer (its
//! forwards to the peer as a key owner, and the replication journal), what it received
//! from the peer, and the clients waiting for the peer to store their forwarded sends.
//!
//! Both streams are go-back-N: entries have positions, a message carries a run of them
//! from `*_at`, the receiver applies a run only if it starts at or before the next
//! position it expects (skipping what it already has) and acknowledges cumulatively with
//! the next position it expects (`fwd_ack`, `rep_ack`, on every message it sends back). A
//! lost, duplicated or reordered message is therefore never applied twice nor out of
//! order; an unacknowledged stream is resent from the acknowledged position after the
//! retry backoff, one batch at a time, and the ack that proves progress releases the rest.
//!
//! Wire shape (`kafka_sync`, no msg_id, nobody replies):
//! `{"fwd_ack":A,"rep_ack":B,"fwd_at":P,"fwd":[…],"rep_at":Q,"rep":[…]}`, the sections
//! present only when they carry entries. Forward entries: `[0,key,msg]` (a send),
//! `[1,key,offset]` (a commit). Journal entries: `[0,key,offset,msg]` (an append),
//! `[1,key,offset,msg,position]` (an append of the receiver's forward at `position`),
//! `[2,key,offset]` (a commit), `[3,position]` (the receiver's forward was refused),
//! `[4]` (another peer's refusal: nothing to do).

use std::collections::VecDeque;

use super::super::store::Store;
use super::forward::{Forward, ForwardQueue};
use super::journal::{Entry, Journal};
use crate::node::kv::ReplyTo;
use crate::node::{Ctx, Millis};
use crate::wire::ArrayWriter;

/// Most bytes of entries one message carries beyond its first entry per section.
pub const MESSAGE_BUDGET: usize = 1 << 20;

/// A client waiting for its forwarded send to be stored by the owner.
#[derive(Clone, Copy, Debug)]
pub struct Waiter {
    /// The forward's position in the stream to the owner.
    pub position: u64,
    /// Who to answer.
    pub to: ReplyTo,
    /// When the send arrived.
    pub arrived: Millis,
}

/// This node's state towards one peer.
#[derive(Debug)]
pub struct Link {
    /// Forwards to the peer (as owner of their keys), from the acknowledged position.
    pub queue: ForwardQueue,
    /// Next forward position to send (≥ `queue.base()`).
    fwd_sent: u64,
    /// Journal position the peer acknowledged, and the next one to send.
    pub rep_acked: u64,
    rep_sent: u64,
    /// When data last went out, and how many resends since the peer last made progress.
    last_sent: Millis,
    attempts: u32,
    /// Since when some data has been in flight without progress.
    stalled_since: Option<Millis>,
    /// Entries were left unsent by a batch-limited send: send them when the peer acks.
    backlog: bool,
    /// When this link should next send (new entries wait for their batching delay).
    pub due: Option<Millis>,
    /// Next forward position expected from the peer (we applied everything before it).
    pub fwd_received: u64,
    /// Next journal position expected from the peer.
    pub rep_received: u64,
    ack_owed_since: Option<Millis>,
    /// When we last heard from the peer.
    pub last_heard: Option<Millis>,
    /// Clients waiting on forwards, in position order.
    pub waiters: VecDeque<Waiter>,
}

impl Link {
    /// A fresh link whose forward queue holds `capacity` entries and `byte_capacity` bytes.
    pub fn new(capacity: usize, byte_capacity: usize) -> Self {
        Link {
            queue: ForwardQueue::new(capacity, byte_capacity),
            fwd_sent: 0,
            rep_acked: 0,
            rep_sent: 0,
            last_sent: 0,
            attempts: 0,
            stalled_since: None,
            backlog: false,
            due: None,
            fwd_received: 0,
            rep_received: 0,
            ack_owed_since: None,
            last_heard: None,
            waiters: VecDeque::new(),
        }
    }

    /// Sends are due no later than `at`.
    pub fn due_by(&mut self, at: Millis) {
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    /// Some sent data is not acknowledged yet.
    pub fn in_flight(&self) -> bool {
        self.fwd_sent > self.queue.base() || self.rep_sent > self.rep_acked
    }

    /// Some entries were never sent (or are to be resent).
    pub fn has_unsent(&self, journal: &Journal) -> bool {
        self.queue.end() > self.fwd_sent || journal.end() > self.rep_sent
    }

    /// We owe the peer an acknowledgement.
    pub fn ack_owed(&self) -> bool {
        self.ack_owed_since.is_some()
    }

    /// The peer sent us entries at `now`: we owe it an acknowledgement.
    pub fn owe_ack(&mut self, now: Millis) {
        self.ack_owed_since.get_or_insert(now);
    }

    /// The peer acknowledged forwards before `fwd_ack` and journal entries before
    /// `rep_ack` (already checked against what we sent). Returns true if that released
    /// a backlog to send now.
    pub fn on_acks(&mut self, fwd_ack: u64, rep_ack: u64, now: Millis) -> bool {
        let progress = fwd_ack > self.queue.base() || rep_ack > self.rep_acked;
        self.queue.acknowledge(fwd_ack);
        self.fwd_sent = self.fwd_sent.max(self.queue.base());
        self.rep_acked = self.rep_acked.max(rep_ack);
        self.rep_sent = self.rep_sent.max(self.rep_acked);
        if progress {
            self.attempts = 0;
            self.stalled_since = self.in_flight().then_some(now);
        }
        progress && std::mem::take(&mut self.backlog)
    }

    /// How long data has been in flight without progress.
    pub fn stalled_for(&self, now: Millis) -> Millis {
        self.stalled_since
            .map_or(0, |since| now.saturating_sub(since))
    }

    /// Whether a resend (data in flight, silence for the backoff) or a lone ack is due.
    pub fn maintenance_due(&self, now: Millis, ack_ms: u64, retry_ms: u64, retry_max: u64) -> bool {
        let backoff = retry_ms
            .saturating_mul(1 << self.attempts.min(16))
            .min(retry_max);
        let resend = self.in_flight() && now.saturating_sub(self.last_sent) >= backoff;
        let ack = self
            .ack_owed_since
            .is_some_and(|since| now.saturating_sub(since) >= ack_ms);
        resend || ack
    }

    /// Data in flight for `retry_ms` without an ack: probably lost.
    pub fn overdue(&self, now: Millis, retry_ms: u64) -> bool {
        self.in_flight() && now.saturating_sub(self.last_sent) >= retry_ms
    }

    /// Go back: the next send starts again from the acknowledged positions. `counted`
    /// says whether this resend lengthens the backoff (a timer resend) or not (the peer
    /// was heard from again).
    pub fn rewind(&mut self, counted: bool) {
        self.fwd_sent = self.queue.base();
        self.rep_sent = self.rep_acked;
        self.attempts = if counted {
            self.attempts.saturating_add(1)
        } else {
            0
        };
    }

    /// Writes one `kafka_sync` to `dest`: both acks, then up to `batch` unsent entries of
    /// each stream (and about [`MESSAGE_BUDGET`] bytes). `peer` is the receiver's node
    /// index, for marking its own forwards. Returns true if entries are left unsent.
    pub fn send<T>(&mut self, ctx: &mut Ctx<'_, T>, dest: &str, peer: u32, data: Data<'_>) -> bool {
        let now = ctx.now();
        let had_flight = self.in_flight();
        let fwd_end = self.queue.end().min(self.fwd_sent + data.batch as u64);
        let rep_end = data.journal.end().min(self.rep_sent + data.batch as u64);
        assert!(
            self.fwd_sent >= self.queue.base(),
            "forward sent below acked"
        );
        assert!(
            self.rep_sent >= data.journal.base(),
            "journal trimmed past a peer's ack"
        );
        let mut body = ctx.send(dest, "kafka_sync");
        body.u64("fwd_ack", self.fwd_received)
            .u64("rep_ack", self.rep_received);
        if fwd_end > self.fwd_sent {
            body.u64("fwd_at", self.fwd_sent);
            let mut entries = body.array("fwd");
            let mut budget = MESSAGE_BUDGET;
            while self.fwd_sent < fwd_end && budget > 0 {
                budget = budget.saturating_sub(self.write_forward(&mut entries, data.store));
                self.fwd_sent += 1;
            }
        }
        if rep_end > self.rep_sent {
            body.u64("rep_at", self.rep_sent);
            let mut entries = body.array("rep");
            let mut budget = MESSAGE_BUDGET;
            while self.rep_sent < rep_end && budget > 0 {
                let entry = data.journal.get(self.rep_sent);
                budget = budget.saturating_sub(write_entry(&mut entries, entry, peer, data.store));
                self.rep_sent += 1;
            }
        }
        drop(body);
        if self.in_flight() {
            self.last_sent = now;
            if !had_flight {
                self.stalled_since = Some(now);
            }
        }
        self.ack_owed_since = None;
        self.due = None;
        self.backlog = self.has_unsent(data.journal);
        self.backlog
    }

    /// Writes the forward at `fwd_sent`; returns its size estimate.
    fn write_forward(&self, entries: &mut ArrayWriter<'_>, store: &Store) -> usize {
        match self.queue.get(self.fwd_sent) {
            Some(Forward::Send { key, start, end }) => {
                let message = self.queue.message(start, end);
                let name = store.name(key);
                entries.array().u64(0).str(name).raw(message);
                name.len() + message.len() + 16
            }
            Some(Forward::Commit { key, offset }) => {
                let name = store.name(key);
                entries.array().u64(1).str(name).u64(offset);
                name.len() + 32
            }
            None => 0,
        }
    }
}

/// What a [`Link::send`] reads from.
#[derive(Clone, Copy)]
pub struct Data<'a> {
    /// The node's store (names and messages).
    pub store: &'a Store,
    /// The node's replication journal.
    pub journal: &'a Journal,
    /// Most entries per stream in one message.
    pub batch: usize,
}

/// Writes one journal entry for peer `peer`; returns its size estimate.
fn write_entry(
    entries: &mut ArrayWriter<'_>,
    entry: Option<Entry>,
    peer: u32,
    store: &Store,
) -> usize {
    match entry {
        Some(Entry::Append {
            key,
            offset,
            origin,
        }) => {
            let name = store.name(key);
            let message = store.log(key).get(offset).unwrap_or(b"null");
            let mut item = entries.array();
            match origin {
                Some((from, position)) if from == peer => {
                    item.u64(1).str(name).u64(offset).raw(message).u64(position)
                }
                _ => item.u64(0).str(name).u64(offset).raw(message),
            };
            name.len() + message.len() + 40
        }
        Some(Entry::Commit { key, offset }) => {
            let name = store.name(key);
            entries.array().u64(2).str(name).u64(offset);
            name.len() + 32
        }
        Some(Entry::Reject {
            peer: from,
            position,
        }) if from == peer => {
            entries.array().u64(3).u64(position);
            24
        }
        Some(Entry::Reject { .. }) | None => {
            entries.array().u64(4);
            4
        }
    }
}
