//! `pn-counter` (and the g-counter's `crdt` strategy): a state-based PN counter.
//!
//! Each node owns two slots, P (sum of its positive deltas) and N (sum of the magnitudes
//! of its negative ones); the value is ΣP − ΣN. Merge is a slot-wise max, so gossip can be
//! repeated, reordered or lost without harm, and a node's own slots only grow. Adds and
//! reads are answered locally and at once (total availability under partitions); a read
//! reflects everything this node knows. The state is tiny, so every gossip carries the
//! whole vector; [`PeerSync`] decides when (batched, retried through partitions, silent
//! when every peer is up to date).
//!
//! Messages: `add {delta}` → `add_ok`; `read` → `read_ok {value}`; between nodes
//! `counter_sync {p, n}` → `counter_sync_ok {p, n}` (the receiver's merged vector; `n`
//! is left out while all zero), and, when that reply brought the requester something,
//! the fire-and-forget `counter_sync_ack {p, n}` (the requester's merged vector).
//! Timers: the [`PeerSync`] flush timer.

use super::peer_sync::{PeerSync, SyncConfig, SyncCtx, SyncTag};
use crate::node::{Ctx, Message, RequestError, RpcReply, Workload};
use crate::wire::{Json, ObjectWriter};

/// The PN-counter CRDT node.
#[derive(Debug)]
pub struct PnCounter {
    sync: PeerSync,
    allow_negative: bool,
    me: usize,
    nodes: usize,
    /// The cluster's node ids (a copy, so sending borrows no `Ctx` state).
    ids: Vec<String>,
    /// `[P_0 … P_{n-1}, N_0 … N_{n-1}]`.
    vector: Vec<u64>,
    /// A received vector, parsed (reused).
    scratch: Vec<u64>,
    /// Planted bug `planted-overwrite` (docs/planted-bugs.md): merge by overwriting the
    /// other nodes' slots instead of taking the max.
    #[cfg(feature = "planted-bugs")]
    overwrite: bool,
}

impl PnCounter {
    /// The node the `pn-counter` binary runs (default gossip knobs; no environment variable
    /// yet).
    pub fn from_env() -> Self {
        PnCounter::new(SyncConfig::default())
    }

    /// A pn-counter node.
    pub fn new(config: SyncConfig) -> Self {
        PnCounter {
            sync: PeerSync::new(config),
            allow_negative: true,
            me: 0,
            nodes: 0,
            ids: Vec::new(),
            vector: Vec::new(),
            scratch: Vec::new(),
            #[cfg(feature = "planted-bugs")]
            overwrite: false,
        }
    }

    /// The planted bug `planted-overwrite`: this node merges by overwriting.
    #[cfg(feature = "planted-bugs")]
    pub fn planted_overwrite(self) -> Self {
        PnCounter {
            overwrite: true,
            ..self
        }
    }

    /// A grow-only counter: the same CRDT, refusing negative deltas (error 12).
    pub fn grow_only(config: SyncConfig) -> Self {
        PnCounter {
            allow_negative: false,
            ..PnCounter::new(config)
        }
    }

