//! [`PeerSync`]: when to gossip a state-based CRDT to each peer, shared by the CRDT
//! counters and the g-set.
//!
//! A workload summarises its state as a vector of monotonic numbers, one per slot (a
//! counter's per-node P and N totals; a g-set's per-origin log lengths). For each peer we
//! keep two lower bounds of the peer's vector:
//!
//! * `confirmed`: what the peer itself told us it has (its requests and replies carry
//!   its vector). Request payloads start from here, so nothing in doubt is skipped;
//! * `assumed` ≥ `confirmed`: also what we sent in a *reply* to that peer. We may assume
//!   the peer gets it: a requester keeps re-sending until some reply arrives (it still
//!   sees us lacking its state), and every later reply carries at least as much.
//!
//! A peer is sent to when our vector exceeds `assumed` somewhere, at most one exchange in
//! flight per peer, at most once per flush delay (changes in between are batched), and to
//! at most `fanout` peers per flush, round-robin: an exchange syncs both directions, so a
//! small fanout bounds the traffic at about 2 × fanout × nodes messages per flush, and the
//! state still spreads epidemically (the peers relay what they learn). A
//! request that times out (partition) is retried with exponential backoff. Once every peer
//! has everything, nothing is sent and no timer runs: idle nodes are quiet, and a
//! partition heals by the retries, with no separate anti-entropy traffic.
//!
//! Timers: one flush timer (the workload's tag) while some peer lacks something. It is
//! armed for the earliest due peer; when a peer becomes due earlier than that (its reply
//! arrived while the timer waits for another peer's backed-off retry), an earlier timer is
//! armed and the later one, when it fires, is ignored ([`PeerSync::timer_fired`]), so one
//! unreachable peer never slows the exchanges with the others.

use crate::node::{Ctx, Millis};

/// Gossip timing knobs.
#[derive(Clone, Copy, Debug)]
pub struct SyncConfig {
    /// Delay between a change and the gossip that carries it (the batching window).
    pub flush_delay_ms: Millis,
    /// Timeout of one exchange.
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
    confirmed: Vec<u64>,
    assumed: Vec<u64>,
    in_flight: bool,
    retry_at: Millis,
    backoff: Millis,
    /// Backoff after answers that took nothing (see [`PeerSync::stalled`]); unlike
    /// `backoff`, hearing from the peer does not reset it, only progress does.
    stall_backoff: Millis,
}

/// Per-peer knowledge and the gossip schedule (see the module doc).
#[derive(Debug)]
pub struct PeerSync {
    config: SyncConfig,
    timer_tag: u64,
    me: usize,
    peers: Vec<Peer>,
    /// When the flush timer that counts is due (`None`: none armed).
    armed_at: Option<Millis>,
    /// The peer a flush considers first (the one after the last sent to).
    cursor: usize,
}

fn merge_max(into: &mut [u64], from: &[u64]) {
    for (mine, theirs) in into.iter_mut().zip(from) {
        *mine = (*mine).max(*theirs);
    }
}

/// True when `mine` exceeds `known` in some slot.
fn exceeds(mine: &[u64], known: &[u64]) -> bool {
    mine.iter().zip(known).any(|(m, k)| m > k)
}

impl PeerSync {
    /// A schedule that arms its flush timer with `timer_tag`.
    pub fn new(config: SyncConfig, timer_tag: u64) -> Self {
        PeerSync {
            config,
            timer_tag,
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
            assumed: vec![0; slots],
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

    /// True when `peer` should get a request now.
    pub fn should_send(&self, peer: usize, now: Millis, mine: &[u64]) -> bool {
        let Some(p) = self.peers.get(peer) else {
            return false;
        };
        peer != self.me && !p.in_flight && now >= p.retry_at && exceeds(mine, &p.assumed)
    }

    /// The peers in the order a flush should consider them (round-robin from the last
    /// one sent to); stop after [`SyncConfig::fanout`] sends.
    pub fn flush_order(&self) -> impl Iterator<Item = usize> + use<> {
        let (start, count) = (self.cursor, self.peers.len());
        (0..count).map(move |k| (start + k) % count)
    }

    /// A request to `peer` went out.
    pub fn sent(&mut self, peer: usize) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = true;
            self.cursor = (peer + 1) % self.peers.len();
        }
    }

