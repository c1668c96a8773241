//! `glomers check` on the real Maelstrom runs in tests/fixtures/maelstrom-runs (a copy of the
//! project's shared fixtures): the binary, not the library call, must reach Maelstrom's
//! verdict, and its workload result the same anomaly and error types, on each; and it must
//! fail cleanly (254) on a directory it cannot read.

use std::path::{Path, PathBuf};
use std::process::Command;

use glomers::harness::checkers::value::clj_eq;
use glomers::harness::edn::read_results_edn;
use simd_json::OwnedValue;
use simd_json::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/maelstrom-runs");

/// Each fixture with a history, its workload and the flags its README gives.
const CASES: &[(&str, &str, &[&str])] = &[
    ("echo-valid", "echo", &[]),
    ("echo-garbled-invalid", "echo", &[]),
    ("broadcast-5n-valid", "broadcast", &[]),
    ("broadcast-5n-partition-valid", "broadcast", &[]),
    ("g-set-partition-valid", "g-set", &[]),
    ("g-counter-partition-valid", "g-counter", &[]),
    ("pn-counter-partition-valid", "pn-counter", &[]),
    ("kafka-2n-valid", "kafka", &[]),
    ("kafka-reused-offset-invalid", "kafka", &[]),
    ("lin-kv-raft-valid", "lin-kv", &[]),
    ("lin-kv-unreplicated-invalid", "lin-kv", &[]),
    (
        "txn-rw-register-read-committed-valid",
        "txn-rw-register",
        &[
            "--consistency-models",
            "read-committed",
            "--availability",
            "total",
        ],
    ),
    (
        "txn-rw-register-serializable-invalid",
        "txn-rw-register",
        &[
            "--consistency-models",
            "serializable",
            "--availability",
            "total",
        ],
    ),
    ("txn-list-append-stale-read-invalid", "txn-list-append", &[]),
    ("txn-list-append-valid", "txn-list-append", &[]),
];

struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(args: &[&str]) -> Checked {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("check")
        .args(args)
        .output()
        .expect("run glomers check");
    Checked {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn at<'a>(v: &'a OwnedValue, path: &[&str]) -> Option<&'a OwnedValue> {
    path.iter().try_fold(v, |v, key| v.get(*key))
}

/// A temporary directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn check_reaches_maelstroms_verdicts_and_anomaly_types_on_every_fixture() {
    let scratch = Scratch(
        std::env::temp_dir().join(format!("glomers-check-fixtures-{}", std::process::id())),
    );
    let mut disagreements = Vec::new();
    for (name, workload, flags) in CASES {
        let dir = Path::new(FIXTURES).join(name);
        let out = scratch.0.join(name);
        let mut args = vec!["-w", workload, "--out", out.to_str().expect("utf-8 path")];
        args.extend_from_slice(flags);
        args.push(dir.to_str().expect("utf-8 path"));
        let run = check(&args);
        let theirs = read_results_edn(&dir.join("results.edn")).expect("fixture results");
        let expected_code = match theirs.get("valid?").and_then(|v| v.as_bool()) {
            Some(true) => 0,
            Some(false) => 1,
            None => 2,
        };
        if run.code != expected_code {
            disagreements.push(format!(
                "{name}: exit {} (Maelstrom's verdict means {expected_code})\n{}\n{}",
                run.code, run.stderr, run.stdout
            ));
            continue;
        }
        let ours = read_results_edn(&out.join("results.edn")).expect("--out results.edn");
        for key in ["valid?", "anomaly-types", "error-types", "bad-error-types"] {
            let (a, b) = (
                at(&ours, &["workload", key]),
                at(&theirs, &["workload", key]),
            );
            if let Some(b) = b
                && !a.is_some_and(|a| clj_eq(a, b))
            {
                disagreements.push(format!(
                    "{name}: workload {key}: ours {:?}, Maelstrom's {b:?}",
                    a.map(|a| a.encode())
                ));
            }
        }
        assert!(
            run.stdout.contains(":valid?"),
            "{name}: the results map is printed\n{}",
            run.stdout
        );
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n\n"));
}

