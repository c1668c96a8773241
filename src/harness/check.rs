//! `glomers check [-w WORKLOAD] [flags] DIR`: re-analyzes a finished run — ours, or the real
//! Maelstrom's `store/<workload>/<time>/` — from its `history.edn`, and prints the results
//! map and the verdict like `glomers test`. It writes nothing unless `--out DIR`.
//!
//! What the checkers need besides the history comes, in this order, from the flags, from
//! the run's `jepsen.log` (the test map Maelstrom and `glomers test` log at the start:
//! `:workload`, `:consistency-models`, `:availability`), and from the store layout (the
//! directory above the run is named after the workload). The message counts behind
//! msgs-per-op come from the run's `results.edn` (`:net`), else from its
//! `net-journal.jsonl`.
//!
//! The analysis runs on its own thread under a wall-clock budget (`--checker-timeout`) and a
//! memory ceiling (`--checker-memory`): a history whose search explodes (many concurrent
//! indeterminate writes on one lin-kv key) ends `:valid? :unknown` with the reason, as
//! Knossos does, never a hang or an out-of-memory kill.
//!
//! Exit status as `glomers test`: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or an
//! unreadable run (missing or malformed history).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::checkers::explain;
use crate::harness::checkers::extra::{self, ExtraInput};
use crate::harness::checkers::{
    Availability, CheckInput, NetCounts, NetStats, Validity, analyze_with, validity_of,
};
use crate::harness::cli::{CheckArgs, parse_availability, split_models};
use crate::harness::edn::{read_history_edn, read_results_edn};
use crate::harness::history::History;
use crate::harness::registry;
use crate::harness::results::verdict::EXIT_BAD_ARGS;
use crate::harness::results::{console, files, format};

/// How much of `jepsen.log` is searched for the test map (it is logged first).
const LOG_HEAD_BYTES: u64 = 256 << 10;
/// How often the watchdog looks at the clock and the memory.
const WATCH_PERIOD: Duration = Duration::from_millis(50);

/// The options of the run being checked, as far as they are known.
#[derive(Debug, Default, PartialEq)]
pub struct RunOptions {
    /// `:workload`.
    pub workload: Option<String>,
    /// `:consistency-models`, as names without colons.
    pub consistency_models: Option<Vec<String>>,
    /// `:availability`: `total` or a fraction (`nil` leaves it `None`).
    pub availability: Option<String>,
    /// How many `:nodes`.
    pub node_count: Option<usize>,
    /// `:concurrency`.
    pub concurrency: Option<usize>,
}

/// `glomers check`: returns the exit status.
pub fn main(args: &CheckArgs) -> i32 {
    match prepare(args) {
        Ok(job) => judge(args, job),
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_BAD_ARGS
        }
    }
}

/// Everything one analysis needs.
struct Job {
    workload: String,
    history: History,
    checking: Checking,
    /// Nodes and worker threads of the run (0 when unknown), for per-node extra checks.
    node_count: usize,
    concurrency: usize,
}

/// What Maelstrom's checkers take besides the workload and the history.
#[derive(Clone)]
struct Checking {
    net: NetStats,
    availability: Availability,
    consistency_models: Vec<String>,
}

fn prepare(args: &CheckArgs) -> Result<Job, String> {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(format!("{} is not a run directory", dir.display()));
    }
    let history_path = dir.join("history.edn");
    if !history_path.is_file() {
        return Err(format!(
            "{} holds no history.edn (glomers check reads a run directory such as \
             store/kafka/latest)",
            dir.display()
        ));
    }
    let logged = read_log_options(&dir.join("jepsen.log"));
    let workload = args
        .workload
        .clone()
        .or(logged.workload)
        .or_else(|| workload_from_layout(dir))
        .ok_or_else(|| {
            format!(
                "cannot tell the workload of {}: pass -w (one of {})",
                dir.display(),
                registry::names().collect::<Vec<_>>().join(", ")
            )
        })?;
    if registry::find(&workload).is_none() {
        return Err(format!(
            "unknown workload {workload:?} (one of {})",
            registry::names().collect::<Vec<_>>().join(", ")
        ));
    }
    let availability = parse_availability(
        args.availability
            .as_deref()
            .or(logged.availability.as_deref()),
    )?;
    let consistency_models = match (&args.consistency_models, logged.consistency_models) {
        (Some(text), _) => split_models(text),
        (None, Some(models)) => models,
        (None, None) => split_models(crate::harness::cli::CONSISTENCY_MODELS_DEFAULT),
    };
    let history = read_history_edn(&history_path)?;
    let net = net_counts(dir);
    Ok(Job {
        workload,
        history,
        checking: Checking {
            net,
            availability,
            consistency_models,
        },
        node_count: args.node_count.or(logged.node_count).unwrap_or(0),
        concurrency: args.concurrency.or(logged.concurrency).unwrap_or(0),
    })
}

