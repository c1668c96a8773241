//! `g-set`: a grow-only set, replicated as per-origin append-only logs.
//!
//! Each node appends the elements its clients add to its own log; a replica of another
//! node's log is always a prefix of it, so the state is summarised by one length per
//! origin, and merging two replicas means extending each log to the longer prefix. That
//! makes the gossip a delta: to a peer we send, per origin, the entries past what the peer
//! is known to have ([`PeerSync`] tracks that, batches changes, retries through
//! partitions, and sends nothing once every peer has everything). Both directions move
//! in one exchange: a request carries the sender's lengths, so the reply carries exactly
//! what the sender lacks. Nothing is lost across a partition: entries count as delivered
//! only when the peer's own lengths (in its request, reply or ack) say so, and until then
//! an exchange repeats, with backoff.
//!
//! Elements are any JSON, kept once each as their serialised bytes (equal JSON text =
//! same element); `read_ok`'s array is maintained incrementally, so a read copies bytes.
//!
//! Messages: `add {element}` → `add_ok`; `read` → `read_ok {value}`; between nodes
//! `set_sync {have, from, elems}` → `set_sync_ok {have, from, elems}` where `have` is
//! the sender's log lengths and `elems[o]` holds origin o's entries from index `from[o]`;
//! when that reply brought the requester entries, the fire-and-forget
//! `set_sync_ack {have}` (the requester's lengths after absorbing them).
//! Timers: the [`PeerSync`] flush timer.

use ahash::{AHashMap, RandomState};

use super::peer_sync::{PeerSync, SyncConfig, SyncCtx, SyncTag};
use super::pn_counter::peer_index;
use crate::node::{Message, RequestError, RpcReply, Workload};
use crate::wire::writer::write_json;
use crate::wire::{Json, ObjectWriter};

/// Most log entries one sync message carries; the rest follow in the next exchange.
pub const MAX_BATCH: usize = 4096;

/// The g-set node.
#[derive(Debug)]
pub struct GSet {
    sync: PeerSync,
    me: usize,
    ids: Vec<String>,
    /// Every distinct element's JSON text, back to back; `spans[e]` locates element e.
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Hash of an element's text → the first element with that hash.
    index: AHashMap<u64, u32>,
    hasher: RandomState,
    /// Per origin, the element ids in that origin's order.
    logs: Vec<Vec<u32>>,
    /// `logs[o].len()` for each origin: the vector [`PeerSync`] compares.
    lengths: Vec<u64>,
    /// `[e0,e1,…]`, the body of `read_ok`.
    read_cache: Vec<u8>,
    /// Reused buffers for a received element and a received vector.
    scratch: Vec<u8>,
    scratch_vector: Vec<u64>,
}

impl GSet {
    /// The node the `g-set` binary runs (default gossip knobs; no environment variable yet).
    pub fn from_env() -> Self {
        GSet::new(SyncConfig::default())
    }

    /// A g-set node.
    pub fn new(config: SyncConfig) -> Self {
        GSet {
            sync: PeerSync::new(config),
            me: 0,
            ids: Vec::new(),
            bytes: Vec::with_capacity(64 * 1024),
            spans: Vec::with_capacity(8 * 1024),
            index: AHashMap::with_capacity(8 * 1024),
            hasher: RandomState::new(),
            logs: Vec::new(),
            lengths: Vec::new(),
            read_cache: b"[]".to_vec(),
            scratch: Vec::with_capacity(256),
            scratch_vector: Vec::new(),
        }
    }

