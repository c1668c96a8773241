//! `glomers test` options: Maelstrom's flags and defaults (MAELSTROM.md §5.5), parsed with
//! clap and resolved into a [`TestConfig`]. Bad arguments exit with 254, like Maelstrom.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::harness::checkers::Availability;
use crate::harness::checkers::extra::ExtraMode;
use crate::harness::clients::WorkloadOptions;
use crate::harness::limits::{
    self, CONCURRENCY_MAX, KEY_COUNT_MAX, LATENCY_MS_MAX, NEMESIS_INTERVAL_S_MAX,
    NEMESIS_INTERVAL_S_MIN, NODE_COUNT_MAX, NODES_FILE_BYTES_MAX, RATE_MAX, RATE_MIN,
    RECOVERY_S_MAX, SIM_OPS_MAX, TEST_COUNT_MAX, TIME_LIMIT_S_MAX, TXN_LENGTH_MAX,
    WRITES_PER_KEY_MAX,
};
use crate::harness::net::faults::Faults;
use crate::harness::net::network::LatencyDist;
use crate::harness::net::topology::TopologyKind;
use crate::harness::registry::{self, WorkloadSpec};
use crate::harness::results::lamport::DIAGRAM_MESSAGES_MAX;
use crate::harness::results::lamport::{DIAGRAM_MESSAGES_DEFAULT, DiagramMode, DiagramWindow};
use crate::harness::schedule::{self, Replay, Schedule};
use crate::harness::which;

/// Maelstrom's `--consistency-models` default.
pub const CONSISTENCY_MODELS_DEFAULT: &str = "strict-serializable";

/// Command line of the `glomers` binary.
#[derive(Parser, Debug)]
#[command(name = "glomers", about = "A Maelstrom-compatible test harness")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a Maelstrom test against a node binary, or our own node in-process (`--sim`).
    Test(TestArgs),
    /// Run a `--sim` test for many seeds in parallel; report the failing seeds.
    Sweep(SweepArgs),
    /// Print the summary of a past run (ours, or a Maelstrom store directory).
    Report(ReportArgs),
    /// List the Gossip Glomers challenges: id, workload, strategy preset, exact flags.
    Challenges,
    /// Browse a store's runs in a web browser: a local, read-only page on 127.0.0.1.
    Serve(ServeArgs),
    /// Re-check a finished run (ours, or the real Maelstrom's `store/<workload>/<time>/`) from
    /// its history.edn: print the results map and the verdict, exit 0/1/2 like `test`.
    Check(CheckArgs),
    /// Shrink a failing `--sim` run to the smallest run found that fails the same way, and
    /// write it as an ordinary run directory with the command that replays it.
    Shrink(ShrinkArgs),
    /// Print shell completions for glomers (e.g. `glomers completions bash`).
    Completions(CompletionsArgs),
}

/// `glomers shrink [--max-seconds S] [--max-tries N] RUN`.
#[derive(Args, Debug)]
#[command(
    after_help = "RUN is a --sim run directory (with its schedule.jsonl), or the replay \
command a failing run or sweep printed (with its VAR=value in front, if any), pasted \
after the options, e.g.\n  glomers shrink glomers test -w txn-rw-register --sim --node-count 2 \
--rate 100 --time-limit 6 --nemesis partition --nemesis-interval 2 --seed 1\n\nExit \
status: 0 a smaller failing run was found and written; 1 the run does not fail; 2 it fails \
but nothing smaller was found within the budget; 254 bad arguments; 255 the harness \
itself failed. A run that crashed (a node panicked or broke the protocol) shrinks too: to \
the smallest run that crashes with the same first line, digits aside."
)]
pub struct ShrinkArgs {
    /// Stop searching after this many seconds (wall clock) and keep the smallest run so far.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub max_seconds: f64,
    /// Stop after this many runs (a deterministic budget).
    #[arg(long, value_name = "N")]
    pub max_tries: Option<u64>,
    /// The failing run: a run directory, or a replay command.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, num_args = 1..)]
    pub run: Vec<String>,
}

