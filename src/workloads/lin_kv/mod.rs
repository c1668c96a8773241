//! `lin-kv` by Raft (Maelstrom's Raft chapters): a linearizable key-value store of integer
//! keys and values, replicated with Raft (Ongaro's thesis; section numbers below are the
//! Raft paper's, §6 is the thesis's chapter on clients).
//!
//! * Elections ([`election`]): randomized timeouts from the node's seeded RNG, a pre-vote
//!   round before any term change (§9.6), and leader stickiness: a node that heard from a
//!   leader within the minimum election timeout grants neither pre-votes nor votes, so a
//!   rejoining node cannot depose a working leader. A leader that has not heard from a
//!   majority for that long steps down (check-quorum), so a minority leader stops
//!   accepting requests it could never commit.
//! * Replication ([`replication`]): the leader batches new entries for `flush_ms` and then
//!   sends one `append` per follower; it pipelines (next_index advances on send, bounded
//!   by `max_in_flight` entries beyond what the follower acknowledged) and repairs a gap
//!   at the first failure of a round sent after the last repair.
//! * Reads use read-index (§6.4), not leases: a read waits for a majority to answer an
//!   `append` sent after it arrived (proving leadership at some instant after the read
//!   began) and for the state machine to reach the commit index of that instant. No
//!   clock bound is assumed, so clock skew (the simulator's `--clock-skew`) cannot break
//!   it; reads share the write rounds, so they cost no extra messages under load.
//! * Clients ([`client`]): a follower forwards requests to the leader it knows and relays
//!   the answer. Error codes: 11 only when the op surely did not happen (no leader known,
//!   a full table, or our entry's index was committed with another entry); 20 and 22 from
//!   the state machine; 13 when a forwarded write or cas got no answer (it may have
//!   happened).
//!
//! * Placement ([`placement`]): the leader hands leadership (Raft thesis §3.10,
//!   `timeout_now`) to a follower that forwards clearly more client requests than reach
//!   the leader directly, since every forwarded request costs two messages.
//!
//! Messages between nodes: `pre_vote`/`pre_vote_ok`, `vote`/`vote_ok`, `append`/
//! `append_ok` (fire-and-forget, matched by term and round), `timeout_now`, and forwarded
//! `read`/`write`/`cas` (an RPC with `forwarded: true`).

pub mod client;
pub mod deadlines;
pub mod election;
pub mod log;
pub mod placement;
pub mod replication;

use std::collections::VecDeque;

use ahash::AHashMap;

pub use log::{Entry, Log, Op, Store};

use crate::node::kv::ReplyTo;
use crate::node::{Message, Millis, RequestError, RpcReply, Workload};

