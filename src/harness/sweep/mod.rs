//! `glomers sweep --seeds N [--jobs J] <test flags…>`: one `--sim` test, N seeds, run on
//! J threads (VOPR style). Runs write nothing; a failing seed is printed with the one
//! command that replays it, with the full store directory, through `glomers test`.
//!
//! Exit status: 0 when every seed is valid, 1 when any is invalid, unknown or crashed,
//! 254 for bad arguments.

use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::harness::checkers::Validity;
use crate::harness::checkers::extra;
use crate::harness::cli::{SweepArgs, TestConfig, resolve};
use crate::harness::command_line::{command_line, quoted_command, replay_command};
use crate::harness::results::headline::conduct_lines;
use crate::harness::results::verdict::EXIT_BAD_ARGS;
use crate::harness::run::execute::{Outcome, Sinks, execute};

pub mod swarm;

/// The text under `glomers sweep --help`.
pub const AFTER_HELP: &str = "A sweep runs our own node for the workload in-process, in virtual time \
(as `glomers test --sim`), once per seed: --seed, --seed+1, …; it takes every `glomers test` flag \
except --bin and node arguments, and writes nothing. Each failing seed is printed with the \
`glomers test --sim` command that replays it. A seed also fails when a node answered a client after the client's \
timeout, or twice, or was muted for writing to a closed client (the real Maelstrom would stop \
reading it).\n\nExit status: 0 every seed valid, 1 some seed invalid, unknown, crashed or \
late, 254 bad arguments.";

/// The text under `glomers sweep --help`: [`AFTER_HELP`], and the planted bugs in a
/// `planted-bugs` build (a sweep is what finds them).
pub fn after_help() -> String {
    #[allow(unused_mut)]
    let mut text = AFTER_HELP.to_string();
    #[cfg(feature = "planted-bugs")]
    {
        text.push_str("\n\nPlanted bugs (feature planted-bugs; broken on purpose):\n");
        text.push_str(&crate::workloads::planted::help_lines());
    }
    text
}

/// `n` as an English ordinal: 1st, 2nd, 3rd, 11th, 22nd…
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Most seeds one sweep may run.
pub const SEEDS_MAX: u64 = 10_000_000;
/// Most threads one sweep may use.
pub const JOBS_MAX: usize = 256;
/// Failing seeds listed in full at the end (the count is always exact).
const LISTED_MAX: usize = 50;

/// How one seed ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedResult {
    /// Valid.
    Valid,
    /// The checkers found an anomaly (exit 1 under `test`).
    Invalid,
    /// The analysis could not decide (exit 2).
    Unknown,
    /// A node crashed or broke the protocol, or the harness failed (exit 255).
    Crashed(String),
    /// The checkers found nothing, but a node was muted, or answered a request after the
    /// client's timeout or twice (the simulator's own invariant: the real Maelstrom would
    /// have stopped reading that node, or discarded the reply).
    Late(String),
    /// Maelstrom's checkers found nothing, but a check beyond them (`--extra-checks`) did.
    Extra(String),
}

/// The end of a sweep.
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Seeds run.
    pub runs: u64,
    /// `(seed, result)` of every seed that was not valid, by seed.
    pub failures: Vec<(u64, SeedResult)>,
}

/// Runs `config` for each of `seeds` on `jobs` threads. Each run is one deterministic
/// simulation; a panic in the harness itself counts as a crash of that seed.
pub fn sweep(config: &TestConfig, seeds: &[u64], jobs: usize) -> SweepReport {
    sweep_each(seeds, jobs, config.quiet, &|_| Ok(config.clone()))
}

