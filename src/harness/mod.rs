//! The Maelstrom-compatible test harness behind the `glomers` binary.
pub mod checkers;
pub mod cli;
pub mod clients;
pub mod console;
pub mod edn;
pub mod history;
pub mod hosts;
pub mod limits;
pub mod net;
pub mod results;
pub mod run;
pub mod services;
pub mod session;
pub mod sweep;
