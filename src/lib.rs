//! # glomers
//!
//! A toolkit for Jepsen's Maelstrom and Fly.io's Gossip Glomers challenges.
//!
//! Data flows one way: bytes → [`wire`] → [`node`] core → [`workloads`] → outbox → [`wire`] →
//! bytes. Two drivers feed the very same sans-IO core:
//!
//! * [`runtime`]: a single-threaded mio reactor on stdin/stdout, for real Maelstrom runs;
//! * `harness` (cargo feature `harness`, on by default): the `glomers` test harness, which
//!   runs any Maelstrom binary as a child process, or our own nodes in-process in
//!   deterministic virtual time. A crate that only writes nodes depends on glomers with
//!   `default-features = false` and compiles none of it.

#![warn(missing_docs)]

#[cfg(feature = "harness")]
pub mod harness;
pub mod node;
pub mod runtime;
pub mod wire;
pub mod workloads;
