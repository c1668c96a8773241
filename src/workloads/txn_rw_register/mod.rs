//! `txn-rw-register` (Gossip Glomers 6a–6c): a totally available transactional store of
//! integer registers, after Bailis et al.'s Highly Available Transactions.
//!
//! **Commit.** A node runs each client transaction locally and atomically (handlers run one
//! at a time), replies at once and never aborts: no transaction waits on the network or
//! fails, partitions included. A transaction that writes gets a version, a Lamport
//! timestamp newer than everything the node holds ([`store`]), and is appended to the
//! node's commit log ([`log`]) as its final write of each key plus its dependencies: how
//! many commits of each node were applied here when it committed. Its id is
//! (node, commit number).
//!
//! **Replication** ([`replication`]). Every node sends its own commits directly to every
//! peer in batches: a [`PeerSync`] exchange whose request and reply each carry the
//! sender's commits past what the other side reported having, so one round trip moves
//! both directions and doubles as the acknowledgement. Unanswered exchanges (and those
//! the peer could take nothing from yet) are retried with backoff until the peer confirms;
//! confirmed commits leave the log. A replica applies each node's commits in commit order,
//! each once (numbers below what it applied are skipped: loss, duplication and reordering
//! are harmless), each only after its dependencies (one that comes early is held,
//! [`early`]), and each in one step, installing each write only if its version is newer
//! than the register's (last writer wins). Replicas that applied the same commits hold the
//! same registers.
//!
//! **Guarantee: causal consistency with atomic visibility, the session being the node**.
//! Let `so` order the transactions one node executed (read-only ones included), `wr` link
//! a writer to each transaction that read one of its writes, and `co = (so ∪ wr)+`. Every
//! transaction T reads from a set V(T) of committed writers such that
//! 1. V(T) contains every writer that precedes T in `co` (and V(T) is closed under `co`);
//! 2. each key T reads before writing it holds the value of the newest-version writer of
//!    that key in V(T), or `null` if there is none;
//! 3. V never shrinks along `so`: a node never rolls visible state back;
//! 4. versions extend `co`, so a read never returns a write older than one that causally
//!    precedes the reader.
//!
//! Hence: read committed (no G0, G1a, G1b, G1c), a transaction's writes become visible
//! together (read atomic / monotonic atomic view), and, since Maelstrom binds each client
//! to one node, every client gets read-your-writes, monotonic reads, monotonic writes and
//! writes-follow-reads. Checkable form (tests/txn_cluster.rs checks it on every read):
//! *each read returns a version at least as new as every causally preceding write of that
//! key.* Not prevented, as no totally available store can: stale reads across nodes, lost
//! updates and write skew between nodes; so neither snapshot isolation nor serializability.
//!
//! Keys and values are integers (Maelstrom's generator uses nothing else); anything else
//! gets error 12 and changes nothing.
//!
//! Messages: `txn {txn: [[f, k, v], …]}` → `txn_ok {txn}` with each read's value filled
//! in (`null`: never written); between nodes `txn_sync {have, from, txns}` →
//! `txn_sync_ok {have, from, txns}` (see [`replication`]). Timers: the [`PeerSync`] flush
//! timer.

pub mod early;
pub mod log;
pub mod replication;
pub mod store;
pub mod strategy;

pub use store::{Register, Version};
pub use strategy::TxnStrategy;

use self::early::EarlyCommits;
use self::log::CommitLog;
use self::store::Store;
use super::peer_sync::{PeerSync, SyncCtx, SyncTag};
use crate::node::{Message, RequestError, RpcReply, Workload};
use crate::wire::{Json, JsonKind};