/// What a timer or an RPC reply continues.
#[derive(Clone, Copy, Debug)]
pub enum Tag {
    /// Timer: election timeout check (followers and candidates).
    Election,
    /// Timer: heartbeats and check-quorum (leaders).
    Heartbeat,
    /// Timer: send batched entries and reads (leaders).
    Flush,
    /// Timer: answer the client requests whose reply budget ran out (any role).
    Deadline,
    /// The leader's answer to a client request this follower forwarded: whom to relay
    /// it to (the node's only RPC).
    Forward(Forward),
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// Largest term accepted from a peer: far beyond any real run, and far enough below
/// `u64::MAX` that `term + 1` can never overflow.
pub const MAX_TERM: u64 = 1 << 48;

/// The `term` field of a peer message, refused (code 12) above [`MAX_TERM`].
fn read_term(msg: &Message<'_>) -> Result<u64, RequestError> {
    let term = msg.u64("term")?;
    if term > MAX_TERM {
        return Err(RequestError::malformed("term out of range"));
    }
    Ok(term)
}

/// Timing and bounds. Plain data; the defaults suit Maelstrom's latencies up to ~20 ms.
#[derive(Clone, Debug)]
pub struct Config {
    /// Shortest election timeout, ms; also the leader-stickiness and check-quorum window.
    pub election_min_ms: Millis,
    /// Election timeouts are uniform in `[min, min + spread)`.
    pub election_spread_ms: Millis,
    /// A leader sends an `append` to a follower it has been silent to for this long.
    pub heartbeat_ms: Millis,
    /// How long a leader gathers new entries and reads before sending a round.
    pub flush_ms: Millis,
    /// Most entries in one `append`.
    pub max_batch: usize,
    /// Most entries sent to a follower beyond its acknowledged index.
    pub max_in_flight: u64,
    /// Longest log; a leader refuses new writes (error 11) beyond it.
    pub max_log: u64,
    /// Most client requests waiting (proposals, reads, forwards) per node.
    pub max_pending: usize,
    /// How long a client request may wait for its answer on the node it reached, ms: a
    /// write, cas or read still waiting then is answered with an error (see
    /// [`deadlines`]), and a follower's forward times out after it. Maelstrom's client
    /// gives up after max(10 × latency, 1000) ms of *its* clock; 600 ms of a node clock
    /// running 30 % slow is 857 ms, leaving room for the check period and two latencies.
    pub reply_budget_ms: Millis,
    /// The leader's budget for a request a follower forwarded: shorter than the
    /// follower's, so the leader's (often definite) answer arrives before the follower
    /// gives up with an indefinite one.
    pub forwarded_budget_ms: Millis,
    /// How often pending requests are checked against their deadlines, ms.
    pub deadline_check_ms: Millis,
    /// Length of a leadership-placement window, ms (0: leadership never moves on purpose;
    /// see [`placement`]).
    pub placement_window_ms: Millis,
    /// Fewest requests a follower must forward in a window to be handed leadership.
    pub placement_min_requests: u64,
    /// ... and it must forward more than this many times the requests that reached the
    /// leader directly.
    pub placement_ratio: u64,
    /// Test-only sabotage: grant every vote request of the current term (two votes in one
    /// term), to prove the safety assertions catch a broken Raft.
    #[doc(hidden)]
    pub broken_double_vote: bool,
    /// Planted bug `planted-local-read` (docs/planted-bugs.md): every node answers a
    /// client's read at once from its own state machine, without read-index.
    #[cfg(feature = "planted-bugs")]
    pub planted_local_read: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            election_min_ms: 250,
            election_spread_ms: 250,
            heartbeat_ms: 60,
            flush_ms: 20,
            max_batch: 256,
            max_in_flight: 4096,
            max_log: 1 << 22,
            max_pending: 8192,
            reply_budget_ms: 600,
            forwarded_budget_ms: 450,
            deadline_check_ms: 25,
            placement_window_ms: 1000,
            placement_min_requests: 20,
            placement_ratio: 2,
            broken_double_vote: false,
            #[cfg(feature = "planted-bugs")]
            planted_local_read: false,
        }
    }
}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows `leader` (if known).
    Follower,
    /// Asking for pre-votes for term + 1 (no term change yet).
    PreCandidate,
    /// Asking for votes in the current term.
    Candidate,
    /// Leads the current term.
    Leader,
}

/// A client write or cas the leader appended, waiting for its index to be applied.
#[derive(Clone, Copy, Debug)]
struct Proposal {
    term: u64,
    to: ReplyTo,
    /// Answer by then, on this node's clock.
    deadline: Millis,
}

/// A read waiting for a round and for the state machine (read-index).
#[derive(Clone, Copy, Debug)]
struct PendingRead {
    to: ReplyTo,
    key: i64,
    /// First round sent after the read arrived.
    round: u64,
    /// Commit index (at least this term's first entry) when the read arrived.
    index: u64,
    /// Answer by then, on this node's clock.
    deadline: Millis,
}

/// A request forwarded to the leader, waiting for its answer.
#[derive(Clone, Copy, Debug)]
pub struct Forward {
    to: ReplyTo,
    /// True for write and cas: a lost answer is then indefinite (code 13).
    mutating: bool,
}

