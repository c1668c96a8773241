//! The store directory: creating a run's `store/<workload>/<yyyyMMdd'T'HHmmss.SSSZ>/` with
//! `node-logs/`, the network journal and the checker outputs, plus `store/latest`,
//! `store/current` and `store/<workload>/latest` symlinks (MAELSTROM.md §7.1); and reading
//! a past run's directory (ours or a real Maelstrom one) back for `glomers report`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use simd_json::OwnedValue;

use super::console::console_summary;
use crate::harness::edn::{read_history_edn, read_results_edn};

/// Written into a run's directory when the run crashed: why (`glomers report` shows it).
pub const CRASH_FILE: &str = "crash.txt";
/// What `glomers shrink` says of the run it wrote: first line the summary, then the steps
/// it kept and the replay command.
pub const SHRINK_FILE: &str = "shrink.txt";

/// One run's directory.
pub struct RunDir {
    /// `store/<workload>/<time>`.
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `root/<workload>/<time>/node-logs` and points the `latest` links at it.
    pub fn create(root: &Path, workload: &str) -> io::Result<RunDir> {
        let stamp = timestamp(SystemTime::now());
        let parent = root.join(workload);
        std::fs::create_dir_all(&parent)?;
        // `create_dir` (not `_all`) claims the name atomically, so concurrent runs started
        // in the same millisecond get distinct directories. Bounded: 1000 attempts.
        let mut claimed = None;
        for attempt in 0..1000 {
            let name = if attempt == 0 {
                stamp.clone()
            } else {
                format!("{stamp}-{attempt}")
            };
            match std::fs::create_dir(parent.join(&name)) {
                Ok(()) => {
                    claimed = Some(name);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        let name = claimed.ok_or_else(|| io::Error::other("no free run directory name"))?;
        let path = parent.join(&name);
        std::fs::create_dir(path.join("node-logs"))?;
        relink(&parent.join("latest"), Path::new(&name))?;
        let from_root = Path::new(workload).join(&name);
        relink(&root.join("latest"), &from_root)?;
        relink(&root.join("current"), &from_root)?;
        Ok(RunDir { path })
    }

    /// Deletes all but the newest `keep` run directories of `workload` under `root`
    /// (run directories are named by their start time, so name order is age order; the
    /// `latest` link is not a run). Returns how many were removed.
    pub fn prune(root: &Path, workload: &str, keep: usize) -> io::Result<usize> {
        let parent = root.join(workload);
        let mut runs: Vec<PathBuf> = std::fs::read_dir(&parent)?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .map(|entry| entry.path())
            .collect();
        runs.sort();
        let excess = runs.len().saturating_sub(keep);
        for old in &runs[..excess] {
            std::fs::remove_dir_all(old)?;
        }
        Ok(excess)
    }

    /// Where node `name`'s stderr goes.
    pub fn node_logs(&self) -> PathBuf {
        self.path.join("node-logs")
    }

    /// The JSONL network journal.
    pub fn journal(&self) -> PathBuf {
        self.path.join("net-journal.jsonl")
    }
}

/// Replaces a symlink atomically (a uniquely named link renamed over the old one), with a
/// relative target so the store can be moved.
fn relink(link: &Path, target: &Path) -> io::Result<()> {
    let Some(file_name) = link.file_name() else {
        return Ok(());
    };
    let mut temporary = file_name.to_os_string();
    temporary.push(format!(
        ".tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let temporary = link.with_file_name(temporary);
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, link)
}

/// Joda's basic date-time `yyyyMMdd'T'HHmmss.SSSZ`, in UTC (printed with `Z`).
pub fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's days → (year, month, day) for the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Summarises a store directory for `glomers report DIR`: the console summary of
/// [`load_store_dir`].
pub fn report_store_dir(dir: &Path) -> Result<String, String> {
    load_store_dir(dir).map(|results| console_summary(&results))
}

/// Reads a store directory's `results.edn` and adds per-`f` latency quantiles under
/// `perf` → `latencies` from `history.edn` when the results lack them (Maelstrom only
/// draws them).
pub fn load_store_dir(dir: &Path) -> Result<OwnedValue, String> {
    let mut results = read_results_edn(&dir.join("results.edn"))?;
    let history_path = dir.join("history.edn");
    if history_path.is_file()
        && let OwnedValue::Object(top) = &mut results
        && let Some(OwnedValue::Object(perf)) = top.get_mut("perf")
        && !perf.contains_key("latencies")
    {
        let history = read_history_edn(&history_path)?;
        if let OwnedValue::Object(ours) = crate::harness::checkers::stats::perf(&history)
            && let Some(latencies) = ours.get("latencies")
        {
            perf.insert("latencies".to_string(), latencies.clone());
        }
    }
    Ok(results)
}