/// `glomers check [-w WORKLOAD] [flags] DIR`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The run directory: it holds history.edn (e.g. `store/kafka/latest`).
    pub dir: PathBuf,
    /// Workload (default: from the run's jepsen.log, else the directory above the run).
    #[arg(short = 'w', long)]
    pub workload: Option<String>,
    /// Consistency models (default: from jepsen.log, else strict-serializable).
    #[arg(long)]
    pub consistency_models: Option<String>,
    /// `total` or a minimum ok fraction in [0, 1] (default: from jepsen.log, else none).
    #[arg(long)]
    pub availability: Option<String>,
    /// Nodes of the run, for the per-node extra checks (default: from jepsen.log).
    #[arg(long)]
    pub node_count: Option<usize>,
    /// Worker threads of the run, for the per-node extra checks (default: from jepsen.log).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Also write results.edn and results.json into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seconds the analysis may take before the verdict is `unknown`.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_seconds)]
    pub checker_timeout: f64,
    /// Also run the checks beyond Maelstrom's (results under `extra`); `=strict` makes their
    /// findings count in the verdict.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "on", value_name = "MODE")]
    pub extra_checks: Option<ExtraMode>,
    /// MiB of memory the analysis may use before the verdict is `unknown`.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub checker_memory: u64,
}

/// A number of seconds in (0, 86400].
fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!("expected seconds in (0, 86400], got {text:?}")),
    }
}

/// `glomers completions SHELL`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `glomers serve [--port N] [STORE]`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (loopback only; 0 picks a free one, printed on stderr).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The store directory.
    #[arg(default_value = "store")]
    pub store: PathBuf,
}

/// `glomers sweep` flags: the seed count, the parallelism, then any `test` flags.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Number of seeds to run: `--seed`, `--seed`+1, … (`--seed` defaults to the clock).
    #[arg(long)]
    pub seeds: u64,
    /// Seeds run at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Swarm testing: each seed draws its own node count (1 to --node-count), rate
    /// (--rate/10 to --rate) and fault knobs, each on or off independently (partitions,
    /// one-way partitions, loss, duplication, reordering, clock skew); failing seeds are
    /// printed with what they drew.
    #[arg(long)]
    pub swarm: bool,
    /// The test.
    #[command(flatten)]
    pub test: TestArgs,
}

/// `glomers report DIR`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run directory holding results.edn (and history.edn), e.g. `store/latest`.
    pub dir: PathBuf,
    /// Only the headline: verdict, op counts, msgs-per-op, stable and per-op latencies.
    #[arg(long)]
    pub brief: bool,
}

/// Fault knobs beyond Maelstrom's, all off by default (see [`Faults`]).
#[derive(Args, Debug, Clone, Copy)]
pub struct FaultArgs {
    /// Probability that an inter-server message is lost.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Probability that an inter-server message is delivered twice.
    #[arg(long, default_value_t = 0.0)]
    pub duplicate: f64,
    /// Extra uniform delay in [0, MS] ms on inter-server messages (reordering); MS ≤ 60000.
    #[arg(long, default_value_t = 0)]
    pub reorder_ms: u64,
    /// Per-node timer clock rate 1 ± up to this fraction (`--sim` only).
    #[arg(long, default_value_t = 0.0)]
    pub clock_skew: f64,
    /// The partition nemesis also makes one-way partitions.
    #[arg(long)]
    pub asymmetric_partitions: bool,
}

impl FaultArgs {
    fn faults(self) -> Faults {
        Faults {
            loss: self.loss,
            duplicate: self.duplicate,
            reorder_ms: self.reorder_ms,
            clock_skew: self.clock_skew,
            asymmetric_partitions: self.asymmetric_partitions,
        }
    }
}

/// The `nemesis` names Maelstrom accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NemesisKind {
    /// Network partitions.
    Partition,
}

