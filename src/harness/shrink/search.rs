//! The shrink search: from a failing `--sim` run to the smallest run found that fails the
//! same way ([`super::class`]), re-running the simulator for every try.
//!
//! 1. **Coarse**, on the flags: a shorter `--time-limit`, fewer nodes, fewer workers, a
//!    lower `--rate`, each fault knob off, then halved. Each is a fresh run (the current
//!    seed, then the next one); a step is kept when the run fails the same way and is no
//!    larger (ops + messages). Steps repeat until none helps or half the budget is spent.
//! 2. **Fine**, on the schedule of the smallest run so far: delta debugging
//!    ([`reduce`](super::reduce)) over its partitions, its message faults (lost,
//!    duplicated, delayed) and its ops; then each partition shortened by halves, and the
//!    main phase ended at the last op, then the whole schedule run faster (its times
//!    halved, or cut by a quarter). Each try replays the edited schedule. Rounds repeat
//!    while one removes something.
//!
//! The budget (`--max-seconds`, `--max-tries`) is checked before every try; the search
//! returns the smallest failing run found so far when it is spent.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::class::{self, Failure};
use super::reduce::{Verdict, reduce};
use crate::harness::checkers::Validity;
use crate::harness::cli::TestConfig;
use crate::harness::command_line::pinned_flags;
use crate::harness::flag_words as flags;
use crate::harness::history::{OpType, Process};
use crate::harness::hosts::MS;
use crate::harness::run::execute::{NodeFactory, Sinks, execute_recorded};
use crate::harness::schedule::{FaultKind, Replay, Schedule};

/// Fresh seeds a coarse step tries (the current one, then the next ones): more when runs
/// are quick (the simulator runs a small test in milliseconds), fewer for slow ones.
const SEEDS_PER_STEP_QUICK: u64 = 8;
const SEEDS_PER_STEP_SLOW: u64 = 2;
/// A run quicker than this (seconds) counts as quick.
const QUICK_RUN_S: f64 = 0.2;
/// Most fine rounds (each one pass over partitions, message faults and ops).
const FINE_ROUNDS: usize = 4;

/// The budget of a search.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Wall-clock seconds.
    pub max_seconds: f64,
    /// Most runs (deterministic budgets for tests and reproducible shrinks).
    pub max_tries: Option<u64>,
}

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Client ops invoked (main and final phase).
    pub ops: u64,
    /// Messages sent (clients, nodes, services).
    pub messages: u64,
    /// Nodes.
    pub nodes: usize,
    /// Partitions plus message faults of its schedule.
    pub faults: usize,
}

impl Size {
    /// What the search minimizes.
    pub fn weight(&self) -> u64 {
        self.ops + self.messages
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "{}, {}, {}, {}",
            plural(self.ops, "op"),
            plural(self.messages, "message"),
            plural(self.nodes as u64, "node"),
            plural(self.faults as u64, "fault")
        )
    }
}

/// A run that fails the same way: its configuration (replaying `schedule` for fine steps),
/// what it recorded, its size and results.
#[derive(Clone)]
pub struct Failing {
    /// The configuration that made it.
    pub config: TestConfig,
    /// Its recorded schedule (replaying it makes the same run).
    pub schedule: Schedule,
    /// Its size.
    pub size: Size,
    /// Its results map.
    pub results: OwnedValue,
}

/// Where a search is, for the progress bar.
pub struct Status {
    /// The stage (`coarse: time-limit`, `fine: ops`, …).
    pub stage: String,
    /// Runs so far.
    pub tries: u64,
    /// Seconds so far.
    pub elapsed: f64,
    /// The original run's size.
    pub original: Size,
    /// The smallest failing run's size so far.
    pub current: Size,
}

/// What a finished search found.
pub struct Report {
    /// The original run's size.
    pub original: Size,
    /// The smallest failing run found.
    pub smallest: Failing,
    /// The failure every kept run showed.
    pub primary: Failure,
    /// Runs made.
    pub tries: u64,
    /// Seconds taken.
    pub elapsed: f64,
    /// The steps kept, in order (`time-limit 2`, `drop 4810 of 4830 ops`, …).
    pub steps: Vec<String>,
}

