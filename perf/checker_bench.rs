//! Checker throughput (issue 26, deliver 3): how fast `glomers check` re-analyzes histories
//! of growing size, per workload checker. scripts/checker-bench.sh builds and runs this and
//! writes the table; run it directly only to experiment:
//!
//!     checker-bench --glomers target/release/glomers --work DIR [--runs N] [--max-ops N]
//!                   [--only NAME,…] [--markdown FILE]
//!
//! For each case and size, a history is first made by `glomers test --sim --seed 1
//! --no-journal --rate 1000 --time-limit OPS/1000 …` (not timed), then `glomers check` runs
//! `--runs` times on it as a child process; each run's wall time, CPU time (user + sys) and
//! peak RSS (`ru_maxrss`) come from `wait4`, and the table shows their medians. The history
//! is deleted before the next one is made, so at most one lives in DIR.
//!
//! *ops* are client operations (invocations; the `--sim` cap of limits.rs counts these), not
//! history lines (about twice as many). ops/s = ops / median CPU seconds: the process's CPU
//! is the figure other load on a shared machine disturbs least, and the checker runs on one
//! thread, so it is also the one-core rate.

#[path = "measure.rs"]
#[allow(dead_code)] // wait_for_cpu_seconds: this benchmark also needs the status and RSS
mod measure;
#[path = "set_history.rs"]
mod set_history;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use measure::{median, thousands};

/// One checker's histories: a label, the workload, `glomers test` flags beyond the common
/// ones (or `synthetic`: made by set_history.rs instead), and the sizes (client ops).
struct Case {
    checker: &'static str,
    workload: &'static str,
    flags: &'static [&'static str],
    sizes: &'static [u64],
    synthetic: bool,
}

impl Case {
    /// The workload column: the workload, marked when the history is synthetic.
    fn name(&self) -> &'static str {
        if self.synthetic {
            "g-set (synthetic)"
        } else {
            self.workload
        }
    }
}

const SMALL: &[u64] = &[10_000, 100_000];
const LARGE: &[u64] = &[10_000, 100_000, 1_000_000];
/// Set-full histories grow with the square of the ops: every read returns the whole set so
/// far (half the ops are reads), so 10k ops are already 25–50 MiB of EDN and 100k ~100× that.
const SETS: &[u64] = &[1_000, 3_000, 10_000];

const CASES: &[Case] = &[
    Case {
        checker: "echo",
        workload: "echo",
        flags: &["--node-count", "1"],
        sizes: LARGE,
        synthetic: false,
    },
    Case {
        checker: "unique-ids",
        workload: "unique-ids",
        flags: &["--node-count", "3", "--nemesis", "partition"],
        sizes: LARGE,
        synthetic: false,
    },
    Case {
        checker: "set-full",
        workload: "broadcast",
        flags: &["--node-count", "5", "--nemesis", "partition"],
        sizes: SETS,
        synthetic: false,
    },
    Case {
        checker: "set-full",
        workload: "g-set",
        flags: &["--node-count", "3", "--nemesis", "partition"],
        sizes: SETS,
        synthetic: false,
    },
    Case {
        checker: "set-full",
        workload: "g-set",
        flags: &[],
        sizes: LARGE,
        synthetic: true,
    },
    Case {
        checker: "counter",
        workload: "g-counter",
        flags: &["--node-count", "3", "--nemesis", "partition"],
        sizes: LARGE,
        synthetic: false,
    },
    Case {
        checker: "counter",
        workload: "pn-counter",
        flags: &["--node-count", "3", "--nemesis", "partition"],
        sizes: LARGE,
        synthetic: false,
    },
    // 3 workers per node, not the default 2: with 2n the closed-loop workers wait on
    // latency and a 1,000 s run makes only ~707k ops; from 3n on the run is rate-bound
    // (~93% of rate × time, the --sim cap) and 10n only makes the polls longer.
    Case {
        checker: "kafka",
        workload: "kafka",
        flags: &[
            "--node-count",
            "2",
            "--concurrency",
            "3n",
            "--nemesis",
            "partition",
        ],
        sizes: LARGE,
        synthetic: false,
    },
    Case {
        checker: "lin-kv (WGL per key)",
        workload: "lin-kv",
        flags: &[
            "--node-count",
            "3",
            "--concurrency",
            "10n",
            "--nemesis",
            "partition",
        ],
        sizes: SMALL,
        synthetic: false,
    },
    Case {
        checker: "rw-register (cycles)",
        workload: "txn-rw-register",
        flags: &["--node-count", "2", "--nemesis", "partition"],
        sizes: SMALL,
        synthetic: false,
    },
    Case {
        checker: "list-append (cycles)",
        workload: "txn-list-append",
        flags: &["--node-count", "2", "--nemesis", "partition"],
        sizes: SMALL,
        synthetic: false,
    },
];