/// The txn-rw-register node.
#[derive(Debug)]
pub struct TxnRwRegister {
    strategy: TxnStrategy,
    sync: PeerSync,
    ids: Vec<String>,
    me: usize,
    store: Store,
    log: CommitLog,
    /// Commits received before their dependencies.
    early: EarlyCommits,
    /// Per node, how many of its commits were applied here, in its order (ours: all).
    applied: Vec<u64>,
    /// Per peer, the first commit our last request to it carried.
    request_from: Vec<u64>,
    /// What we can give peers, as [`PeerSync`] compares it: our commit count in our slot,
    /// 0 elsewhere (each node sends only its own commits).
    offer: Vec<u64>,
    /// Reused buffers: keys a transaction wrote, its final writes, a peer's `have`, a
    /// received commit's dependencies and writes.
    written_keys: Vec<i64>,
    final_writes: Vec<(i64, i64)>,
    peer_have: Vec<u64>,
    incoming_deps: Vec<u64>,
    incoming_writes: Vec<(i64, i64)>,
}

/// One micro-op of a client transaction.
#[derive(Clone, Copy, Debug)]
enum MicroOp {
    Read(i64),
    Write(i64, i64),
}

/// `["r", k, _]` or `["w", k, v]` with integer `k` and `v`.
fn micro_op(op: Json<'_>) -> Option<MicroOp> {
    if op.kind() != JsonKind::Array || op.len() != 3 {
        return None;
    }
    let mut items = op.items();
    let (f, key, value) = (items.next()?, items.next()?, items.next()?);
    let key = key.as_i64()?;
    match f.as_str()? {
        "r" => Some(MicroOp::Read(key)),
        "w" => Some(MicroOp::Write(key, value.as_i64()?)),
        _ => None,
    }
}

fn bad_txn() -> RequestError {
    RequestError::malformed(
        "txn must be an array of [\"r\", key, null] or [\"w\", key, value] with integer keys and values",
    )
}

impl TxnRwRegister {
    /// The node the `txn-rw-register` binary runs: strategy from `GLOMERS_TXN`.
    pub fn from_env() -> Self {
        TxnRwRegister::new(TxnStrategy::from_env())
    }

    /// A node replicating with `strategy` (sized for one node until `init`).
    pub fn new(strategy: TxnStrategy) -> Self {
        let mut node = TxnRwRegister {
            strategy,
            sync: PeerSync::new(strategy.sync_config()),
            ids: Vec::new(),
            me: 0,
            store: Store::default(),
            log: CommitLog::new(1),
            early: EarlyCommits::new(1, 0),
            applied: Vec::new(),
            offer: Vec::new(),
            request_from: Vec::new(),
            written_keys: Vec::with_capacity(64),
            final_writes: Vec::with_capacity(64),
            peer_have: Vec::new(),
            incoming_deps: Vec::new(),
            incoming_writes: Vec::with_capacity(64),
        };
        node.size_for(1, 0);
        node
    }

    fn size_for(&mut self, nodes: usize, me: usize) {
        self.me = me;
        self.log = CommitLog::new(nodes);
        self.early = EarlyCommits::new(nodes, self.strategy.batch);
        self.applied = vec![0; nodes];
        self.offer = vec![0; nodes];
        self.request_from = vec![0; nodes];
        self.peer_have = vec![0; nodes];
        self.incoming_deps = Vec::with_capacity(nodes);
        self.sync.init(nodes, me, nodes);
    }

    /// The strategy this node runs.
    pub fn strategy(&self) -> &TxnStrategy {
        &self.strategy
    }

    /// The register at `key` as this node's transactions would read it now.
    pub fn register(&self, key: i64) -> Option<Register> {
        self.store.get(key)
    }