/// Raw `test` flags, as Maelstrom spells them.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// Workload name (required; the list is below). Optional for clap so that a missing
    /// `-w` gets the list of workloads in its error (see [`resolve`]).
    #[arg(short = 'w', long, value_name = "WORKLOAD")]
    pub workload: Option<String>,
    /// Node binary (not with `--sim`): a path, or a bare name looked up on PATH.
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Run our own node for the workload in-process, in virtual time, instead of `--bin`.
    #[arg(long)]
    pub sim: bool,
    /// Nodes n0..n{N-1}, N in [1, 1000]; overrides --nodes. (--nodes, -n and --nodes-file
    /// may name at most 1000 nodes too.)
    #[arg(long)]
    pub node_count: Option<usize>,
    /// Comma-separated node names.
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// One node name (repeatable).
    #[arg(short = 'n', long = "node")]
    pub node: Vec<String>,
    /// File with one node name per line (at most 1 MiB).
    #[arg(long)]
    pub nodes_file: Option<PathBuf>,
    /// Worker count; a trailing `n` multiplies by the node count. At most 10000 in all.
    #[arg(long, default_value = "1n")]
    pub concurrency: String,
    /// Seconds of the main phase, in [0, 86400].
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,
    /// Target client ops per second, across all workers: 0 (none) or in [0.001, 1000000].
    /// With --sim, rate × time-limit may be at most 1000000 ops.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Mean inter-node latency in ms, in [0, 60000].
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Latency distribution.
    #[arg(long, value_enum, default_value = "constant")]
    pub latency_dist: LatencyDist,
    /// Faults to inject (only `partition`).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub nemesis: Vec<NemesisKind>,
    /// Mean seconds between nemesis ops, in [0.1, 86400].
    #[arg(long, default_value_t = 10.0)]
    pub nemesis_interval: f64,
    /// Broadcast topology.
    #[arg(long, value_enum, default_value = "grid")]
    pub topology: TopologyKind,
    /// `total` or a minimum ok fraction in [0, 1].
    #[arg(long)]
    pub availability: Option<String>,
    /// Consistency models, split on `\s+,\s+` like Maelstrom.
    #[arg(long, default_value = CONSISTENCY_MODELS_DEFAULT)]
    pub consistency_models: String,
    /// Active keys (txn and kafka workloads), in [1, 100000].
    #[arg(long)]
    pub key_count: Option<u64>,
    /// Longest transaction (txn workloads), in [1, 1000].
    #[arg(long, default_value_t = 4)]
    pub max_txn_length: u64,
    /// Writes per key before it retires, in [1, 100000].
    #[arg(long, default_value_t = 16)]
    pub max_writes_per_key: u64,
    /// Copy node stderr to ours.
    #[arg(long)]
    pub log_stderr: bool,
    /// Print every message sent.
    #[arg(long)]
    pub log_net_send: bool,
    /// Print every message received.
    #[arg(long)]
    pub log_net_recv: bool,
    /// Run the test this many times, in [1, 1000].
    #[arg(long, default_value_t = 1)]
    pub test_count: u64,
    /// Seed for every random choice (default: from the clock; always printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seconds of the final-phase recovery sleep (Maelstrom: 10), in [0, 3600]. Not a
    /// Maelstrom flag; exists so CI can run final phases quickly.
    #[arg(long, default_value_t = 10.0, hide = true)]
    pub recovery_time: f64,
    /// Store directory root.
    #[arg(long, default_value = "store", hide = true)]
    pub store: PathBuf,
    /// Keep only the newest N runs of this workload in the store (older run directories
    /// are deleted after this run). Default: keep all.
    #[arg(long, value_name = "N")]
    pub keep_runs: Option<usize>,
    /// Write no net-journal.jsonl (the largest file of a busy run: ~3 KB per message).
    #[arg(long)]
    pub no_journal: bool,
    /// Also run the checks beyond Maelstrom's (results under `extra`); `=strict` makes their
    /// findings count in the verdict.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "on", value_name = "MODE")]
    pub extra_checks: Option<ExtraMode>,
    /// Stop the run (exit 255) when a node sends a message to an unknown destination, such
    /// as a reply to a client that timed out and was closed. By default the node is muted
    /// for the rest of the run, as the real Maelstrom does, with a loud warning.
    #[arg(long)]
    pub strict: bool,
    /// messages.svg draws the messages sent from this many seconds after the main phase
    /// began (negative: during init), in [-86400, 86400]. Default: from the first message.
    #[arg(long, value_name = "SECONDS")]
    pub diagram_from: Option<f64>,
    /// Most messages messages.svg draws, in [1, 100000]; the rest are left out (the console
    /// and results say so).
    #[arg(long, value_name = "N", default_value_t = DIAGRAM_MESSAGES_DEFAULT)]
    pub diagram_messages: usize,
    /// Replay a `--sim` run's schedule (its run directory's schedule.jsonl, possibly
    /// edited): the same ops on the same workers, the same partitions and message fates.
    /// Give the flags and seed the run had (its replay command).
    #[arg(long, value_name = "FILE")]
    pub schedule: Option<PathBuf>,
    /// What messages.svg draws: `full` (every message, as Maelstrom; an invalid run also
    /// gets causal.svg) or `causal` (only the messages on the causal path of the ops the
    /// invalid run's explanation names).
    #[arg(long, value_enum, value_name = "MODE", default_value = "full")]
    pub diagram: DiagramMode,
    /// Faults beyond Maelstrom's.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Arguments passed to the node binary.
    #[arg(allow_hyphen_values = false)]
    pub args: Vec<String>,
}