/// Per-peer leader bookkeeping.
#[derive(Clone, Copy, Debug, Default)]
struct Peer {
    /// Next index to send.
    next: u64,
    /// Highest index known replicated on the peer.
    matched: u64,
    /// Highest round the peer answered in our term.
    acked_round: u64,
    /// Failures of rounds before this one are stale (a repair already happened).
    repaired_round: u64,
    /// When we last heard from it, and last sent to it.
    heard: Millis,
    sent: Millis,
}

/// Forwarded msg_ids already taken from one peer: the highest and a 128-id window below
/// it, so a duplicated forward is appended at most once.
#[derive(Clone, Copy, Debug, Default)]
struct SeenWindow {
    highest: u64,
    bits: u128,
}

impl SeenWindow {
    /// Records `id`; false if it was seen (or is too old to tell).
    fn first_time(&mut self, id: u64) -> bool {
        if id > self.highest {
            let shift = id - self.highest;
            self.bits = if shift >= 128 { 0 } else { self.bits << shift };
            self.bits |= 1;
            self.highest = id;
            return true;
        }
        let back = self.highest - id;
        if back >= 128 || self.bits & (1 << back) != 0 {
            return false;
        }
        self.bits |= 1 << back;
        true
    }
}

/// The lin-kv Raft node.
#[derive(Debug)]
pub struct LinKv {
    config: Config,
    names: Vec<String>,
    me: usize,
    term: u64,
    voted_for: Option<usize>,
    role: Role,
    leader: Option<usize>,
    log: Log,
    commit: u64,
    applied: u64,
    store: Store,
    /// Election timeout deadline (followers and candidates).
    election_deadline: Millis,
    election_armed: bool,
    /// Last time we heard from a current leader (or were one): leader stickiness.
    leader_heard: Millis,
    /// Grants received in this pre-vote or vote round, by node.
    grants: Vec<bool>,
    peers: Vec<Peer>,
    /// Round counter: every `append` carries the round it was sent in.
    round: u64,
    /// Index of this leader's first entry (its noop).
    term_start: u64,
    flush_armed: bool,
    heartbeat_armed: bool,
    deadline_armed: bool,
    proposals: AHashMap<u64, Proposal>,
    /// Scratch: indices of expired proposals, sorted so answers go out in a fixed order.
    expired: Vec<u64>,
    reads: VecDeque<PendingRead>,
    seen: Vec<SeenWindow>,
    /// Client requests this leader took in the current placement window, by the node
    /// they entered at.
    entered: Vec<u64>,
    /// When the current placement window began.
    window_start: Millis,
    /// A leadership transfer under way (leaders only).
    transfer: Option<placement::Transfer>,
    /// Transfers this node started (`timeout_now` sent).
    transfers: u64,
}

impl Default for LinKv {
    fn default() -> Self {
        LinKv::new(Config::default())
    }
}

/// The strategy variable of a `planted-bugs` build (lin-kv has no strategies otherwise).
#[cfg(feature = "planted-bugs")]
pub const STRATEGY_ENV: &str = "GLOMERS_LIN_KV";

/// `GLOMERS_LIN_KV`: empty or `default`, or the planted bug `planted-local-read`
/// (docs/planted-bugs.md).
#[cfg(feature = "planted-bugs")]
fn planted_config(text: &str) -> Result<Config, String> {
    match text.trim() {
        "" | "default" => Ok(Config::default()),
        "planted-local-read" => Ok(Config {
            planted_local_read: true,
            ..Config::default()
        }),
        other => Err(format!("unknown strategy {other:?}")),
    }
}

impl LinKv {
    /// The node the `lin-kv` binary and `--sim` run: the default config, or in a
    /// `planted-bugs` build the one `GLOMERS_LIN_KV` names.
    pub fn from_env() -> Self {
        #[cfg(feature = "planted-bugs")]
        {
            LinKv::new(crate::workloads::spec::from_env(
                "lin-kv",
                STRATEGY_ENV,
                planted_config,
            ))
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            LinKv::default()
        }
    }

