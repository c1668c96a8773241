//! The lin-kv strategy (challenge 5b's suggestion): each key's whole log is one JSON array
//! in Maelstrom's `lin-kv` under `"kafka/log/<key>"`, and sends append to it by `cas`
//! (`sends`): the cas that succeeds allocates the offsets and stores the messages in one
//! atomic step, so there is never an allocated offset without its message, nor a hole.
//!
//! * Polls are answered from this node's copy of each log — always a prefix of the
//!   lin-kv value, since the log only grows — and, for keys where the client has read
//!   everything the copy holds, start a read of the log (at most one request per key in
//!   flight, and one read per `refresh` ms), so later polls see newer messages. Polls
//!   need no recency, only that every acknowledged message eventually shows up, which
//!   the reads provide.
//! * Committed offsets are integers under `"kafka/commit/<key>"`, raised by cas only
//!   (`commits`).
//!
//! Every send, commit and list is answered within [`crate::workloads::timely::REPLY_BUDGET_MS`] of local
//! time: a periodic check ([`Tag::Check`], armed only while requests wait) answers those
//! whose budget ran out with an error, and each is answered at most once (its reply
//! address is taken when answered).
//!
//! Messages: the four client requests; `read` and `cas` to lin-kv. One timer: the check.

mod commits;
mod sends;

use std::collections::VecDeque;

use super::requests::{self, read_offsets};
use super::store::{KeyId, Store};
use super::strategy::LinKvConfig;
use crate::node::kv::{Kv, KvOp, KvReply, KvValue, Pending, Service};
use crate::node::{Message, Millis, RequestError, RpcReply, Workload};
use crate::wire::ErrorCode;
use crate::wire::writer::write_str;
use crate::workloads::timely::Ticker;
use commits::Gather;
use sends::{Batch, Send};

/// What each lin-kv reply continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// The cas appending the batch in progress to this key's log.
    Cas(KeyId),
    /// The read of this key's log (after a refused or unanswered cas).
    Read(KeyId),
    /// A commit gather's (slot, item) cas raising the item's committed offset.
    Commit(u32, usize),
    /// A list gather's (slot, item) read of the item's committed offset.
    List(u32, usize),
    /// The periodic look for requests whose reply budget is spent.
    Check,
}

/// The handlers' [`crate::node::Ctx`], with this node's [`Tag`].
pub type Ctx<'c> = crate::node::Ctx<'c, Tag>;

/// What a key's requests to lin-kv are doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// A cas for the key's batch.
    Cas,
    /// A read of the log (for polls, or to learn a cas's fate).
    Read,
}

/// One key's sends and lin-kv requests.
#[derive(Debug)]
struct KeyState {
    phase: Phase,
    /// The sends being appended by cas (the first `batch.count` waiting ones).
    batch: Option<Batch>,
    waiting: VecDeque<Send>,
    waiting_bytes: Vec<u8>,
    /// The batch tag of each message in the local copy of the log.
    tags: Vec<u64>,
    /// When the last read for polls started.
    refreshed_at: Option<Millis>,
}

impl KeyState {
    fn new() -> Self {
        KeyState {
            phase: Phase::Idle,
            batch: None,
            waiting: VecDeque::new(),
            waiting_bytes: Vec::new(),
            tags: Vec::new(),
            refreshed_at: None,
        }
    }
}

/// The lin-kv-backed kafka node.
#[derive(Debug)]
pub struct LinKvKafka {
    config: LinKvConfig,
    kv: Kv,
    /// This node's copy of each log (a prefix of lin-kv's) and of each committed offset.
    store: Store,
    /// Indexed by key id, like the store.
    keys: Vec<KeyState>,
    gathers: Pending<Gather>,
    /// Batch tags issued (the node index is mixed in at init, so tags are unique).
    next_tag: u64,
    /// Scratch JSON: a send's message, a lin-kv key, a cas's `from` and `to`.
    scratch: Vec<u8>,
    kv_key: Vec<u8>,
    from: Vec<u8>,
    to: Vec<u8>,
    cas_failures: u64,
    ticker: Ticker,
}

impl LinKvKafka {
    /// A node with these knobs.
    pub fn new(config: LinKvConfig) -> Self {
        LinKvKafka {
            config,
            kv: Kv::new(Service::LinKv, config.timeout_ms),
            store: Store::default(),
            keys: Vec::new(),
            gathers: Pending::with_capacity(commits::MAX_GATHERS),
            next_tag: 0,
            scratch: Vec::with_capacity(1024),
            kv_key: Vec::with_capacity(64),
            from: Vec::with_capacity(4096),
            to: Vec::with_capacity(4096),
            cas_failures: 0,
            ticker: Ticker::default(),
        }
    }

    /// The local copy of the logs.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Cas requests lin-kv refused because another node changed the value first.
    pub fn cas_failures(&self) -> u64 {
        self.cas_failures
    }

    fn intern(&mut self, name: &str) -> Result<KeyId, RequestError> {
        let key = self
            .store
            .intern(name)
            .map_err(|_| RequestError::new(ErrorCode::TemporarilyUnavailable, "too many keys"))?;
        while self.keys.len() <= key as usize {
            self.keys.push(KeyState::new());
        }
        Ok(key)
    }