/// Runs the checkers under the budget, prints the summary, writes `--out`.
fn judge(args: &CheckArgs, job: Job) -> i32 {
    eprintln!(
        "Checking {} ({} ops, workload {}, consistency models {}, availability {:?})",
        args.dir.display(),
        job.history.ops.len(),
        job.workload,
        job.checking.consistency_models.join(" "),
        job.checking.availability
    );
    let started = Instant::now();
    let budget = Budget {
        time: Duration::from_secs_f64(args.checker_timeout),
        memory_bytes: args.checker_memory.saturating_mul(1 << 20),
    };
    let node_count = job.node_count;
    let concurrency = job.concurrency;
    let history = std::sync::Arc::new(job.history);
    let mut results = analyze_within(&job.workload, history.clone(), job.checking, budget);
    if let Some(mode) = args.extra_checks {
        let extra = extra::run(&ExtraInput {
            workload: &job.workload,
            history: &history,
            node_count,
            concurrency,
            results: &results,
        });
        extra::attach(&mut results, extra, mode);
    }
    explain::attach(
        &mut results,
        &explain::Context {
            workload: &job.workload,
            history: &history,
            node_count,
            concurrency,
        },
    );
    eprintln!("Analysis took {:.2} s", started.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        let written = std::fs::create_dir_all(out)
            .and_then(|()| files::write_results(out, &format::stamped(&results)));
        if let Err(e) = written {
            eprintln!("error: cannot write results into {}: {e}", out.display());
            return EXIT_BAD_ARGS;
        }
    }
    let code = console::summarize(&results, validity_of(&results));
    // `glomers check` exits next: freeing the history's millions of small values one by one
    // was 8% of checking a kafka history, and the system takes the memory back at once.
    std::mem::forget(history);
    code
}

/// The analysis's wall-clock and memory ceilings.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Longest analysis.
    pub time: Duration,
    /// Largest resident set of the process.
    pub memory_bytes: u64,
}

/// Runs [`analyze`] on its own thread; past the budget, the results carry the cheap parts
/// (stats, availability, net) and a workload result `:valid? :unknown` saying why. The
/// abandoned thread is left to the process's exit.
fn analyze_within(
    workload: &str,
    history: Arc<History>,
    checking: Checking,
    budget: Budget,
) -> OwnedValue {
    let (send, receive) = mpsc::channel();
    {
        let history = history.clone();
        let workload = workload.to_string();
        let checking = checking.clone();
        std::thread::spawn(move || {
            let input = CheckInput {
                workload: &workload,
                history: &history,
                net: checking.net,
                availability: checking.availability,
                consistency_models: &checking.consistency_models,
            };
            let _ = send.send(registry::analyze(&input));
        });
    }
    let started = Instant::now();
    let why = loop {
        match receive.recv_timeout(WATCH_PERIOD) {
            Ok(results) => return results,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break "the checker thread died".to_string();
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if started.elapsed() >= budget.time {
            break format!(
                "the checker ran out of time after {:.0} s (--checker-timeout)",
                budget.time.as_secs_f64()
            );
        }
        if resident_bytes().is_some_and(|rss| rss > budget.memory_bytes) {
            break format!(
                "the checker passed {} MiB of memory (--checker-memory)",
                budget.memory_bytes >> 20
            );
        }
    };
    eprintln!("warning: {why}; the verdict is unknown");
    // The cheap checkers without the workload's, then the workload's place filled in.
    let input = CheckInput {
        workload,
        history: &history,
        net: checking.net,
        availability: checking.availability,
        consistency_models: &checking.consistency_models,
    };
    let mut results = analyze_with(&input, None);
    if let OwnedValue::Object(map) = &mut results {
        let mut workload_result = simd_json::owned::Object::new();
        workload_result.insert("valid?".into(), Validity::Unknown.to_value());
        workload_result.insert("error".into(), why.into());
        map.insert(
            "workload".into(),
            OwnedValue::Object(Box::new(workload_result)),
        );
        let verdict = validity_of(&results);
        if let OwnedValue::Object(map) = &mut results {
            map.insert("valid?".into(), verdict.to_value());
        }
    }
    results
}

/// The process's resident set, from /proc (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The workload named by the store layout: `…/<workload>/<time>/` (links resolved).
fn workload_from_layout(dir: &Path) -> Option<String> {
    let real = dir.canonicalize().ok()?;
    let name = real.parent()?.file_name()?.to_str()?.to_string();
    registry::find(&name).map(|_| name)
}

/// The options in the head of a `jepsen.log`, if there is one.
fn read_log_options(path: &Path) -> RunOptions {
    let Ok(file) = std::fs::File::open(path) else {
        return RunOptions::default();
    };
    let mut head = String::new();
    let mut reader = std::io::BufReader::new(std::io::Read::take(file, LOG_HEAD_BYTES));
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        head.push_str(&line);
        line.clear();
    }
    log_options(&head)
}

