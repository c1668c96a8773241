//! One test run, from a resolved configuration to its checked results, writing nothing
//! but the network journal (and node logs in process mode): the services and the network
//! are built, the nodes started (child processes, or our own in-process with `--sim`), the
//! [`Runner`] drives them, and the checkers judge the history. `glomers test` writes what
//! this returns into the store; `glomers sweep` only keeps the verdict.

use std::io::Write;
use std::path::Path;

use simd_json::OwnedValue;

use super::Runner;
use crate::harness::checkers::explain;
use crate::harness::checkers::extra::{self, ExtraInput};
use crate::harness::checkers::{CheckInput, Validity, validity_of};
use crate::harness::cli::TestConfig;
use crate::harness::conduct::Conduct;
use crate::harness::history::History;
use crate::harness::hosts::process::{Launch, ProcessHost};
use crate::harness::hosts::sim::SimHost;
use crate::harness::net::faults::{FAULT_STREAM, INPUT_STREAM, SIM_STREAM};
use crate::harness::net::network::{NetOptions, Network};
use crate::harness::registry::analyze;
use crate::harness::schedule::Schedule;
use crate::harness::services::{SERVICE_NAMES, service};
use crate::node::DynNode;
use crate::node::rng::Rng;

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
    /// The run's schedule (`--sim` runs), to write as schedule.jsonl or to shrink.
    pub schedule: Option<Schedule>,
}

/// Where a run's by-products go: the network journal and the node logs (process mode).
pub struct Sinks<'a> {
    /// JSONL journal of every send and receive; `None` keeps no journal.
    pub journal: Option<Box<dyn Write + Send>>,
    /// Directory for `<node>.log` (process mode only).
    pub node_logs: &'a Path,
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
    execute_inner(config, sinks, Some(nodes)).map_err(|crash| crash.message)
}

/// Runs one test (nodes as processes, or in-process with `config.sim`) and checks it,
/// writing nothing but the journal. An `Err` is a crash: a node died or broke the
/// protocol, or the harness failed.
pub fn execute(config: &TestConfig, sinks: Sinks<'_>) -> Result<Outcome, String> {
    execute_inner(config, sinks, None).map_err(|crash| crash.message)
}

/// A run that crashed: why, and the schedule it had recorded (`--sim` runs).
pub struct Crash {
    /// The crash, as [`execute`] reports it.
    pub message: String,
    /// The schedule up to the crash, its main phase ending there (boxed: errors stay small).
    pub schedule: Option<Box<Schedule>>,
}

impl Crash {
    fn without_schedule(message: impl Into<String>) -> Crash {
        Crash {
            message: message.into(),
            schedule: None,
        }
    }
}

/// [`execute`] (or [`execute_with_nodes`] when `nodes` is given), keeping the schedule of
/// a crashed `--sim` run (for `glomers shrink`).
pub fn execute_recorded(
    config: &TestConfig,
    sinks: Sinks<'_>,
    nodes: Option<NodeFactory<'_>>,
) -> Result<Outcome, Crash> {
    if nodes.is_some() && !config.sim {
        return Err(Crash::without_schedule(
            "in-process nodes need a --sim config",
        ));
    }
    execute_inner(config, sinks, nodes)
}

fn execute_inner(
    config: &TestConfig,
    sinks: Sinks<'_>,
    factory: Option<NodeFactory<'_>>,
) -> Result<Outcome, Crash> {
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
    if config.sim {
        net.record_fates();
        if let Some(replay) = &config.replay {
            net.replay_fates(&replay.schedule);
        }
    }
    let clients = config
        .spec()
        .and_then(|spec| spec.clients)
        .ok_or_else(|| Crash::without_schedule("unsupported workload"))?;
    let clients = clients(&config.workload_options()).map_err(Crash::without_schedule)?;
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
            .ok_or_else(|| {
                Crash::without_schedule(format!("no in-process node for {:?}", config.workload))
            })?,
        };
        host.skew_clocks(config.faults.clock_skew, &mut sim_rng);
        Runner::new(config, host, net, services, clients, rng).run_recorded()
    } else {
        let launch = Launch {
            bin: &config.bin,
            args: &config.args,
            names: &config.nodes,
            log_dir: sinks.node_logs,
            log_stderr: config.log_stderr,
        };
        let host =
            ProcessHost::spawn(&launch).map_err(|e| Crash::without_schedule(e.to_string()))?;
        Runner::new(config, host, net, services, clients, rng).run_recorded()
    };
    let output = output.map_err(|failure| Crash {
        message: failure.error.to_string(),
        schedule: failure.schedule,
    })?;
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
    if let Some(mode) = config.extra_checks {
        let extra = extra::run(&ExtraInput {
            workload: &config.workload,
            history: &output.history,
            node_count: config.nodes.len(),
            concurrency: config.concurrency,
            results: &results,
        });
        extra::attach(&mut results, extra, mode);
    }
    explain::attach(
        &mut results,
        &explain::Context {
            workload: &config.workload,
            history: &output.history,
            node_count: config.nodes.len(),
            concurrency: config.concurrency,
        },
    );
    let validity = validity_of(&results);
    Ok(Outcome {
        history: output.history,
        results,
        validity,
        main_start_ns: output.main_start,
        conduct: output.conduct,
        schedule: output.schedule,
    })
}