    /// A node with `config`.
    pub fn new(config: Config) -> Self {
        LinKv {
            config,
            names: Vec::new(),
            me: 0,
            term: 0,
            voted_for: None,
            role: Role::Follower,
            leader: None,
            log: Log::default(),
            commit: 0,
            applied: 0,
            store: Store::default(),
            election_deadline: 0,
            election_armed: false,
            leader_heard: 0,
            grants: Vec::new(),
            peers: Vec::new(),
            round: 0,
            term_start: 0,
            flush_armed: false,
            heartbeat_armed: false,
            deadline_armed: false,
            proposals: AHashMap::with_capacity(1024),
            expired: Vec::with_capacity(1024),
            reads: VecDeque::with_capacity(1024),
            seen: Vec::new(),
            entered: Vec::new(),
            window_start: 0,
            transfer: None,
            transfers: 0,
        }
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Who this node voted for in the current term.
    pub fn voted_for(&self) -> Option<usize> {
        self.voted_for
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The commit index (every committed entry is applied at once).
    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    /// The state machine.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How many leadership transfers this node started (see [`placement`]).
    pub fn transfers(&self) -> u64 {
        self.transfers
    }

    fn majority(&self) -> usize {
        self.names.len() / 2 + 1
    }

    fn name(&self, node: usize) -> &str {
        self.names.get(node).map_or("", String::as_str)
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.names.iter().position(|name| name == id)
    }

    /// The sender as a peer index, or a malformed-request error.
    fn peer(&self, msg: &Message<'_>) -> Result<usize, RequestError> {
        self.index_of(msg.src)
            .filter(|&peer| peer != self.me)
            .ok_or_else(|| RequestError::malformed("peer message from an unknown node"))
    }

    /// Checks invariants that must hold between events.
    fn assert_invariants(&self) {
        debug_assert!(self.applied == self.commit);
        debug_assert!(self.commit <= self.log.last_index());
        debug_assert!(self.role != Role::Leader || self.leader == Some(self.me));
        debug_assert!(self.role != Role::Leader || self.voted_for == Some(self.me));
        if let Some(transfer) = self.transfer {
            assert!(
                self.role == Role::Leader,
                "a transfer outlived its leadership"
            );
            assert!(transfer.target != self.me, "a transfer to ourselves");
            assert_eq!(
                self.log.last_index(),
                transfer.last_index,
                "an entry was appended during a transfer"
            );
        }
    }
}

impl Workload for LinKv {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.names = ctx.node_ids().to_vec();
        self.me = ctx.node_index();
        let n = self.names.len();
        self.grants = vec![false; n];
        self.peers = vec![Peer::default(); n];
        self.seen = vec![SeenWindow::default(); n];
        self.entered = vec![0; n];
        self.reset_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let result = match msg.kind {
            "read" | "write" | "cas" => self.on_client(ctx, msg),
            "pre_vote" => self.on_pre_vote(ctx, msg),
            "pre_vote_ok" => self.on_pre_vote_ok(ctx, msg),
            "vote" => self.on_vote(ctx, msg),
            "vote_ok" => self.on_vote_ok(ctx, msg),
            "append" => self.on_append(ctx, msg),
            "append_ok" => self.on_append_ok(ctx, msg),
            "timeout_now" => self.on_timeout_now(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        };
        self.assert_invariants();
        result
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        match tag {
            Tag::Election => {
                self.election_armed = false;
                self.on_election_timer(ctx);
            }
            Tag::Heartbeat => {
                self.heartbeat_armed = false;
                self.on_heartbeat_timer(ctx);
            }
            Tag::Flush => {
                self.flush_armed = false;
                if self.role == Role::Leader {
                    self.send_round(ctx);
                }
            }
            Tag::Deadline => {
                self.deadline_armed = false;
                self.on_deadline_timer(ctx);
            }
            Tag::Forward(_) => unreachable!("an RPC, not a timer"),
        }
        self.assert_invariants();
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        let Tag::Forward(forward) = tag else {
            unreachable!("{tag:?} is a timer, not an RPC");
        };
        self.on_forward_reply(ctx, forward, reply);
    }
}
