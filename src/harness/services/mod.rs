//! Maelstrom's built-in services — `lin-kv`, `seq-kv`, `lww-kv`, `lin-tso` — as pure,
//! deterministic state machines (MAELSTROM.md §4).
//!
//! Each mirrors src/maelstrom/service.clj, quirks included; the per-service files say which
//! quirk comes from where. The runner owns time and the network: it hands every request
//! that reaches a service to [`SimulatedService::handle`], in delivery order (Maelstrom runs one
//! worker thread per service, so each service is a single serialization point), and sends
//! the returned body back to the request's `src`.
//!
//! Shared by every service (from `service-thread`):
//!
//! * the reply is the handler's body plus `in_reply_to` = the request's `msg_id`, copied
//!   as-is, or `null` when the request has none. Replies never carry a `msg_id`.
//! * an unknown `type`, a missing one, or a body that is not an object makes the handler
//!   throw; Maelstrom logs it and sends nothing, so [`SimulatedService::handle`] returns `None` and
//!   the caller's request times out.
//! * keys and values are compared with Clojure `=` ([`value`]).
//!
//! All randomness comes from the [`Rng`] given to [`service`].

mod clj_print;
mod kv_map;
mod lin_kv;
mod lin_tso;
mod lww_kv;
mod seq_kv;
pub mod value;

pub use clj_print::{java_double, pr_str, print_string, str as clojure_str};
pub use lin_kv::LinKv;
pub use lin_tso::LinTso;
pub use lww_kv::LwwKv;
pub use seq_kv::SeqKv;

use crate::node::rng::Rng;
use simd_json::prelude::*;
use simd_json::{OwnedValue, StaticNode};

/// A Maelstrom service: takes request bodies in delivery order, returns reply bodies.
pub trait SimulatedService {
    /// Handles one request body from node `src`. Returns the full reply body (with
    /// `in_reply_to`), or `None` when Maelstrom would send no reply at all.
    fn handle(&mut self, src: &str, body: &OwnedValue) -> Option<OwnedValue>;
}

/// The ids of the services Maelstrom always starts (`default-services`).
pub const SERVICE_NAMES: [&str; 4] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

/// A fresh service by id, or `None` for an id Maelstrom does not provide. `rng` drives
/// seq-kv's choice of state and lww-kv's choice of replica; the others ignore it.
pub fn service(name: &str, rng: Rng) -> Option<Box<dyn SimulatedService + Send>> {
    match name {
        "lin-kv" => Some(Box::new(LinKv::new())),
        "seq-kv" => Some(Box::new(SeqKv::new(rng))),
        "lww-kv" => Some(Box::new(LwwKv::new(rng))),
        "lin-tso" => Some(Box::new(LinTso::new())),
        _ => None,
    }
}

/// Adds `in_reply_to` to a handler's reply, as `service-thread` does:
/// `(assoc body :in_reply_to (:msg_id (:body message)))`.
fn with_in_reply_to(request: &OwnedValue, mut reply: OwnedValue) -> OwnedValue {
    let msg_id = request
        .get("msg_id")
        .cloned()
        .unwrap_or(OwnedValue::Static(StaticNode::Null));
    if let Some(map) = reply.as_object_mut() {
        map.insert("in_reply_to".to_string(), msg_id);
    }
    reply
}