/// A fully resolved test configuration.
#[derive(Clone, Debug)]
pub struct TestConfig {
    /// Workload name.
    pub workload: String,
    /// Canonical node binary path (empty with `sim`).
    pub bin: PathBuf,
    /// Run our in-process nodes on a virtual clock ([`crate::harness::hosts::sim::SimHost`]).
    pub sim: bool,
    /// Faults beyond Maelstrom's (none by default).
    pub faults: Faults,
    /// The workload's strategy variable and its value, when set in the environment (the
    /// nodes read it: child processes inherit it, `--sim` nodes read it in-process).
    pub strategy: Option<(String, String)>,
    /// No progress line or phase messages on stderr (set by sweeps).
    pub quiet: bool,
    /// A message to an unknown destination fails the run instead of muting the node.
    pub strict: bool,
    /// The checks beyond Maelstrom's, and whether they count.
    pub extra_checks: Option<ExtraMode>,
    /// argv for the binary.
    pub args: Vec<String>,
    /// Node ids.
    pub nodes: Vec<String>,
    /// Worker count C.
    pub concurrency: usize,
    /// Main phase length, seconds.
    pub time_limit_s: u64,
    /// Ops/s (0 = none).
    pub rate: f64,
    /// Mean latency, ms.
    pub latency_ms: u64,
    /// Latency distribution.
    pub latency_dist: LatencyDist,
    /// Partition nemesis on.
    pub nemesis: bool,
    /// Mean seconds between nemesis ops.
    pub nemesis_interval_s: f64,
    /// Broadcast topology.
    pub topology: TopologyKind,
    /// Availability requirement.
    pub availability: Availability,
    /// Consistency models.
    pub consistency_models: Vec<String>,
    /// Active keys.
    pub key_count: u64,
    /// Longest txn.
    pub max_txn_length: u64,
    /// Writes per key.
    pub max_writes_per_key: u64,
    /// Copy node stderr to ours.
    pub log_stderr: bool,
    /// Print sends.
    pub log_net_send: bool,
    /// Print receives.
    pub log_net_recv: bool,
    /// Repetitions.
    pub test_count: u64,
    /// The seed.
    pub seed: u64,
    /// Recovery sleep, seconds.
    pub recovery_s: f64,
    /// Store root.
    pub store: PathBuf,
    /// Runs of this workload kept in the store (`None`: all).
    pub keep_runs: Option<usize>,
    /// Whether to write the network journal.
    pub journal: bool,
    /// Which messages messages.svg draws.
    pub diagram: DiagramWindow,
    /// The `glomers test` flags as given (for a `--sim` run's schedule header, which
    /// `glomers shrink` rebuilds configurations from).
    pub flags: Vec<String>,
    /// A schedule to replay (`--schedule`, or `glomers shrink`'s candidates); `--sim` only.
    pub replay: Option<Replay>,
}

