//! The CLI as a newcomer meets it (issue 18): sweep speaks of what sweep takes, strategies
//! are recorded wherever flags are, negative numbers get real errors, unusable `--bin`s
//! are usage errors with a hint, `report` explains crashed and invalid runs, `--version`.

#[path = "common/e2e.rs"]
mod e2e;

use std::ffi::OsString;
use std::process::{Command, Output};

use e2e::{Store, run};
use glomers::harness::session::{replay_command, test_config};

const ECHO: &str = "tests/nodes/echo.py";

fn glomers(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_glomers"));
    command.args(args).env_remove("GLOMERS_BROADCAST");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run glomers")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn sweep_help_and_errors_speak_of_sweep() {
    let help = glomers(&["sweep", "--help"], &[]);
    let help = text(&help.stdout);
    assert!(help.contains("A sweep runs our own node"), "{help}");
    let options: Vec<&str> = help.lines().map(str::trim_start).collect();
    assert!(
        !options
            .iter()
            .any(|l| l.starts_with("--bin") || l.starts_with("--sim")),
        "{help}"
    );
    assert!(!help.contains("[ARGS]"), "{help}");
    let out = glomers(&["sweep", "--seeds", "2", "-w", "echo", "--bin", ECHO], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(stderr.contains("belongs to `glomers test`"), "{stderr}");
    assert!(!stderr.contains("exclude each other"), "{stderr}");
}

#[test]
fn sweep_header_echoes_every_flag_and_the_strategy() {
    let args =
        "sweep --seeds 2 --jobs 1 -w broadcast --node-count 2 --time-limit 1 --rate 10 --seed 4";
    let args: Vec<&str> = args.split_whitespace().collect();
    let out = glomers(&args, &[("GLOMERS_BROADCAST", "3d")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "GLOMERS_BROADCAST=3d glomers_path sweep --seeds 2 --jobs 1 -w broadcast --node-count 2 --time-limit 1 --rate 10 --seed 4"
                .replace("glomers_path", env!("CARGO_BIN_EXE_glomers"))
                .as_str()
        ),
        "{stderr}"
    );
}

#[test]
fn the_strategy_is_in_the_replay_command_the_log_and_the_results() {
    // SAFETY: no other thread of this test binary reads the environment concurrently with
    // this write (test_config below is the reader, on this thread).
    unsafe { std::env::set_var("GLOMERS_BROADCAST", "3e:period=400ms") };
    let config = test_config(&["-w", "broadcast", "--sim"], 1).expect("config");
    unsafe { std::env::remove_var("GLOMERS_BROADCAST") };
    let argv: Vec<OsString> = ["glomers", "test", "-w", "broadcast", "--sim"]
        .iter()
        .map(OsString::from)
        .collect();
    assert_eq!(
        replay_command(&argv, &config, 9),
        "GLOMERS_BROADCAST=3e:period=400ms glomers test -w broadcast --sim --seed 9"
    );
    let store = Store::new("strategy-record");
    let out = glomers(
        &[
            "test",
            "-w",
            "broadcast",
            "--sim",
            "--node-count",
            "2",
            "--time-limit",
            "1",
            "--rate",
            "10",
            "--recovery-time",
            "0.5",
            "--store",
            store.0.to_str().expect("path"),
        ],
        &[("GLOMERS_BROADCAST", "3d")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let latest = store.0.join("latest");
    let results = std::fs::read_to_string(latest.join("results.json")).expect("results");
    assert!(
        results.contains("\"GLOMERS_BROADCAST\": \"3d\""),
        "{results}"
    );
    let log = std::fs::read_to_string(latest.join("jepsen.log")).expect("log");
    assert!(log.contains("GLOMERS_BROADCAST"), "{log}");
}

#[test]
fn negative_numbers_get_real_errors() {
    for (flag, value, expected) in [
        ("--rate", "-5", "--rate"),
        ("--seed", "-1", "invalid value '-1'"),
        ("--time-limit", "-3", "invalid value '-3'"),
    ] {
        let out = glomers(&["test", "-w", "echo", "--bin", ECHO, flag, value], &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{flag} {value}: {stderr}");
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
        assert!(
            !stderr.contains("use '--"),
            "{flag} {value}: clap's tip: {stderr}"
        );
    }
}

#[test]
fn unusable_bins_are_usage_errors_with_a_hint() {
    let store = Store::new("unusable-bin");
    let script = store.0.join("node.py");
    std::fs::write(&script, "#!/usr/bin/env python3\n").expect("write");
    let dir = store.0.to_str().expect("path");
    for (bin, hint) in [
        (script.to_str().expect("path"), "chmod +x"),
        (dir, "is a directory"),
    ] {
        let out = glomers(&["test", "-w", "echo", "--bin", bin], &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(254), "{bin}: {stderr}");
        assert!(stderr.contains(hint), "{bin}: {stderr}");
        assert!(!stderr.contains("Replay:"), "{bin}: {stderr}");
    }
}

#[test]
fn report_explains_crashed_and_invalid_runs() {
    let store = Store::new("report");
    let crashed = run(
        &store,
        "-w echo --bin tests/nodes/echo_exit.py --node-count 1 --time-limit 3 --rate 20",
    );
    assert_eq!(crashed.code, 255);
    let dir = store.0.join("latest");
    let out = glomers(&["report", dir.to_str().expect("path")], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(255), "{stdout}");
    assert!(stdout.contains("The run crashed"), "{stdout}");
    assert!(stdout.contains("crashed with exit status 3"), "{stdout}");
    let invalid = run(
        &store,
        "-w echo --bin tests/nodes/echo_garble.py --node-count 1 --time-limit 1 --rate 20",
    );
    assert_eq!(invalid.code, 1);
    let out = glomers(&["report", "--brief", dir.to_str().expect("path")], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("failing           workload invalid ("),
        "{stdout}"
    );
}

#[test]
fn version_and_crash_reports_without_empty_headers() {
    let out = glomers(&["--version"], &[]);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("glomers {}", env!("CARGO_PKG_VERSION"))
    );
    let store = Store::new("no-stdout");
    let crashed = run(
        &store,
        "-w echo --bin tests/nodes/echo_exit.py --node-count 1 --time-limit 3 --rate 20",
    );
    assert!(
        !crashed.stderr.contains("Last STDOUT lines:\nLast"),
        "{}",
        crashed.stderr
    );
    assert!(
        crashed.stderr.contains("Last STDOUT lines:")
            || crashed.stderr.contains("No STDOUT output."),
        "{}",
        crashed.stderr
    );
}

#[test]
fn keep_runs_prunes_old_runs_and_no_journal_skips_the_journal() {
    let store = Store::new("retention");
    let root = store.0.to_str().expect("path");
    for _ in 0..3 {
        let out = glomers(
            &[
                "test",
                "-w",
                "echo",
                "--sim",
                "--node-count",
                "1",
                "--time-limit",
                "1",
                "--rate",
                "10",
                "--keep-runs",
                "2",
                "--no-journal",
                "--store",
                root,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let runs: Vec<_> = std::fs::read_dir(store.0.join("echo"))
        .expect("runs")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .collect();
    assert_eq!(runs.len(), 2, "the newest two runs are kept");
    assert!(store.0.join("latest/results.json").exists());
    assert!(!store.0.join("latest/net-journal.jsonl").exists());
    let out = glomers(&["test", "-w", "echo", "--sim", "--keep-runs", "0"], &[]);
    assert_eq!(out.status.code(), Some(254));
}
