//! A `--sim` run's *schedule*: every choice the harness made for it, so that the run can
//! be replayed exactly, or edited and replayed (what `glomers shrink` does).
//!
//! * **ops**: every main-phase client op the generator issued (relative time, worker
//!   thread, `:f` and `:value`); final-phase ops are not listed, the generator makes them
//!   again from what it saw;
//! * **partitions**: every partition the nemesis started (start, end, shape and grudge);
//! * **messages**: the fate the network drew for every inter-server message, named by its
//!   link and its number on that link (`n0 → n1`, 17th): latency, extra delay
//!   (`--reorder-ms`), lost, duplicated (and the copy's delay);
//! * **main-end**: when the main phase ended.
//!
//! Replaying the schedule unchanged gives a byte-identical history and results (same seed,
//! same flags). An edited schedule still runs: a removed op is never issued, an op whose
//! thread is still busy waits for it, a removed fault does not happen, a shorter partition
//! heals earlier, a message the schedule does not list gets a latency drawn from the seed
//! and no fault. Nodes, clocks and services are not in the schedule: they follow the seed.
//!
//! The file (`schedule.jsonl` in the run directory) is JSON lines: a header, then one line
//! per entry ([`mod@file`]).

pub mod file;

use simd_json::OwnedValue;

use crate::harness::hosts::Time;

/// Version of the file format, in the header; a newer file is refused.
pub const FORMAT: u64 = 1;

/// Everything a replay needs beyond the seed and the flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    /// The workload the schedule was recorded for.
    pub workload: String,
    /// The `glomers test` flags of the recorded run (seed pinned), for the replay command
    /// and `glomers shrink`.
    pub flags: Vec<String>,
    /// The node strategy variable and value the recorded run had, if any.
    pub strategy: Option<(String, String)>,
    /// Node ids then service names: what [`MessageFate::src`]/`dest` index.
    pub participants: Vec<String>,
    /// How many of the participants are nodes (partitions name only those).
    pub node_count: usize,
    /// Relative time at which the main phase ended.
    pub main_end: Time,
    /// Main-phase client ops, in the order they were issued.
    pub ops: Vec<ScheduledOp>,
    /// Partitions, in the order they started.
    pub partitions: Vec<Partition>,
    /// Inter-server message fates, in send order.
    pub messages: Vec<MessageFate>,
}

/// One main-phase client op.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledOp {
    /// Relative time it was issued.
    pub at: Time,
    /// The worker thread that issued it.
    pub thread: usize,
    /// Jepsen's `:f`.
    pub f: &'static str,
    /// Jepsen's `:value` at invocation.
    pub value: OwnedValue,
}

/// One partition: the grudge holds from `start` until `end` (or the end of the main phase).
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Relative time of the `start-partition`.
    pub start: Time,
    /// Relative time of the `stop-partition`, if one came before the main phase ended.
    pub end: Option<Time>,
    /// The shape's name (`majority`, `one`, …), as the history shows it.
    pub shape: String,
    /// `grudge[dest]`: node indices whose messages `dest` drops.
    pub grudge: Vec<Vec<usize>>,
}

/// What the network did with one inter-server message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageFate {
    /// Sender: index into [`Schedule::participants`].
    pub src: u16,
    /// Destination: index into [`Schedule::participants`].
    pub dest: u16,
    /// 0-based number of this message among those sent from `src` to `dest`.
    pub nth: u64,
    /// Latency, ms.
    pub latency_ms: u64,
    /// `--reorder-ms` extra delay, ms (0: none).
    pub extra_ms: u64,
    /// Lost (`--loss`).
    pub lost: bool,
    /// Delivered a second time, after this many ms (`--duplicate`).
    pub copy_ms: Option<u64>,
}

/// One fault acting on a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// `--loss`.
    Lost,
    /// `--duplicate`.
    Copy,
    /// `--reorder-ms`.
    Delay,
}

impl MessageFate {
    /// The faults acting on this message.
    pub fn faults(&self) -> impl Iterator<Item = FaultKind> {
        [
            (self.lost, FaultKind::Lost),
            (self.copy_ms.is_some(), FaultKind::Copy),
            (self.extra_ms > 0, FaultKind::Delay),
        ]
        .into_iter()
        .filter_map(|(on, kind)| on.then_some(kind))
    }

    /// Removes one fault.
    pub fn clear(&mut self, kind: FaultKind) {
        match kind {
            FaultKind::Lost => self.lost = false,
            FaultKind::Copy => self.copy_ms = None,
            FaultKind::Delay => self.extra_ms = 0,
        }
    }
}

impl Schedule {
    /// Every message fault: the message's index and the fault.
    pub fn message_faults(&self) -> Vec<(usize, FaultKind)> {
        self.messages
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.faults().map(move |kind| (i, kind)))
            .collect()
    }

    /// Count of fault entries: partitions plus message faults (lost, duplicated, delayed
    /// each count once).
    pub fn fault_count(&self) -> usize {
        let message_faults: usize = self.messages.iter().map(|m| m.faults().count()).sum();
        self.partitions.len() + message_faults
    }
}

/// A schedule to replay, as a test configuration carries it (shared, so configs stay
/// cheap to clone; printed as its source only, never whole).
#[derive(Clone)]
pub struct Replay {
    /// Where it came from: a file path, or what made it (`glomers shrink`).
    pub source: String,
    /// The schedule.
    pub schedule: std::sync::Arc<Schedule>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replay({})", self.source)
    }
}