    /// Every written register here, in no particular order.
    pub fn registers(&self) -> impl Iterator<Item = (i64, Register)> + '_ {
        self.store.iter()
    }

    /// Per node, how many of its commits this node applied.
    pub fn applied(&self) -> &[u64] {
        &self.applied
    }

    /// Own commits kept because some peer has not confirmed them.
    pub fn unconfirmed(&self) -> usize {
        self.log.kept()
    }

    /// Runs a client transaction: validates it whole, then executes and answers it in one
    /// step, so other transactions see all of its writes or none.
    fn on_txn(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let ops = msg.field("txn")?;
        if ops.kind() != JsonKind::Array {
            return Err(bad_txn());
        }
        let mut writes = false;
        for op in ops.items() {
            writes |= matches!(micro_op(op).ok_or_else(bad_txn)?, MicroOp::Write(..));
        }
        let version = writes.then(|| self.store.next_version(self.me as u32));
        self.written_keys.clear();
        self.final_writes.clear();
        let mut reply = ctx.reply(msg, "txn_ok");
        let mut done = reply.array("txn");
        for op in ops.items().filter_map(micro_op) {
            let mut item = done.array();
            match (op, version) {
                (MicroOp::Read(key), _) => {
                    item.str("r").i64(key);
                    match self.store.get(key) {
                        Some(register) => item.i64(register.value),
                        None => item.raw(b"null"),
                    };
                }
                (MicroOp::Write(key, value), Some(version)) => {
                    self.store.write_local(key, value, version);
                    self.written_keys.push(key);
                    // Planted bug: every write is logged, in op order. A replica installs
                    // only a version newer than the register's, so of two writes of one
                    // key (same version) it keeps the first: an intermediate value.
                    #[cfg(feature = "planted-bugs")]
                    if self.strategy.planted_every_write {
                        self.final_writes.push((key, value));
                    }
                    item.str("w").i64(key).i64(value);
                }
                (MicroOp::Write(..), None) => unreachable!("a writing txn has a version"),
            }
        }
        drop(done);
        drop(reply);
        if let Some(version) = version {
            self.commit(ctx, version);
        }
        Ok(())
    }

    /// Logs the executed transaction's final writes for replication.
    fn commit(&mut self, ctx: &mut SyncCtx<'_>, version: Version) {
        self.written_keys.sort_unstable();
        self.written_keys.dedup();
        #[cfg(feature = "planted-bugs")]
        if self.strategy.planted_every_write {
            self.written_keys.clear(); // final_writes already holds every write
        }
        for &key in &self.written_keys {
            let register = self.store.get(key);
            assert!(
                register.is_some_and(|r| r.version == version),
                "a committed write is in the store"
            );
            if let Some(register) = register {
                self.final_writes.push((key, register.value));
            }
        }
        let number = self
            .log
            .push(version.clock, &self.applied, &self.final_writes);
        assert_eq!(
            number, self.applied[self.me],
            "commits are numbered densely"
        );
        self.applied[self.me] = number + 1;
        self.offer[self.me] = number + 1;
        self.trim();
        self.sync.schedule(ctx, &self.offer);
    }
}

impl Default for TxnRwRegister {
    fn default() -> Self {
        TxnRwRegister::new(TxnStrategy::default())
    }
}

impl Workload for TxnRwRegister {
    type Tag = SyncTag;

    fn on_init(&mut self, ctx: &mut SyncCtx<'_>) {
        self.ids = ctx.node_ids().to_vec();
        if self.ids.is_empty() {
            self.ids.push(ctx.node_id().to_string());
        }
        let me = ctx.node_index().min(self.ids.len() - 1);
        self.size_for(self.ids.len(), me);
    }

    fn on_message(&mut self, ctx: &mut SyncCtx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "txn" => self.on_txn(ctx, msg),
            "txn_sync" => self.on_sync(ctx, msg),
            "txn_sync_ack" => self.on_sync_ack(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_timer(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag) {
        if tag == SyncTag::Flush && self.sync.timer_fired(ctx.now()) {
            self.flush(ctx);
            self.sync.schedule(ctx, &self.offer);
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut SyncCtx<'_>, tag: SyncTag, reply: RpcReply<'_>) {
        self.on_sync_reply(ctx, tag.peer(), reply);
    }
}
