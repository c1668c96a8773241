//! [`NodeCore`]: the sans-IO node. Drivers feed it bytes and time; it produces bytes.
//!
//! Call order for a driver (the mio runtime, the simulator, a test):
//! 1. `handle_input(now, bytes)` (or `input_space` + `handle_read`) whenever input arrives;
//! 2. `handle_timeout(now)` whenever `next_deadline()` has passed (calling it early is
//!    harmless);
//! 3. `output()` / `consume_output(n)` (or `take_output`) to ship what the node wrote; an
//!    in-process driver that routes messages itself calls `record_transmits` once, then
//!    `take_transmits` instead (each message's src, dest and body located).
//!
//! The core never reads a clock, a file descriptor, or a global RNG. It answers `init`,
//! buffers peer messages that arrive before `init`, matches RPC replies and timeouts,
//! and turns bad input into Maelstrom `error` replies (or one stderr line when the sender
//! cannot be identified). It never panics on input.

use bumpalo::Bump;

use super::ctx::{Ctx, NodeState};
use super::message::{Message, RequestError, salvage_reply_address};
use super::timers::{Deadline, Millis};
use super::transmit::Transmits;
use super::workload::{RpcReply, Workload};
use crate::wire::{Batch, ErrorCode, Frame, Json, LineFramer, Parsed, Parser};

/// Longest accepted input line; longer lines are dropped with a stderr message.
pub const MAX_LINE: usize = 8 << 20;
/// Messages buffered while waiting for `init` (peers may talk first).
pub const MAX_EARLY_MESSAGES: usize = 4096;
/// Timer events handled in one `handle_timeout` call, so a workload that keeps
/// re-arming zero-delay timers cannot hang the driver.
const MAX_TIMER_EVENTS_PER_CALL: usize = 1 << 16;

/// A Maelstrom node: a [`Workload`] plus the protocol machinery around it.
pub struct NodeCore<W> {
    framer: LineFramer,
    parser: Parser,
    /// Per-batch arena for input copies and parsed views; reset after every batch.
    arena: Bump,
    inner: Inner<W>,
}

/// The parts of the core that handlers touch (split from the input buffers for borrowing).
struct Inner<W> {
    workload: W,
    state: NodeState,
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
            inner: Inner {
                workload,
                state: NodeState::new(seed),
                initialized: false,
                early: Vec::new(),
            },
        }
    }

    /// The workload (for inspection in tests and the simulator).
    pub fn workload(&self) -> &W {
        &self.inner.workload
    }

    /// This node's id once initialised.
    pub fn node_id(&self) -> &str {
        &self.inner.state.node_id
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

    /// Fires every timer and RPC timeout due at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.inner.advance_clock(now);
        let arena = &self.arena;
        for _ in 0..MAX_TIMER_EVENTS_PER_CALL {
            let Some(due) = self.inner.state.timers.pop_due(now) else {
                break;
            };
            self.inner.fire(arena, due);
        }
        self.arena.reset();
    }

    /// When the core next needs `handle_timeout`.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.inner.state.timers.next_deadline()
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

    fn process_lines(&mut self, now: Millis) {
        self.inner.advance_clock(now);
        if self.inner.initialized {
            self.process_batch();
        }
        // Before `init` (or for what is left if `init` arrived mid-batch): line by line.
        while let Some(frame) = self.framer.next_line() {
            match frame {
                Frame::Line { bytes, len } => {
                    self.inner
                        .handle_framed(&mut self.parser, &self.arena, bytes, len)
                }
                Frame::TooLong { len } => report_too_long(len),
            }
        }
        self.arena.reset();
    }

    /// Parses every buffered line with one simd-json call (see [`crate::wire::batch`]).
    fn process_batch(&mut self) {
        let arena = &self.arena;
        let mut batch = Batch::new_in(arena, self.framer.buffered());
        while let Some(frame) = self.framer.next_line() {
            match frame {
                Frame::Line { bytes, len } => {
                    let fits = batch.push_line(&bytes[..len]);
                    assert!(fits, "batch sized from the framer's buffered bytes");
                }
                Frame::TooLong { len } => report_too_long(len),
            }
        }
        if batch.is_empty() {
            return;
        }
        match batch.parse(&mut self.parser) {
            Parsed::Whole(array) => {
                for value in array.items() {
                    self.inner
                        .handle_parsed(&mut self.parser, arena, Ok(value), &[]);
                }
            }
            Parsed::EachLine(lines) => {
                for line in lines {
                    self.inner.handle_line(&mut self.parser, arena, line);
                }
            }
        }
    }
}

fn report_too_long(len: usize) {
    eprintln!("glomers: dropped an input line of {len} bytes (limit {MAX_LINE})");
}

impl<W: Workload> Inner<W> {
    fn advance_clock(&mut self, now: Millis) {
        self.state.now = self.state.now.max(now);
    }

    fn ctx<'c>(state: &'c mut NodeState, arena: &'c Bump) -> Ctx<'c> {
        Ctx { state, arena }
    }

    /// A line as the framer holds it (padded): parsed in place, no copy. Before `init`,
    /// a pristine copy is kept first, since in-place parsing unescapes the line.
    fn handle_framed(&mut self, parser: &mut Parser, arena: &Bump, bytes: &mut [u8], len: usize) {
        if !self.initialized {
            let copy = bytes[..len].to_vec();
            return self.handle_line(parser, arena, &copy);
        }
        let why = match parser.parse_in_place(arena, bytes, len) {
            // Initialised, so `dispatch` never needs the raw line.
            Ok(value) => return self.handle_parsed(parser, arena, Ok(value), &[]),
            Err(error) => error.to_string(),
        };
        self.reject_unparsed(&bytes[..len], &why);
    }

    /// A line held elsewhere (the pre-init buffer): copied into the arena and parsed.
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
            if let Some(tag) = self.state.pending.remove(&in_reply_to) {
                let reply = rpc_reply(msg);
                let mut ctx = Self::ctx(&mut self.state, arena);
                self.workload.on_rpc_reply(&mut ctx, tag, reply);
            }
            return;
        }
        let mut ctx = Self::ctx(&mut self.state, arena);
        if let Err(error) = self.workload.on_message(&mut ctx, msg) {
            self.reply_error(msg, &error);
        }
    }

    fn handle_init(&mut self, parser: &mut Parser, arena: &Bump, msg: &Message<'_>) {
        let ids = match init_ids(msg) {
            Ok(ids) => ids,
            Err(error) => return self.reply_error(msg, &error),
        };
        let (node_id, node_ids) = ids;
        self.state.set_identity(node_id, node_ids);
        let mut ctx = Self::ctx(&mut self.state, arena);
        drop(ctx.reply(msg, "init_ok"));
        if self.initialized {
            return; // a repeated init is acknowledged, nothing more
        }
        self.initialized = true;
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

    fn fire(&mut self, arena: &Bump, due: Deadline) {
        let mut ctx = Self::ctx(&mut self.state, arena);
        match due {
            Deadline::Timer(tag) => self.workload.on_timer(&mut ctx, tag),
            Deadline::RpcTimeout(msg_id) => {
                if let Some(tag) = ctx.state.pending.remove(&msg_id) {
                    self.workload.on_rpc_reply(&mut ctx, tag, RpcReply::Timeout);
                }
            }
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
