//! [`NodeCore`]: the sans-IO node. Drivers feed it bytes and time; it produces bytes.
//!
//! Call order for a driver (the mio runtime, the simulator, a test):
//! 1. `handle_input(now, bytes)` (or `input_space` + `handle_read`) whenever input arrives;
//! 2. `handle_timeout(now)` whenever `next_deadline()` has passed (calling it early is
//!    harmless);
//! 3. `output()` / `consume_output(n)` (or `take_output`) to ship what the node wrote;
//!    An in-process driver that routes messages itself calls `record_transmits` once, then
//!    `take_transmits` instead (each message's src, dest and body located);
//! 4. `resume_input(now)` once output was consumed, if `input_held()`.
//!
//! Backpressure: input lines are handled only while the output is below a limit
//! ([`MAX_PENDING_OUTPUT`] by default); the rest wait, unparsed, in the input buffer until
//! the driver consumes output and calls `resume_input` (or feeds more input). While
//! `output_full()`, a driver should stop reading, so that the input buffer stays bounded too.
//!
//! The core never reads a clock, a file descriptor, or a global RNG. It answers `init`,
//! buffers peer messages that arrive before `init`, matches RPC replies and timeouts,
//! and turns bad input into Maelstrom `error` replies (or one stderr line when the sender
//! cannot be identified). It never panics on input.

mod input;

use bumpalo::Bump;

use super::continuations::{Calls, Due};
use super::ctx::{Ctx, NodeState};
use super::message::{Message, RequestError, salvage_reply_address};
use super::timers::Millis;
use super::transmit::Transmits;
use super::workload::{RpcReply, Workload};
use crate::wire::{ErrorCode, Json, LineFramer, Parser};

/// Longest accepted input line; longer lines are dropped with a stderr message.
pub const MAX_LINE: usize = 8 << 20;
/// Output allowed to pile up (the driver not consuming it) before input lines wait; see
/// [`NodeCore::output_full`].
pub const MAX_PENDING_OUTPUT: usize = 64 << 20;
/// Messages buffered while waiting for `init` (peers may talk first).
pub const MAX_EARLY_MESSAGES: usize = 4096;
/// Timer events handled in one `handle_timeout` call, so a workload that keeps
/// re-arming zero-delay timers cannot hang the driver.
const MAX_TIMER_EVENTS_PER_CALL: usize = 1 << 16;

/// A Maelstrom node: a [`Workload`] plus the protocol machinery around it.
pub struct NodeCore<W: Workload> {
    framer: LineFramer,
    parser: Parser,
    /// Per-batch arena for input copies and parsed views; reset after every batch.
    arena: Bump,
    /// Output size at which input lines stop being handled (see [`NodeCore::output_full`]).
    output_limit: usize,
    /// True when whole input lines wait in the framer because the output is full.
    input_held: bool,
    inner: Inner<W>,
}

/// The parts of the core that handlers touch (split from the input buffers for borrowing).
struct Inner<W: Workload> {
    workload: W,
    state: NodeState,
    /// The workload's tags for pending RPCs, and its timers.
    calls: Calls<W::Tag>,
    initialized: bool,
    /// Raw lines received before `init`, replayed after it.
    early: Vec<Vec<u8>>,
}

impl<W: Workload> NodeCore<W> {
    /// A node running `workload`; `seed` fixes its RNG.
    pub fn new(workload: W, seed: u64) -> Self {
        NodeCore {
            framer: LineFramer::new(MAX_LINE, simd_json::INPUT_PADDING),
            parser: Parser::new(),
            arena: Bump::with_capacity(64 * 1024),
            output_limit: MAX_PENDING_OUTPUT,
            input_held: false,
            inner: Inner {
                workload,
                state: NodeState::new(seed),
                calls: Calls::new(),
                initialized: false,
                early: Vec::new(),
            },
        }
    }

    /// The same node with another output limit (default [`MAX_PENDING_OUTPUT`]; at least 1).
    pub fn with_output_limit(mut self, bytes: usize) -> Self {
        self.output_limit = bytes.max(1);
        self
    }

    /// The workload (for inspection in tests and the simulator).
    pub fn workload(&self) -> &W {
        &self.inner.workload
    }

    /// This node's id once initialised.
    pub fn node_id(&self) -> &str {
        &self.inner.state.node_id
    }

    /// Memory held by the per-batch arena (it keeps its largest size across batches).
    pub fn arena_bytes(&self) -> usize {
        self.arena.allocated_bytes()
    }

    /// Free input space for a zero-copy read; follow with [`NodeCore::handle_read`].
    pub fn input_space(&mut self) -> &mut [u8] {
        self.framer.write_space()
    }

    /// `count` bytes were read into [`NodeCore::input_space`]: process every whole line.
    pub fn handle_read(&mut self, now: Millis, count: usize) {
        self.framer.commit(count);
        self.process_lines(now);
    }

