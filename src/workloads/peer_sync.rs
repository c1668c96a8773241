//! [`PeerSync`]: when to gossip a state-based CRDT to each peer, shared by the CRDT
//! counters and the g-set.
//!
//! A workload summarises its state as a vector of monotonic numbers, one per slot (a
//! counter's per-node P and N totals; a g-set's per-origin log lengths). For each peer we
//! keep `confirmed`, a lower bound of the peer's vector: only what the peer itself told
//! us it has (its requests, replies and acks carry its vector). Nothing we sent is taken
//! as delivered until the peer says so: request payloads start from `confirmed`, and a
//! peer is sent to while our vector exceeds `confirmed` somewhere.
//!
//! One exchange syncs both directions: a request carries our vector (and payload), the
//! reply carries the peer's merged vector (and what we lack). The requester learns from
//! the reply that its payload arrived; the responder does not learn that its reply did.
//! So when a reply brings the requester something its request lacked, the requester
//! sends a fire-and-forget ack with its merged vector, and the responder waits for it
//! (up to the RPC timeout) before contacting that peer itself. A lost reply or ack costs
//! a re-send: the requester's request times out and is retried, and the responder, once
//! its wait is over, still sees the peer lacking its state and sends a request.
//!
//! A peer is sent to at most one exchange at a time, at most once per flush delay
//! (changes in between are batched), and to at most `fanout` peers per flush,
//! round-robin: an exchange syncs both directions, so a small fanout bounds the traffic
//! at about 3 × fanout × nodes messages per flush, and the state still spreads
//! epidemically (the peers relay what they learn). A request that times out (partition)
//! is retried with exponential backoff. Once every peer has confirmed everything,
//! nothing is sent and no timer runs: idle nodes are quiet, and a partition heals by the
//! retries, with no separate anti-entropy traffic.
//!
//! Timers: one flush timer (the workload's tag) while some peer lacks something. It is
//! armed for the earliest due peer; when a peer becomes due earlier than that (its reply
//! arrived while the timer waits for another peer's backed-off retry), an earlier timer is
//! armed and the later one, when it fires, is ignored ([`PeerSync::timer_fired`]), so one
//! unreachable peer never slows the exchanges with the others.

use crate::node::{Ctx, Millis};

/// The continuations of a node whose only RPCs and timers are [`PeerSync`]'s (the CRDT
/// counters and the g-set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncTag {
    /// The flush timer ([`PeerSync::schedule`]).
    Flush,
    /// The sync exchange with the peer at this position in the node ids.
    Exchange(usize),
}

impl SyncTag {
    /// The peer of an exchange's reply (the flush timer is never an RPC's tag).
    pub fn peer(self) -> usize {
        match self {
            SyncTag::Exchange(peer) => peer,
            SyncTag::Flush => unreachable!("the flush timer is not an RPC"),
        }
    }
}

/// The handlers' [`Ctx`] of a node whose tags are [`SyncTag`]s.
pub type SyncCtx<'c> = Ctx<'c, SyncTag>;

/// Gossip timing knobs.
#[derive(Clone, Copy, Debug)]
pub struct SyncConfig {
    /// Delay between a change and the gossip that carries it (the batching window).
    pub flush_delay_ms: Millis,
    /// Timeout of one exchange, and how long a responder waits for the ack of its reply.
    pub rpc_timeout_ms: Millis,
    /// Longest wait between retries to an unreachable peer.
    pub retry_max_ms: Millis,
    /// Most requests one flush sends (peers taken round-robin).
    pub fanout: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            flush_delay_ms: 100,
            rpc_timeout_ms: 500,
            retry_max_ms: 2000,
            fanout: 1,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Peer {
    /// What the peer told us it has.
    confirmed: Vec<u64>,
    /// Our vector as the request in flight carried it (valid while `in_flight`).
    requested: Vec<u64>,
    in_flight: bool,
    retry_at: Millis,
    backoff: Millis,
    /// While `now` is before this, a reply of ours awaits its ack (0: none).
    ack_due: Millis,
    /// Backoff after answers that took nothing (see [`PeerSync::stalled`]); unlike
    /// `backoff`, hearing from the peer does not reset it, only progress does.
    stall_backoff: Millis,
}

/// Per-peer knowledge and the gossip schedule (see the module doc).
#[derive(Debug)]
pub struct PeerSync {
    config: SyncConfig,
    me: usize,
    peers: Vec<Peer>,
    /// When the flush timer that counts is due (`None`: none armed).
    armed_at: Option<Millis>,
    /// The peer a flush considers first (the one after the last sent to).
    cursor: usize,
}

/// Raises each slot of `into` to `from`'s where that is larger.
pub(crate) fn merge_max(into: &mut [u64], from: &[u64]) {
    for (mine, theirs) in into.iter_mut().zip(from) {
        *mine = (*mine).max(*theirs);
    }
}

/// True when `mine` exceeds `known` in some slot.
pub(crate) fn exceeds(mine: &[u64], known: &[u64]) -> bool {
    mine.iter().zip(known).any(|(m, k)| m > k)
}

impl PeerSync {
    /// A schedule with these knobs (sized by [`PeerSync::init`]).
    pub fn new(config: SyncConfig) -> Self {
        PeerSync {
            config,
            me: 0,
            peers: Vec::new(),
            armed_at: None,
            cursor: 0,
        }
    }

