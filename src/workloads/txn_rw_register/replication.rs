//! Replication between `txn-rw-register` nodes: the exchange that carries each node's
//! commits to its peers, and their application at the receiver.
//!
//! Wire shape, for both the request `txn_sync` (an RPC) and its reply `txn_sync_ok`:
//!
//! ```text
//! {"have": [a0, a1, …],     per node, how many of its commits the sender has applied
//!  "from": F,               number of the sender's commit that txns[0] is
//!  "txns": [[clock, [d0, d1, …], [k, v, k, v, …]], …]}
//! ```
//!
//! Each entry is one of the sender's commits in commit order: its version's clock (the
//! origin is the sender), its dependencies (`d_i`: commits of node i the sender had
//! applied when it committed) and its final writes. A request carries the commits past
//! what the peer confirmed; the reply carries the replier's commits past the requester's
//! `have`. At most [`TxnStrategy::batch`](super::TxnStrategy) commits and
//! [`MAX_WRITES_PER_MESSAGE`] writes go in one message (always at least one commit); the
//! rest follow in the next exchange.
//!
//! The receiver applies entry number `n` of origin `o` only after exactly `n` of `o`'s
//! commits (older ones are skipped, a message starting past it is ignored) and at least `d_i` of every
//! other node's: that keeps every replica's applied set causally closed. A commit that
//! arrives before its dependencies is held ([`super::early`]) and applied when they are;
//! `have` counts only applied commits, so anything not applied comes again. Nothing sent is
//! taken as delivered until the peer's `have` says so: a requester whose reply carried
//! commits answers with a fire-and-forget `txn_sync_ack {have}`, and the replier waits for
//! it (at most a timeout, [`PeerSync::answered`](crate::workloads::peer_sync::PeerSync::answered))
//! before sending to that peer itself; a lost reply or ack costs a re-send, never a commit.

use super::TxnRwRegister;
use super::store::{MAX_CLOCK, Store, Version};
use crate::node::{Message, RequestError, RpcReply};
use crate::wire::{Json, JsonKind, ObjectWriter};
use crate::workloads::peer_sync::{SyncCtx, SyncTag};
use crate::workloads::pn_counter::peer_index;

/// Most writes in one message besides the commit count, so a message stays far below the
/// line limit whatever the transactions' sizes.
pub const MAX_WRITES_PER_MESSAGE: usize = 1 << 16;

fn malformed() -> RequestError {
    RequestError::malformed("txn_sync needs have (one count per node), from and txns")
}

impl TxnRwRegister {
    /// Sends a request to every peer that lacks some of our commits (the flush timer).
    pub(super) fn flush(&mut self, ctx: &mut SyncCtx<'_>) {
        let timeout = self.strategy.timeout_ms;
        for peer in self.sync.flush_order() {
            if !self.sync.should_send(peer, ctx.now(), &self.offer) {
                continue;
            }
            let Some(dest) = self.ids.get(peer) else {
                continue;
            };
            let from = self.sync.confirmed(peer).get(self.me).copied().unwrap_or(0);
            let Ok(mut body) = ctx.rpc(dest, "txn_sync", timeout, SyncTag::Exchange(peer)) else {
                break;
            };
            self.write_sync(&mut body, from);
            drop(body);
            self.sync.sent(peer, &self.offer);
            self.request_from[peer] = from;
        }
    }

    /// The index of the peer that sent `msg`: another member of the cluster.
    fn peer_of(&self, ctx: &SyncCtx<'_>, msg: &Message<'_>) -> Result<usize, RequestError> {
        peer_index(ctx, msg.src)
            .filter(|&peer| peer != self.me)
            .ok_or_else(|| RequestError::malformed(format!("{} from a non-member", msg.kind)))
    }

    /// A peer's request: apply its commits, answer with ours past its `have`.
    pub(super) fn on_sync(
        &mut self,
        ctx: &mut SyncCtx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer_of(ctx, msg)?;
        self.receive(peer, msg.body)?;
        let from = self.peer_have[self.me];
        let mut reply = ctx.reply(msg, "txn_sync_ok");
        self.write_sync(&mut reply, from);
        drop(reply);
        // The reply is not taken as delivered: wait for the peer's ack before sending to it.
        self.sync.answered(peer, ctx.now(), &self.offer);
        self.trim();
        self.sync.schedule(ctx, &self.offer);
        Ok(())
    }