    /// Input bytes arrived (any split): process every whole line.
    pub fn handle_input(&mut self, now: Millis, bytes: &[u8]) {
        self.framer.extend(bytes);
        self.process_lines(now);
    }

    /// Processes the lines held while the output was full, once it no longer is (after
    /// `consume_output` / `take_output`). Cheap when nothing is held.
    pub fn resume_input(&mut self, now: Millis) {
        if self.input_held && !self.output_full() {
            self.process_lines(now);
        }
    }

    /// True while whole input lines wait for [`NodeCore::resume_input`] (or more input).
    pub fn input_held(&self) -> bool {
        self.input_held
    }

    /// True while the output holds at least the output limit: input lines are then kept
    /// unhandled in the input buffer, so the output stays below the limit plus one line's
    /// replies, and a driver should stop reading input.
    pub fn output_full(&self) -> bool {
        self.inner.output_full(self.output_limit)
    }

    /// Fires every timer and RPC timeout due at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.inner.advance_clock(now);
        let arena = &self.arena;
        for _ in 0..MAX_TIMER_EVENTS_PER_CALL {
            let Some(due) = self.inner.calls.pop_due(now) else {
                break;
            };
            self.inner.fire(arena, due);
        }
        self.arena.reset();
    }

    /// When the core next needs `handle_timeout`.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.inner.calls.next_deadline()
    }

    /// Bytes written and not yet consumed: whole `\n`-terminated JSON lines.
    pub fn output(&self) -> &[u8] {
        &self.inner.state.out
    }

    /// Drops the first `count` output bytes (after a possibly partial write).
    pub fn consume_output(&mut self, count: usize) {
        let out = &mut self.inner.state.out;
        if count >= out.len() {
            out.clear();
        } else {
            out.drain(..count);
        }
    }

    /// Moves all output into `into` (cleared first), keeping both allocations.
    pub fn take_output(&mut self, into: &mut Vec<u8>) {
        into.clear();
        std::mem::swap(into, &mut self.inner.state.out);
    }

    /// From now on, records where each message lies in the output, for
    /// [`NodeCore::take_transmits`]. Call before the first input; the output must then be
    /// taken with `take_transmits` only.
    pub fn record_transmits(&mut self) {
        self.inner.state.record_transmits();
    }

    /// Moves all output into `into` with each message's src, dest and body located (see
    /// [`crate::node::transmit`]), keeping every allocation.
    pub fn take_transmits(&mut self, into: &mut Transmits) {
        self.inner.state.take_transmits(into);
    }
}

impl<W: Workload> Inner<W> {
    fn advance_clock(&mut self, now: Millis) {
        self.state.now = self.state.now.max(now);
    }

    fn output_full(&self, limit: usize) -> bool {
        self.state.out.len() >= limit
    }