    /// Sizes the tables: `nodes` peers (including this node, `me`, which is never sent
    /// to), `slots` numbers per vector.
    pub fn init(&mut self, nodes: usize, me: usize, slots: usize) {
        self.me = me;
        let peer = Peer {
            confirmed: vec![0; slots],
            requested: vec![0; slots],
            ..Peer::default()
        };
        self.peers = vec![peer; nodes];
    }

    /// The knobs.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Number of nodes, this one included.
    pub fn node_count(&self) -> usize {
        self.peers.len()
    }

    /// What `peer` has confirmed having (start request payloads here).
    pub fn confirmed(&self, peer: usize) -> &[u64] {
        self.peers.get(peer).map_or(&[], |p| &p.confirmed)
    }

    /// True when `peer` should get a request now: it has not confirmed all of `mine`, no
    /// exchange with it is in flight, no reply to it awaits its ack, no backoff runs.
    pub fn should_send(&self, peer: usize, now: Millis, mine: &[u64]) -> bool {
        let Some(p) = self.peers.get(peer) else {
            return false;
        };
        peer != self.me
            && !p.in_flight
            && now >= p.retry_at
            && now >= p.ack_due
            && exceeds(mine, &p.confirmed)
    }

    /// The peers in the order a flush should consider them (round-robin from the last
    /// one sent to); stop after [`SyncConfig::fanout`] sends.
    pub fn flush_order(&self) -> impl Iterator<Item = usize> + use<> {
        let (start, count) = (self.cursor, self.peers.len());
        (0..count).map(move |k| (start + k) % count)
    }

    /// A request carrying our vector `mine` went out to `peer`.
    pub fn sent(&mut self, peer: usize, mine: &[u64]) {
        if let Some(p) = self.peers.get_mut(peer) {
            assert!(!p.in_flight, "one exchange in flight per peer");
            p.in_flight = true;
            p.requested.iter_mut().zip(mine).for_each(|(r, m)| *r = *m);
            self.cursor = (peer + 1) % self.peers.len();
        }
    }

    /// `peer` told us its vector (in a request or a reply): it is reachable and has that.
    pub fn heard(&mut self, peer: usize, theirs: &[u64]) {
        if let Some(p) = self.peers.get_mut(peer) {
            merge_max(&mut p.confirmed, theirs);
            p.backoff = 0;
            p.retry_at = 0;
        }
    }

    /// The reply from `peer`, with its merged vector `theirs`, arrived. Returns true when
    /// it holds something our request lacked: send `peer` an ack with our merged vector
    /// (the peer waits for it, see [`PeerSync::answered`]).
    pub fn replied(&mut self, peer: usize, theirs: &[u64]) -> bool {
        self.heard(peer, theirs);
        match self.peers.get_mut(peer) {
            Some(p) if p.in_flight => {
                p.in_flight = false;
                p.stall_backoff = 0;
                exceeds(theirs, &p.requested)
            }
            _ => false,
        }
    }

