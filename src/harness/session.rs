//! The `glomers` commands from argv to exit status. `test`: parse, then per repetition
//! create the store directory, start the nodes (processes, or in-process with `--sim`),
//! run, check, write results and print the verdict. `sweep` lives in [`crate::harness::sweep`];
//! `report` prints a past run's summary.
//!
//! Exit statuses follow Maelstrom (MAELSTROM.md §5.5): 0 valid, 1 invalid, 2 unknown,
//! 254 bad arguments, 255 crash or internal error.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use simd_json::OwnedValue;

use crate::harness::checkers::{CheckInput, Validity, analyze, validity_of};
use crate::harness::cli::{Cli, Command, TestConfig, resolve};
use crate::harness::conduct::Conduct;
use crate::harness::history::History;
use crate::harness::hosts::process::{Launch, ProcessHost};
use crate::harness::hosts::sim::SimHost;
use crate::harness::net::faults::{FAULT_STREAM, INPUT_STREAM, SIM_STREAM};
use crate::harness::net::network::{NetOptions, Network};
use crate::harness::results::store::RunDir;
use crate::harness::results::{self, console, lamport, plot, verdict};
use crate::harness::run::Runner;
use crate::harness::services::{SERVICE_NAMES, service};
use crate::node::DynNode;
use crate::node::rng::Rng;

/// Exit status for bad arguments.
pub const EXIT_BAD_ARGS: i32 = 254;
/// Written into a run's directory when the run crashed: why (`glomers report` shows it).
pub const CRASH_FILE: &str = "crash.txt";
/// Exit status for a crash or internal error.
pub const EXIT_CRASH: i32 = 255;

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

/// The command line that replays one run: `--seed` pinned, `--test-count` dropped, and a
/// sweep's command turned into `test --sim` without `--seeds`/`--jobs` (TigerBeetle style:
/// a failure says how to reproduce it). Words are shell-quoted where needed.
pub fn replay_command(argv: &[OsString], config: &TestConfig, seed: u64) -> String {
    let mut words: Vec<String> = Vec::with_capacity(argv.len() + 2);
    let mut skip_value = false;
    let mut literal = false;
    let mut sweep = false;
    for (position, word) in argv
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .enumerate()
    {
        if skip_value {
            skip_value = false;
            continue;
        }
        if position == 1 && word == "sweep" {
            sweep = true;
            words.push("test".to_string());
            continue;
        }
        let dropped = ["--seed", "--test-count", "--seeds", "--jobs"];
        if !literal && dropped.contains(&word.as_str()) {
            skip_value = true;
            continue;
        }
        if !literal && dropped.iter().any(|d| word.starts_with(&format!("{d}="))) {
            continue;
        }
        literal |= word == "--";
        words.push(word);
    }
    let position = words.iter().position(|w| w == "--").unwrap_or(words.len());
    words.insert(position, seed.to_string());
    words.insert(position, "--seed".to_string());
    if sweep && !words.iter().any(|w| w == "--sim") {
        words.insert(position, "--sim".to_string());
    }
    with_strategy(config, &words)
}

/// The command as given, with the node's strategy variable in front when it is set, for
/// headers and records.
pub fn command_line(argv: &[OsString], config: &TestConfig) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    with_strategy(config, &words)
}

/// `words`, shell-quoted, after `VAR=value` when the workload's strategy variable is set
/// (it changes what the nodes do, so a replay needs it).
fn with_strategy(config: &TestConfig, words: &[String]) -> String {
    let mut line = String::new();
    if let Some((variable, value)) = &config.strategy {
        line.push_str(&format!("{variable}={} ", shell_quote(value)));
    }
    let quoted: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    line.push_str(&quoted.join(" "));
    line
}

/// `word` as a POSIX shell word: unchanged when it is plain, else single-quoted.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
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

/// What one run produced, before anything is written.
pub struct Outcome {
    /// The history.
    pub history: History,
    /// The results map (MAELSTROM.md §7.2), plus `faults` when any is on.
    pub results: OwnedValue,
    /// Its verdict.
    pub validity: Validity,
    /// Host time (the journal's clock) at which the main phase began.
    pub main_start_ns: u64,
    /// Muted nodes, late and second replies (also in `results`).
    pub conduct: Conduct,
}

