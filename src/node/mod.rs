//! The sans-IO node core: [`NodeCore`] drives a [`Workload`] through a [`Ctx`].
//!
//! Everything here is deterministic given the input bytes, the times passed in, and the
//! seed: no file descriptors, no system clock, no global RNG.

mod continuations;
pub mod core;
pub mod ctx;
pub mod dyn_node;
pub mod kv;
pub mod message;
pub mod rng;
pub mod rtt;
pub mod timers;
pub mod transmit;
pub mod workload;

pub use self::core::NodeCore;
pub use ctx::{Ctx, RpcRefused};
pub use dyn_node::DynNode;
pub use message::{Message, RequestError};
pub use rng::Rng;
pub use rtt::RttEstimator;
pub use timers::Millis;
pub use transmit::{Transmit, Transmits};
pub use workload::{RpcReply, Workload};
