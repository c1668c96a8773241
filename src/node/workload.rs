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
///     type Tag = (); // no RPCs, no timers
///
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
    /// What an RPC's reply or a timer continues: the workload's own small `Copy` value
    /// (typically an enum such as `Flush`, `Read { slot }`, `Cas { key, slot }`), given to
    /// [`Ctx::rpc`] or [`Ctx::set_timer`] and handed back by value to
    /// [`Workload::on_rpc_reply`] or [`Workload::on_timer`]. Stored inline, never
    /// allocated; `()` for a node that has neither.
    type Tag: Copy + std::fmt::Debug;

    /// Called once, right after the core answered `init` (ids are known).
    fn on_init(&mut self, _ctx: &mut Ctx<'_, Self::Tag>) {}

    /// Handles a request or peer message. Returning an error sends a Maelstrom `error`
    /// reply to the sender (if the message had a msg_id). Unknown types should return
    /// [`RequestError::not_supported`].
    fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Self::Tag>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError>;

    /// A timer set with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self::Tag>, _tag: Self::Tag) {}

    /// The outcome of an RPC started with [`Ctx::rpc`] with this `tag`.
    fn on_rpc_reply(
        &mut self,
        _ctx: &mut Ctx<'_, Self::Tag>,
        _tag: Self::Tag,
        _reply: RpcReply<'_>,
    ) {
    }
}

/// Implements [`Workload`] for a node that runs one of several strategies chosen at start
/// (an enum of nodes, one variant per strategy), and defines its tag type: an enum with
/// the same variant names, each holding that strategy's own tag. Every event goes to the
/// running strategy through [`Ctx::map_tags`], so each strategy keeps its own `Tag` type.
///
/// `forward_workload!(GCounter, GCounterTag { SeqKv(PerNodeCounter), Crdt(PnCounter) })`
/// expects `enum GCounter { SeqKv(PerNodeCounter), Crdt(PnCounter) }`:
///
/// ```
/// use glomers::node::{Ctx, Message, NodeCore, RequestError, Workload};
///
/// /// Answers `ping` after a timer of 5 ms…
/// struct Slow;
/// /// …or at once.
/// struct Fast;
///
/// impl Workload for Slow {
///     type Tag = u64; // the msg_id to answer
///     fn on_message(&mut self, ctx: &mut Ctx<'_, u64>, msg: &Message<'_>) -> Result<(), RequestError> {
///         ctx.set_timer(5, msg.msg_id.unwrap_or(0));
///         Ok(())
///     }
///     fn on_timer(&mut self, ctx: &mut Ctx<'_, u64>, msg_id: u64) {
///         ctx.reply_to("c1", msg_id, "pong");
///     }
/// }
///
/// impl Workload for Fast {
///     type Tag = ();
///     fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
///         ctx.reply(msg, "pong");
///         Ok(())
///     }
/// }
///
/// /// Picks its strategy at start.
/// enum Pinger {
///     Slow(Slow),
///     Fast(Fast),
/// }
///
/// glomers::forward_workload!(Pinger, PingerTag { Slow(Slow), Fast(Fast) });
///
/// let mut node = NodeCore::new(Pinger::Slow(Slow), 1);
/// node.handle_input(0, br#"{"src":"c0","dest":"n1","body":{"type":"init","node_id":"n1","node_ids":["n1"],"msg_id":1}}
/// {"src":"c1","dest":"n1","body":{"type":"ping","msg_id":7}}
/// "#);
/// assert!(!String::from_utf8_lossy(node.output()).contains("pong"));
/// assert_eq!(node.next_deadline(), Some(5), "Slow's u64 tag, stored as PingerTag::Slow(7)");
/// node.handle_timeout(5);
/// assert!(String::from_utf8_lossy(node.output()).contains(r#""type":"pong","in_reply_to":7"#));
/// ```
#[macro_export]
macro_rules! forward_workload {
    ($node:ident, $tag:ident { $($variant:ident($inner:ty)),+ $(,)? }) => {
        /// The running strategy's tag, wrapped in its variant.
        #[derive(Clone, Copy, Debug)]
        pub enum $tag {
            $(
                #[doc = concat!("A tag of [`", stringify!($inner), "`].")]
                $variant(<$inner as $crate::node::Workload>::Tag),
            )+
        }

        impl $crate::node::Workload for $node {
            type Tag = $tag;

            fn on_init(&mut self, ctx: &mut $crate::node::Ctx<'_, $tag>) {
                match self {
                    $($node::$variant(node) => ctx.map_tags($tag::$variant, |ctx| node.on_init(ctx)),)+
                }
            }

            fn on_message(
                &mut self,
                ctx: &mut $crate::node::Ctx<'_, $tag>,
                msg: &$crate::node::Message<'_>,
            ) -> Result<(), $crate::node::RequestError> {
                match self {
                    $($node::$variant(node) => {
                        ctx.map_tags($tag::$variant, |ctx| node.on_message(ctx, msg))
                    })+
                }
            }

            fn on_timer(&mut self, ctx: &mut $crate::node::Ctx<'_, $tag>, tag: $tag) {
                #[allow(unreachable_patterns)]
                match (self, tag) {
                    $(($node::$variant(node), $tag::$variant(tag)) => {
                        ctx.map_tags($tag::$variant, |ctx| node.on_timer(ctx, tag))
                    })+
                    (_, tag) => unreachable!("timer tag {tag:?} of a strategy not running"),
                }
            }

            fn on_rpc_reply(
                &mut self,
                ctx: &mut $crate::node::Ctx<'_, $tag>,
                tag: $tag,
                reply: $crate::node::RpcReply<'_>,
            ) {
                #[allow(unreachable_patterns)]
                match (self, tag) {
                    $(($node::$variant(node), $tag::$variant(tag)) => {
                        ctx.map_tags($tag::$variant, |ctx| node.on_rpc_reply(ctx, tag, reply))
                    })+
                    (_, tag) => unreachable!("RPC tag {tag:?} of a strategy not running"),
                }
            }
        }
    };
}
