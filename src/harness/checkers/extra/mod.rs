//! Checks beyond Maelstrom's (`--extra-checks`): what a challenge *means*, where Maelstrom's
//! checkers only test its letter. Each check reads the history (and the run's own record of
//! late replies) and returns `{valid? …, findings […]}`, every finding naming the ops,
//! nodes and times involved. Their results go under `extra` in the results map and their
//! own console section; by default they do not change Maelstrom's verdict or the exit
//! status, `--extra-checks=strict` makes them count.
//!
//! The checks, per workload:
//! * `late-replies` (every workload): a reply after the client's timeout, a second reply
//!   to one request, or a node muted for writing to a closed client ([`late`]);
//! * `unwritten-reads` (txn-rw-register, txn-list-append): a read returning a value no
//!   write produced — `0` for a key nobody wrote, say ([`unwritten`]);
//! * `final-reads` (broadcast, g-set): each node's last read holds every value whose add
//!   was acknowledged before that read began, not only the last reader's ([`final_reads`]);
//! * `monotonic-reads` (g-counter, pn-counter): once a node has shown a count, its later
//!   reads never show less, allowing for negative adds ([`monotonic`]); kafka: a node that
//!   has shown offset o of a key never answers a poll from at or below o with nothing
//!   ([`kafka`]);
//! * `convergence` (broadcast, g-set, counters, txn-rw-register, txn-list-append, kafka):
//!   after the heal and the recovery sleep, the final reads of every node agree and hold
//!   every acknowledged write ([`convergence`], [`convergence_txn`], [`kafka`]). The txn
//!   workloads get their final reads only with `--extra-checks`;
//! * `unwritten-reads` also for counters (a read no set of the adds invoked before it
//!   could sum to, [`counter_bounds`]) and kafka (a polled message no send wrote to its
//!   key, [`kafka`]).
//!
//! Under `--extra-checks` the generators change too (Maelstrom's runs stay byte for byte
//! as they were without it): g-set and broadcast re-add earlier values, txn workloads get
//! a final phase, and g-set's and kafka's final ops are flagged `final?`.

pub mod convergence;
pub mod convergence_txn;
pub mod counter_bounds;
pub mod final_reads;
pub mod kafka;
pub mod late;
pub mod monotonic;
pub mod unwritten;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::Validity;
use super::value::{arr, obj};
use crate::harness::history::{History, Op, Process};

/// Findings listed per check; past this only the count grows.
pub const FINDINGS_LISTED_MAX: usize = 20;

/// Whether extra checks run, and whether they count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtraMode {
    /// Run them and report them apart; Maelstrom's verdict stands.
    On,
    /// Run them, and a finding makes the run invalid.
    Strict,
}

/// What the extra checks read.
pub struct ExtraInput<'a> {
    /// Workload name.
    pub workload: &'a str,
    /// The history.
    pub history: &'a History,
    /// Node count (worker thread t talks to node t mod n).
    pub node_count: usize,
    /// Worker threads (process p runs on thread p mod C).
    pub concurrency: usize,
    /// The results map so far (its `late-replies` and `muted-nodes`).
    pub results: &'a OwnedValue,
}

impl ExtraInput<'_> {
    /// The node index a client process talks to (MAELSTROM.md §2.2).
    pub fn node_of(&self, op: &Op) -> Option<usize> {
        match op.process {
            Process::Client(p) if self.concurrency > 0 && self.node_count > 0 => {
                Some((p % self.concurrency as u64) as usize % self.node_count)
            }
            _ => None,
        }
    }
}

/// Collects one check's findings, bounded.
#[derive(Default)]
pub struct Findings {
    listed: Vec<OwnedValue>,
    count: u64,
}

impl Findings {
    /// Records a finding: `what` in words, with the ops involved.
    pub fn push(&mut self, what: String, ops: &[&Op]) {
        self.count += 1;
        if self.listed.len() < FINDINGS_LISTED_MAX {
            let ops = ops.iter().map(|op| op_summary(op)).collect();
            self.listed
                .push(obj([("what", OwnedValue::from(what)), ("ops", arr(ops))]));
        }
    }

    /// Counts `n` findings that were not listed where they came from (a bounded record).
    pub fn count_unlisted(&mut self, n: u64) {
        self.count += n;
    }