    /// `peer` told us its vector (in a request or a reply): it is reachable and has that.
    pub fn heard(&mut self, peer: usize, theirs: &[u64]) {
        if let Some(p) = self.peers.get_mut(peer) {
            merge_max(&mut p.confirmed, theirs);
            merge_max(&mut p.assumed, theirs);
            p.backoff = 0;
            p.retry_at = 0;
        }
    }

    /// We replied to `peer` with a payload that brings it to at least `theirs`.
    pub fn assume(&mut self, peer: usize, theirs: &[u64]) {
        if let Some(p) = self.peers.get_mut(peer) {
            merge_max(&mut p.assumed, theirs);
        }
    }

    /// The reply from `peer` arrived (call [`PeerSync::heard`] with its vector too).
    pub fn replied(&mut self, peer: usize) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = false;
            p.stall_backoff = 0;
        }
    }

    /// The reply from `peer` arrived (after [`PeerSync::heard`]) but showed that it could
    /// take nothing we sent: it first needs something only a third node can give it.
    /// Resending at once would repeat the same exchange, so back off as after a timeout,
    /// growing across such answers until one shows progress ([`PeerSync::replied`]).
    pub fn stalled(&mut self, peer: usize, now: Millis) {
        let (min, max) = (self.config.flush_delay_ms.max(1), self.config.retry_max_ms);
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = false;
            p.stall_backoff = p.stall_backoff.saturating_mul(2).clamp(min, max.max(min));
            p.retry_at = now.saturating_add(p.stall_backoff);
        }
    }

    /// The request to `peer` timed out: back off before the next one.
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
    /// delay, or at its retry time if later; re-arms it earlier if that is sooner than the
    /// armed one. Call after every change and exchange.
    pub fn schedule(&mut self, ctx: &mut Ctx<'_>, mine: &[u64]) {
        let now = ctx.now();
        let due = self
            .peers
            .iter()
            .enumerate()
            .filter(|(index, p)| *index != self.me && !p.in_flight && exceeds(mine, &p.assumed))
            .map(|(_, p)| {
                p.retry_at
                    .max(now.saturating_add(self.config.flush_delay_ms))
            })
            .min();
        if let Some(at) = due
            && self.armed_at.is_none_or(|armed| at < armed)
            && ctx.set_timer(at - now, self.timer_tag)
        {
            self.armed_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_only_what_peers_lack_backs_off_and_recovers_when_heard() {
        let config = SyncConfig {
            flush_delay_ms: 100,
            rpc_timeout_ms: 500,
            retry_max_ms: 400,
            fanout: 1,
        };
        let mut sync = PeerSync::new(config, 9);
        sync.init(3, 1, 2);
        let mine = [0, 5];
        assert!(!sync.should_send(1, 0, &mine), "never to itself");
        assert!(sync.should_send(0, 0, &mine) && sync.should_send(2, 0, &mine));
        sync.sent(0);
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
        sync.assume(0, &[0, 5]);
        assert!(
            !sync.should_send(0, 0, &mine),
            "what we replied with is assumed"
        );
        assert_eq!(
            sync.confirmed(0),
            [0, 3],
            "but requests still start from the confirmed"
        );
    }

    #[test]
    fn answers_that_take_nothing_back_off_until_one_shows_progress() {
        let config = SyncConfig {
            flush_delay_ms: 0,
            rpc_timeout_ms: 500,
            retry_max_ms: 400,
            fanout: 1,
        };
        let mut sync = PeerSync::new(config, 9);
        sync.init(2, 1, 2);
        let mine = [0, 5];
        let mut now = 1000;
        for wait in [1, 2, 4, 8] {
            sync.sent(0);
            sync.heard(0, &[0, 0]);
            sync.stalled(0, now);
            assert!(!sync.should_send(0, now + wait - 1, &mine), "wait {wait}");
            assert!(sync.should_send(0, now + wait, &mine));
            now += wait;
        }
        sync.sent(0);
        sync.heard(0, &[0, 2]);
        sync.replied(0);
        sync.sent(0);
        sync.heard(0, &[0, 2]);
        sync.stalled(0, now);
        assert!(
            sync.should_send(0, now + 1, &mine),
            "progress reset the backoff"
        );
    }
}