    fn ctx<'c>(
        state: &'c mut NodeState,
        calls: &'c mut Calls<W::Tag>,
        arena: &'c Bump,
    ) -> Ctx<'c, W::Tag> {
        Ctx {
            state,
            arena,
            calls,
        }
    }

    /// A line as raw bytes: copied into the arena and parsed, leaving `line` as it was
    /// (before `init` it may be kept for replay; a batch's fallback lines are its copies).
    fn handle_line(&mut self, parser: &mut Parser, arena: &Bump, line: &[u8]) {
        let result = parser.parse(arena, line);
        self.handle_parsed(parser, arena, result, line);
    }

    fn handle_parsed(
        &mut self,
        parser: &mut Parser,
        arena: &Bump,
        parsed: Result<Json<'_>, simd_json::Error>,
        line: &[u8],
    ) {
        let value = match parsed {
            Ok(value) => value,
            Err(error) => return self.reject_unparsed(line, &error.to_string()),
        };
        match Message::from_json(value) {
            Ok(msg) => self.dispatch(parser, arena, &msg, line),
            Err(error) => self.reject_parsed(value, &error),
        }
    }

    fn reject_unparsed(&mut self, line: &[u8], why: &str) {
        let error = RequestError::malformed(format!("invalid JSON: {why}"));
        match salvage_reply_address(line) {
            Some((src, msg_id)) => self.state.write_error(src, msg_id, &error),
            None => eprintln!(
                "glomers: ignored a line that is not a message ({why}): {}",
                preview(line)
            ),
        }
    }

    fn reject_parsed(&mut self, value: Json<'_>, error: &RequestError) {
        let src = value.get("src").and_then(|v| v.as_str());
        let msg_id = value
            .get("body")
            .and_then(|b| b.get("msg_id"))
            .and_then(|v| v.as_u64());
        match (src, msg_id) {
            (Some(src), Some(msg_id)) => self.state.write_error(src, msg_id, error),
            _ => eprintln!("glomers: ignored a malformed message: {}", error.text),
        }
    }

    fn dispatch(&mut self, parser: &mut Parser, arena: &Bump, msg: &Message<'_>, line: &[u8]) {
        if msg.kind == "init" {
            return self.handle_init(parser, arena, msg);
        }
        if !self.initialized {
            if self.early.len() < MAX_EARLY_MESSAGES {
                self.early.push(line.to_vec());
            } else {
                eprintln!(
                    "glomers: dropped a {} from {} received before init",
                    msg.kind, msg.src
                );
            }
            return;
        }
        if let Some(in_reply_to) = msg.in_reply_to {
            // A reply nobody awaits (its RPC timed out, or a duplicate) is dropped.
            if let Some(tag) = self.calls.take_reply(in_reply_to) {
                let reply = rpc_reply(msg);
                let mut ctx = Self::ctx(&mut self.state, &mut self.calls, arena);
                self.workload.on_rpc_reply(&mut ctx, tag, reply);
            }
            return;
        }
        let mut ctx = Self::ctx(&mut self.state, &mut self.calls, arena);
        if let Err(error) = self.workload.on_message(&mut ctx, msg) {
            self.reply_error(msg, &error);
        }
    }

    /// Answers the first `init` with `init_ok` and starts the workload. A later `init`
    /// changes nothing (the node's id is already in the ids it issued, the messages it
    /// sent, its peers' state) and gets error 22, `precondition-failed`: the request is
    /// well-formed, but its precondition — a node not yet initialised — does not hold,
    /// and the failure is definite (nothing happened). Not 10 (`init` is supported) nor
    /// 11 (retrying later cannot succeed).
    fn handle_init(&mut self, parser: &mut Parser, arena: &Bump, msg: &Message<'_>) {
        if self.initialized {
            let text = format!(
                "already initialised as {:?}; a node takes one init",
                self.state.node_id
            );
            let error = RequestError::new(ErrorCode::PreconditionFailed, text);
            return self.reply_error(msg, &error);
        }
        let (node_id, node_ids) = match init_ids(msg) {
            Ok(ids) => ids,
            Err(error) => return self.reply_error(msg, &error),
        };
        self.state.set_identity(node_id, node_ids);
        self.initialized = true;
        let mut ctx = Self::ctx(&mut self.state, &mut self.calls, arena);
        drop(ctx.reply(msg, "init_ok"));
        self.workload.on_init(&mut ctx);
        for line in std::mem::take(&mut self.early) {
            self.handle_line(parser, arena, &line);
        }
    }

    /// An `error` reply to `msg`, or one stderr line when it has no msg_id to answer.
    fn reply_error(&mut self, msg: &Message<'_>, error: &RequestError) {
        match msg.msg_id {
            Some(msg_id) => self.state.write_error(msg.src, msg_id, error),
            None => eprintln!(
                "glomers: {} from {} failed: {}",
                msg.kind, msg.src, error.text
            ),
        }
    }

    fn fire(&mut self, arena: &Bump, due: Due<W::Tag>) {
        let mut ctx = Self::ctx(&mut self.state, &mut self.calls, arena);
        match due {
            Due::Timer(tag) => self.workload.on_timer(&mut ctx, tag),
            Due::RpcTimeout(tag) => self.workload.on_rpc_reply(&mut ctx, tag, RpcReply::Timeout),
        }
    }
}

/// The fields of an `init` body we need (serde derive over the parsed tape: `init` is
/// once per run, so clarity beats speed here).
#[derive(serde::Deserialize)]
struct InitBody<'a> {
    #[serde(borrow)]
    node_id: &'a str,
    #[serde(borrow)]
    node_ids: Vec<&'a str>,
}

/// `node_id` and `node_ids` from an `init` body.
fn init_ids<'a>(msg: &Message<'a>) -> Result<(&'a str, Vec<String>), RequestError> {
    let body: InitBody<'a> = msg
        .body
        .deserialize()
        .map_err(|e| RequestError::malformed(format!("bad init: {e}")))?;
    Ok((
        body.node_id,
        body.node_ids.into_iter().map(str::to_string).collect(),
    ))
}

fn rpc_reply<'a>(msg: &'a Message<'a>) -> RpcReply<'a> {
    if msg.kind != "error" {
        return RpcReply::Ok(msg);
    }
    let code = msg
        .body
        .get("code")
        .and_then(|c| c.as_u64())
        .unwrap_or(u64::MAX);
    let text = msg.body.get("text").and_then(|t| t.as_str()).unwrap_or("");
    RpcReply::Error(ErrorCode::from_code(code), text)
}

/// The first bytes of a bad line, for a readable stderr message.
fn preview(line: &[u8]) -> String {
    let cut = line.len().min(120);
    let mut text = String::from_utf8_lossy(&line[..cut]).into_owned();
    if line.len() > cut {
        text.push('…');
    }
    text
}
