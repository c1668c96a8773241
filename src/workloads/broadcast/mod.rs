//! Challenge 3a–3e, `broadcast`: every node must end up knowing every value broadcast to any
//! node, despite partitions, with few messages and low latency.
//!
//! Messages accepted:
//! * `topology {topology}` → `topology_ok` (used only by [`Peers::Given`]);
//! * `broadcast {message}` → `broadcast_ok` at once (the value is stored locally first, so
//!   it is never lost: the node keeps retrying until each peer acknowledged it);
//! * `read` → `read_ok {messages}` from a cached JSON array ([`Values`]);
//! * `gossip {seq, ack, values}` from peers (see [`gossip`]).
//!
//! How values travel is a [`Strategy`] (plain data, from `GLOMERS_BROADCAST`): who talks to
//! whom ([`Peers`]) and when queued values are sent ([`Flush`]). A value learnt from peer p
//! is queued for every other peer, never back to p; each peer link batches and
//! acknowledges independently. A link whose queue overflows (`queue`, a long partition
//! under heavy inflow) drops it and later streams the value log instead, so an
//! acknowledged broadcast is never lost and memory stays bounded. Nothing is sent while there is nothing new and nothing
//! owed, so an idle cluster is silent.
//!
//! Timers: [`Tag::Flush`] (send queued values, per the flush policy) and [`Tag::Maintenance`]
//! (resend unacknowledged values, send owed acks; armed only while something is owed).

pub mod gossip;
pub mod links;
pub mod state;
pub mod strategy;

pub use gossip::Link;
pub use links::Links;
pub use state::Values;
pub use strategy::{Flush, Peers, Strategy};

use crate::node::{Message, Millis, RequestError, Workload};
use crate::wire::Json;

/// The broadcast node's timers (it makes no RPCs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// Send queued values.
    Flush,
    /// Retransmits and lone acks.
    Maintenance,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// The broadcast node.
#[derive(Debug)]
pub struct Broadcast {
    strategy: Strategy,
    values: Values,
    /// Node ids, copied at init so a send can borrow a name while a link is mutated.
    names: Vec<String>,
    me: usize,
    /// Index of the star's hub (only meaningful for [`Peers::Star`]).
    hub: usize,
    /// Peers we forward new values to.
    neighbours: Vec<usize>,
    /// One per peer we talk to, opened on first use.
    links: Links,
    flush_armed: bool,
    maintenance_armed: bool,
    /// A time (our clock) at which the hub's grid ticked, estimated from its periodic
    /// sends (star leaves with [`Flush::Aligned`]).
    hub_tick: Option<Millis>,
}

impl Broadcast {
    /// The node the `broadcast` binary runs: strategy from `GLOMERS_BROADCAST`.
    pub fn from_env() -> Self {
        Broadcast::new(Strategy::from_env())
    }

