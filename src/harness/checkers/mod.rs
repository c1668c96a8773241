//! Checkers: turn a finished history (plus network counts) into Maelstrom's results map.
//!
//! Contract used by the runner (owned by the checker work; the runner only calls `analyze`):
//! the returned value is a JSON object with the same keys as Maelstrom's `results.edn`
//! (MAELSTROM.md §7.2), keyword names without the colon (`"valid?"`, `"msgs-per-op"`, …).
//! Keyword *values* are plain strings too: `valid?` is `true`, `false` or `"unknown"`.
//!
//! Fed the histories of real Maelstrom runs, the checkers reproduce Maelstrom's results
//! (tests/checker_fixtures.rs). Where they deliberately differ, they are stricter:
//! * echo: an `info` echo is an error (Maelstrom's pairing skips it);
//! * set-full: reads of values nobody added are `unexpected` and invalid (Jepsen ignores
//!   them), and so is a value returned twice by one read (`duplicated`, which Jepsen 0.3.7
//!   means to report but never does);
//! * txn-rw-register: a read of the value the transaction itself writes only later is a
//!   `future-read` (Elle's rw-register drops it as a self-loop);
//! * availability `total`: every invocation must be `ok`, counted exactly, not through a
//!   rounded single-precision fraction.
//!
//! One addition: `perf` → `latencies`, `ok` latency quantiles per `f` in milliseconds.
//!
//! Known gaps against Jepsen: lin-kv and the txn checkers report one witness per failure rather than Knossos' / Elle's full explanations.

use simd_json::OwnedValue;

use crate::harness::history::History;

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

pub mod counter;
pub mod echo;
pub mod explain;
pub mod extra;
pub mod kafka;
pub mod lin_kv;
pub mod list_append;
pub mod rw_register;
pub mod set_full;
pub mod stats;
pub mod txn;
pub mod unique_ids;
pub mod value;

use value::obj;

/// A checker's verdict, Jepsen's `:valid?`: `true`, `false` or `:unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// `true`: no anomaly.
    Valid,
    /// `false`: an anomaly was found.
    Invalid,
    /// `:unknown`: the analysis could not decide (or a checker failed).
    Unknown,
}

impl Validity {
    /// Jepsen's merge priority: `false` > `:unknown` > `true`.
    fn priority(self) -> u8 {
        match self {
            Validity::Valid => 0,
            Validity::Unknown => 1,
            Validity::Invalid => 2,
        }
    }

    /// The worse of two verdicts (Jepsen's `merge-valid`).
    pub fn merge(self, other: Validity) -> Validity {
        if other.priority() > self.priority() {
            other
        } else {
            self
        }
    }

    /// The JSON form: `true`, `false`, or the string `"unknown"` (the keyword without colon).
    pub fn to_value(self) -> OwnedValue {
        match self {
            Validity::Valid => OwnedValue::from(true),
            Validity::Invalid => OwnedValue::from(false),
            Validity::Unknown => OwnedValue::from("unknown"),
        }
    }

    /// Reads a `valid?` value. Anything but `true`/`false` counts as unknown, so a malformed
    /// result can never pass.
    pub fn from_value(v: Option<&OwnedValue>) -> Validity {
        match v {
            Some(OwnedValue::Static(simd_json::StaticNode::Bool(true))) => Validity::Valid,
            Some(OwnedValue::Static(simd_json::StaticNode::Bool(false))) => Validity::Invalid,
            _ => Validity::Unknown,
        }
    }
}

/// The verdict of a results map (its top-level `"valid?"`).
pub fn validity_of(results: &OwnedValue) -> Validity {
    match results {
        OwnedValue::Object(map) => Validity::from_value(map.get("valid?")),
        _ => Validity::Unknown,
    }
}

/// One workload checker (Jepsen's `Checker` protocol). Implementations exist for echo,
/// unique-ids, set-full (broadcast, g-set), the counters, lin-kv (WGL), kafka and the two
/// txn workloads (Elle-style); a new workload plugs in by adding a type and naming it in
/// its [`crate::harness::registry`] entry.
pub trait Checker {
    /// Checks the history and returns the workload's result map, which must carry
    /// `"valid?"`. An `Err` is reported as `{valid? unknown, error …}`, as Jepsen reports a
    /// checker that throws.
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String>;
}

/// Runs one checker like Jepsen's `check-safe`: an error or a panic becomes
/// `{valid? unknown, error "…"}` instead of aborting the analysis.
fn check_safe(f: impl FnOnce() -> Result<OwnedValue, String>) -> OwnedValue {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let error = match outcome {
        Ok(Ok(v)) => return v,
        Ok(Err(e)) => e,
        Err(panic) => match panic.downcast_ref::<&str>() {
            Some(s) => format!("checker panicked: {s}"),
            None => match panic.downcast_ref::<String>() {
                Some(s) => format!("checker panicked: {s}"),
                None => "checker panicked".to_string(),
            },
        },
    };
    obj([
        ("valid?", Validity::Unknown.to_value()),
        ("error", OwnedValue::from(error)),
    ])
}

/// The full results map, as Maelstrom composes it (MAELSTROM.md §7.2): perf, timeline,
/// exceptions, stats, availability, net and the workload checker's (`workload`, which the
/// registry names: [`crate::harness::registry::analyze`]), plus the merged `valid?`.
pub fn analyze_with(input: &CheckInput, workload: Option<&dyn Checker>) -> OwnedValue {
    let workload = check_safe(|| match workload {
        Some(checker) => checker.check(input),
        None => Err(format!("no checker for workload {:?}", input.workload)),
    });
    let parts = [
        ("perf", check_safe(|| Ok(stats::perf(input.history)))),
        ("timeline", obj([("valid?", OwnedValue::from(true))])),
        (
            "exceptions",
            check_safe(|| Ok(stats::exceptions(input.history))),
        ),
        ("stats", check_safe(|| Ok(stats::stats(input.history)))),
        (
            "availability",
            check_safe(|| stats::availability(input.history, input.availability)),
        ),
        (
            "net",
            check_safe(|| Ok(stats::net(input.history, &input.net))),
        ),
        ("workload", workload),
    ];
    let mut verdict = Validity::Valid;
    for (_, part) in &parts {
        verdict = verdict.merge(validity_of(part));
    }
    let mut all: Vec<(&str, OwnedValue)> = parts.into_iter().collect();
    all.push(("valid?", verdict.to_value()));
    obj(all)
}