    /// `{valid? …, count …, findings […]}`.
    pub fn result(self) -> OwnedValue {
        obj([
            ("valid?", OwnedValue::from(self.count == 0)),
            ("count", OwnedValue::from(self.count)),
            ("findings", arr(self.listed)),
        ])
    }
}

/// An op as findings show it: index, time, process, type, f, value.
fn op_summary(op: &Op) -> OwnedValue {
    let process = match op.process {
        Process::Client(p) => OwnedValue::from(p),
        Process::Nemesis => OwnedValue::from("nemesis"),
    };
    obj([
        ("index", OwnedValue::from(op.index)),
        ("time", OwnedValue::from(op.time_ns)),
        ("process", process),
        ("type", OwnedValue::from(op.op_type.name())),
        ("f", OwnedValue::from(op.f.as_str())),
        ("value", op.value.clone()),
    ])
}

/// "c7's read at 1.920 s" — how findings name an op in words.
pub fn describe(op: &Op) -> String {
    let who = match op.process {
        Process::Client(p) => format!("process {p}"),
        Process::Nemesis => "the nemesis".to_string(),
    };
    format!("{who}'s {} at {:.3} s", op.f, op.time_ns as f64 / 1e9)
}

/// Runs every extra check that applies to the workload: `{check {valid? …} …, valid? …}`.
pub fn run(input: &ExtraInput) -> OwnedValue {
    let mut checks: Vec<(&str, OwnedValue)> = vec![("late-replies", late::check(input))];
    let per_node = |check: fn(&ExtraInput) -> OwnedValue| {
        if input.node_count == 0 || input.concurrency == 0 {
            return obj([
                ("valid?", Validity::Unknown.to_value()),
                (
                    "error",
                    OwnedValue::from(
                        "the run's node count and concurrency are unknown (pass --node-count \
                         and --concurrency)",
                    ),
                ),
            ]);
        }
        check(input)
    };
    match input.workload {
        "txn-rw-register" | "txn-list-append" => {
            checks.push(("unwritten-reads", unwritten::check(input)));
            checks.push(("convergence", per_node(convergence_txn::check)));
        }
        "broadcast" | "g-set" => {
            checks.push(("final-reads", per_node(final_reads::check)));
            checks.push(("convergence", per_node(convergence::check)));
        }
        "g-counter" | "pn-counter" => {
            checks.push(("unwritten-reads", counter_bounds::unwritten(input)));
            checks.push(("monotonic-reads", per_node(monotonic::check)));
            checks.push(("convergence", per_node(convergence::check)));
        }
        "kafka" => {
            checks.push(("unwritten-reads", kafka::unwritten(input)));
            checks.push(("monotonic-reads", per_node(kafka::monotonic)));
            checks.push(("convergence", per_node(kafka::convergence)));
        }
        _ => {}
    }
    let verdict = checks
        .iter()
        .map(|(_, r)| super::validity_of(r))
        .fold(Validity::Valid, Validity::merge);
    checks.push(("valid?", verdict.to_value()));
    obj(checks)
}

/// Adds `extra` to `results`; under [`ExtraMode::Strict`] its verdict joins Maelstrom's.
pub fn attach(results: &mut OwnedValue, extra: OwnedValue, mode: ExtraMode) {
    let extra_verdict = super::validity_of(&extra);
    let OwnedValue::Object(map) = results else {
        return;
    };
    map.insert("extra".to_string(), extra);
    if mode == ExtraMode::Strict {
        let verdict = Validity::from_value(map.get("valid?")).merge(extra_verdict);
        map.insert("valid?".to_string(), verdict.to_value());
    }
}

/// One line per failing extra check, for the console: "final-reads: 2 findings (first: …)".
pub fn summary_lines(results: &OwnedValue) -> Vec<String> {
    let Some(OwnedValue::Object(extra)) = results.get("extra") else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for (name, check) in extra.iter() {
        if name == "valid?" || check.get("valid?").and_then(|v| v.as_bool()) != Some(false) {
            continue;
        }
        let count = check.get("count").and_then(|c| c.as_u64()).unwrap_or(0);
        let first = check
            .get("findings")
            .and_then(|f| f.as_array())
            .and_then(|f| f.first())
            .and_then(|f| f.get("what"))
            .and_then(|w| w.as_str())
            .unwrap_or("");
        lines.push(format!("{name}: {count} finding(s); first: {first}"));
    }
    lines.sort();
    lines
}