impl TestConfig {
    /// The registry entry of the workload.
    pub fn spec(&self) -> Option<&'static WorkloadSpec> {
        registry::find(&self.workload)
    }

    /// The options the workload's generator and clients take.
    pub fn workload_options(&self) -> WorkloadOptions {
        WorkloadOptions {
            node_count: self.nodes.len(),
            concurrency: self.concurrency,
            latency_ms: self.latency_ms,
            key_count: self.key_count,
            max_txn_length: self.max_txn_length,
            max_writes_per_key: self.max_writes_per_key,
            extra: self.extra_checks.is_some(),
        }
    }
}

/// The canonical path of a `--bin` that can be run: it exists (a bare name is looked up on
/// PATH, see [`which`]), is a file, and is executable.
fn runnable_binary(bin: &std::path::Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = which::locate(bin)?
        .canonicalize()
        .map_err(|e| format!("--bin {}: {e}", bin.display()))?;
    let metadata = std::fs::metadata(&path).map_err(|e| format!("--bin {}: {e}", bin.display()))?;
    if metadata.is_dir() {
        return Err(format!(
            "--bin {} is a directory; give the node's executable file",
            bin.display()
        ));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "--bin {} is not executable (try `chmod +x {}`; a script needs a #! line too)",
            bin.display(),
            bin.display()
        ));
    }
    Ok(path)
}

/// The registry entry `-w` names; when it is missing or unknown, an error that lists the
/// workloads and names the closest one, so a newcomer needs no second look at `--help`.
fn find_workload(name: Option<&str>) -> Result<&'static WorkloadSpec, String> {
    let all = registry::list(registry::names());
    let Some(name) = name else {
        return Err(format!(
            "-w/--workload WORKLOAD is required; the workloads: {all}"
        ));
    };
    registry::find(name).ok_or_else(|| match registry::closest(name) {
        Some(close) => {
            format!("unknown workload {name:?}; did you mean `{close}`? (the workloads: {all})")
        }
        None => format!("unknown workload {name:?}; expected one of {all}"),
    })
}

/// Rejects workloads this harness (or, with `--sim`, our in-process nodes) cannot run.
fn check_supported(spec: &WorkloadSpec, sim: bool) -> Result<(), String> {
    if spec.clients.is_none() {
        return Err(format!(
            "workload {:?} is not supported by this harness yet (it runs: {})",
            spec.name,
            registry::list(registry::runnable().map(|w| w.name))
        ));
    }
    if sim && spec.node.is_none() {
        return Err(format!(
            "--sim has no in-process node for workload {:?} (it has: {})",
            spec.name,
            registry::list(registry::simulated().map(|w| w.name))
        ));
    }
    Ok(())
}

/// The text under `glomers test --help`: the workloads (what each supports), the planted
/// bugs in a `planted-bugs` build, and the exit statuses.
pub fn test_after_help() -> String {
    let mut text = String::from("Workloads (-w):\n");
    for spec in registry::WORKLOADS {
        let support = match (spec.clients.is_some(), spec.node.is_some()) {
            (true, true) => "--bin or --sim",
            (true, false) => "--bin",
            (false, _) => "not yet supported",
        };
        text.push_str(&format!("  {:<16} {support}\n", spec.name));
    }
    #[cfg(feature = "planted-bugs")]
    {
        text.push_str(
            "\nPlanted bugs (feature planted-bugs; broken on purpose, to test the harness):\n",
        );
        text.push_str(&crate::workloads::planted::help_lines());
    }
    text.push_str(
        "\nExit status: 0 valid, 1 invalid, 2 validity unknown, 254 bad arguments, \
         255 crash (a node died or broke the protocol) or internal error.",
    );
    text
}