    /// Number of distinct elements known.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when no element is known.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn element(&self, id: u32) -> &[u8] {
        let (start, len) = self.spans.get(id as usize).copied().unwrap_or((0, 0));
        self.bytes.get(start..start + len).unwrap_or(&[])
    }

    /// The id of the element whose text is in `scratch`, and whether it is new.
    fn intern_scratch(&mut self) -> (u32, bool) {
        let hash = self.hasher.hash_one(&self.scratch[..]);
        if let Some(&id) = self.index.get(&hash) {
            if self.element(id) == &self.scratch[..] {
                return (id, false);
            }
            // A 64-bit hash collision: fall back to a scan (practically never).
            if let Some(id) =
                (0..self.spans.len() as u32).find(|&e| self.element(e) == &self.scratch[..])
            {
                return (id, false);
            }
        }
        let id = self.spans.len() as u32;
        self.spans.push((self.bytes.len(), self.scratch.len()));
        self.bytes.extend_from_slice(&self.scratch);
        self.index.entry(hash).or_insert(id);
        self.read_cache.pop(); // the closing ]
        if id > 0 {
            self.read_cache.push(b',');
        }
        self.read_cache.extend_from_slice(&self.scratch);
        self.read_cache.push(b']');
        (id, true)
    }

    fn add(&mut self, ctx: &mut SyncCtx<'_>, element: Json<'_>) {
        self.scratch.clear();
        write_json(&mut self.scratch, element);
        let (id, new) = self.intern_scratch();
        if new
            && let (Some(log), Some(length)) =
                (self.logs.get_mut(self.me), self.lengths.get_mut(self.me))
        {
            log.push(id);
            *length += 1;
            self.sync.schedule(ctx, &self.lengths);
        }
    }

    /// Appends the entries of `{from, elems}` that extend our logs. Returns false when
    /// the body is malformed (entries up to the error are kept: each is a valid element).
    fn absorb(&mut self, body: Json<'_>) -> bool {
        let (Some(from), Some(elems)) = (body.get("from"), body.get("elems")) else {
            return false;
        };
        for (origin, (start, entries)) in from.items().zip(elems.items()).enumerate() {
            let (Some(start), Some(&length)) = (start.as_u64(), self.lengths.get(origin)) else {
                return false;
            };
            if start > length {
                continue; // a gap (cannot happen with honest peers): skip, the peer resends
            }
            for entry in entries.items().skip((length - start) as usize) {
                self.scratch.clear();
                write_json(&mut self.scratch, entry);
                let (id, _) = self.intern_scratch();
                if let (Some(log), Some(length)) =
                    (self.logs.get_mut(origin), self.lengths.get_mut(origin))
                {
                    log.push(id);
                    *length += 1;
                }
            }
        }
        true
    }

    /// Parses `have` into `scratch_vector`.
    fn read_have(&mut self, body: Json<'_>) -> bool {
        self.scratch_vector.clear();
        self.scratch_vector.resize(self.lengths.len(), 0);
        let Some(have) = body.get("have") else {
            return false;
        };
        for (slot, item) in self.scratch_vector.iter_mut().zip(have.items()) {
            match item.as_u64() {
                Some(value) => *slot = value,
                None => return false,
            }
        }
        true
    }

    /// Writes `{have, from, elems}` with entries past `from` (capped at [`MAX_BATCH`]);
    /// the rest follows in a later exchange (the peer's lengths show what it lacks).
    fn write_sync(&self, body: &mut ObjectWriter<'_>, from: &[u64]) {
        body.u64_array("have", self.lengths.iter().copied());
        body.u64_array("from", from.iter().copied());
        let mut budget = MAX_BATCH;
        let mut elems = body.array("elems");
        for (log, &start) in self.logs.iter().zip(from) {
            let start = (start as usize).min(log.len());
            let end = log.len().min(start + budget);
            budget -= end - start;
            let mut entries = elems.array();
            for &id in log.get(start..end).unwrap_or(&[]) {
                entries.raw(self.element(id));
            }
        }
    }

    fn on_sync(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let peer = peer_index(ctx, msg.src)
            .ok_or_else(|| RequestError::malformed("sync from a non-member"))?;
        if !self.read_have(msg.body) || !self.absorb(msg.body) {
            return Err(RequestError::malformed(
                "set_sync needs have, from and elems arrays",
            ));
        }
        self.sync.heard(peer, &self.scratch_vector);
        self.write_sync(&mut ctx.reply(msg, "set_sync_ok"), &self.scratch_vector);
        self.sync.answered(peer, ctx.now(), &self.lengths);
        self.sync.schedule(ctx, &self.lengths);
        Ok(())
    }

    fn on_ack(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let peer = peer_index(ctx, msg.src)
            .ok_or_else(|| RequestError::malformed("ack from a non-member"))?;
        if !self.read_have(msg.body) {
            return Err(RequestError::malformed("set_sync_ack needs a have array"));
        }
        self.sync.acknowledged(peer, &self.scratch_vector);
        self.sync.schedule(ctx, &self.lengths);
        Ok(())
    }

    fn flush(&mut self, ctx: &mut SyncCtx<'_>) {
        let timeout = self.sync.config().rpc_timeout_ms;
        let mut budget = self.sync.config().fanout;
        for peer in self.sync.flush_order() {
            if budget == 0 {
                break;
            }
            if !self.sync.should_send(peer, ctx.now(), &self.lengths) {
                continue;
            }
            budget -= 1;
            let Some(dest) = self.ids.get(peer) else {
                continue;
            };
            let Ok(mut body) = ctx.rpc(dest, "set_sync", timeout, SyncTag::Exchange(peer)) else {
                break;
            };
            self.write_sync(&mut body, self.sync.confirmed(peer));
            drop(body);
            self.sync.sent(peer, &self.lengths);
        }
    }
}

impl Workload for GSet {
    type Tag = SyncTag;

    fn on_init(&mut self, ctx: &mut SyncCtx<'_>) {
        self.ids = ctx.node_ids().to_vec();
        self.me = ctx.node_index();
        let nodes = self.ids.len();
        self.logs = vec![Vec::with_capacity(4096); nodes];
        self.lengths = vec![0; nodes];
        self.scratch_vector = Vec::with_capacity(nodes);
        self.sync.init(nodes, self.me, nodes);
    }

    fn on_message(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "add" => {
                self.add(ctx, msg.field("element")?);
                ctx.reply(msg, "add_ok");
                Ok(())
            }
            "read" => {
                ctx.reply(msg, "read_ok").raw("value", &self.read_cache);
                Ok(())
            }
            "set_sync" => self.on_sync(ctx, msg),
            "set_sync_ack" => self.on_ack(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag) {
        if tag == SyncTag::Flush && self.sync.timer_fired(ctx.now()) {
            self.flush(ctx);
            self.sync.schedule(ctx, &self.lengths);
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag, reply: RpcReply<'_>) {
        let peer = tag.peer();
        match reply {
            RpcReply::Ok(msg) if msg.kind == "set_sync_ok" && self.read_have(msg.body) => {
                self.absorb(msg.body);
                if self.sync.replied(peer, &self.scratch_vector)
                    && let Some(dest) = self.ids.get(peer)
                {
                    ctx.send(dest, "set_sync_ack")
                        .u64_array("have", self.lengths.iter().copied());
                }
            }
            RpcReply::Ok(_) | RpcReply::Error(..) | RpcReply::Timeout => {
                self.sync.timed_out(peer, ctx.now())
            }
        }
        self.sync.schedule(ctx, &self.lengths);
    }
}