/// Finds `:workload`, `:consistency-models` and `:availability` in a logged test map
/// (Maelstrom pretty-prints it after "Running test:"; `glomers test` logs the same keys).
pub fn log_options(text: &str) -> RunOptions {
    let after = |key: &str| text.find(key).map(|at| text[at + key.len()..].trim_start());
    let word = |rest: &str| {
        let end = rest
            .find(|c: char| c.is_whitespace() || ",}])".contains(c))
            .unwrap_or(rest.len());
        rest[..end].trim_start_matches(':').to_string()
    };
    let workload = after(":workload ").map(word).filter(|w| !w.is_empty());
    let availability = after(":availability ")
        .map(word)
        .filter(|a| !a.is_empty() && a != "nil");
    let consistency_models = after(":consistency-models ").and_then(|rest| {
        let open = rest.strip_prefix('[').or_else(|| rest.strip_prefix('('))?;
        let close = open.find([']', ')'])?;
        let models: Vec<String> = open[..close]
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|m| !m.is_empty())
            .map(|m| m.trim_start_matches(':').to_string())
            .collect();
        (!models.is_empty()).then_some(models)
    });
    let node_count = after(":nodes ").and_then(|rest| {
        let open = rest.strip_prefix('[')?;
        let close = open.find(']')?;
        Some(open[..close].matches('"').count() / 2)
    });
    let concurrency = after(":concurrency ").and_then(|rest| word(rest).parse().ok());
    RunOptions {
        workload,
        consistency_models,
        availability,
        node_count,
        concurrency,
    }
}

/// The run's message counts: its results' `:net`, else a count of its journal, else none
/// (msgs-per-op then reads 0, and a warning says why).
fn net_counts(dir: &Path) -> NetStats {
    if let Ok(results) = read_results_edn(&dir.join("results.edn")) {
        if let Some(warning) = format::newer_format_warning(&results) {
            eprintln!("warning: {warning}");
        }
        if let Some(stats) = net_from_results(&results) {
            return stats;
        }
    }
    if let Some(stats) = net_from_journal(&dir.join("net-journal.jsonl")) {
        return stats;
    }
    eprintln!(
        "warning: {} has neither results.edn with :net nor net-journal.jsonl: message counts \
         (msgs-per-op) read 0",
        dir.display()
    );
    NetStats::default()
}

fn net_from_results(results: &OwnedValue) -> Option<NetStats> {
    let net = results.get("net")?;
    let group = |name: &str| -> Option<NetCounts> {
        let g = net.get(name)?;
        let count = |key: &str| g.get(key).and_then(|v| v.as_u64());
        Some(NetCounts {
            send_count: count("send-count")?,
            recv_count: count("recv-count")?,
            msg_count: count("msg-count")?,
        })
    };
    Some(NetStats {
        all: group("all")?,
        clients: group("clients")?,
        servers: group("servers")?,
    })
}

/// Counts a `net-journal.jsonl` (`{"type":"send"|"recv",…,"message":{…"src":…,"dest":…}}`)
/// line by line.
fn net_from_journal(path: &PathBuf) -> Option<NetStats> {
    let file = std::fs::File::open(path).ok()?;
    let mut stats = NetStats::default();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let mut line = line.ok()?;
        let Ok(event) = simd_json::to_owned_value(&mut line) else {
            continue;
        };
        let message = event.get("message");
        let end = |key: &str| {
            message
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_str())
                .is_some_and(|id| id.starts_with('c'))
        };
        let client = end("src") || end("dest");
        let send = match event.get("type").and_then(|t| t.as_str()) {
            Some("send") => true,
            Some("recv") => false,
            _ => continue,
        };
        for counts in [
            &mut stats.all,
            if client {
                &mut stats.clients
            } else {
                &mut stats.servers
            },
        ] {
            if send {
                counts.send_count += 1;
                counts.msg_count += 1;
            } else {
                counts.recv_count += 1;
            }
        }
    }
    Some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_test_map_gives_the_options() {
        let log = "INFO jepsen.core Running test:\n{:args [],\n :availability :total,\n \
                   :consistency-models [:read-committed :causal],\n :workload :txn-rw-register,\n \
                   :nodes [\"n0\" \"n1\"]}\n";
        let options = log_options(log);
        assert_eq!(options.workload.as_deref(), Some("txn-rw-register"));
        assert_eq!(options.availability.as_deref(), Some("total"));
        assert_eq!(
            options.consistency_models,
            Some(vec!["read-committed".to_string(), "causal".to_string()])
        );
        let none = log_options("{:availability nil, :workload :echo}");
        assert_eq!(none.availability, None);
        assert_eq!(none.workload.as_deref(), Some("echo"));
        assert_eq!(log_options("nothing here"), RunOptions::default());
        let sized = log_options("{:concurrency 6,\n :nodes [\"n0\" \"n1\" \"n2\"]}");
        assert_eq!((sized.node_count, sized.concurrency), (Some(3), Some(6)));
    }
}
