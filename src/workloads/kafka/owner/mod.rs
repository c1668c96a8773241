//! The owner strategy (the default): each key is owned by one node, chosen by a hash of its
//! name, and only the owner allocates its offsets, so offsets are dense (0, 1, 2, …),
//! unique and increasing without any coordination service.
//!
//! * **send** on the owner: appended to the store, answered at once with its offset, and
//!   journaled for replication ([`journal`]).
//! * **send** elsewhere: the message joins the forward queue to the owner ([`forward`]);
//!   the client waits. The owner appends it and journals the append marked with the
//!   forward's position; that journal entry, replicated back to the forwarding node, is
//!   the answer: the node appends it to its replica and replies `send_ok`. So a forwarded
//!   send costs one forward message and one replication message, both batched.
//! * **poll** anywhere: answered locally from the store, where an owned key's log is
//!   complete and another's is a replica, always a gap-free prefix of the owner's log
//!   (entries are applied in journal order, each at exactly the replica's next offset).
//! * **commit_offsets**: committed offsets are per-key maximums; a node raises its own and
//!   forwards the rise to the owner, which journals it for everyone. They never go back.
//!
//! **Failures.** Streams are go-back-N with positions ([`link`]): a duplicated,
//! reordered or retransmitted forward is applied exactly once, so a send is never stored
//! twice. A forwarded send is acknowledged only once the owner stored it. If the owner
//! does not confirm within `give-up`, the client gets error 13 (indefinite: the forward
//! stays queued and may still be stored); while an owner is unreachable (`suspect`), new
//! sends for its keys get error 11 at once and are not queued, so they never happen. Nodes
//! keep their state in memory and never restart under Maelstrom, so an append the owner
//! stored is never lost; replicas catch up when the partition heals.
//!
//! Messages: the four client requests, and `kafka_sync` between nodes ([`link`]).
//! Timers: [`Tag::Flush`] (batched sends) and [`Tag::Maintenance`] (resends, lone acks,
//! give-ups).

mod apply;
pub mod forward;
pub mod journal;
pub mod link;
mod schedule;

use super::requests::{self, read_offsets, read_send};
use super::store::{MAX_KEYS, Store};
use super::strategy::OwnerConfig;
use crate::node::kv::ReplyTo;
use crate::node::{Message, Millis, RequestError, Workload};
use crate::wire::ErrorCode;
use journal::{Entry, Journal};
use link::{Link, Waiter};

/// The owner strategy's timers (it makes no RPCs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// Send what is due.
    Flush,
    /// Resends, lone acks, give-ups.
    Maintenance,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;
/// Most message bytes a forward queue holds.
pub const QUEUE_BYTES: usize = 256 << 20;

/// The owner-strategy node.
#[derive(Debug)]
pub struct Owner {
    config: OwnerConfig,
    store: Store,
    journal: Journal,
    names: Vec<String>,
    me: usize,
    /// One per node, indexed like `names`; our own stays unused.
    links: Vec<Link>,
    /// The earliest armed flush timer.
    flush_at: Option<Millis>,
    maintenance_armed: bool,
    /// A message's JSON text, written once and copied where it goes.
    scratch: Vec<u8>,
    /// Replication entries from peers that broke the protocol (never, between our nodes).
    protocol_errors: u64,
}

impl Owner {
    /// A node with these knobs.
    pub fn new(config: OwnerConfig) -> Self {
        Owner {
            config,
            store: Store::default(),
            journal: Journal::new(config.queue),
            names: Vec::new(),
            me: 0,
            links: Vec::new(),
            flush_at: None,
            maintenance_armed: false,
            scratch: Vec::with_capacity(1024),
            protocol_errors: 0,
        }
    }

    /// The store (for tests and inspection).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Entries not yet acknowledged by every peer.
    pub fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// Entries received from peers that broke the protocol.
    pub fn protocol_errors(&self) -> u64 {
        self.protocol_errors
    }

    /// Clients waiting for forwarded sends.
    pub fn waiting(&self) -> usize {
        self.links.iter().map(|l| l.waiters.len()).sum()
    }

    /// The node index owning `name` (FNV-1a of its bytes, modulo the cluster size): every
    /// node computes the same owner from the same `init`.
    pub fn owner_of(&self, name: &str) -> usize {
        owner_of(name, self.names.len())
    }

    fn peers(&self) -> impl Iterator<Item = usize> + use<> {
        let me = self.me;
        (0..self.names.len()).filter(move |&p| p != me)
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let name = read_send(msg, &mut self.scratch)?;
        let owner = self.owner_of(name);
        if owner != self.me {
            return self.forward_send(ctx, msg, name, owner);
        }
        if self.names.len() > 1 && self.journal.room() == 0 {
            return Err(unavailable("replication backlog full"));
        }
        let key = self
            .store
            .intern(name)
            .map_err(|_| unavailable("too many keys"))?;
        let log = self
            .store
            .log_mut(key)
            .ok_or_else(|| unavailable("no such key"))?;
        let offset = log
            .append(&self.scratch)
            .map_err(|_| unavailable("the key's log is full"))?;
        self.journal_append(
            ctx,
            Entry::Append {
                key,
                offset,
                origin: None,
            },
        );
        ctx.reply(msg, "send_ok").u64("offset", offset);
        Ok(())
    }

