//! [`Ctx`]: everything a workload handler may touch — the clock, a seeded RNG, the
//! cluster membership, and the outbox (send, reply, rpc, timers). Handlers never see a
//! file descriptor or the system clock, which is what lets the same workload run under
//! the mio runtime and inside the deterministic simulator.

use bumpalo::Bump;

use super::continuations::{Continuations, Wrapped};
use super::message::{Message, RequestError};
use super::rng::Rng;
use super::timers::Millis;
use super::transmit::{MessageSpan, Transmits};
use crate::wire::ObjectWriter;
use crate::wire::writer::write_str;

pub use super::continuations::MAX_PENDING_RPCS;

/// Node state shared by the core and the handlers (owned by [`super::NodeCore`]).
#[derive(Debug)]
pub(crate) struct NodeState {
    pub now: Millis,
    pub node_id: String,
    pub node_ids: Vec<String>,
    /// Position of `node_id` in `node_ids` (0 if absent), found once at `init`.
    pub node_index: usize,
    /// `{"src":"<id>","dest":` — the constant start of every message we send.
    pub envelope_prefix: Vec<u8>,
    pub out: Vec<u8>,
    /// Where each message in `out` lies, once a driver asked for transmits (see
    /// [`super::transmit`]); `None` for the runtime, which only ships `out`.
    pub spans: Option<Vec<MessageSpan>>,
    pub rng: Rng,
    pub next_msg_id: u64,
}

impl NodeState {
    pub fn new(seed: u64) -> Self {
        let mut state = NodeState {
            now: 0,
            node_id: String::new(),
            node_ids: Vec::new(),
            node_index: 0,
            envelope_prefix: Vec::new(),
            out: Vec::with_capacity(64 * 1024),
            spans: None,
            rng: Rng::new(seed),
            next_msg_id: 1,
        };
        // Before `init` (an error reply to a bad `init`) the envelope still has a src: "".
        state.set_envelope_prefix("");
        state
    }

    pub fn set_identity(&mut self, node_id: &str, node_ids: Vec<String>) {
        self.node_id = node_id.to_string();
        self.node_index = node_ids.iter().position(|id| id == node_id).unwrap_or(0);
        self.node_ids = node_ids;
        self.set_envelope_prefix(node_id);
    }

    fn set_envelope_prefix(&mut self, node_id: &str) {
        self.envelope_prefix.clear();
        self.envelope_prefix.extend_from_slice(b"{\"src\":");
        write_str(&mut self.envelope_prefix, node_id);
        self.envelope_prefix.extend_from_slice(b",\"dest\":");
    }

    /// Writes `{"src":…,"dest":…,"body":{"type":…` and returns the body writer.
    pub fn begin_message(&mut self, dest: &str, kind: &str) -> ObjectWriter<'_> {
        let start = self.out.len();
        self.out.extend_from_slice(&self.envelope_prefix);
        let dest_at = self.out.len();
        write_str(&mut self.out, dest);
        let body_at = self.out.len() + b",\"body\":".len();
        self.out.extend_from_slice(b",\"body\":{\"type\":");
        write_str(&mut self.out, kind);
        if let Some(spans) = &mut self.spans {
            spans.push(MessageSpan {
                start,
                dest: dest_at,
                body: body_at,
            });
        }
        ObjectWriter::resume(&mut self.out, true, b"}}\n")
    }

    /// From now on, records where each message lies in `out` (output already written is
    /// not covered: call before the first input).
    pub fn record_transmits(&mut self) {
        if self.spans.is_none() {
            self.spans = Some(Vec::with_capacity(256));
        }
    }

    /// Moves all output and its message spans into `into`, keeping every allocation.
    pub fn take_transmits(&mut self, into: &mut Transmits) {
        into.bytes.clear();
        into.spans.clear();
        std::mem::swap(&mut into.bytes, &mut self.out);
        if let Some(spans) = &mut self.spans {
            std::mem::swap(&mut into.spans, spans);
        }
    }

    pub fn write_error(&mut self, dest: &str, in_reply_to: u64, error: &RequestError) {
        let mut body = self.begin_message(dest, "error");
        body.u64("in_reply_to", in_reply_to)
            .u64("code", error.code.code())
            .str("text", &error.text);
    }
}

/// Why an RPC could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcRefused {
    /// [`MAX_PENDING_RPCS`] calls are already outstanding.
    TooManyPending,
}

/// The handler's window on the node. Created by the core for each event. `T` is the
/// workload's [`super::Workload::Tag`]: what [`Ctx::rpc`] and [`Ctx::set_timer`] are given
/// comes back, by value, to `on_rpc_reply` and `on_timer`.
pub struct Ctx<'c, T = ()> {
    pub(crate) state: &'c mut NodeState,
    pub(crate) arena: &'c Bump,
    pub(crate) calls: &'c mut dyn Continuations<T>,
}

impl<'c, T> Ctx<'c, T> {
    /// The current time on the driver's clock.
    pub fn now(&self) -> Millis {
        self.state.now
    }

    /// This node's id (empty before `init`).
    pub fn node_id(&self) -> &str {
        &self.state.node_id
    }

    /// Every node in the cluster, in Maelstrom's order, including this one.
    pub fn node_ids(&self) -> &[String] {
        &self.state.node_ids
    }