    /// A peer acknowledged a reply of ours with its `have`.
    pub(super) fn on_sync_ack(
        &mut self,
        ctx: &mut SyncCtx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let peer = self.peer_of(ctx, msg)?;
        self.read_have(msg.body)?;
        self.sync.acknowledged(peer, &self.peer_have);
        self.trim();
        self.sync.schedule(ctx, &self.offer);
        Ok(())
    }

    /// The outcome of our request to `peer`. A reply showing that the peer applied none
    /// of our commits (it lacks their dependencies on a third node) backs off: resending
    /// at once would only repeat it.
    pub(super) fn on_sync_reply(
        &mut self,
        ctx: &mut SyncCtx<'_>,
        peer: usize,
        reply: RpcReply<'_>,
    ) {
        match reply {
            RpcReply::Ok(msg)
                if msg.kind == "txn_sync_ok" && self.receive(peer, msg.body).is_ok() =>
            {
                let from = self.request_from.get(peer).copied().unwrap_or(0);
                if self.peer_have[self.me] > from
                    || self.peer_have[self.me] == self.applied[self.me]
                {
                    // Whether the generic rule wants an ack does not matter here: the
                    // reply's commits decide (below).
                    let _ = self.sync.replied(peer, &self.peer_have);
                } else {
                    self.sync.stalled(peer, ctx.now())
                }
                let carried = msg.body.get("txns").is_some_and(|txns| !txns.is_empty());
                if carried && let Some(dest) = self.ids.get(peer) {
                    let dest = dest.clone();
                    let mut ack = ctx.send(&dest, "txn_sync_ack");
                    ack.u64_array("have", self.applied.iter().copied());
                }
            }
            RpcReply::Ok(_) | RpcReply::Error(..) | RpcReply::Timeout => {
                self.sync.timed_out(peer, ctx.now())
            }
        }
        self.trim();
        self.sync.schedule(ctx, &self.offer);
    }

    /// Drops the commits every peer has confirmed.
    pub(super) fn trim(&mut self) {
        let confirmed = (0..self.applied.len())
            .filter(|&peer| peer != self.me)
            .map(|peer| self.sync.confirmed(peer).get(self.me).copied().unwrap_or(0))
            .min()
            .unwrap_or(self.log.end());
        self.log.trim(confirmed);
    }

    /// Writes `{have, from, txns}` with our commits from `from`; returns where they end.
    fn write_sync(&self, body: &mut ObjectWriter<'_>, from: u64) -> u64 {
        body.u64_array("have", self.applied.iter().copied());
        // Below `first` every peer has everything (a stale request may ask for less).
        let from = from.clamp(self.log.first(), self.log.end());
        body.u64("from", from);
        let mut txns = body.array("txns");
        let (mut number, mut writes) = (from, 0);
        while number < self.log.end() && number - from < self.strategy.batch as u64 {
            let Some(commit) = self.log.get(number) else {
                break;
            };
            if writes > 0 && writes + commit.writes.len() > MAX_WRITES_PER_MESSAGE {
                break;
            }
            writes += commit.writes.len();
            let mut txn = txns.array();
            txn.u64(commit.clock);
            let mut deps = txn.array();
            for &count in commit.deps {
                deps.u64(count);
            }
            drop(deps);
            let mut pairs = txn.array();
            for &(key, value) in commit.writes {
                pairs.i64(key).i64(value);
            }
            number += 1;
        }
        number
    }

    /// Reads a peer's `{have, from, txns}`: applies what it can, records what it has.
    fn receive(&mut self, peer: usize, body: Json<'_>) -> Result<(), RequestError> {
        self.read_have(body)?;
        self.absorb(peer, body)?;
        self.sync.heard(peer, &self.peer_have);
        Ok(())
    }