/// Runs the test `config_for(seed)` for each of `seeds` on `jobs` threads (a swarm sweep
/// draws one per seed); a configuration that cannot be made counts as a crash.
pub fn sweep_each(
    seeds: &[u64],
    jobs: usize,
    quiet: bool,
    config_for: &(dyn Fn(u64) -> Result<TestConfig, String> + Sync),
) -> SweepReport {
    let next = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    let jobs = jobs.clamp(1, JOBS_MAX).min(seeds.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(index as usize) else {
                        break;
                    };
                    let result = match config_for(seed) {
                        Ok(config) => run_seed(&config, seed),
                        Err(why) => SeedResult::Crashed(why),
                    };
                    if result != SeedResult::Valid {
                        on_failure(quiet, seed, &result);
                        failures.lock().push((seed, result));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner();
    failures.sort_by_key(|(seed, _)| *seed);
    SweepReport {
        runs: seeds.len() as u64,
        failures,
    }
}

/// One seed, quietly, with no journal.
pub fn run_seed(config: &TestConfig, seed: u64) -> SeedResult {
    let mut run = config.clone();
    run.seed = seed;
    run.quiet = true;
    run.test_count = 1;
    let sinks = Sinks {
        journal: None,
        node_logs: std::path::Path::new(""),
    };
    match catch_unwind(AssertUnwindSafe(|| execute(&run, sinks))) {
        Ok(outcome) => seed_result(outcome),
        Err(_) => SeedResult::Crashed("the harness panicked".to_string()),
    }
}

/// How a seed ended, from its run: the checkers' verdict, except that a valid run whose
/// nodes were muted or answered a client late or twice is [`SeedResult::Late`].
pub fn seed_result(outcome: Result<Outcome, String>) -> SeedResult {
    match outcome {
        Ok(outcome) => match outcome.validity {
            Validity::Valid if !outcome.conduct.is_clean() => {
                SeedResult::Late(conduct_lines(&outcome.results).join("; "))
            }
            Validity::Valid if !extra::summary_lines(&outcome.results).is_empty() => {
                SeedResult::Extra(extra::summary_lines(&outcome.results).join("; "))
            }
            Validity::Valid => SeedResult::Valid,
            Validity::Invalid => SeedResult::Invalid,
            Validity::Unknown => SeedResult::Unknown,
        },
        Err(message) => SeedResult::Crashed(message),
    }
}

fn on_failure(quiet: bool, seed: u64, result: &SeedResult) {
    let what = match result {
        SeedResult::Crashed(message) => {
            format!("crashed: {}", message.lines().next().unwrap_or_default())
        }
        SeedResult::Late(message) => format!("answered late: {message}"),
        SeedResult::Extra(message) => format!("extra checks: {message}"),
        other => format!("{other:?}").to_lowercase(),
    };
    if !quiet {
        eprintln!("seed {seed}: {what}");
    }
}

/// `glomers sweep`: parses, sweeps, prints the failures with replay commands.
pub fn main(argv: &[OsString], args: SweepArgs, default_seed: u64) -> i32 {
    let mut test = args.test;
    if let Some(bin) = &test.bin {
        eprintln!(
            "error: glomers sweep runs our own in-process nodes; --bin {} belongs to `glomers test` \
             (sweep takes the other test flags)",
            bin.display()
        );
        return EXIT_BAD_ARGS;
    }
    if let Some(schedule) = &test.schedule {
        eprintln!(
            "error: --schedule {} replays one run; use `glomers test --sim … --schedule` (a \
             sweep runs many seeds)",
            schedule.display()
        );
        return EXIT_BAD_ARGS;
    }
    if !test.args.is_empty() {
        eprintln!(
            "error: glomers sweep takes no node arguments (got {:?}); it runs our in-process nodes",
            test.args
        );
        return EXIT_BAD_ARGS;
    }
    test.sim = true;
    let config = match resolve(test, default_seed) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_BAD_ARGS;
        }
    };
    if args.seeds == 0 || args.seeds > SEEDS_MAX {
        eprintln!("error: --seeds must be in 1..={SEEDS_MAX}");
        return EXIT_BAD_ARGS;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores);
    if jobs == 0 || jobs > JOBS_MAX {
        eprintln!("error: --jobs must be in 1..={JOBS_MAX}");
        return EXIT_BAD_ARGS;
    }
    let seeds: Vec<u64> = (0..args.seeds)
        .map(|i| config.seed.wrapping_add(i))
        .collect();
    eprintln!(
        "Sweeping {} seeds from {} on {} threads{}: {}",
        seeds.len(),
        config.seed,
        jobs.min(seeds.len()),
        if args.swarm {
            " (swarm: each seed draws its nodes, rate and faults)"
        } else {
            ""
        },
        command_line(argv, &config)
    );
    let started = Instant::now();
    let report = if args.swarm {
        sweep_each(&seeds, jobs, config.quiet, &|seed| {
            swarm::config_of(&swarm::draw(argv, &config, seed), seed)
        })
    } else {
        sweep(&config, &seeds, jobs)
    };
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} seeds, {} failed ({:.2} s, {:.1} ms/seed)",
        report.runs,
        report.failures.len(),
        elapsed,
        elapsed * 1000.0 / report.runs.max(1) as f64
    );
    let replay = |seed: u64| -> (String, String) {
        if args.swarm {
            let draw = swarm::draw(argv, &config, seed);
            (
                quoted_command(&config, &draw.words),
                format!(" ({})", draw.summary),
            )
        } else {
            (replay_command(argv, &config, seed), String::new())
        }
    };
    for (seed, result) in report.failures.iter().take(LISTED_MAX) {
        let label = match result {
            SeedResult::Crashed(_) => "crashed",
            SeedResult::Late(_) => "late",
            SeedResult::Extra(_) => "extra-checks",
            SeedResult::Invalid => "invalid",
            SeedResult::Unknown => "unknown",
            SeedResult::Valid => "valid",
        };
        let (command, drawn) = replay(*seed);
        println!("  seed {seed} {label}{drawn}: {command}");
    }
    if report.failures.len() > LISTED_MAX {
        println!("  … and {} more", report.failures.len() - LISTED_MAX);
    }
    if let Some((seed, _)) = report.failures.first() {
        println!(
            "First failure: seed {seed}, the {} seed of the sweep.",
            ordinal(seed.wrapping_sub(config.seed) + 1)
        );
    }
    if let Some((seed, _)) = report
        .failures
        .iter()
        .find(|(_, result)| matches!(result, SeedResult::Invalid))
    {
        println!(
            "Shrink it to its essence: glomers shrink {}",
            replay(*seed).0
        );
    }
    i32::from(!report.failures.is_empty())
}