/// Resolves raw flags; the error text is printed before exiting with 254.
pub fn resolve(args: TestArgs, default_seed: u64) -> Result<TestConfig, String> {
    let spec = find_workload(args.workload.as_deref())?;
    check_supported(spec, args.sim)?;
    let bin = match (&args.bin, args.sim) {
        (Some(_), true) => return Err("--bin and --sim exclude each other".to_string()),
        (None, true) => PathBuf::new(),
        (None, false) => return Err("--bin FILE is required (or --sim)".to_string()),
        (Some(bin), false) => runnable_binary(bin)?,
    };
    if args.sim && !args.args.is_empty() {
        return Err("node arguments make no sense with --sim".to_string());
    }
    let faults = args.faults.faults();
    faults.validate(args.sim, !args.nemesis.is_empty())?;
    check_limits(&args)?;
    let nodes = resolve_nodes(&args)?;
    let concurrency = parse_concurrency(&args.concurrency, nodes.len())?;
    if args.latency == 0 && args.latency_dist == LatencyDist::Exponential {
        return Err("--latency-dist exponential needs --latency > 0".to_string());
    }
    if args.keep_runs == Some(0) {
        return Err("--keep-runs must be at least 1 (the run just made is kept)".to_string());
    }
    let strategy = spec.strategy_env.and_then(|variable| {
        let value = std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())?;
        Some((variable.to_string(), value))
    });
    let config = TestConfig {
        strategy,
        workload: spec.name.to_string(),
        bin,
        sim: args.sim,
        faults,
        quiet: false,
        strict: args.strict,
        extra_checks: args.extra_checks,
        args: args.args,
        nodes,
        concurrency,
        time_limit_s: args.time_limit,
        rate: args.rate,
        latency_ms: args.latency,
        latency_dist: args.latency_dist,
        nemesis: !args.nemesis.is_empty(),
        nemesis_interval_s: args.nemesis_interval,
        topology: args.topology,
        availability: parse_availability(args.availability.as_deref())?,
        consistency_models: split_models(&args.consistency_models),
        key_count: args.key_count.unwrap_or(10),
        max_txn_length: args.max_txn_length,
        max_writes_per_key: args.max_writes_per_key,
        log_stderr: args.log_stderr,
        log_net_send: args.log_net_send,
        log_net_recv: args.log_net_recv,
        test_count: args.test_count,
        seed: args.seed.unwrap_or(default_seed),
        recovery_s: args.recovery_time,
        store: args.store,
        keep_runs: args.keep_runs,
        journal: !args.no_journal,
        diagram: DiagramWindow {
            from_s: args.diagram_from,
            messages: args.diagram_messages,
            mode: args.diagram,
        },
        flags: Vec::new(),
        replay: None,
    };
    let config = match &args.schedule {
        Some(path) => with_schedule(config, path)?,
        None => config,
    };
    if let Some(make_clients) = spec.clients {
        make_clients(&config.workload_options())?;
    }
    Ok(config)
}

/// A resolved, supported configuration from `glomers test` flags (without the leading
/// `glomers test`), for tests, benchmarks and tools that drive runs in-process
/// (`glomers shrink`); `config.flags` keeps the flags.
pub fn test_config(flags: &[&str], default_seed: u64) -> Result<TestConfig, String> {
    use clap::{CommandFactory, FromArgMatches};
    let argv = ["glomers", "test"].iter().chain(flags);
    let matches = Cli::command()
        .mut_subcommand("test", |test| test.mut_args(negative_values))
        .try_get_matches_from(argv)
        .map_err(|e| e.to_string())?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    let Command::Test(args) = cli.command else {
        return Err("not a test command".to_string());
    };
    let mut config = resolve(args, default_seed)?;
    config.flags = flags.iter().map(|f| f.to_string()).collect();
    Ok(config)
}

/// Lets a flag that takes a value take a negative number (so `--rate -5` gets a real
/// error, not clap's tip to pass it after `--`).
pub fn negative_values(arg: clap::Arg) -> clap::Arg {
    let takes_values = arg.get_action().takes_values() && !arg.is_positional();
    arg.allow_negative_numbers(takes_values)
}

/// `config` replaying the schedule in `path`, which must fit it: `--sim`, the same
/// workload and nodes, no more worker threads than `--concurrency` gives.
fn with_schedule(mut config: TestConfig, path: &std::path::Path) -> Result<TestConfig, String> {
    if !config.sim {
        return Err("--schedule needs --sim (a schedule replays simulated runs)".to_string());
    }
    let schedule = schedule::file::read_file(path)?;
    check_schedule_fits(&config, &schedule)?;
    config.replay = Some(Replay {
        source: path.display().to_string(),
        schedule: std::sync::Arc::new(schedule),
    });
    Ok(config)
}

