//! One test run written into the store, as `glomers test` makes it: a new run directory
//! with the history, results, plots, Lamport diagram, jepsen.log and (with `--sim`) the
//! schedule; the verdict printed; old runs pruned. `glomers shrink` writes its smallest
//! run the same way.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use simd_json::OwnedValue;

use super::execute::{Outcome, Sinks, execute};
use crate::harness::cli::TestConfig;
use crate::harness::results::lamport::DiagramMode;
use crate::harness::results::store::{CRASH_FILE, RunDir};
use crate::harness::results::verdict::EXIT_CRASH;
use crate::harness::results::{self, causal, console, lamport, plot};
use crate::harness::schedule;

/// One test run; returns its exit status.
pub fn run_once(config: &TestConfig) -> i32 {
    run_to_store(config).0
}

/// [`run_once`], also returning the run directory (when one could be made).
pub fn run_to_store(config: &TestConfig) -> (i32, Option<PathBuf>) {
    eprintln!("Seed {} (replay: --seed {})", config.seed, config.seed);
    let dir = match RunDir::create(&config.store, &config.workload) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cannot create the store directory: {e}");
            return (EXIT_CRASH, None);
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
    (code, Some(dir.path))
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
    if let Some(schedule) = &outcome.schedule {
        let path = dir.path.join(schedule::file::FILE_NAME);
        if let Err(e) = schedule::file::write_file(schedule, &path) {
            eprintln!("warning: cannot write {}: {e}", path.display());
        }
    }
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
