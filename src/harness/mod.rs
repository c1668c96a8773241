//! The Maelstrom-compatible test harness behind the `glomers` binary.
pub mod checker;
pub mod history;
pub mod services;