/// Whether `schedule` can be replayed under `config`; the error says what differs.
pub fn check_schedule_fits(config: &TestConfig, schedule: &Schedule) -> Result<(), String> {
    if schedule.workload != config.workload {
        return Err(format!(
            "the schedule was recorded for -w {}, not -w {}",
            schedule.workload, config.workload
        ));
    }
    let nodes = schedule
        .participants
        .get(..schedule.node_count)
        .unwrap_or_default();
    if nodes != config.nodes.as_slice() {
        return Err(format!(
            "the schedule was recorded with nodes {}, not {} (replay it with its own flags: {})",
            nodes.join(" "),
            config.nodes.join(" "),
            schedule.flags.join(" ")
        ));
    }
    if let Some(op) = schedule
        .ops
        .iter()
        .find(|op| op.thread >= config.concurrency)
    {
        return Err(format!(
            "the schedule has an op on worker thread {} but --concurrency gives {} workers",
            op.thread, config.concurrency
        ));
    }
    Ok(())
}

fn resolve_nodes(args: &TestArgs) -> Result<Vec<String>, String> {
    let nodes: Vec<String> = if let Some(count) = args.node_count {
        (0..count).map(|i| format!("n{i}")).collect()
    } else if !args.nodes.is_empty() || !args.node.is_empty() {
        args.nodes
            .iter()
            .chain(&args.node)
            .filter(|s| !s.is_empty())
            .cloned()
            .collect()
    } else if let Some(file) = &args.nodes_file {
        let text = read_nodes_file(file)?;
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    } else {
        (1..=5).map(|i| format!("n{i}")).collect()
    };
    if nodes.is_empty() {
        return Err("at least one node is required".to_string());
    }
    if nodes.len() > NODE_COUNT_MAX {
        return Err(format!(
            "at most {NODE_COUNT_MAX} nodes, got {}",
            nodes.len()
        ));
    }
    if let Some(bad) = nodes
        .iter()
        .find(|n| is_client_id(n) || SERVICE_IDS.contains(&n.as_str()))
    {
        return Err(format!(
            "node name {bad:?} would collide with a client or service id"
        ));
    }
    Ok(nodes)
}

/// The `--nodes-file` text, refusing files over [`NODES_FILE_BYTES_MAX`] (`/dev/zero`…).
fn read_nodes_file(file: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let failed = |e: std::io::Error| format!("--nodes-file {}: {e}", file.display());
    let mut text = String::new();
    std::fs::File::open(file)
        .map_err(failed)?
        .take(NODES_FILE_BYTES_MAX + 1)
        .read_to_string(&mut text)
        .map_err(failed)?;
    if text.len() as u64 > NODES_FILE_BYTES_MAX {
        return Err(format!(
            "--nodes-file {} is over {NODES_FILE_BYTES_MAX} bytes",
            file.display()
        ));
    }
    Ok(text)
}