    /// Reads a peer's `have` into `peer_have`, refusing counts of our commits we never made.
    fn read_have(&mut self, body: Json<'_>) -> Result<(), RequestError> {
        let have = body.get("have").ok_or_else(malformed)?;
        if have.len() != self.peer_have.len() {
            return Err(malformed());
        }
        for (slot, count) in self.peer_have.iter_mut().zip(have.items()) {
            *slot = count.as_u64().ok_or_else(malformed)?;
        }
        if self.peer_have[self.me] > self.applied[self.me] {
            return Err(RequestError::malformed(
                "txn_sync claims commits of ours we never made",
            ));
        }
        Ok(())
    }

    /// Applies, or holds until their dependencies are applied, `origin`'s commits in
    /// `body.txns` that come next in its order; then whatever held commits became ready.
    fn absorb(&mut self, origin: usize, body: Json<'_>) -> Result<(), RequestError> {
        let from = body.get("from").and_then(|f| f.as_u64());
        let txns = body.get("txns").filter(|t| t.kind() == JsonKind::Array);
        let (Some(from), Some(txns)) = (from, txns) else {
            return Err(malformed());
        };
        if from > self.applied[origin] + self.early.held(origin) as u64 {
            return Ok(()); // a gap: our `have` makes the peer resend from where we are
        }
        for (number, txn) in (from..).zip(txns.items()) {
            if number < self.applied[origin] + self.early.held(origin) as u64 {
                continue; // applied or held already
            }
            let clock = self.parse_commit(txn)?;
            let (deps, writes) = (&self.incoming_deps, &self.incoming_writes);
            if self.early.held(origin) == 0 && ready(&self.applied, origin, deps) {
                apply(&mut self.store, &mut self.applied, origin, clock, writes);
            } else if !self.early.hold(origin, clock, deps, writes) {
                break;
            }
        }
        self.apply_held();
        Ok(())
    }

    /// Applies held commits whose dependencies are now applied, until none is.
    fn apply_held(&mut self) {
        let mut progress = true;
        while progress {
            progress = false;
            for origin in 0..self.applied.len() {
                while let Some(held) = self.early.first(origin)
                    && ready(&self.applied, origin, held.deps)
                {
                    apply(
                        &mut self.store,
                        &mut self.applied,
                        origin,
                        held.clock,
                        held.writes,
                    );
                    self.early.pop(origin);
                    progress = true;
                }
            }
        }
    }

    /// Parses `[clock, deps, writes]` into `incoming_deps` and `incoming_writes`; returns
    /// the clock.
    fn parse_commit(&mut self, txn: Json<'_>) -> Result<u64, RequestError> {
        let mut parts = txn.items();
        let (Some(clock), Some(deps), Some(writes)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let clock = clock.as_u64().filter(|c| (1..=MAX_CLOCK).contains(c));
        let clock = clock.ok_or_else(malformed)?;
        if deps.len() != self.applied.len() || writes.len() % 2 != 0 {
            return Err(malformed());
        }
        self.incoming_deps.clear();
        for count in deps.items() {
            self.incoming_deps
                .push(count.as_u64().ok_or_else(malformed)?);
        }
        self.incoming_writes.clear();
        let mut items = writes.items();
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            let pair = key.as_i64().zip(value.as_i64()).ok_or_else(malformed)?;
            self.incoming_writes.push(pair);
        }
        Ok(clock)
    }
}

/// Whether a commit of `origin` with dependency counts `deps` can be applied: every
/// other node's commits it depends on are applied.
fn ready(applied: &[u64], origin: usize, deps: &[u64]) -> bool {
    let mut pairs = applied.iter().zip(deps).enumerate();
    pairs.all(|(node, (had, needed))| node == origin || had >= needed)
}

/// Applies the next commit of `origin`, in one step: each write last-writer-wins.
fn apply(store: &mut Store, applied: &mut [u64], origin: usize, clock: u64, writes: &[(i64, i64)]) {
    let version = Version {
        clock,
        origin: origin as u32,
    };
    for &(key, value) in writes {
        store.apply(key, value, version);
    }
    applied[origin] += 1;
}
