//! The Maelstrom-compatible test harness behind the `glomers` binary.
pub mod checker;
pub mod edn;
pub mod plot;
pub mod results;
pub mod history;
pub mod services;
