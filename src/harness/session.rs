//! `glomers test` from argv to exit status: parse, then per repetition create the store
//! directory, start the nodes, run, check, write results and print the verdict.
//!
//! Exit statuses follow Maelstrom (MAELSTROM.md §5.5): 0 valid, 1 invalid, 2 unknown,
//! 254 bad arguments, 255 crash or internal error.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;

use clap::Parser;

use super::checker::{CheckInput, Validity, analyze, validity_of};
use super::cli::{Cli, Command, TestConfig, resolve};
use super::generator::{WorkloadOptions, workload_with};
use super::network::{NetOptions, Network};
use super::process::{Launch, ProcessHost};
use super::runner::Runner;
use super::services::{SERVICE_NAMES, service};
use super::store::RunDir;
use super::{console, plot, results};
use crate::node::rng::Rng;

/// Exit status for bad arguments.
pub const EXIT_BAD_ARGS: i32 = 254;
/// Exit status for a crash or internal error.
pub const EXIT_CRASH: i32 = 255;

/// Runs the CLI; returns the process exit status.
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_ARGS } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let Command::Test(args) = cli.command;
    let config = match resolve(args, clock_seed()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_BAD_ARGS;
        }
    };
    if workload_with(&config.workload, &workload_options(&config)).is_none() {
        eprintln!(
            "error: workload {:?} is not supported by this harness yet",
            config.workload
        );
        return EXIT_BAD_ARGS;
    }
    let mut worst = 0;
    let mut seeds = Rng::new(config.seed);
    for round in 0..config.test_count {
        let mut run = config.clone();
        if round > 0 {
            run.seed = seeds.next_u64();
        }
        let code = run_once(&run);
        if code != 0 {
            eprintln!("Replay: {}", replay_command(&argv, run.seed));
        }
        worst = worse(worst, code);
    }
    worst
}

/// The command line with `--seed` pinned (TigerBeetle style: a failure says how to replay).
fn replay_command(argv: &[OsString], seed: u64) -> String {
    let mut words: Vec<String> = Vec::with_capacity(argv.len() + 2);
    let mut skip_value = false;
    let mut literal = false;
    for word in argv.iter().map(|w| w.to_string_lossy().into_owned()) {
        if skip_value {
            skip_value = false;
            continue;
        }
        if !literal && word == "--seed" {
            skip_value = true;
            continue;
        }
        if !literal && (word.starts_with("--seed=") || word.starts_with("--test-count")) {
            skip_value = word == "--test-count";
            continue;
        }
        literal |= word == "--";
        words.push(word);
    }
    let position = words.iter().position(|w| w == "--").unwrap_or(words.len());
    words.insert(position, format!("--seed {seed}"));
    words.join(" ")
}

fn workload_options(config: &TestConfig) -> WorkloadOptions {
    WorkloadOptions {
        node_count: config.nodes.len(),
        concurrency: config.concurrency,
        latency_ms: config.latency_ms,
        key_count: config.key_count,
        max_txn_length: config.max_txn_length,
        max_writes_per_key: config.max_writes_per_key,
    }
}

/// Orders exit statuses: crash > invalid > unknown > valid.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        2 => 1,
        1 => 2,
        _ => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn clock_seed() -> u64 {
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
    let code = match run_checked(config, &dir, &mut log) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            eprintln!("Test crashed (seed {}).", config.seed);
            let _ = writeln!(log, "{message}\nTest crashed (seed {}).", config.seed);
            EXIT_CRASH
        }
    };
    if let Err(e) = std::fs::write(dir.path.join("jepsen.log"), log) {
        eprintln!("warning: cannot write jepsen.log: {e}");
    }
    code
}

/// Runs, checks and writes results; `log` collects the jepsen.log text (options, one line
/// per op as Maelstrom logs them, the results summary).
fn run_checked(config: &TestConfig, dir: &RunDir, log: &mut String) -> Result<i32, String> {
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
    };
    let mut net = Network::new(&config.nodes, &SERVICE_NAMES, options, rng.fork());
    let journal =
        File::create(dir.journal()).map_err(|e| format!("cannot create the journal: {e}"))?;
    net.set_journal(Box::new(BufWriter::with_capacity(1 << 20, journal)));
    let launch = Launch {
        bin: &config.bin,
        args: &config.args,
        names: &config.nodes,
        log_dir: &dir.node_logs(),
        log_stderr: config.log_stderr,
    };
    let host = ProcessHost::spawn(&launch).map_err(|e| e.to_string())?;
    let workload =
        workload_with(&config.workload, &workload_options(config)).ok_or("unsupported workload")?;
    let output = Runner::new(config, host, net, services, workload, rng)
        .run()
        .map_err(|e| e.to_string())?;
    results::write_history(&dir.path, &output.history)
        .map_err(|e| format!("cannot write the history: {e}"))?;
    for op in &output.history.ops {
        log.push_str(&results::history_txt_line(op));
        log.push('\n');
    }
    let input = CheckInput {
        workload: &config.workload,
        history: &output.history,
        net: output.net,
        availability: config.availability,
        consistency_models: &config.consistency_models,
    };
    let analysis = analyze(&input);
    results::write_results(&dir.path, &analysis)
        .map_err(|e| format!("cannot write results: {e}"))?;
    if let Err(e) = plot::write_plots(&dir.path, &output.history) {
        eprintln!("warning: cannot write plots: {e}");
    }
    log.push_str(&results::console_summary(&analysis));
    let validity: Validity = validity_of(&analysis);
    Ok(console::summarize(&analysis, validity))
}