    /// The reply from `peer` arrived but showed that it could take nothing we sent: it
    /// first needs something only a third node can give it. Resending at once would repeat
    /// the same exchange, so back off as after a timeout, growing across such answers until
    /// one shows progress ([`PeerSync::replied`]). Call instead of `replied`, after
    /// [`PeerSync::heard`] with the reply's vector.
    pub fn stalled(&mut self, peer: usize, now: Millis) {
        let (min, max) = (self.config.flush_delay_ms.max(1), self.config.retry_max_ms);
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = false;
            p.stall_backoff = p.stall_backoff.saturating_mul(2).clamp(min, max.max(min));
            p.retry_at = now.saturating_add(p.stall_backoff);
        }
    }

    /// We answered a request of `peer` (after [`PeerSync::heard`] with its vector) with a
    /// reply carrying our vector `mine`. If that brings the peer something it has not
    /// confirmed, wait for its ack (at most the RPC timeout) before sending to it: the
    /// reply is not taken as delivered, only as likely to be acknowledged soon.
    pub fn answered(&mut self, peer: usize, now: Millis, mine: &[u64]) {
        let wait = self.config.rpc_timeout_ms.max(1);
        if let Some(p) = self.peers.get_mut(peer) {
            p.ack_due = if exceeds(mine, &p.confirmed) {
                now.saturating_add(wait)
            } else {
                0
            };
        }
    }

    /// `peer` acknowledged a reply of ours, telling its merged vector `theirs`.
    pub fn acknowledged(&mut self, peer: usize, theirs: &[u64]) {
        self.heard(peer, theirs);
        if let Some(p) = self.peers.get_mut(peer) {
            p.ack_due = 0;
        }
    }