#[test]
fn the_workload_and_options_come_from_the_run_when_not_given() {
    // Our own run directory: the store layout names the workload, jepsen.log the options.
    let store =
        Scratch(std::env::temp_dir().join(format!("glomers-check-own-{}", std::process::id())));
    let test = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "test",
            "--sim",
            "-w",
            "txn-rw-register",
            "--node-count",
            "2",
            "--time-limit",
            "3",
            "--rate",
            "50",
            "--consistency-models",
            "read-committed",
            "--availability",
            "total",
            "--seed",
            "4",
            "--store",
        ])
        .arg(&store.0)
        .output()
        .expect("glomers test");
    assert_eq!(
        test.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let run = store.0.join("txn-rw-register").join("latest");
    let files_before = std::fs::read_dir(&run).expect("run dir").count();
    let checked = check(&[run.to_str().expect("utf-8")]);
    assert_eq!(checked.code, 0, "{}\n{}", checked.stderr, checked.stdout);
    let said = "workload txn-rw-register, consistency models read-committed, availability Total";
    assert!(checked.stderr.contains(said), "{}", checked.stderr);
    let files_after = std::fs::read_dir(&run).expect("run dir").count();
    assert_eq!(
        files_before, files_after,
        "check writes nothing without --out"
    );

    let out = store.0.join("rechecked");
    let checked = check(&[
        "--out",
        out.to_str().expect("utf-8"),
        run.to_str().expect("utf-8"),
    ]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    let original = read_results_edn(&run.join("results.edn")).expect("run results");
    let again = read_results_edn(&out.join("results.edn")).expect("check results");
    for key in ["net", "workload", "stats", "availability"] {
        let (a, b) = (at(&again, &[key]), at(&original, &[key]));
        assert!(
            a.zip(b).is_some_and(|(a, b)| clj_eq(a, b)),
            "{key}: check {:?} vs the run's {:?}",
            a.map(|v| v.encode()),
            b.map(|v| v.encode())
        );
    }
}

#[test]
fn unreadable_runs_are_clear_errors() {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("glomers-check-bad-{}", std::process::id())));
    let bad = scratch.0.join("echo").join("20260101T000000.000Z");
    std::fs::create_dir_all(&bad).expect("dir");
    let missing = check(&[bad.to_str().expect("utf-8")]);
    assert_eq!(missing.code, 254);
    assert!(
        missing.stderr.contains("holds no history.edn"),
        "{}",
        missing.stderr
    );

    std::fs::write(
        bad.join("history.edn"),
        "{:index 0, :type :invoke, :process 0\n",
    )
    .expect("w");
    let truncated = check(&[bad.to_str().expect("utf-8")]);
    assert_eq!(truncated.code, 254, "{}", truncated.stderr);
    assert!(
        truncated.stderr.contains("ends inside a form"),
        "{}",
        truncated.stderr
    );

    std::fs::write(
        bad.join("history.edn"),
        "{:index 0, :type :bogus, :process 0, :f :echo}\n",
    )
    .expect("w");
    let malformed = check(&[bad.to_str().expect("utf-8")]);
    assert_eq!(malformed.code, 254, "{}", malformed.stderr);
    assert!(malformed.stderr.contains(":type"), "{}", malformed.stderr);

    let nowhere = check(&["-w", "echo", "/nonexistent/run"]);
    assert_eq!(nowhere.code, 254);
    let unknown = check(&["-w", "ecko", bad.to_str().expect("utf-8")]);
    assert_eq!(unknown.code, 254);
    assert!(
        unknown.stderr.contains("unknown workload"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn an_exploding_linearizability_search_ends_unknown_within_the_budget() {
    // 28 concurrent writes that never completed (info) on one key, then a read of a value
    // nobody wrote: the search must consider every subset and order of the writes.
    let scratch =
        Scratch(std::env::temp_dir().join(format!("glomers-check-explode-{}", std::process::id())));
    let run = scratch.0.join("lin-kv").join("20260101T000000.000Z");
    std::fs::create_dir_all(&run).expect("dir");
    let mut lines = Vec::new();
    let mut push = |time: u64, kind: &str, process: u64, f: &str, value: &str| {
        let index = lines.len();
        lines.push(format!(
            "{{:index {index}, :time {time}, :type :{kind}, :process {process}, :f :{f}, :value {value}}}"
        ));
    };
    let writers = 28;
    for p in 0..writers {
        push(p, "invoke", p, "write", &format!("[0 {p}]"));
    }
    push(50, "invoke", writers, "write", "[1 7]");
    push(60, "ok", writers, "write", "[1 7]");
    push(100, "invoke", writers + 1, "read", "[0 nil]");
    push(101, "ok", writers + 1, "read", "[0 999]");
    for p in 0..writers {
        push(200 + p, "info", p, "write", &format!("[0 {p}]"));
    }
    std::fs::write(run.join("history.edn"), lines.join("\n") + "\n").expect("history");
    let started = std::time::Instant::now();
    let checked = check(&["--checker-timeout", "1", run.to_str().expect("utf-8")]);
    let took = started.elapsed();
    assert_eq!(
        checked.code, 2,
        "unknown\n{}\n{}",
        checked.stderr, checked.stdout
    );
    assert!(
        checked
            .stdout
            .contains("the checker ran out of time after 1 s"),
        "{}",
        checked.stdout
    );
    assert!(took.as_secs() < 30, "bounded: {took:?}");
    let bad = check(&["--checker-timeout", "0", run.to_str().expect("utf-8")]);
    assert_eq!(bad.code, 254, "{}", bad.stderr);
}