    /// A node following `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        Broadcast {
            strategy,
            values: Values::default(),
            names: Vec::new(),
            me: 0,
            hub: 0,
            neighbours: Vec::new(),
            links: Links::default(),
            flush_armed: false,
            maintenance_armed: false,
            hub_tick: None,
        }
    }

    /// The values this node knows.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The peers this node forwards to (node indices).
    pub fn neighbours(&self) -> &[usize] {
        &self.neighbours
    }

    /// Values queued for peers (or left to resync) and not yet acknowledged, summed over
    /// links.
    pub fn unacknowledged(&self) -> usize {
        let log_len = self.values.len();
        self.links.iter().map(|l| l.pending_len(log_len)).sum()
    }

    /// Links whose queue overflowed and that are streaming the value log to their peer.
    pub fn resyncing(&self) -> usize {
        self.links.iter().filter(|l| l.resyncing()).count()
    }

    /// The strategy in use.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    fn is_leaf(&self) -> bool {
        matches!(self.strategy.peers, Peers::Star { .. }) && self.me != self.hub
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.names.iter().position(|name| name == id)
    }

    /// Stores `value`; if new, queues it for every neighbour except `from`. Sends nothing.
    fn learn(&mut self, value: u64, from: Option<usize>) -> bool {
        if !self.values.insert(value) {
            return false;
        }
        let position = self.values.len() as u64 - 1;
        for &peer in &self.neighbours {
            if Some(peer) != from
                && let Some(link) = self.links.get_mut(peer)
            {
                link.queue(value, position);
            }
        }
        true
    }

    /// `topology`: adopt our neighbour list if the strategy follows the given topology.
    /// Emits `topology_ok`, and queues known values for new neighbours.
    fn on_topology(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let topology = msg.field("topology")?;
        if self.strategy.peers == Peers::Given {
            let mine = self.names.get(self.me).and_then(|me| topology.get(me));
            let listed = mine.into_iter().flat_map(|list| list.items());
            let list: Vec<usize> = listed.filter_map(|peer| self.peer_index(peer)).collect();
            for &peer in &list {
                if !self.neighbours.contains(&peer) && peer != self.me {
                    self.neighbours.push(peer);
                    if let Some(link) = self.links.open(peer) {
                        for (position, value) in self.values.iter().enumerate() {
                            link.queue(value, position as u64);
                        }
                    }
                }
            }
            self.schedule_flush(ctx);
        }
        drop(ctx.reply(msg, "topology_ok"));
        Ok(())
    }

    fn peer_index(&self, peer: Json<'_>) -> Option<usize> {
        let name = peer.as_str()?;
        let found = self.index_of(name);
        if found.is_none() {
            eprintln!("broadcast: topology names unknown node {name:?}; ignored");
        }
        found
    }

    /// `gossip` from a peer: take its ack, owe it ours, learn its values, then flush per
    /// policy (which may emit `gossip` messages at once). Emits one `gossip` to that peer
    /// at once if values to it were overdue (a healed partition) or its ack emptied the
    /// flight with more than a batch waiting (a backlog or resync streams on), and one
    /// carrying our ack if it sent a full batch (more is waiting on its side).
    fn on_gossip(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let from = self
            .index_of(msg.src)
            .filter(|&from| from != self.me)
            .ok_or_else(|| RequestError::malformed("gossip from an unknown node"))?;
        let seq = msg.u64("seq")?;
        let ack = msg.u64("ack")?;
        let values = msg.field("values")?;
        let name = self.names.get(from).map(String::as_str).unwrap_or("");
        let log = self.values.log();
        if let Some(link) = self.links.open(from) {
            // Planted bug: an ack for any message "covers" the latest one sent.
            #[cfg(feature = "planted-bugs")]
            let ack = match ack {
                0 => 0,
                _ if self.strategy.planted_ack_all => link.latest_seq(),
                _ => ack,
            };
            link.on_ack(ack, log.len());
            link.on_received(seq, ctx.now());
            // Hearing from a peer whose values are overdue means the link just healed:
            // resend now instead of at the next maintenance tick.
            let s = &self.strategy;
            let overdue = link.retry_due(ctx.now(), s.retry_ms, s.resend_ms);
            if overdue {
                link.note_resend(ctx.now(), s.retry_ms, s.resend_ms);
            }
            if overdue || link.backlog_ready() {
                link.send(ctx, name, self.strategy.batch, None, log);
            }
        }
        if let Some(late) = msg.body.get("grid").and_then(|g| g.as_u64())
            && from == self.hub
        {
            self.observe_hub_tick(ctx.now(), late);
        }
        let (mut learnt, mut count) = (false, 0);
        for value in values.items() {
            count += 1;
            match value.as_u64() {
                Some(value) => learnt |= self.learn(value, Some(from)),
                None => eprintln!("broadcast: ignored a non-integer value from {}", msg.src),
            }
        }
        if learnt {
            self.schedule_flush(ctx);
        }
        if count >= self.strategy.batch {
            self.ack_now(ctx, from);
        }
        self.arm_maintenance(ctx);
        Ok(())
    }

    /// Sends `peer` the ack we owe it, if the flush did not already carry it.
    fn ack_now(&mut self, ctx: &mut Ctx<'_>, peer: usize) {
        let name = self.names.get(peer).map(String::as_str).unwrap_or("");
        let log = self.values.log();
        if let Some(link) = self.links.get_mut(peer).filter(|link| link.ack_owed()) {
            link.send(ctx, name, self.strategy.batch, None, log);
        }
    }

    /// A periodic hub send that went out `late` ms after its tick arrived `now`: the tick
    /// was at most `now − late − hop`. Delivery only ever adds delay, so keep the earliest
    /// estimate (in phase), drifting up slowly in case the grid itself moved.
    fn observe_hub_tick(&mut self, now: Millis, late: u64) {
        let Flush::Period(period) = self.strategy.flush else {
            return;
        };
        let seen = now
            .saturating_sub(late)
            .saturating_sub(self.strategy.hop_ms);
        let Some(tick) = self.hub_tick else {
            self.hub_tick = Some(seen);
            return;
        };
        let period = period.max(1) as i128;
        let half = period / 2;
        let behind = (seen as i128 - tick as i128 + half).rem_euclid(period) - half;
        self.hub_tick = Some(if behind <= 0 {
            seen
        } else {
            tick + (behind / 8) as u64
        });
    }

    /// The flush policy for this node's role.
    fn policy(&self) -> Flush {
        if self.is_leaf() {
            self.strategy.leaf_flush
        } else {
            self.strategy.flush
        }
    }

    /// Sends now, or arms [`Tag::Flush`] for when the policy says.
    fn schedule_flush(&mut self, ctx: &mut Ctx<'_>) {
        let delay = match self.flush_delay(ctx.now()) {
            0 => return self.flush(ctx),
            delay => delay,
        };
        if !self.flush_armed {
            self.flush_armed = ctx.set_timer(delay, Tag::Flush);
            if !self.flush_armed {
                self.flush(ctx); // timer table full: better early than never
            }
        }
    }

    /// Milliseconds until the next send under the current policy (0: now).
    fn flush_delay(&self, now: Millis) -> u64 {
        match self.policy() {
            Flush::Delay(delay) => delay,
            Flush::Period(period) => period - now % period,
            Flush::Aligned => {
                let (Flush::Period(period), Some(tick)) = (self.strategy.flush, self.hub_tick)
                else {
                    return 0; // no grid known yet: send at once
                };
                // Land `margin` ms before one of the hub's later ticks.
                let hop = self.strategy.hop_ms as i128;
                let anchor = tick as i128 - hop - self.strategy.margin_ms as i128;
                (anchor - now as i128).rem_euclid(period.max(1) as i128) as u64
            }
        }
    }

    /// Sends every link's unsent values (with our ack). Emits one `gossip` per such link.
    fn flush(&mut self, ctx: &mut Ctx<'_>) {
        let batch = self.strategy.batch;
        let grid = match self.policy() {
            Flush::Period(period) => Some(ctx.now() % period.max(1)),
            _ => None,
        };
        let log = self.values.log();
        for (peer, link) in self.links.iter_mut() {
            if link.flush_wanted(log.len(), batch) {
                let name = self.names.get(peer).map(String::as_str).unwrap_or("");
                link.send(ctx, name, batch, grid, log);
            }
        }
        self.arm_maintenance(ctx);
    }

    /// Resends values unacknowledged for the backoff, and lone acks owed for `ack` ms.
    /// Emits at most one `gossip` per link; re-arms itself while anything is owed.
    fn maintain(&mut self, ctx: &mut Ctx<'_>) {
        let s = &self.strategy;
        let now = ctx.now();
        let log = self.values.log();
        for (peer, link) in self.links.iter_mut() {
            if link.retry_due(now, s.retry_ms, s.resend_ms) || link.ack_due(now, s.ack_ms) {
                link.note_resend(now, s.retry_ms, s.resend_ms);
                let name = self.names.get(peer).map(String::as_str).unwrap_or("");
                link.send(ctx, name, s.batch, None, log);
            }
        }
        self.arm_maintenance(ctx);
    }

    fn arm_maintenance(&mut self, ctx: &mut Ctx<'_>) {
        if self.maintenance_armed || !self.links.iter().any(|l| l.in_flight() || l.ack_owed()) {
            return;
        }
        let s = &self.strategy;
        let tick = (s.ack_ms.min(s.retry_ms).min(s.resend_ms) / 4).clamp(10, 250);
        self.maintenance_armed = ctx.set_timer(tick, Tag::Maintenance);
    }
}

