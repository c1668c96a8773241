//! Checkers: turn a finished history (plus network counts) into Maelstrom's results map.
//!
//! Contract used by the runner (owned by the checker work; the runner only calls `analyze`):
//! the returned value is a JSON object with the same keys as Maelstrom's `results.edn`
//! (MAELSTROM.md §7.2), keyword names without the colon (`"valid?"`, `"msgs-per-op"`, …).

use simd_json::OwnedValue;

use super::history::History;

/// Send/receive/message counts of one group of the network journal (MAELSTROM.md §5.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCounts {
    /// Messages handed to the network.
    pub send_count: u64,
    /// Messages delivered.
    pub recv_count: u64,
    /// Distinct message ids (equals `send_count` in practice).
    pub msg_count: u64,
}

/// The three journal groups: every event, client traffic, and server (node and service) traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Every event.
    pub all: NetCounts,
    /// Events whose src or dest starts with `c`.
    pub clients: NetCounts,
    /// Every other event: node↔node and node↔service.
    pub servers: NetCounts,
}

/// `--availability`: none, `total`, or a minimum ok fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Availability {
    /// No requirement: always valid.
    Any,
    /// Every client op must be ok.
    Total,
    /// At least this fraction of invocations must complete ok.
    Fraction(f64),
}

/// Everything the checkers need.
pub struct CheckInput<'a> {
    /// Workload name as given to `-w`.
    pub workload: &'a str,
    /// The history.
    pub history: &'a History,
    /// Journal counts.
    pub net: NetStats,
    /// `--availability`.
    pub availability: Availability,
    /// `--consistency-models`, already split.
    pub consistency_models: &'a [String],
}