    /// Queues a send for `owner`; the client is answered when the owner's journal entry
    /// for it comes back (or with error 13 after `give-up`).
    fn forward_send(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        name: &str,
        owner: usize,
    ) -> Result<(), RequestError> {
        let now = ctx.now();
        let to = ReplyTo::for_request(msg)?;
        let suspected = self.suspected(owner, now);
        let link = self
            .links
            .get(owner)
            .ok_or_else(|| unavailable("no such owner"))?;
        #[cfg(feature = "planted-bugs")]
        if suspected && self.config.planted_takeover {
            return self.planted_take_over(ctx, msg, name);
        }
        if suspected {
            return Err(unavailable("the key's owner is unreachable"));
        }
        if link.queue.sends_full() || link.waiters.len() >= self.config.queue {
            return Err(unavailable("too many sends waiting for the key's owner"));
        }
        let key = self
            .store
            .intern(name)
            .map_err(|_| unavailable("too many keys"))?;
        let link = &mut self.links[owner];
        let scratch = &self.scratch;
        let position = link
            .queue
            .push_send(key, |bytes| bytes.extend_from_slice(scratch));
        if let Some(to) = to {
            link.waiters.push_back(Waiter {
                position,
                to,
                arrived: now,
            });
        }
        link.due_by(now + self.config.forward_ms);
        self.arm_flush(ctx);
        self.arm_maintenance(ctx);
        Ok(())
    }

    /// The planted bug `planted-takeover` (docs/planted-bugs.md): "the owner is down, so
    /// this node stores the send itself" at its replica's next offset, which the owner
    /// allocates too. Neither journaled nor forwarded: the owner never learns of it.
    #[cfg(feature = "planted-bugs")]
    fn planted_take_over(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        name: &str,
    ) -> Result<(), RequestError> {
        let key = self
            .store
            .intern(name)
            .map_err(|_| unavailable("too many keys"))?;
        let log = self
            .store
            .log_mut(key)
            .ok_or_else(|| unavailable("no such key"))?;
        let offset = log
            .append(&self.scratch)
            .map_err(|_| unavailable("the key's log is full"))?;
        ctx.reply(msg, "send_ok").u64("offset", offset);
        Ok(())
    }

    /// An owner whose link made no progress for `suspect` ms and who was not heard from
    /// for as long: sends for its keys fail at once instead of piling up.
    fn suspected(&self, peer: usize, now: Millis) -> bool {
        let Some(link) = self.links.get(peer) else {
            return true;
        };
        let silent = link
            .last_heard
            .is_none_or(|heard| now.saturating_sub(heard) >= self.config.suspect_ms);
        link.stalled_for(now) >= self.config.suspect_ms && silent
    }

    fn on_commit(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let offsets = read_offsets(msg)?;
        let count = offsets.len();
        if self.names.len() > 1 {
            let queue_room = self.peers().map(|p| self.links[p].queue.room()).min();
            if self.journal.room().min(queue_room.unwrap_or(usize::MAX)) < count {
                return Err(commit_refused("replication backlog full"));
            }
        }
        if self.store.keys() + count > MAX_KEYS {
            return Err(commit_refused("too many keys"));
        }
        for (name, offset) in offsets.entries() {
            let Some(offset) = requests::offset_of(offset) else {
                continue;
            };
            let key = self
                .store
                .intern(name)
                .map_err(|_| commit_refused("too many keys"))?;
            if !self.store.commit(key, offset) || self.names.len() < 2 {
                continue;
            }
            let owner = self.owner_of(name);
            if owner == self.me {
                self.journal_append(ctx, Entry::Commit { key, offset });
            } else {
                let link = &mut self.links[owner];
                link.queue.push_commit(key, offset);
                link.due_by(ctx.now() + self.config.replicate_ms);
            }
        }
        self.arm_flush(ctx);
        drop(ctx.reply(msg, "commit_offsets_ok"));
        Ok(())
    }

    /// Journals `entry` (the caller checked there is room) and schedules replicating it;
    /// nothing with no peers.
    fn journal_append(&mut self, ctx: &mut Ctx<'_>, entry: Entry) {
        if self.names.len() < 2 {
            return;
        }
        self.journal.push(entry);
        let due = ctx.now() + self.config.replicate_ms;
        for peer in self.peers() {
            self.links[peer].due_by(due);
        }
        self.arm_flush(ctx);
    }
}

impl Workload for Owner {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.names = ctx.node_ids().to_vec();
        self.me = ctx.node_index();
        let capacity = self.config.queue;
        self.links = (0..self.names.len())
            .map(|_| Link::new(capacity, QUEUE_BYTES))
            .collect();
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "send" => self.on_send(ctx, msg),
            "poll" => requests::reply_poll(ctx, msg, &self.store, self.config.poll_max),
            "commit_offsets" => self.on_commit(ctx, msg),
            "list_committed_offsets" => requests::reply_committed(ctx, msg, &self.store),
            "kafka_sync" => self.on_sync(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::Flush => {
                if self.flush_at.is_some_and(|at| at <= ctx.now()) {
                    self.flush_at = None;
                }
                self.flush_due(ctx);
                self.arm_flush(ctx);
                self.arm_maintenance(ctx);
            }
            Tag::Maintenance => {
                self.maintenance_armed = false;
                self.maintain(ctx);
            }
        }
    }
}

/// Error 11 (definite: nothing was stored) with `text`.
fn unavailable(text: &'static str) -> RequestError {
    RequestError::new(ErrorCode::TemporarilyUnavailable, text)
}

/// Error 13 for a commit this node cannot take. Not a definite error, though nothing
/// changed: Maelstrom's client moves its offsets before committing, so after a `fail` it
/// would poll on past the messages it never recorded (`poll-skip`); 13 ends that client.
fn commit_refused(text: &'static str) -> RequestError {
    RequestError::new(ErrorCode::Crash, text)
}

/// FNV-1a of `name`'s bytes modulo `nodes` (0 with no nodes).
pub fn owner_of(name: &str, nodes: usize) -> usize {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    hash.checked_rem(nodes as u64).unwrap_or(0) as usize
}
