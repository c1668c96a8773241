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
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use simd_json::OwnedValue;

use crate::harness::checkers::validity_of;
use crate::harness::cli::{Cli, Command, TestConfig, resolve};
use crate::harness::results::lamport::DiagramMode;
use crate::harness::results::store::RunDir;
use crate::harness::results::{self, causal, console, lamport, plot, verdict};
use crate::node::rng::Rng;

pub use crate::harness::command_line::{command_line, replay_command};
pub use crate::harness::results::store::CRASH_FILE;
pub use crate::harness::results::verdict::{EXIT_BAD_ARGS, EXIT_CRASH};
pub use crate::harness::run::execute::{NodeFactory, Outcome, Sinks, execute, execute_with_nodes};

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
            Ok(config) => test_rounds(&argv, &config),
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
        Command::Completions(args) => completions(args.shell),
    }
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
    use clap::CommandFactory;
    let negative_values = |arg: clap::Arg| {
        let takes_values = arg.get_action().takes_values() && !arg.is_positional();
        arg.allow_negative_numbers(takes_values)
    };
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
                .mut_arg("args", |arg| arg.hide(true))
                .after_help(crate::harness::sweep::AFTER_HELP)
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

/// One test run; returns its exit status.
pub fn run_once(config: &TestConfig) -> i32 {
    eprintln!("Seed {} (replay: --seed {})", config.seed, config.seed);
    let dir = match RunDir::create(&config.store, &config.workload) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cannot create the store directory: {e}");
            return EXIT_CRASH;
        }
    };
    eprintln!("Results in {}", dir.path.display());
    let mut log = String::new();
    let _ = writeln!(log, "Test options: {config:?}");
    let _ = writeln!(log, "Running test:\n{}", config.test_map_edn());
    let code = match run_checked(config, &dir, &mut log) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            eprintln!("Test crashed (seed {}).", config.seed);
            if let Err(e) = std::fs::write(dir.path.join(CRASH_FILE), format!("{message}\n")) {
                eprintln!("warning: cannot write {CRASH_FILE}: {e}");
            }
            let _ = writeln!(log, "{message}\nTest crashed (seed {}).", config.seed);
            EXIT_CRASH
        }
    };
    if let Err(e) = std::fs::write(dir.path.join("jepsen.log"), log) {
        eprintln!("warning: cannot write jepsen.log: {e}");
    }
    if let Some(keep) = config.keep_runs {
        match RunDir::prune(&config.store, &config.workload, keep) {
            Ok(0) => {}
            Ok(removed) => eprintln!("Removed {removed} older run(s) (--keep-runs {keep})"),
            Err(e) => eprintln!("warning: cannot prune old runs: {e}"),
        }
    }
    code
}

/// Runs, checks and writes results; `log` collects the jepsen.log text (options, one line
/// per op as Maelstrom logs them, the results summary).
fn run_checked(config: &TestConfig, dir: &RunDir, log: &mut String) -> Result<i32, String> {
    let journal: Option<Box<dyn Write + Send>> = if config.journal {
        let file =
            File::create(dir.journal()).map_err(|e| format!("cannot create the journal: {e}"))?;
        Some(Box::new(BufWriter::with_capacity(1 << 20, file)))
    } else {
        None
    };
    let sinks = Sinks {
        journal,
        node_logs: &dir.node_logs(),
    };
    let mut outcome = execute(config, sinks)?;
    write_diagrams(config, dir, &mut outcome, log);
    results::write_history(&dir.path, &outcome.history)
        .map_err(|e| format!("cannot write the history: {e}"))?;
    for op in &outcome.history.ops {
        log.push_str(&results::history_txt_line(op));
        log.push('\n');
    }
    results::write_results(&dir.path, &results::format::stamped(&outcome.results))
        .map_err(|e| format!("cannot write results: {e}"))?;
    if let Err(e) = plot::write_plots(&dir.path, &outcome.history) {
        eprintln!("warning: cannot write plots: {e}");
    }
    if let Err(e) = results::timeline::write_timeline(&dir.path, &outcome.history) {
        eprintln!("warning: cannot write timeline.html: {e}");
    }
    log.push_str(&results::console_summary(&outcome.results));
    Ok(console::summarize(&outcome.results, outcome.validity))
}

/// Writes `messages.svg` (the full diagram, or with `--diagram causal` the causal path of
/// the ops an invalid run's explanation names) and, for an invalid run drawn in full,
/// `causal.svg` too; says on the console which diagram was written when it is not the
/// plain full one.
fn write_diagrams(config: &TestConfig, dir: &RunDir, outcome: &mut Outcome, log: &mut String) {
    let journal = config.journal.then(|| dir.journal());
    let explained = causal::explained_ops(&outcome.results);
    let mut say = |line: String| {
        eprintln!("{line}");
        let _ = writeln!(log, "{line}");
    };
    let causal_file = match config.diagram.mode {
        DiagramMode::Causal if !explained.is_empty() && journal.is_some() => "messages.svg",
        DiagramMode::Causal => {
            say(
                "messages.svg: the full diagram (--diagram causal, but no explained failure \
                 to draw the causal path of)"
                    .to_string(),
            );
            ""
        }
        DiagramMode::Full if !explained.is_empty() => "causal.svg",
        DiagramMode::Full => "",
    };
    if causal_file != "messages.svg" {
        match lamport::write_messages_svg(
            &dir.path,
            journal.as_deref(),
            &outcome.history,
            outcome.main_start_ns,
            config.diagram,
        ) {
            Ok(summary) => {
                if let Some(line) = summary.console_line() {
                    say(line);
                }
                if let (Some(value), OwnedValue::Object(map)) =
                    (summary.results_value(), &mut outcome.results)
                {
                    map.insert("messages-diagram".to_string(), value);
                }
            }
            Err(e) => eprintln!("warning: cannot write messages.svg: {e}"),
        }
    }
    if causal_file.is_empty() {
        return;
    }
    match lamport::write_causal_svg(
        &dir.path,
        causal_file,
        journal.as_deref(),
        &outcome.history,
        outcome.main_start_ns,
        &explained,
    ) {
        Ok(Some(summary)) => {
            if causal_file == "messages.svg"
                && let OwnedValue::Object(map) = &mut outcome.results
            {
                map.insert("messages-diagram".to_string(), summary.results_value());
            }
            say(summary.console_line(causal_file));
        }
        Ok(None) => {}
        Err(e) => eprintln!("warning: cannot write {causal_file}: {e}"),
    }
}

/// A resolved, supported configuration from `glomers test` flags (without the leading
/// `glomers test`), for tests, benchmarks and tools that drive runs in-process.
pub fn test_config(flags: &[&str], default_seed: u64) -> Result<TestConfig, String> {
    let argv: Vec<OsString> = ["glomers", "test"]
        .iter()
        .chain(flags)
        .map(OsString::from)
        .collect();
    let cli = parse(&argv).map_err(|e| e.to_string())?;
    let Command::Test(args) = cli.command else {
        return Err("not a test command".to_string());
    };
    resolve(args, default_seed)
}