/// Why there is nothing to shrink.
#[derive(Debug)]
pub enum Stop {
    /// The run does not fail (valid, or `:unknown`): the verdict in words.
    NotFailing(String),
    /// The run cannot be shrunk (the harness itself failed, or no schedule): why.
    Unshrinkable(String),
}

/// Shrinks the failing run `start` makes (a `--sim` config, possibly replaying a
/// schedule); `progress` sees every try.
pub fn shrink(
    start: &TestConfig,
    budget: Budget,
    progress: &mut dyn FnMut(&Status),
) -> Result<Report, Stop> {
    shrink_with_nodes(start, budget, None, progress)
}

/// [`shrink`] with the in-process nodes `nodes` makes instead of the workload's own (as
/// [`crate::harness::run::execute::execute_with_nodes`]): tests shrink deliberately
/// broken nodes this way.
pub fn shrink_with_nodes(
    start: &TestConfig,
    budget: Budget,
    nodes: Option<NodeFactory<'_>>,
    progress: &mut dyn FnMut(&Status),
) -> Result<Report, Stop> {
    let started = Instant::now();
    let mut config = start.clone();
    config.quiet = true;
    let first = run(&config, nodes).map_err(Stop::Unshrinkable)?;
    if first.validity != Validity::Invalid {
        let word = match first.validity {
            Validity::Valid => "valid",
            _ => "unknown (the checkers could not decide)",
        };
        return Err(Stop::NotFailing(format!(
            "the run does not fail: it is {word}; nothing to shrink"
        )));
    }
    let primary = first
        .failures()
        .into_iter()
        .next()
        .ok_or_else(|| Stop::NotFailing("the run is invalid but no checker says why".into()))?;
    let best = first
        .into_failing(config)
        .ok_or_else(|| Stop::Unshrinkable("the run recorded no schedule (not --sim?)".into()))?;
    let mut search = Search {
        budget,
        nodes,
        started,
        tries: 1,
        primary,
        original: best.size,
        best,
        steps: Vec::new(),
        stage: "start".to_string(),
        last_run_s: 0.0,
        progress,
    };
    search.coarse();
    search.fine();
    Ok(Report {
        original: search.original,
        primary: search.primary,
        tries: search.tries,
        elapsed: search.started.elapsed().as_secs_f64(),
        steps: search.steps,
        smallest: search.best,
    })
}

/// One run's verdict, results and recorded schedule.
struct Trial {
    validity: Validity,
    results: OwnedValue,
    ops: u64,
    /// The crash, when the run crashed (no history, no results).
    crash: Option<String>,
    schedule: Option<Schedule>,
}

impl Trial {
    /// How it failed: its crash, or its checkers' failures.
    fn failures(&self) -> Vec<Failure> {
        match &self.crash {
            Some(message) => vec![class::crash(message)],
            None => class::failures(&self.results),
        }
    }
}

impl Trial {
    fn into_failing(self, config: TestConfig) -> Option<Failing> {
        let schedule = self.schedule?;
        // A crash has no results: its messages are those between nodes and services that
        // its schedule recorded (client messages are not counted).
        let messages = self
            .results
            .get("net")
            .and_then(|n| n.get("all"))
            .and_then(|a| a.get("msg-count"))
            .and_then(|m| m.as_u64())
            .unwrap_or(schedule.messages.len() as u64);
        let size = Size {
            ops: self.ops,
            messages,
            nodes: config.nodes.len(),
            faults: schedule.fault_count(),
        };
        Some(Failing {
            config,
            schedule,
            size,
            results: self.results,
        })
    }
}

/// Runs `config` quietly, without a journal. A crash is a trial too (with its schedule,
/// no results); a panic of the harness itself is an `Err`.
fn run(config: &TestConfig, nodes: Option<NodeFactory<'_>>) -> Result<Trial, String> {
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new("."),
    };
    let outcome = match catch_unwind(AssertUnwindSafe(|| execute_recorded(config, sinks, nodes))) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(crash)) => {
            let ops = crash.schedule.as_ref().map_or(0, |s| s.ops.len() as u64);
            return Ok(Trial {
                validity: Validity::Invalid,
                results: OwnedValue::null(),
                ops,
                crash: Some(crash.message),
                schedule: crash.schedule.map(|s| *s),
            });
        }
        Err(_) => return Err("the harness panicked".to_string()),
    };
    let ops = outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke && matches!(op.process, Process::Client(_)))
        .count() as u64;
    Ok(Trial {
        validity: outcome.validity,
        results: outcome.results,
        ops,
        crash: None,
        schedule: outcome.schedule,
    })
}

