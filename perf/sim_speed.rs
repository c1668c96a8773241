//! Simulation speed: the Gossip Glomers 3d test (`-w broadcast --node-count 25
//! --time-limit 20 --rate 100 --latency 100`, 30 s of virtual time with the recovery
//! sleep) and a 5-node echo test, in-process on the virtual clock (`--sim`), against the
//! same test with real node processes in real time.
//!
//! Prints, per setup, the median wall time and the median CPU time (this thread's, which a
//! busy shared machine disturbs far less) of `--runs` in-process runs (run + check, no
//! files), one `glomers test --sim` run end to end (with the store directory written),
//! and — with `--process` — one process-mode run of the same test (about 30 s for 3d).
//! Usage:
//!
//!     cargo build --release --bin glomers --bin broadcast --bin echo --example sim-speed
//!     ./target/release/examples/sim-speed [--runs 5] [--seed 1] [--process]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glomers::harness::session::{Sinks, execute, test_config};

const SETUPS: [(&str, &str, &[&str]); 2] = [
    (
        "3d broadcast",
        "broadcast",
        &[
            "-w",
            "broadcast",
            "--node-count",
            "25",
            "--time-limit",
            "20",
            "--rate",
            "100",
            "--latency",
            "100",
        ],
    ),
    (
        "echo",
        "echo",
        &[
            "-w",
            "echo",
            "--node-count",
            "5",
            "--time-limit",
            "10",
            "--rate",
            "100",
        ],
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "1".to_string());
    let process = args.iter().any(|a| a == "--process");
    let release = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
        .expect("target/release directory");
    // A store of this run's own, removed at the end.
    let store = std::env::temp_dir().join(format!("glomers-sim-speed-{}", std::process::id()));
    for (name, bin, flags) in SETUPS {
        let mut sim_flags = flags.to_vec();
        sim_flags.extend(["--sim", "--seed", &seed]);
        let config = test_config(&sim_flags, 1).expect("config");
        let mut walls = Vec::with_capacity(runs);
        let mut cpus = Vec::with_capacity(runs);
        let mut summary = String::new();
        for _ in 0..runs {
            let started = Instant::now();
            let cpu_started = thread_cpu_seconds();
            let outcome = execute(
                &config,
                Sinks {
                    journal: None,
                    node_logs: Path::new(""),
                },
            )
            .expect("sim run");
            walls.push(started.elapsed().as_secs_f64());
            cpus.push(thread_cpu_seconds() - cpu_started);
            summary = format!(
                "valid? {}, {} ops, servers msgs-per-op {}",
                outcome.results["valid?"],
                outcome.history.ops.len(),
                outcome.results["net"]["servers"]["msgs-per-op"]
            );
        }
        walls.sort_by(f64::total_cmp);
        cpus.sort_by(f64::total_cmp);
        let median = walls[walls.len() / 2];
        println!(
            "{name}: in-process --sim, median of {runs}: {:.1} ms wall, {:.1} ms CPU ({summary})",
            median * 1e3,
            cpus[cpus.len() / 2] * 1e3
        );
        let cli = timed(
            &release.join("glomers"),
            &["test", "--sim", "--seed", &seed],
            flags,
            &store,
        );
        println!(
            "{name}: glomers test --sim (writes the store): {:.1} ms",
            cli * 1e3
        );
        if process {
            let bin = release.join(bin);
            let bin = bin.to_string_lossy().into_owned();
            let real = timed(
                &release.join("glomers"),
                &["test", "--seed", &seed, "--bin", &bin],
                flags,
                &store,
            );
            println!(
                "{name}: glomers test --bin (processes, real time): {:.1} s = {:.0}× the in-process sim",
                real,
                real / median
            );
        }
    }
    let _ = std::fs::remove_dir_all(&store);
}

/// Wall seconds of one `glomers` run; panics unless it exits 0.
fn timed(glomers: &PathBuf, head: &[&str], flags: &[&str], store: &Path) -> f64 {
    let started = Instant::now();
    let out = Command::new(glomers)
        .args(head)
        .args(flags)
        .arg("--store")
        .arg(store)
        .output()
        .expect("run glomers");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{head:?} {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wall
}

/// CPU time this thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    // SAFETY: timespec is plain data, fully written by clock_gettime on success.
    let mut time: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer to a timespec.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "clock_gettime failed");
    time.tv_sec as f64 + time.tv_nsec as f64 * 1e-9
}
