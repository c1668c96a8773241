//! The [`Workload`] trait: what a Maelstrom node implements. The core handles `init`,
//! framing, parsing, reply matching, timeouts and error replies; a workload only sees
//! typed events and a [`Ctx`] to act through.

use super::ctx::Ctx;
use super::message::{Message, RequestError};
use crate::wire::ErrorCode;

/// The outcome of an RPC started with [`Ctx::rpc`].
#[derive(Clone, Copy, Debug)]
pub enum RpcReply<'a> {
    /// A reply that is not an `error`.
    Ok(&'a Message<'a>),
    /// An `error` reply with its code and text.
    Error(ErrorCode, &'a str),
    /// No reply before the timeout.
    Timeout,
}

/// A Maelstrom node's behaviour. Each method may send messages and set timers via `ctx`.
///
/// A whole echo node (challenge 1); [`crate::runtime::main`] runs it on stdin/stdout:
///
/// ```
/// use glomers::node::{Ctx, Message, NodeCore, RequestError, Workload};
///
/// struct Echo;
///
/// impl Workload for Echo {
///     fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
///         match msg.kind {
///             "echo" => {
///                 ctx.reply(msg, "echo_ok").json("echo", msg.field("echo")?);
///                 Ok(())
///             }
///             other => Err(RequestError::not_supported(other)),
///         }
///     }
/// }
///
/// // Drive it by hand, as the runtime or the simulator would.
/// let mut node = NodeCore::new(Echo, 1);
/// node.handle_input(0, br#"{"src":"c0","dest":"n1","body":{"type":"init","node_id":"n1","node_ids":["n1"],"msg_id":1}}
/// {"src":"c1","dest":"n1","body":{"type":"echo","echo":"hi","msg_id":7}}
/// "#);
/// let output = String::from_utf8_lossy(node.output()).into_owned();
/// assert!(output.contains(r#""type":"echo_ok","in_reply_to":7,"echo":"hi""#), "{output}");
/// ```
pub trait Workload {
    /// Called once, right after the core answered `init` (ids are known).
    fn on_init(&mut self, _ctx: &mut Ctx<'_>) {}

    /// Handles a request or peer message. Returning an error sends a Maelstrom `error`
    /// reply to the sender (if the message had a msg_id). Unknown types should return
    /// [`RequestError::not_supported`].
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError>;

    /// A timer set with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _tag: u64) {}

    /// The outcome of an RPC started with [`Ctx::rpc`] with this `tag`.
    fn on_rpc_reply(&mut self, _ctx: &mut Ctx<'_>, _tag: u64, _reply: RpcReply<'_>) {}
}

/// Implements [`Workload`] for a node that picks one of several strategies at start (an
/// enum of nodes) by forwarding every event to the node its `inner(&mut self) -> &mut dyn
/// Workload` method returns. Used by the workloads with strategies as data (g-counter,
/// kafka, txn-list-append).
#[macro_export]
macro_rules! forward_workload {
    ($node:ty) => {
        impl $crate::node::Workload for $node {
            fn on_init(&mut self, ctx: &mut $crate::node::Ctx<'_>) {
                self.inner().on_init(ctx);
            }

            fn on_message(
                &mut self,
                ctx: &mut $crate::node::Ctx<'_>,
                msg: &$crate::node::Message<'_>,
            ) -> Result<(), $crate::node::RequestError> {
                self.inner().on_message(ctx, msg)
            }

            fn on_timer(&mut self, ctx: &mut $crate::node::Ctx<'_>, tag: u64) {
                self.inner().on_timer(ctx, tag);
            }

            fn on_rpc_reply(
                &mut self,
                ctx: &mut $crate::node::Ctx<'_>,
                tag: u64,
                reply: $crate::node::RpcReply<'_>,
            ) {
                self.inner().on_rpc_reply(ctx, tag, reply);
            }
        }
    };
}