/// `c` followed by digits: the shape of the harness's client ids.
fn is_client_id(name: &str) -> bool {
    name.strip_prefix('c')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Ids of Maelstrom's built-in services, which node names must not take.
const SERVICE_IDS: [&str; 4] = ["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

/// `K` or `Kn` (K × node count).
pub fn parse_concurrency(text: &str, node_count: usize) -> Result<usize, String> {
    let bad =
        || format!("--concurrency must be an integer, optionally followed by n; got {text:?}");
    let (digits, per_node) = match text.strip_suffix('n') {
        Some(d) => (d, true),
        None => (text, false),
    };
    let k: usize = digits.parse().map_err(|_| bad())?;
    let c = if per_node {
        k.saturating_mul(node_count)
    } else {
        k
    };
    limits::integer("concurrency", c as u64, 1, CONCURRENCY_MAX as u64)?;
    Ok(c)
}

/// `total` or a fraction in [0, 1].
pub fn parse_availability(text: Option<&str>) -> Result<Availability, String> {
    match text {
        None => Ok(Availability::Any),
        Some("total") => Ok(Availability::Total),
        Some(t) => match t.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(Availability::Fraction(f)),
            _ => Err(format!(
                "--availability must be `total` or a number in [0, 1]; got {t:?}"
            )),
        },
    }
}

/// Maelstrom's quirk: split only on a comma with whitespace on both sides.
pub fn split_models(text: &str) -> Vec<String> {
    let mut models = Vec::new();
    let mut rest = text;
    loop {
        let found = rest
            .char_indices()
            .filter(|(_, c)| *c == ',')
            .find(|(i, _)| {
                let before = rest[..*i]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_whitespace);
                let after = rest[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(char::is_whitespace);
                before && after
            });
        match found {
            Some((i, _)) => {
                models.push(rest[..i].trim_end().to_string());
                rest = rest[i + 1..].trim_start();
            }
            None => {
                models.push(rest.to_string());
                return models;
            }
        }
    }
}

/// Checks every bounded numeric flag of `args` (node names and `--concurrency` are checked
/// where they are resolved).
fn check_limits(args: &TestArgs) -> Result<(), String> {
    if let Some(count) = args.node_count {
        limits::integer("node-count", count as u64, 1, NODE_COUNT_MAX as u64)?;
    }
    limits::integer("time-limit", args.time_limit, 0, TIME_LIMIT_S_MAX)?;
    if args.rate != 0.0 {
        limits::real("rate", args.rate, RATE_MIN, RATE_MAX).map_err(|e| format!("{e} (or 0)"))?;
    }
    let ops = args.rate * args.time_limit as f64;
    if args.sim && ops > SIM_OPS_MAX {
        return Err(format!(
            "--sim runs at most {SIM_OPS_MAX} client ops (--rate × --time-limit), got {ops}"
        ));
    }
    limits::integer("latency", args.latency, 0, LATENCY_MS_MAX)?;
    let interval = args.nemesis_interval;
    limits::real(
        "nemesis-interval",
        interval,
        NEMESIS_INTERVAL_S_MIN,
        NEMESIS_INTERVAL_S_MAX,
    )?;
    limits::real("recovery-time", args.recovery_time, 0.0, RECOVERY_S_MAX)?;
    limits::integer("test-count", args.test_count, 1, TEST_COUNT_MAX)?;
    if let Some(keys) = args.key_count {
        limits::integer("key-count", keys, 1, KEY_COUNT_MAX)?;
    }
    limits::integer("max-txn-length", args.max_txn_length, 1, TXN_LENGTH_MAX)?;
    if let Some(from) = args.diagram_from {
        limits::real(
            "diagram-from",
            from,
            -(TIME_LIMIT_S_MAX as f64),
            TIME_LIMIT_S_MAX as f64,
        )?;
    }
    limits::integer(
        "diagram-messages",
        args.diagram_messages as u64,
        1,
        DIAGRAM_MESSAGES_MAX as u64,
    )?;
    limits::integer(
        "max-writes-per-key",
        args.max_writes_per_key,
        1,
        WRITES_PER_KEY_MAX,
    )
}

impl TestConfig {
    /// The test map logged at the start of `jepsen.log`, with the keys Maelstrom's own
    /// "Running test:" map uses, so that `glomers check` reads the options of either.
    pub fn test_map_edn(&self) -> String {
        let quoted: Vec<String> = self.nodes.iter().map(|n| format!("{n:?}")).collect();
        let models: Vec<String> = self
            .consistency_models
            .iter()
            .map(|m| format!(":{m}"))
            .collect();
        let availability = match self.availability {
            Availability::Any => "nil".to_string(),
            Availability::Total => ":total".to_string(),
            Availability::Fraction(f) => format!("{f}"),
        };
        format!(
            "{{:workload :{}, :nodes [{}], :concurrency {}, :rate {}, :time-limit {}, \
             :latency {{:mean {}}}, :availability {availability}, :consistency-models [{}], \
             :seed {}}}",
            self.workload,
            quoted.join(" "),
            self.concurrency,
            self.rate,
            self.time_limit_s,
            self.latency_ms,
            models.join(" "),
            self.seed
        )
    }
}