    /// The request to `peer` timed out (or failed): back off before the next one.
    pub fn timed_out(&mut self, peer: usize, now: Millis) {
        let (min, max) = (self.config.flush_delay_ms.max(1), self.config.retry_max_ms);
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = false;
            p.backoff = p.backoff.saturating_mul(2).clamp(min, max.max(min));
            p.retry_at = now.saturating_add(p.backoff);
        }
    }

    /// The flush timer fired at `now`: returns whether to flush (false for a timer that
    /// an earlier one superseded). Call before sending, so [`PeerSync::schedule`] can
    /// re-arm.
    pub fn timer_fired(&mut self, now: Millis) -> bool {
        match self.armed_at {
            Some(at) if now >= at => {
                self.armed_at = None;
                true
            }
            _ => false,
        }
    }

    /// Arms the flush timer if some idle peer lacks part of `mine`: after the flush
    /// delay, or at its retry or ack-wait time if later; re-arms it earlier if that is
    /// sooner than the armed one. Call after every change and exchange.
    pub fn schedule(&mut self, ctx: &mut SyncCtx<'_>, mine: &[u64]) {
        let now = ctx.now();
        let earliest = now.saturating_add(self.config.flush_delay_ms);
        let due = self
            .peers
            .iter()
            .enumerate()
            .filter(|(index, p)| *index != self.me && !p.in_flight && exceeds(mine, &p.confirmed))
            .map(|(_, p)| p.retry_at.max(p.ack_due).max(earliest))
            .min();
        if let Some(at) = due
            && self.armed_at.is_none_or(|armed| at < armed)
            && ctx.set_timer(at - now, SyncTag::Flush)
        {
            self.armed_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SyncConfig {
        SyncConfig {
            flush_delay_ms: 100,
            rpc_timeout_ms: 500,
            retry_max_ms: 400,
            fanout: 1,
        }
    }

    #[test]
    fn sends_only_what_peers_lack_backs_off_and_recovers_when_heard() {
        let mut sync = PeerSync::new(config());
        sync.init(3, 1, 2);
        let mine = [0, 5];
        assert!(!sync.should_send(1, 0, &mine), "never to itself");
        assert!(sync.should_send(0, 0, &mine) && sync.should_send(2, 0, &mine));
        sync.sent(0, &mine);
        assert!(
            !sync.should_send(0, 0, &mine),
            "one exchange in flight per peer"
        );
        assert_eq!(
            sync.flush_order().collect::<Vec<_>>(),
            [1, 2, 0],
            "round-robin after peer 0"
        );
        sync.timed_out(0, 1000);
        assert!(!sync.should_send(0, 1099, &mine) && sync.should_send(0, 1100, &mine));
        for _ in 0..5 {
            sync.timed_out(0, 2000);
        }
        assert!(
            sync.should_send(0, 2400, &mine),
            "backoff capped at retry_max_ms"
        );
        sync.heard(0, &[0, 3]);
        assert!(
            sync.should_send(0, 0, &mine),
            "hearing from a peer resets its backoff"
        );
        assert_eq!(sync.confirmed(0), [0, 3]);
        sync.heard(0, &[0, 5]);
        assert!(!sync.should_send(0, 0, &mine), "the peer confirmed it all");
    }

    /// The behaviour that changed: a reply we sent is not assumed delivered. We wait for
    /// the requester's ack; without it, we send the state ourselves once the wait is over.
    #[test]
    fn a_reply_is_not_assumed_delivered_until_acknowledged() {
        let mut sync = PeerSync::new(config());
        sync.init(2, 1, 2);
        let mine = [0, 5];
        sync.heard(0, &[4, 0]);
        sync.answered(0, 1000, &mine);
        assert!(
            !sync.should_send(0, 1000, &mine) && !sync.should_send(0, 1499, &mine),
            "waiting for the ack of our reply"
        );
        assert!(
            sync.should_send(0, 1500, &mine),
            "no ack: what we replied with is re-sent"
        );
        assert_eq!(sync.confirmed(0), [4, 0], "nothing taken as delivered");
        sync.answered(0, 2000, &mine);
        sync.acknowledged(0, &[4, 5]);
        assert!(!sync.should_send(0, 2000, &mine), "acknowledged");
        sync.answered(0, 3000, &[4, 5]);
        assert!(
            sync.should_send(0, 3000, &[4, 6]),
            "a reply with nothing new needs no ack, so nothing is awaited"
        );
    }

    /// Two requests cross and both replies are lost: neither side takes its reply as
    /// delivered, so both retry until the other confirms.
    #[test]
    fn crossing_requests_with_lost_replies_are_resent() {
        let (mut a, mut b) = (PeerSync::new(config()), PeerSync::new(config()));
        a.init(2, 0, 2);
        b.init(2, 1, 2);
        let (a_state, b_state, merged) = ([3, 0], [0, 7], [3, 7]);
        a.sent(1, &a_state);
        b.sent(0, &b_state);
        b.heard(0, &a_state); // a's request reaches b; b replies with merged (lost)
        b.answered(0, 10, &merged);
        a.heard(1, &b_state); // b's request reaches a; a replies with merged (lost)
        a.answered(1, 10, &merged);
        a.timed_out(1, 500);
        b.timed_out(0, 500);
        assert!(
            a.should_send(1, 600, &merged) && b.should_send(0, 600, &merged),
            "both re-send: neither reply was acknowledged"
        );
        assert_eq!(
            (a.confirmed(1), b.confirmed(0)),
            (&b_state[..], &a_state[..])
        );
    }

    /// The requester acks a reply only when it brought something the request lacked.
    #[test]
    fn answers_that_take_nothing_back_off_until_one_shows_progress() {
        let config = SyncConfig {
            flush_delay_ms: 0,
            rpc_timeout_ms: 500,
            retry_max_ms: 400,
            fanout: 1,
        };
        let mut sync = PeerSync::new(config);
        sync.init(2, 1, 2);
        let mine = [0, 5];
        let mut now = 1000;
        for wait in [1, 2, 4, 8] {
            sync.sent(0, &mine);
            sync.heard(0, &[0, 0]);
            sync.stalled(0, now);
            assert!(!sync.should_send(0, now + wait - 1, &mine), "wait {wait}");
            assert!(sync.should_send(0, now + wait, &mine));
            now += wait;
        }
        sync.sent(0, &mine);
        sync.replied(0, &[0, 2]);
        sync.sent(0, &mine);
        sync.heard(0, &[0, 2]);
        sync.stalled(0, now);
        assert!(
            sync.should_send(0, now + 1, &mine),
            "progress reset the backoff"
        );
    }

    #[test]
    fn the_requester_acks_only_replies_that_bring_news() {
        let mut sync = PeerSync::new(config());
        sync.init(2, 0, 2);
        sync.sent(1, &[3, 0]);
        assert!(!sync.replied(1, &[3, 0]), "nothing new: no ack");
        assert_eq!(sync.confirmed(1), [3, 0]);
        sync.sent(1, &[4, 0]);
        assert!(sync.replied(1, &[4, 2]), "news: ack it");
        assert!(!sync.replied(1, &[4, 2]), "no exchange in flight any more");
    }
}