struct Search<'p> {
    budget: Budget,
    /// The in-process nodes, when not the workload's own.
    nodes: Option<NodeFactory<'p>>,
    started: Instant,
    tries: u64,
    primary: Failure,
    original: Size,
    best: Failing,
    steps: Vec<String>,
    stage: String,
    /// How long the latest run took (seconds).
    last_run_s: f64,
    progress: &'p mut dyn FnMut(&Status),
}

/// A coarse step: what it changes, and the flags (without `--seed`) it runs with.
struct Step {
    label: String,
    flags: Vec<String>,
}

impl Search<'_> {
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn spent(&self, share: f64) -> bool {
        self.elapsed() >= self.budget.max_seconds * share
            || self.budget.max_tries.is_some_and(|max| self.tries >= max)
    }

    /// Runs `config`; `Some` when it fails the same way. `None` also when the budget is
    /// spent (`self.spent(1.0)` tells which).
    fn attempt(&mut self, config: &TestConfig) -> Option<Failing> {
        if self.spent(1.0) {
            return None;
        }
        self.tries += 1;
        let began = Instant::now();
        let found = run(config, self.nodes).ok().and_then(|trial| {
            let same =
                trial.validity == Validity::Invalid && trial.failures().contains(&self.primary);
            if same {
                trial.into_failing(config.clone())
            } else {
                None
            }
        });
        self.last_run_s = began.elapsed().as_secs_f64();
        self.report_progress();
        found
    }

    fn report_progress(&mut self) {
        let status = Status {
            stage: self.stage.clone(),
            tries: self.tries,
            elapsed: self.elapsed(),
            original: self.original,
            current: self.best.size,
        };
        (self.progress)(&status);
    }

    fn accept(&mut self, failing: Failing, step: String) {
        self.steps.push(step);
        self.best = failing;
        self.report_progress();
    }

    /// The coarse steps from the current best configuration, in the order tried.
    fn coarse_steps(&self) -> Vec<Step> {
        let config = &self.best.config;
        let base = flags::without(&config.flags, "--seed", true);
        let mut steps = Vec::new();
        let mut push = |label: String, flags: Vec<String>| steps.push(Step { label, flags });
        let t = config.time_limit_s;
        for divisor in [8, 4, 2] {
            let shorter = t / divisor;
            if shorter >= 1 && shorter < t {
                push(
                    format!("--time-limit {shorter}"),
                    flags::with(&base, "--time-limit", &shorter.to_string()),
                );
            }
        }
        for count in 1..config.nodes.len() {
            push(
                format!("--node-count {count}"),
                flags::with_node_count(&base, count),
            );
        }
        let mut workers: Vec<usize> = vec![1, 2, config.nodes.len()];
        workers.dedup();
        for count in workers.into_iter().filter(|&c| c < config.concurrency) {
            push(
                format!("--concurrency {count}"),
                flags::with(&base, "--concurrency", &count.to_string()),
            );
        }
        for divisor in [8.0, 4.0, 2.0] {
            let lower = config.rate / divisor;
            if lower >= 0.5 {
                let value = format!("{lower}");
                push(
                    format!("--rate {value}"),
                    flags::with(&base, "--rate", &value),
                );
            }
        }
        if config.nemesis {
            let mut off = flags::without(&base, "--nemesis", true);
            off = flags::without(&off, "--nemesis-interval", true);
            off = flags::without(&off, "--asymmetric-partitions", false);
            push("no --nemesis".to_string(), off);
        }
        let faults = config.faults;
        if faults.asymmetric_partitions {
            push(
                "no --asymmetric-partitions".to_string(),
                flags::without(&base, "--asymmetric-partitions", false),
            );
        }
        let knobs: [(&str, f64); 4] = [
            ("--loss", faults.loss),
            ("--duplicate", faults.duplicate),
            ("--reorder-ms", faults.reorder_ms as f64),
            ("--clock-skew", faults.clock_skew),
        ];
        for (flag, value) in knobs {
            if value > 0.0 {
                push(format!("no {flag}"), flags::without(&base, flag, true));
            }
        }
        for (flag, value) in knobs {
            let half = if flag == "--reorder-ms" {
                (value / 2.0).floor()
            } else {
                value / 2.0
            };
            if value > 0.0 && half >= 0.01 {
                let text = format!("{half}");
                push(format!("{flag} {text}"), flags::with(&base, flag, &text));
            }
        }
        steps
    }

    fn coarse(&mut self) {
        let mut index = 0;
        let mut improved_this_round = false;
        loop {
            if self.spent(0.5) {
                return;
            }
            let steps = self.coarse_steps();
            let Some(step) = steps.get(index) else {
                if !improved_this_round {
                    return;
                }
                index = 0;
                improved_this_round = false;
                continue;
            };
            self.stage = format!("coarse: {}", step.label);
            let (label, step_flags) = (step.label.clone(), step.flags.clone());
            if self.try_step(&label, &step_flags) {
                improved_this_round = true;
            } else {
                index += 1;
            }
        }
    }

    /// Runs a coarse step on a few seeds (more when runs are quick); keeps the first run
    /// that fails the same way and is no larger.
    fn try_step(&mut self, label: &str, step_flags: &[String]) -> bool {
        let seed = self.best.config.seed;
        let seeds = if self.last_run_s < QUICK_RUN_S {
            SEEDS_PER_STEP_QUICK
        } else {
            SEEDS_PER_STEP_SLOW
        };
        for offset in 0..seeds {
            let seed = seed.wrapping_add(offset);
            let words = pinned_flags(step_flags, seed);
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let Ok(mut config) = crate::harness::cli::test_config(&refs, seed) else {
                return false;
            };
            config.quiet = true;
            config.store = self.best.config.store.clone();
            match self.attempt(&config) {
                Some(found) if found.size.weight() <= self.best.size.weight() => {
                    let seed_note = if offset > 0 {
                        format!(" (seed {seed})")
                    } else {
                        String::new()
                    };
                    self.accept(found, format!("{label}{seed_note}"));
                    return true;
                }
                _ if self.spent(1.0) => return false,
                _ => {}
            }
        }
        false
    }

    /// The best configuration replaying `schedule`.
    fn replaying(&self, schedule: Schedule) -> TestConfig {
        let mut config = self.best.config.clone();
        config.replay = Some(Replay {
            source: "glomers shrink".to_string(),
            schedule: Arc::new(schedule),
        });
        config
    }

    /// Delta debugging over some entries of the best schedule: `units` counts them,
    /// `apply` makes the schedule that keeps only the listed ones. Keeps the last run that
    /// failed. Returns whether anything was removed.
    fn reduce_units(
        &mut self,
        what: &str,
        units: usize,
        apply: &dyn Fn(&Schedule, &[usize]) -> Schedule,
    ) -> bool {
        if units == 0 || self.spent(1.0) {
            return false;
        }
        self.stage = format!("fine: {what}");
        let base = self.best.schedule.clone();
        let mut last: Option<Failing> = None;
        let kept = reduce((0..units).collect(), |keep: &[usize]| {
            if self.spent(1.0) {
                return Verdict::OutOfBudget;
            }
            let config = self.replaying(apply(&base, keep));
            match self.attempt(&config) {
                Some(found) => {
                    last = Some(found);
                    Verdict::Fails
                }
                None if self.spent(1.0) => Verdict::OutOfBudget,
                None => Verdict::Passes,
            }
        });
        match last {
            Some(found) if kept.len() < units => {
                self.accept(
                    found,
                    format!("drop {} of {units} {what}", units - kept.len()),
                );
                true
            }
            _ => false,
        }
    }

    fn fine(&mut self) {
        for _ in 0..FINE_ROUNDS {
            let mut changed = false;
            let partitions = self.best.schedule.partitions.len();
            changed |= self.reduce_units("partitions", partitions, &|s, keep| {
                let mut s = s.clone();
                s.partitions = keep.iter().map(|&i| s.partitions[i].clone()).collect();
                s
            });
            let faults = self.best.schedule.message_faults();
            changed |= self.reduce_units("message faults", faults.len(), &|s, keep| {
                without_faults(s, &faults, keep)
            });
            let ops = self.best.schedule.ops.len();
            changed |= self.reduce_units("ops", ops, &|s, keep| {
                let mut s = s.clone();
                s.ops = keep.iter().map(|&i| s.ops[i].clone()).collect();
                s
            });
            changed |= self.shorten_partitions();
            changed |= self.end_main_early();
            changed |= self.compress_time();
            if !changed || self.spent(1.0) {
                return;
            }
        }
    }

    /// Halves each partition while the run still fails.
    fn shorten_partitions(&mut self) -> bool {
        self.stage = "fine: shorter partitions".to_string();
        let mut changed = false;
        for i in 0..self.best.schedule.partitions.len() {
            loop {
                let schedule = &self.best.schedule;
                let Some(p) = schedule.partitions.get(i) else {
                    break;
                };
                let end = p.end.unwrap_or(schedule.main_end.max(p.start));
                let length = end - p.start;
                if length < MS {
                    break;
                }
                let mut shorter = schedule.clone();
                shorter.partitions[i].end = Some(p.start + length / 2);
                let ms = length / 2 / MS;
                if !self.try_schedule(shorter, format!("partition {i} shortened to {ms} ms")) {
                    break;
                }
                changed = true;
            }
        }
        changed
    }

    /// Runs the whole schedule faster (every op, partition and the end at half, then three
    /// quarters, of their times) while it still fails: less time for timers to chatter.
    fn compress_time(&mut self) -> bool {
        self.stage = "fine: compress time".to_string();
        let mut changed = false;
        for (numerator, denominator) in [(1, 2), (3, 4)] {
            while self.best.schedule.main_end >= MS {
                let scale = |t: u64| t / denominator * numerator;
                let mut faster = self.best.schedule.clone();
                faster.ops.iter_mut().for_each(|op| op.at = scale(op.at));
                for p in &mut faster.partitions {
                    p.start = scale(p.start);
                    p.end = p.end.map(scale);
                }
                faster.main_end = scale(faster.main_end);
                let ms = faster.main_end / MS;
                if !self.try_schedule(faster, format!("time compressed: main phase {ms} ms")) {
                    break;
                }
                changed = true;
            }
        }
        changed
    }

    /// Ends the main phase at the last op (no more time for nodes to chatter).
    fn end_main_early(&mut self) -> bool {
        let schedule = &self.best.schedule;
        let last = schedule.ops.iter().map(|op| op.at).max().unwrap_or(0);
        let last_partition = schedule
            .partitions
            .iter()
            .map(|p| p.end.unwrap_or(p.start))
            .max()
            .unwrap_or(0);
        let end = last.max(last_partition);
        if end >= schedule.main_end {
            return false;
        }
        self.stage = "fine: earlier end".to_string();
        let mut earlier = schedule.clone();
        earlier.main_end = end;
        self.try_schedule(earlier, format!("main phase ends at {} ms", end / MS))
    }

    /// Replays `schedule`; keeps it (as step `label`) when it fails the same way.
    fn try_schedule(&mut self, schedule: Schedule, label: String) -> bool {
        let config = self.replaying(schedule);
        match self.attempt(&config) {
            Some(found) => {
                self.accept(found, label);
                true
            }
            None => false,
        }
    }
}

/// `schedule` with only the listed ones of its message `faults` kept.
fn without_faults(schedule: &Schedule, faults: &[(usize, FaultKind)], keep: &[usize]) -> Schedule {
    let mut kept = vec![false; faults.len()];
    keep.iter().for_each(|&i| kept[i] = true);
    let mut out = schedule.clone();
    for (&(message, kind), _) in faults.iter().zip(&kept).filter(|(_, k)| !**k) {
        if let Some(fate) = out.messages.get_mut(message) {
            fate.clear(kind);
        }
    }
    out
}