    /// Reads `key`'s log from lin-kv, if no request for the key is in flight.
    fn read_log(&mut self, ctx: &mut Ctx<'_>, key: KeyId) {
        if self.keys[key as usize].phase != Phase::Idle {
            return;
        }
        write_kv_key(&mut self.kv_key, "kafka/log/", self.store.name(key));
        match self
            .kv
            .read(ctx, KvValue::Raw(&self.kv_key), Tag::Read(key))
        {
            Ok(()) => self.keys[key as usize].phase = Phase::Read,
            Err(_) => self.pump(ctx, key), // no read possible now: go on with the batch
        }
    }

    /// A read of `key`'s log answered: adds what the local copy lacks (lin-kv's log only
    /// grows, so the copy is a prefix of it), then settles the key's batch.
    fn on_read(&mut self, ctx: &mut Ctx<'_>, key: KeyId, reply: KvReply<'_>) {
        let state = &mut self.keys[key as usize];
        assert_eq!(state.phase, Phase::Read, "one request per key");
        state.phase = Phase::Idle;
        let read = match reply {
            KvReply::Value(value) => Some(value),
            KvReply::KeyDoesNotExist => None,
            _ => return self.pump(ctx, key), // unknown: the batch's retry will tell
        };
        if let (Some(value), Some(log)) = (read, self.store.log_mut(key)) {
            for entry in value.items().skip(log.len() as usize) {
                let mut pair = entry.items();
                let (Some(tag), Some(message)) =
                    (pair.next().and_then(|t| t.as_u64()), pair.next())
                else {
                    eprintln!("kafka: a lin-kv log entry is not [tag, message]");
                    break;
                };
                self.scratch.clear();
                crate::wire::writer::write_json(&mut self.scratch, message);
                if log.append(&self.scratch).is_err() {
                    break;
                }
                state.tags.push(tag);
            }
            debug_assert_eq!(state.tags.len() as u64, log.len());
        }
        self.settle(ctx, key);
    }

    /// Answers the poll from the local copies, then reads the logs the client has read to
    /// the end of (so that later polls see more).
    fn on_poll(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        requests::reply_poll(ctx, msg, &self.store, self.config.poll_max)?;
        let now = ctx.now();
        for (name, offset) in read_offsets(msg)?.entries() {
            let Ok(key) = self.intern(name) else {
                break;
            };
            let from = requests::offset_of(offset).unwrap_or(0);
            let state = &mut self.keys[key as usize];
            let recent = state
                .refreshed_at
                .is_some_and(|at| now.saturating_sub(at) < self.config.refresh_ms);
            if from >= self.store.log(key).len() && state.phase == Phase::Idle && !recent {
                state.refreshed_at = Some(now);
                self.read_log(ctx, key);
            }
        }
        Ok(())
    }
}

/// Writes `"<prefix><name>"` as a JSON string into `out` (cleared first).
fn write_kv_key(out: &mut Vec<u8>, prefix: &str, name: &str) {
    out.clear();
    write_str(out, prefix);
    out.pop(); // the closing quote
    let start = out.len();
    write_str(out, name);
    out.remove(start); // the name's opening quote
}

impl Workload for LinKvKafka {
    type Tag = Tag;

    fn on_init(&mut self, ctx: &mut Ctx<'_>) {
        self.next_tag = (ctx.node_index() as u64) << 40;
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "send" => self.on_send(ctx, msg),
            "poll" => self.on_poll(ctx, msg),
            "commit_offsets" => self.on_commit(ctx, msg),
            "list_committed_offsets" => self.on_list(ctx, msg),
            other => Err(RequestError::not_supported(other)),
        }
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, reply: RpcReply<'_>) {
        match tag {
            Tag::Cas(key) => self.on_cas(ctx, key, KvReply::decode(KvOp::Cas, reply)),
            Tag::Read(key) => self.on_read(ctx, key, KvReply::decode(KvOp::Read, reply)),
            Tag::Commit(slot, index) => {
                self.on_commit_cas(ctx, slot, index, KvReply::decode(KvOp::Cas, reply));
                self.finish_if_done(ctx, slot);
            }
            Tag::List(slot, index) => {
                self.on_list_read(slot, index, KvReply::decode(KvOp::Read, reply));
                self.finish_if_done(ctx, slot);
            }
            Tag::Check => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, tag: Tag) {
        if tag != Tag::Check {
            return;
        }
        self.ticker.fired();
        for key in 0..self.keys.len() {
            self.expire_sends(ctx, key as KeyId);
        }
        self.expire_gathers(ctx);
        let waiting = self.keys.iter().any(|k| !k.waiting.is_empty());
        if waiting || !self.gathers.is_empty() {
            self.ticker.arm(ctx, Tag::Check);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_kv_key;

    #[test]
    fn kv_keys_are_one_json_string() {
        let mut out = Vec::new();
        write_kv_key(&mut out, "kafka/log/", "a\"b");
        assert_eq!(out, b"\"kafka/log/a\\\"b\"");
    }
}