/// Where a run's by-products go: the network journal and the node logs (process mode).
pub struct Sinks<'a> {
    /// JSONL journal of every send and receive; `None` keeps no journal.
    pub journal: Option<Box<dyn Write + Send>>,
    /// Directory for `<node>.log` (process mode only).
    pub node_logs: &'a Path,
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
    let journal = config.journal.then(|| dir.journal());
    match lamport::write_messages_svg(
        &dir.path,
        journal.as_deref(),
        &outcome.history,
        outcome.main_start_ns,
        config.diagram,
    ) {
        Ok(summary) => {
            if let Some(line) = summary.console_line() {
                eprintln!("{line}");
                let _ = writeln!(log, "{line}");
            }
            if let (Some(value), OwnedValue::Object(map)) =
                (summary.results_value(), &mut outcome.results)
            {
                map.insert("messages-diagram".to_string(), value);
            }
        }
        Err(e) => eprintln!("warning: cannot write messages.svg: {e}"),
    }
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

/// Builds node `index`'s in-process node from its seed (see [`execute_with_nodes`]).
pub type NodeFactory<'a> = &'a dyn Fn(usize, u64) -> Box<dyn DynNode>;

/// [`execute`] for a `--sim` config whose nodes come from `nodes` instead of the workload
/// registry: tests run deliberately broken nodes under the real harness this way.
pub fn execute_with_nodes(
    config: &TestConfig,
    sinks: Sinks<'_>,
    nodes: NodeFactory<'_>,
) -> Result<Outcome, String> {
    if !config.sim {
        return Err("execute_with_nodes needs a --sim config".to_string());
    }
    execute_inner(config, sinks, Some(nodes))
}

/// Runs one test (nodes as processes, or in-process with `config.sim`) and checks it,
/// writing nothing but the journal. An `Err` is a crash: a node died or broke the
/// protocol, or the harness failed.
pub fn execute(config: &TestConfig, sinks: Sinks<'_>) -> Result<Outcome, String> {
    execute_inner(config, sinks, None)
}

fn execute_inner(
    config: &TestConfig,
    sinks: Sinks<'_>,
    factory: Option<NodeFactory<'_>>,
) -> Result<Outcome, String> {
    let mut rng = Rng::new(config.seed);
    let services = SERVICE_NAMES
        .iter()
        .filter_map(|name| service(name, rng.fork()).map(|s| (name.to_string(), s)))
        .collect();
    let options = NetOptions {
        latency_ms: config.latency_ms,
        dist: config.latency_dist,
        log_send: config.log_net_send,
        log_recv: config.log_net_recv,
        faults: config.faults,
        fault_rng: Rng::new(config.seed ^ FAULT_STREAM),
    };
    let mut net = Network::new(&config.nodes, &SERVICE_NAMES, options, rng.fork());
    if let Some(journal) = sinks.journal {
        net.set_journal(journal);
    }
    let clients = config
        .spec()
        .and_then(|spec| spec.clients)
        .ok_or("unsupported workload")?;
    let clients = clients(&config.workload_options())?;
    let output = if config.sim {
        let mut sim_rng = Rng::new(config.seed ^ SIM_STREAM);
        let input_rng = Rng::new(config.seed ^ INPUT_STREAM);
        let mut host = match factory {
            Some(make) => SimHost::from_nodes(
                (0..config.nodes.len())
                    .map(|i| make(i, sim_rng.next_u64()))
                    .collect(),
                input_rng,
            ),
            None => SimHost::new(
                &config.workload,
                config.nodes.len(),
                &mut sim_rng,
                input_rng,
            )
            .ok_or_else(|| format!("no in-process node for {:?}", config.workload))?,
        };
        host.skew_clocks(config.faults.clock_skew, &mut sim_rng);
        Runner::new(config, host, net, services, clients, rng).run()
    } else {
        let launch = Launch {
            bin: &config.bin,
            args: &config.args,
            names: &config.nodes,
            log_dir: sinks.node_logs,
            log_stderr: config.log_stderr,
        };
        let host = ProcessHost::spawn(&launch).map_err(|e| e.to_string())?;
        Runner::new(config, host, net, services, clients, rng).run()
    };
    let output = output.map_err(|e| e.to_string())?;
    let input = CheckInput {
        workload: &config.workload,
        history: &output.history,
        net: output.net,
        availability: config.availability,
        consistency_models: &config.consistency_models,
    };
    let mut results = analyze(&input);
    if let OwnedValue::Object(map) = &mut results {
        for (key, value) in output.conduct.to_results() {
            map.insert(key.to_string(), value);
        }
        if !config.faults.is_none() {
            map.insert("faults".to_string(), config.faults.to_value());
        }
        if let Some((variable, value)) = &config.strategy {
            let mut strategy = simd_json::owned::Object::new();
            strategy.insert(variable.clone(), value.as_str().into());
            map.insert(
                "strategy".to_string(),
                OwnedValue::Object(Box::new(strategy)),
            );
        }
    }
    let validity = validity_of(&results);
    Ok(Outcome {
        history: output.history,
        results,
        validity,
        main_start_ns: output.main_start,
        conduct: output.conduct,
    })
}