impl Workload for Broadcast {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.names = ctx.node_ids().to_vec();
        self.me = ctx.node_index();
        let n = self.names.len();
        self.links = Links::new(n, self.strategy.queue_max);
        self.hub = match &self.strategy.peers {
            Peers::Star { hub: Some(hub) } => self.index_of(hub).unwrap_or_else(|| {
                eprintln!("broadcast: hub {hub:?} is not a node; using the first node");
                0
            }),
            _ => 0,
        };
        self.neighbours = neighbours(&self.strategy.peers, self.me, self.hub, n);
        for &peer in &self.neighbours {
            self.links.open(peer);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "broadcast" => {
                let value = msg.u64("message")?;
                drop(ctx.reply(msg, "broadcast_ok"));
                if self.learn(value, None) {
                    self.schedule_flush(ctx);
                }
                Ok(())
            }
            "read" => {
                ctx.reply(msg, "read_ok")
                    .raw("messages", self.values.json());
                Ok(())
            }
            "gossip" => self.on_gossip(ctx, msg),
            "topology" => self.on_topology(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::Flush => {
                self.flush_armed = false;
                self.flush(ctx);
            }
            Tag::Maintenance => {
                self.maintenance_armed = false;
                self.maintain(ctx);
            }
        }
    }
}

/// The fixed peer lists of the computed shapes (empty for [`Peers::Given`] until
/// `topology` arrives).
pub fn neighbours(peers: &Peers, me: usize, hub: usize, n: usize) -> Vec<usize> {
    match peers {
        Peers::Given => Vec::new(),
        Peers::Total => (0..n).filter(|&i| i != me).collect(),
        Peers::Star { .. } if me == hub => (0..n).filter(|&i| i != me).collect(),
        Peers::Star { .. } => vec![hub],
        Peers::Tree { fanout } => {
            let k = (*fanout).max(1);
            let parent = (me > 0).then(|| (me - 1) / k);
            let children = (k * me + 1..=k * me + k).filter(|&child| child < n);
            parent.into_iter().chain(children).collect()
        }
    }
}
