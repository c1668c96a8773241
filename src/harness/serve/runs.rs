//! The runs of a store and the figures the index and the comparison show for each, read
//! from its `results.edn` (or `crash.txt`).

use std::path::{Path, PathBuf};

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::edn::read_results_edn;
use crate::harness::results::headline::{conduct_lines, quantile, render};
use crate::harness::results::store::{CRASH_FILE, SHRINK_FILE};

/// Most runs the index lists (the newest first); it says how many more there are.
pub const RUNS_LISTED_MAX: usize = 500;

/// One run's figures.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// `workload/time`, the run's path under the store.
    pub id: String,
    /// Workload name (the directory above the run).
    pub workload: String,
    /// The run's directory name: its start time.
    pub time: String,
    /// `true`, `false`, `:unknown`, `crashed` or `-`.
    pub verdict: String,
    /// Op count and ok count.
    pub ops: Option<(String, String)>,
    /// Servers msgs-per-op.
    pub msgs_per_op: Option<f64>,
    /// Stable latency median and p95, ms (broadcast, counters).
    pub stable: Option<(f64, f64)>,
    /// Per-`f` latency median and p99, ms.
    pub latencies: Vec<(String, f64, f64)>,
    /// The node strategy variable, `VAR=value`.
    pub strategy: Option<String>,
    /// Muted nodes and late replies, one line each (empty when every node answered every
    /// request once and in time).
    pub warnings: Vec<String>,
    /// What went wrong, in words (an invalid run's `:explanation`).
    pub explanation: Vec<String>,
    /// The first line of `shrink.txt` when `glomers shrink` made this run.
    pub shrunk: Option<String>,
}

impl RunSummary {
    /// The latency a comparison plots: the stable median when there is one, else the
    /// largest per-`f` median.
    pub fn headline_latency(&self) -> Option<f64> {
        self.stable.map(|(median, _)| median).or_else(|| {
            self.latencies
                .iter()
                .map(|(_, median, _)| *median)
                .reduce(f64::max)
        })
    }
}

/// Run directories under `root` (`root/<workload>/<time>/`, links like `latest` skipped),
/// newest first, at most [`RUNS_LISTED_MAX`]; and how many more there are.
pub fn list_runs(root: &Path) -> (Vec<PathBuf>, usize) {
    let real_dirs = |dir: &Path| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .map(|entry| entry.path())
            .collect()
    };
    let mut runs: Vec<PathBuf> = real_dirs(root)
        .iter()
        .flat_map(|workload| real_dirs(workload))
        .filter(|run| run.join("results.edn").is_file() || run.join(CRASH_FILE).is_file())
        .collect();
    runs.sort_by(|a, b| b.file_name().cmp(&a.file_name()).then(a.cmp(b)));
    let more = runs.len().saturating_sub(RUNS_LISTED_MAX);
    runs.truncate(RUNS_LISTED_MAX);
    (runs, more)
}

/// The figures of the run at `dir` (under `root`).
pub fn summarize(root: &Path, dir: &Path) -> RunSummary {
    let name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut summary = RunSummary {
        id: super::paths::link(root, dir),
        workload: dir.parent().map(name).unwrap_or_default(),
        time: name(dir),
        verdict: "-".to_string(),
        ..RunSummary::default()
    };
    summary.shrunk = std::fs::read_to_string(dir.join(SHRINK_FILE))
        .ok()
        .and_then(|text| text.lines().next().map(str::to_string));
    match read_results_edn(&dir.join("results.edn")) {
        Ok(results) => fill(&mut summary, &results),
        Err(_) if dir.join(CRASH_FILE).is_file() => summary.verdict = "crashed".to_string(),
        Err(_) => {}
    }
    summary
}

fn number(value: Option<&OwnedValue>) -> Option<f64> {
    value.and_then(|v| v.as_f64().or_else(|| v.as_u64().map(|n| n as f64)))
}

fn fill(summary: &mut RunSummary, results: &OwnedValue) {
    if let Some(valid) = results.get("valid?") {
        summary.verdict = render(valid);
    }
    summary.warnings = conduct_lines(results);
    summary.explanation = results
        .get("explanation")
        .and_then(|e| e.as_array())
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.get("text").and_then(|t| t.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    summary
        .warnings
        .extend(crate::harness::results::format::newer_format_warning(
            results,
        ));
    if let Some(stats) = results.get("stats") {
        let text = |key: &str| stats.get(key).map(render).unwrap_or_else(|| "-".into());
        summary.ops = Some((text("count"), text("ok-count")));
    }
    summary.msgs_per_op = number(
        results
            .get("net")
            .and_then(|net| net.get("servers"))
            .and_then(|servers| servers.get("msgs-per-op")),
    );
    if let Some(stable) = results
        .get("workload")
        .and_then(|w| w.get("stable-latencies"))
        && let (Some(median), Some(p95)) = (
            number(quantile(stable, "0.5")),
            number(quantile(stable, "0.95")),
        )
    {
        summary.stable = Some((median, p95));
    }
    if let Some(latencies) = results
        .get("perf")
        .and_then(|p| p.get("latencies"))
        .and_then(|l| l.as_object())
    {
        let mut names: Vec<&String> = latencies.keys().collect();
        names.sort();
        for name in names {
            let Some(q) = latencies.get(name.as_str()) else {
                continue;
            };
            if let (Some(median), Some(p99)) =
                (number(quantile(q, "0.5")), number(quantile(q, "0.99")))
            {
                summary.latencies.push((name.clone(), median, p99));
            }
        }
    }
    if let Some(strategy) = results.get("strategy").and_then(|s| s.as_object()) {
        let pairs: Vec<String> = strategy
            .iter()
            .map(|(key, value)| format!("{key}={}", render(value)))
            .collect();
        summary.strategy = Some(pairs.join(" "));
    }
}
