//! Deterministic simulation: one seed and one set of flags give byte-identical history,
//! network journal and results — in-process (twice in one process, so any randomly seeded
//! hash map whose order leaked into output would show) and through `glomers test --sim`
//! (every file of the run directory). A failing run prints the one command that replays it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use glomers::harness::results::{console_summary, history_edn_line};
use glomers::harness::session::{Sinks, execute, test_config};
use parking_lot::Mutex;

/// A journal sink the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// (history.edn, results summary, journal) of one in-process run.
fn run(flags: &[&str]) -> (String, String, Vec<u8>) {
    let config = test_config(flags, 0).expect("config");
    let journal = Shared::default();
    let sinks = Sinks {
        journal: Some(Box::new(journal.clone())),
        node_logs: Path::new(""),
    };
    let outcome = execute(&config, sinks).expect("run");
    let history: String = outcome
        .history
        .ops
        .iter()
        .map(|op| history_edn_line(op) + "\n")
        .collect();
    let journal = journal.0.lock().clone();
    (history, console_summary(&outcome.results), journal)
}

fn assert_replays(flags: &[&str]) {
    let (history, results, journal) = run(flags);
    assert!(history.lines().count() > 50, "{flags:?}: a real history");
    assert!(journal.len() > 1000, "{flags:?}: a real journal");
    let again = run(flags);
    assert!(history == again.0, "{flags:?}: same history");
    assert!(results == again.1, "{flags:?}: same results");
    assert!(journal == again.2, "{flags:?}: same journal bytes");
}

#[test]
fn same_seed_same_bytes_in_process() {
    let broadcast = [
        "-w",
        "broadcast",
        "--sim",
        "--node-count",
        "5",
        "--time-limit",
        "5",
        "--rate",
        "30",
        "--latency",
        "20",
        "--latency-dist",
        "uniform",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "2",
        "--seed",
        "42",
    ];
    assert_replays(&broadcast);
    // Every fault on, and more than 32 nodes (hash-backed JSON objects: the topology).
    let faulty = [
        "-w",
        "broadcast",
        "--sim",
        "--node-count",
        "40",
        "--time-limit",
        "3",
        "--rate",
        "40",
        "--latency",
        "10",
        "--latency-dist",
        "exponential",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--recovery-time",
        "2",
        "--loss",
        "0.1",
        "--duplicate",
        "0.1",
        "--reorder-ms",
        "30",
        "--clock-skew",
        "0.3",
        "--asymmetric-partitions",
        "--topology",
        "tree2",
        "--seed",
        "7",
    ];
    assert_replays(&faulty);
    let counter = [
        "-w",
        "g-counter",
        "--sim",
        "--node-count",
        "3",
        "--time-limit",
        "5",
        "--rate",
        "30",
        "--latency",
        "5",
        "--nemesis",
        "partition",
        "--recovery-time",
        "2",
        "--seed",
        "9",
    ];
    assert_replays(&counter);
    let other_seed: Vec<&str> = broadcast
        .iter()
        .map(|w| if *w == "42" { "43" } else { w })
        .collect();
    assert_ne!(
        run(&broadcast).0,
        run(&other_seed).0,
        "another seed, another history"
    );
}

fn glomers(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .output()
        .expect("run glomers")
}

/// Every file under `dir`, relative path → bytes, sorted.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.push((path.strip_prefix(dir).expect("prefix").to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn glomers_test_sim_writes_identical_run_directories() {
    let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-determinism");
    let _ = std::fs::remove_dir_all(&store);
    let store_arg = store.to_string_lossy().into_owned();
    let args = [
        "test",
        "--sim",
        "-w",
        "g-set",
        "--node-count",
        "4",
        "--time-limit",
        "4",
        "--rate",
        "40",
        "--latency",
        "15",
        "--nemesis",
        "partition",
        "--recovery-time",
        "2",
        "--loss",
        "0.05",
        "--seed",
        "1234",
        "--store",
        &store_arg,
    ];
    let mut runs = Vec::new();
    for _ in 0..2 {
        let out = glomers(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let latest = std::fs::canonicalize(store.join("g-set").join("latest")).expect("latest");
        runs.push(files(&latest));
    }
    let names: Vec<_> = runs[0].iter().map(|(p, _)| p.clone()).collect();
    for wanted in [
        "history.edn",
        "results.json",
        "results.edn",
        "net-journal.jsonl",
        "jepsen.log",
    ] {
        assert!(
            names.contains(&PathBuf::from(wanted)),
            "{wanted} written: {names:?}"
        );
    }
    assert_eq!(
        names,
        runs[1].iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in runs[0].iter().zip(&runs[1]) {
        assert!(
            a == b,
            "{} differs between two runs of one seed",
            name.display()
        );
    }
    let results = String::from_utf8_lossy(
        &runs[0]
            .iter()
            .find(|(p, _)| p.ends_with("results.json"))
            .expect("results")
            .1,
    )
    .into_owned();
    assert!(
        results.contains("\"faults\""),
        "faults named in results.json"
    );
}

#[test]
fn a_failing_run_prints_a_replay_command_that_replays_it() {
    let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-replay");
    let _ = std::fs::remove_dir_all(&store);
    let store_arg = store.to_string_lossy().into_owned();
    // Every inter-node message lost: values never spread, so the run is invalid.
    let out = glomers(&[
        "test",
        "--sim",
        "-w",
        "broadcast",
        "--node-count",
        "3",
        "--time-limit",
        "2",
        "--rate",
        "20",
        "--loss",
        "1",
        "--recovery-time",
        "1",
        "--store",
        &store_arg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let replay = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Replay: "))
        .unwrap_or_else(|| panic!("no replay line in {stderr}"));
    assert!(
        replay.contains("--sim") && replay.contains("--seed "),
        "{replay}"
    );
    let first = std::fs::read(store.join("latest").join("history.edn")).expect("history");
    let words: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let again = glomers(&words);
    assert_eq!(again.status.code(), Some(1));
    let second = std::fs::read(store.join("latest").join("history.edn")).expect("history");
    assert!(first == second, "the replay reproduces the history");
}