    /// The counter's value as this node knows it.
    pub fn value(&self) -> i64 {
        let (p, n) = self.vector.split_at(self.nodes);
        let total = p.iter().map(|&v| i128::from(v)).sum::<i128>()
            - n.iter().map(|&v| i128::from(v)).sum::<i128>();
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn add(&mut self, ctx: &mut SyncCtx<'_>, delta: i64) -> Result<(), RequestError> {
        if delta < 0 && !self.allow_negative {
            return Err(RequestError::malformed(
                "a g-counter delta must not be negative",
            ));
        }
        let slot = if delta < 0 {
            self.nodes + self.me
        } else {
            self.me
        };
        if let Some(total) = self.vector.get_mut(slot) {
            *total = total.saturating_add(delta.unsigned_abs());
        }
        if delta != 0 {
            self.sync.schedule(ctx, &self.vector);
        }
        Ok(())
    }

    /// Parses `{p, n}` into `scratch` and merges it; returns false on a malformed body.
    fn absorb(&mut self, body: Json<'_>) -> bool {
        self.scratch.clear();
        self.scratch.resize(2 * self.nodes, 0);
        let (p, n) = self.scratch.split_at_mut(self.nodes);
        let ok = read_slots(body.get("p"), p)
            && body
                .get("n")
                .is_none_or(|n_json| read_slots(Some(n_json), n));
        #[cfg(feature = "planted-bugs")]
        if ok && self.overwrite {
            self.overwrite_merge();
            return ok;
        }
        if ok {
            for (mine, theirs) in self.vector.iter_mut().zip(&self.scratch) {
                *mine = (*mine).max(*theirs);
            }
        }
        ok
    }

    /// The planted bug's merge: "the latest message has the latest counts", wrong under
    /// reordering, and whenever a third node relays an older vector. Our own slots stay.
    #[cfg(feature = "planted-bugs")]
    fn overwrite_merge(&mut self) {
        for (slot, (mine, theirs)) in self.vector.iter_mut().zip(&self.scratch).enumerate() {
            if slot % self.nodes != self.me {
                *mine = *theirs;
            }
        }
    }

    fn write_vector(&self, body: &mut ObjectWriter<'_>) {
        let (p, n) = self.vector.split_at(self.nodes);
        body.u64_array("p", p.iter().copied());
        if n.iter().any(|&v| v > 0) {
            body.u64_array("n", n.iter().copied());
        }
    }

    fn on_sync(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let peer = peer_index(ctx, msg.src)
            .ok_or_else(|| RequestError::malformed("sync from a non-member"))?;
        if !self.absorb(msg.body) {
            return Err(RequestError::malformed(
                "counter_sync needs p (and n) integer arrays",
            ));
        }
        self.sync.heard(peer, &self.scratch);
        self.write_vector(&mut ctx.reply(msg, "counter_sync_ok"));
        self.sync.answered(peer, ctx.now(), &self.vector);
        self.sync.schedule(ctx, &self.vector);
        Ok(())
    }

    fn on_ack(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let peer = peer_index(ctx, msg.src)
            .ok_or_else(|| RequestError::malformed("ack from a non-member"))?;
        if !self.absorb(msg.body) {
            return Err(RequestError::malformed(
                "counter_sync_ack needs p (and n) integer arrays",
            ));
        }
        self.sync.acknowledged(peer, &self.scratch);
        self.sync.schedule(ctx, &self.vector);
        Ok(())
    }

    fn flush(&mut self, ctx: &mut SyncCtx<'_>) {
        let mut budget = self.sync.config().fanout;
        for peer in self.sync.flush_order() {
            if budget == 0 {
                break;
            }
            if !self.sync.should_send(peer, ctx.now(), &self.vector) {
                continue;
            }
            budget -= 1;
            let Some(dest) = self.ids.get(peer) else {
                continue;
            };
            let timeout = self.sync.config().rpc_timeout_ms;
            let Ok(mut body) = ctx.rpc(dest, "counter_sync", timeout, SyncTag::Exchange(peer))
            else {
                break;
            };
            self.write_vector(&mut body);
            drop(body);
            self.sync.sent(peer, &self.vector);
        }
    }
}

/// Reads an array of non-negative integers into `out` (missing entries stay 0).
fn read_slots(json: Option<Json<'_>>, out: &mut [u64]) -> bool {
    let Some(json) = json else { return false };
    for (slot, item) in out.iter_mut().zip(json.items()) {
        match item.as_u64() {
            Some(value) => *slot = value,
            None => return false,
        }
    }
    true
}

/// The position of `id` in the cluster membership.
pub(crate) fn peer_index<T>(ctx: &Ctx<'_, T>, id: &str) -> Option<usize> {
    ctx.node_ids().iter().position(|node| node == id)
}

impl Workload for PnCounter {
    type Tag = SyncTag;

    fn on_init(&mut self, ctx: &mut SyncCtx<'_>) {
        self.ids = ctx.node_ids().to_vec();
        self.nodes = self.ids.len();
        self.me = ctx.node_index();
        self.vector = vec![0; 2 * self.nodes];
        self.scratch = Vec::with_capacity(2 * self.nodes);
        self.sync.init(self.nodes, self.me, 2 * self.nodes);
    }

    fn on_message(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "add" => {
                self.add(ctx, msg.i64("delta")?)?;
                ctx.reply(msg, "add_ok");
                Ok(())
            }
            "read" => {
                let value = self.value();
                ctx.reply(msg, "read_ok").i64("value", value);
                Ok(())
            }
            "counter_sync" => self.on_sync(ctx, msg),
            "counter_sync_ack" => self.on_ack(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag) {
        if tag == SyncTag::Flush && self.sync.timer_fired(ctx.now()) {
            self.flush(ctx);
            self.sync.schedule(ctx, &self.vector);
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag, reply: RpcReply<'_>) {
        let peer = tag.peer();
        match reply {
            RpcReply::Ok(msg) if msg.kind == "counter_sync_ok" && self.absorb(msg.body) => {
                if self.sync.replied(peer, &self.scratch)
                    && let Some(dest) = self.ids.get(peer)
                {
                    self.write_vector(&mut ctx.send(dest, "counter_sync_ack"));
                }
            }
            RpcReply::Ok(_) | RpcReply::Error(..) | RpcReply::Timeout => {
                self.sync.timed_out(peer, ctx.now())
            }
        }
        self.sync.schedule(ctx, &self.vector);
    }
}