/// The options.
struct Options {
    glomers: PathBuf,
    work: PathBuf,
    runs: usize,
    max_ops: u64,
    only: Vec<String>,
    markdown: Option<PathBuf>,
}

fn parse_options() -> Result<Options, String> {
    let mut glomers = None;
    let mut work = None;
    let mut runs = 3;
    let mut max_ops = u64::MAX;
    let mut only = Vec::new();
    let mut markdown = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| -> Result<u64, String> {
            text.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("{flag} takes a positive number, got {text:?}"))
        };
        match flag.as_str() {
            "--glomers" => glomers = Some(PathBuf::from(value()?)),
            "--work" => work = Some(PathBuf::from(value()?)),
            "--runs" => runs = number(value()?)? as usize,
            "--max-ops" => max_ops = number(value()?)?,
            "--only" => only = value()?.split(',').map(str::to_string).collect(),
            "--markdown" => markdown = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Options {
        glomers: glomers.ok_or("--glomers PATH is required")?,
        work: work.ok_or("--work DIR is required")?,
        runs,
        max_ops,
        only,
        markdown,
    })
}

/// One measured `glomers check` run.
struct Sample {
    wall: f64,
    cpu: f64,
    rss_mib: f64,
    status: i32,
}

/// One table row.
struct Row {
    checker: &'static str,
    workload: &'static str,
    ops: u64,
    history_mib: f64,
    wall: f64,
    cpu: f64,
    rss_mib: f64,
    verdict: String,
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("checker-bench: {message}");
            std::process::exit(2);
        }
    };
    let mut rows = Vec::new();
    for case in CASES {
        let named = |name: &str| name == case.workload || name == case.checker;
        if !options.only.is_empty() && !options.only.iter().any(|n| named(n)) {
            continue;
        }
        for &size in case.sizes.iter().filter(|&&s| s <= options.max_ops) {
            match bench(&options, case, size) {
                Ok(row) => {
                    eprintln!("{}", line(&row, &rows));
                    rows.push(row);
                }
                Err(message) => eprintln!("{} at {size} ops: {message}", case.workload),
            }
        }
    }
    let table = markdown(&rows);
    print!("{table}");
    if let Some(path) = &options.markdown
        && let Err(e) = std::fs::write(path, &table)
    {
        eprintln!("checker-bench: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}

/// Makes the history, checks it `--runs` times, deletes it.
fn bench(options: &Options, case: &Case, size: u64) -> Result<Row, String> {
    let store = options.work.join(format!(
        "{}-{size}",
        case.name().replace([' ', '(', ')'], "")
    ));
    let result = generate(options, case, size, &store).and_then(|run| {
        let history = run.join("history.edn");
        let history_mib = std::fs::metadata(&history)
            .map_err(|e| format!("{}: {e}", history.display()))?
            .len() as f64
            / (1 << 20) as f64;
        let ops = client_ops(&history)?;
        let samples = (0..options.runs)
            .map(|_| check(options, case, &run))
            .collect::<Result<Vec<_>, _>>()?;
        let statuses: Vec<i32> = samples.iter().map(|s| s.status).collect();
        Ok(Row {
            checker: case.checker,
            workload: case.name(),
            ops,
            history_mib,
            wall: median(samples.iter().map(|s| s.wall)),
            cpu: median(samples.iter().map(|s| s.cpu)),
            rss_mib: median(samples.iter().map(|s| s.rss_mib)),
            verdict: verdict(&statuses),
        })
    });
    let _ = std::fs::remove_dir_all(&store);
    result
}

/// `glomers test --sim …` into `store` (or set_history.rs's history); returns the run
/// directory.
fn generate(options: &Options, case: &Case, size: u64, store: &Path) -> Result<PathBuf, String> {
    if case.synthetic {
        eprintln!(
            "writing a synthetic {} history of {size} ops",
            case.workload
        );
        let run = store.join(case.workload).join("synthetic");
        std::fs::create_dir_all(&run).map_err(|e| format!("{}: {e}", run.display()))?;
        let history = run.join("history.edn");
        set_history::write(&history, size).map_err(|e| format!("{}: {e}", history.display()))?;
        return Ok(run);
    }
    let time_limit = (size / 1000).max(1).to_string();
    eprintln!(
        "generating {} {size} ops ({} --rate 1000 --time-limit {time_limit})",
        case.workload,
        case.flags.join(" ")
    );
    let status = Command::new(&options.glomers)
        .args(["test", "--sim", "--seed", "1", "--no-journal", "-w"])
        .arg(case.workload)
        .args(case.flags)
        .args(["--rate", "1000", "--time-limit", &time_limit, "--store"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", options.glomers.display()))?;
    // 0 valid, 1 invalid, 2 unknown: all leave a history worth checking.
    if !matches!(status.code(), Some(0..=2)) {
        return Err(format!("glomers test failed ({status})"));
    }
    Ok(store.join(case.workload).join("latest"))
}

/// Client invocations in a history: `:type :invoke` lines of a numbered process.
fn client_ops(history: &Path) -> Result<u64, String> {
    let file = std::fs::File::open(history).map_err(|e| format!("{}: {e}", history.display()))?;
    let mut ops = 0;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| format!("{}: {e}", history.display()))?;
        let has = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
        if has(b":type :invoke") && !has(b":process :nemesis") {
            ops += 1;
        }
    }
    Ok(ops)
}

/// One `glomers check` run, measured.
fn check(options: &Options, case: &Case, run: &Path) -> Result<Sample, String> {
    let started = Instant::now();
    let child = Command::new(&options.glomers)
        .args(["check", "--checker-timeout", "600", "-w"])
        .arg(case.workload)
        .arg(run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", options.glomers.display()))?;
    let (status, cpu, rss_kib) = wait(child.id() as libc::pid_t)?;
    Ok(Sample {
        wall: started.elapsed().as_secs_f64(),
        cpu,
        rss_mib: rss_kib as f64 / 1024.0,
        status,
    })
}

/// Reaps the child: exit status, user + sys CPU seconds, peak RSS in KiB.
fn wait(pid: libc::pid_t) -> Result<(i32, f64, i64), String> {
    let mut status = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((
        code,
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss,
    ))
}

/// The runs' verdict: valid / invalid / unknown, or the statuses if they differ.
fn verdict(statuses: &[i32]) -> String {
    let name = |s: i32| match s {
        0 => "valid".to_string(),
        1 => "invalid".to_string(),
        2 => "unknown".to_string(),
        s => format!("exit {s}"),
    };
    let first = statuses.first().copied().unwrap_or(-1);
    if statuses.iter().all(|&s| s == first) {
        name(first)
    } else {
        statuses
            .iter()
            .map(|&s| name(s))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// CPU per op relative to the same workload's smallest history (1.00× = linear growth).
fn growth(row: &Row, before: &[Row]) -> String {
    match before.iter().find(|r| r.workload == row.workload) {
        Some(first) if first.ops > 0 && row.ops > 0 && first.cpu > 0.0 => format!(
            "{:.2}×",
            (row.cpu / row.ops as f64) / (first.cpu / first.ops as f64)
        ),
        _ => "1.00×".to_string(),
    }
}

fn cells(row: &Row, before: &[Row]) -> [String; 10] {
    [
        row.checker.to_string(),
        row.workload.to_string(),
        thousands(row.ops as f64),
        format!("{:.1}", row.history_mib),
        format!("{:.2}", row.wall),
        format!("{:.2}", row.cpu),
        format!("{:.0}", row.rss_mib),
        thousands(row.ops as f64 / row.cpu.max(1e-3)),
        growth(row, before),
        row.verdict.clone(),
    ]
}

fn line(row: &Row, before: &[Row]) -> String {
    cells(row, before).join("  ")
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| checker | workload | ops | history MiB | wall s | CPU s | peak RSS MiB | ops/s (CPU) | CPU/op vs smallest | verdict |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for (i, row) in rows.iter().enumerate() {
        out.push_str(&format!("| {} |\n", cells(row, &rows[..i]).join(" | ")));
    }
    out
}