    /// This node's position in [`Ctx::node_ids`] (0 before `init`).
    pub fn node_index(&self) -> usize {
        self.state.node_index
    }

    /// The node's seeded random generator.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.state.rng
    }

    /// Scratch memory that lives until the end of the current input batch.
    pub fn arena(&self) -> &'c Bump {
        self.arena
    }

    /// Starts a reply to `request` of type `kind` (with `in_reply_to`); add fields to the
    /// returned writer. The message is complete when the writer is dropped.
    pub fn reply(&mut self, request: &Message<'_>, kind: &str) -> ObjectWriter<'_> {
        let mut body = self.state.begin_message(request.src, kind);
        if let Some(msg_id) = request.msg_id {
            body.u64("in_reply_to", msg_id);
        }
        body
    }

    /// Starts a late reply, for a request answered after an RPC of its own: to `dest`, in
    /// reply to its `msg_id` (keep these two from the request's [`Message`]).
    pub fn reply_to(&mut self, dest: &str, msg_id: u64, kind: &str) -> ObjectWriter<'_> {
        let mut body = self.state.begin_message(dest, kind);
        body.u64("in_reply_to", msg_id);
        body
    }

    /// Sends an `error` reply to `request` (nothing if the request had no msg_id).
    pub fn reply_error(&mut self, request: &Message<'_>, error: &RequestError) {
        if let Some(msg_id) = request.msg_id {
            self.state.write_error(request.src, msg_id, error);
        }
    }

    /// Starts a fire-and-forget message (no msg_id, so no reply is expected).
    pub fn send(&mut self, dest: &str, kind: &str) -> ObjectWriter<'_> {
        self.state.begin_message(dest, kind)
    }

    /// Starts a request with a fresh msg_id. Its reply, an error reply, or a timeout after
    /// `timeout` ms reaches [`super::Workload::on_rpc_reply`] with `tag`, exactly once.
    ///
    /// ```
    /// use glomers::node::kv::ReplyTo;
    /// use glomers::node::{Ctx, Message, RequestError, RpcReply, Workload};
    ///
    /// /// Asks lin-kv for key "x" on every `get` and answers the client when lin-kv does:
    /// /// the RPC's tag is the client's address itself, handed back by value.
    /// struct Proxy;
    ///
    /// impl Workload for Proxy {
    ///     type Tag = ReplyTo;
    ///
    ///     fn on_message(&mut self, ctx: &mut Ctx<'_, ReplyTo>, msg: &Message<'_>) -> Result<(), RequestError> {
    ///         let Some(client) = ReplyTo::for_request(msg)? else { return Ok(()) };
    ///         ctx.rpc("lin-kv", "read", 1000, client)
    ///             .map_err(|_| RequestError::temporarily_unavailable("too many requests in flight"))?
    ///             .str("key", "x");
    ///         Ok(())
    ///     }
    ///
    ///     fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_, ReplyTo>, client: ReplyTo, reply: RpcReply<'_>) {
    ///         match reply {
    ///             RpcReply::Ok(read) => match read.body.get("value") {
    ///                 Some(value) => drop(client.reply(ctx, "get_ok").json("value", value)),
    ///                 None => client.error(ctx, glomers::wire::ErrorCode::Crash, "no value"),
    ///             },
    ///             RpcReply::Error(code, text) => client.error(ctx, code, text),
    ///             RpcReply::Timeout => client.error(ctx, glomers::wire::ErrorCode::Timeout, "lin-kv timed out"),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn rpc(
        &mut self,
        dest: &str,
        kind: &str,
        timeout: Millis,
        tag: T,
    ) -> Result<ObjectWriter<'_>, RpcRefused> {
        let msg_id = self.state.next_msg_id;
        let deadline = self.state.now.saturating_add(timeout);
        if !self.calls.await_reply(msg_id, deadline, tag) {
            return Err(RpcRefused::TooManyPending);
        }
        self.state.next_msg_id += 1;
        let mut body = self.state.begin_message(dest, kind);
        body.u64("msg_id", msg_id);
        Ok(body)
    }

    /// Calls [`super::Workload::on_timer`] with `tag` once `delay` ms have passed.
    /// Returns false if the timer table is full.
    pub fn set_timer(&mut self, delay: Millis, tag: T) -> bool {
        let at = self.state.now.saturating_add(delay);
        self.calls.schedule_timer(at, tag)
    }

    /// Number of RPCs awaiting a reply.
    pub fn pending_rpcs(&self) -> usize {
        self.calls.pending_rpcs()
    }

    /// Runs `handle` with a context for an inner node whose tags are of type `I`: every
    /// tag it gives [`Ctx::rpc`] or [`Ctx::set_timer`] is stored as `wrap(tag)`. This is
    /// how a node that runs one of several strategies (an enum of nodes, see
    /// [`crate::forward_workload`]) gives each strategy its own tag type.
    pub fn map_tags<I, R>(
        &mut self,
        wrap: fn(I) -> T,
        handle: impl FnOnce(&mut Ctx<'_, I>) -> R,
    ) -> R {
        let mut wrapped = Wrapped {
            outer: &mut *self.calls,
            wrap,
        };
        let mut inner = Ctx {
            state: &mut *self.state,
            arena: self.arena,
            calls: &mut wrapped,
        };
        handle(&mut inner)
    }
}
