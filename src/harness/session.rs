//! The `glomers` commands from argv to exit status. `test`: parse, then per repetition
//! create the store directory, start the nodes (processes, or in-process with `--sim`),
//! run and check ([`crate::harness::run::execute`]), write results and print the verdict.
//! `sweep` lives in [`crate::harness::sweep`], `serve` in [`crate::harness::serve`];
//! `report` prints a past run's summary. What tests and tools drive in-process (`execute`,
//! `test_config`, …) is re-exported here.
//!
//! Exit statuses follow Maelstrom (MAELSTROM.md §5.5): 0 valid, 1 invalid, 2 unknown,
//! 254 bad arguments, 255 crash or internal error.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use crate::harness::checkers::validity_of;
use crate::harness::cli::{Cli, Command, TestConfig, resolve};
use crate::harness::results::{self, verdict};
use crate::node::rng::Rng;

pub use crate::harness::cli::test_config;
pub use crate::harness::command_line::{command_line, replay_command};
pub use crate::harness::results::store::CRASH_FILE;
pub use crate::harness::results::verdict::{EXIT_BAD_ARGS, EXIT_CRASH};
pub use crate::harness::run::execute::{NodeFactory, Outcome, Sinks, execute, execute_with_nodes};
pub use crate::harness::run::store_run::run_once;

/// Runs the CLI; returns the process exit status.
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let cli = match parse(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_ARGS } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Test(args) => match resolve(args, clock_seed()) {
            Ok(mut config) => {
                config.flags = test_flags(&argv);
                test_rounds(&argv, &config)
            }
            Err(message) => {
                eprintln!("error: {message}");
                EXIT_BAD_ARGS
            }
        },
        Command::Sweep(args) => crate::harness::sweep::main(&argv, args, clock_seed()),
        Command::Report(args) => report(&args.dir, args.brief),
        Command::Challenges => challenges(),
        Command::Serve(args) => crate::harness::serve::main(&args.store, args.port),
        Command::Check(args) => crate::harness::check::main(&args),
        Command::Shrink(args) => crate::harness::shrink::main(&args),
        Command::Completions(args) => completions(args.shell),
    }
}

/// The words after `glomers test`, as given.
fn test_flags(argv: &[OsString]) -> Vec<String> {
    argv.iter()
        .skip(2)
        .map(|w| w.to_string_lossy().into_owned())
        .collect()
}

/// Parses argv: Maelstrom's flags, the registry's workload list and the exit statuses under
/// `test --help`, negative numbers read as values (so `--rate -5` gets a real error, not
/// clap's tip to pass it after `--`), and `sweep` showing only what a sweep takes.
pub fn parse(argv: &[OsString]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = command().try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

/// The `glomers` command as [`parse`] reads it (also what shell completions describe).
pub fn command() -> clap::Command {
    use crate::harness::cli::negative_values;
    use clap::CommandFactory;
    Cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .mut_subcommand("test", |test| {
            test.mut_args(negative_values)
                .after_help(crate::harness::cli::test_after_help())
        })
        .mut_subcommand("sweep", |sweep| {
            sweep
                .mut_args(negative_values)
                .mut_arg("bin", |arg| arg.hide(true))
                .mut_arg("sim", |arg| arg.hide(true))
                .mut_arg("schedule", |arg| arg.hide(true))
                .mut_arg("args", |arg| arg.hide(true))
                .after_help(crate::harness::sweep::after_help())
        })
}

/// `glomers completions SHELL`: the completion script on stdout.
fn completions(shell: clap_complete::Shell) -> i32 {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command(), "glomers", &mut out);
    let _ = out.flush();
    0
}

/// `glomers challenges`: one line per challenge of the registry, tab-separated: id,
/// workload, strategy variable and preset (`-` when none), flags. scripts/maelstrom.sh
/// reads it.
fn challenges() -> i32 {
    let mut out = std::io::stdout().lock();
    for spec in crate::harness::registry::WORKLOADS {
        for challenge in spec.challenges {
            let preset = match (spec.strategy_env, challenge.preset) {
                (Some(variable), Some(preset)) => format!("{variable}={preset}"),
                _ => "-".to_string(),
            };
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}",
                challenge.id, spec.name, preset, challenge.flags
            );
        }
    }
    let _ = out.flush();
    0
}

/// `glomers test`: `--test-count` runs, the first with the seed, later ones with seeds
/// drawn from it; every failing run prints the command that replays it.
fn test_rounds(argv: &[OsString], config: &TestConfig) -> i32 {
    let mut worst = 0;
    let mut failed = Vec::new();
    let mut seeds = Rng::new(config.seed);
    for round in 0..config.test_count {
        let mut run = config.clone();
        if round > 0 {
            run.seed = seeds.next_u64();
        }
        let code = run_once(&run);
        if code != 0 {
            eprintln!("Replay: {}", replay_command(argv, &run, run.seed));
            failed.push(run.seed);
        }
        worst = worse(worst, code);
    }
    if config.test_count > 1 {
        println!("{}", rounds_verdict(config.test_count, &failed));
    }
    worst
}

/// The one overall verdict of `--test-count N` runs (the exit status is the worst run's).
pub fn rounds_verdict(count: u64, failed_seeds: &[u64]) -> String {
    if failed_seeds.is_empty() {
        return format!("All {count} tests valid.");
    }
    let seeds: Vec<String> = failed_seeds.iter().map(u64::to_string).collect();
    format!(
        "{} of {count} tests not valid (seeds {}).",
        failed_seeds.len(),
        seeds.join(" ")
    )
}

/// `glomers report [--brief] DIR`: the console summary (or just its headline) of a past
/// run; exit status from its verdict (254 when the directory cannot be read).
fn report(dir: &Path, brief: bool) -> i32 {
    if !dir.join("results.edn").exists()
        && let Ok(crash) = std::fs::read_to_string(dir.join(CRASH_FILE))
    {
        println!(
            "The run crashed (no results to check):\n{}",
            crash.trim_end()
        );
        return EXIT_CRASH;
    }
    let loaded = results::load_store_dir(dir);
    if let Ok(value) = &loaded
        && let Some(warning) = results::format::newer_format_warning(value)
    {
        eprintln!("warning: {}: {warning}", dir.display());
    }
    let summary = match &loaded {
        Ok(value) if brief => results::headline::headline(value),
        Ok(value) => results::console_summary(value),
        Err(message) => {
            eprintln!("error: {}: {message}", dir.display());
            return EXIT_BAD_ARGS;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(summary.as_bytes());
    let _ = out.flush();
    match loaded {
        Ok(value) => verdict::exit_code(validity_of(&value)),
        Err(_) => EXIT_BAD_ARGS,
    }
}

/// Orders exit statuses: crash > invalid > unknown > valid.
pub fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        2 => 1,
        1 => 2,
        _ => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// A seed from the clock, for runs without `--seed` (always printed, so replayable).
pub fn clock_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
}
