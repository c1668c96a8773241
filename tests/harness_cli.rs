//! `glomers test` argument handling (MAELSTROM.md §5.5): bad arguments exit with 254.

use std::process::Command;

use glomers::harness::checkers::Availability;
use glomers::harness::cli::{parse_availability, parse_concurrency, split_models};

fn glomers(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .output()
        .expect("run glomers");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const ECHO: &str = "tests/nodes/echo.py";

#[test]
fn bad_arguments_exit_254_with_a_message() {
    let cases: &[&[&str]] = &[
        &["test", "-w", "echo", "--bin", ECHO, "--bogus-flag"],
        &["test", "-w", "echo"],
        &["test", "-w", "nope", "--bin", ECHO],
        &["test", "-w", "echo", "--bin", ECHO, "--concurrency", "3x"],
        &["test", "-w", "echo", "--bin", ECHO, "--time-limit", "ten"],
        &[
            "test",
            "-w",
            "echo",
            "--bin",
            ECHO,
            "--availability",
            "most",
        ],
        &["test", "-w", "echo", "--bin", ECHO, "--nemesis", "kill"],
        &[
            "test",
            "-w",
            "echo",
            "--bin",
            ECHO,
            "--latency-dist",
            "normal",
        ],
        &["test", "-w", "echo", "--bin", ECHO, "--topology", "star"],
        &["test", "-w", "echo", "--bin", "/nonexistent/node"],
        &["test", "-w", "echo", "--bin", ECHO, "--rate", "-1"],
        &["frobnicate"],
        &["test", "-w", "echo", "--sim", "--bin", ECHO],
        &["test", "-w", "lin-kv", "--sim"],
        &["test", "-w", "echo", "--sim", "--loss", "2"],
        &["test", "-w", "echo", "--sim", "--asymmetric-partitions"],
        &["test", "-w", "echo", "--bin", ECHO, "--clock-skew", "0.1"],
        &["sweep", "--seeds", "0", "-w", "echo"],
        &["sweep", "--seeds", "3", "--jobs", "0", "-w", "echo"],
        &["sweep", "-w", "echo"],
        &["report"],
    ];
    for args in cases {
        let (code, stderr) = glomers(args);
        assert_eq!(code, 254, "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?} printed no error");
    }
}

#[test]
fn help_exits_zero() {
    assert_eq!(glomers(&["test", "--help"]).0, 0);
}

#[test]
fn option_parsing_quirks() {
    assert_eq!(parse_concurrency("2n", 5), Ok(10));
    assert_eq!(parse_concurrency("7", 5), Ok(7));
    assert!(parse_concurrency("n", 5).is_err());
    assert!(parse_concurrency("0", 5).is_err());
    assert_eq!(
        split_models("read-committed , serializable"),
        vec!["read-committed", "serializable"]
    );
    assert_eq!(
        split_models("read-committed,serializable"),
        vec!["read-committed,serializable"]
    );
    assert_eq!(split_models("a ,b"), vec!["a ,b"]);
    assert_eq!(parse_availability(Some("total")), Ok(Availability::Total));
    assert_eq!(
        parse_availability(Some("0.5")),
        Ok(Availability::Fraction(0.5))
    );
    assert_eq!(parse_availability(None), Ok(Availability::Any));
    assert!(parse_availability(Some("1.5")).is_err());
}

#[test]
fn store_directory_names_use_jodas_basic_format() {
    use glomers::harness::results::store::timestamp;
    use std::time::{Duration, UNIX_EPOCH};
    let at = UNIX_EPOCH + Duration::from_millis(1_706_711_101_123);
    assert_eq!(timestamp(at), "20240131T142501.123Z");
    assert_eq!(timestamp(UNIX_EPOCH), "19700101T000000.000Z");
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
    assert_eq!(timestamp(leap), "20000229T000000.000Z");
}

#[test]
fn sweep_reports_failing_seeds_with_replay_commands_and_exits_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "sweep",
            "--seeds",
            "3",
            "--jobs",
            "2",
            "--seed",
            "10",
            "-w",
            "broadcast",
        ])
        .args([
            "--node-count",
            "3",
            "--time-limit",
            "2",
            "--rate",
            "20",
            "--loss",
            "1",
        ])
        .args(["--recovery-time", "1"])
        .output()
        .expect("run glomers");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 seeds, 3 failed"), "{stdout}");
    for seed in 10..13 {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("seed {seed} invalid")))
            .unwrap_or_else(|| panic!("seed {seed} listed: {stdout}"));
        assert!(
            line.contains(" test -w broadcast ") && line.contains("--sim"),
            "{line}"
        );
        assert!(line.ends_with(&format!("--seed {seed}")), "{line}");
        assert!(
            !line.contains("--seeds") && !line.contains("--jobs"),
            "{line}"
        );
    }
    let ok = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "sweep",
            "--seeds",
            "4",
            "-w",
            "echo",
            "--node-count",
            "2",
            "--time-limit",
            "2",
        ])
        .output()
        .expect("run glomers");
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("4 seeds, 0 failed"));
}

#[test]
fn workload_is_required_and_help_lists_workloads_and_exit_statuses() {
    let (code, stderr) = glomers(&["test", "--bin", ECHO]);
    assert_eq!(code, 254, "{stderr}");
    assert!(stderr.contains("--workload"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(["test", "--help"])
        .output()
        .expect("run glomers");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for name in glomers::harness::registry::names() {
        assert!(help.contains(name), "{name} not in test --help:\n{help}");
    }
    assert!(help.contains("254 bad arguments"), "{help}");
    // A workload without an in-process node of ours is refused under --sim, by name.
    let unsimulated = glomers::harness::registry::WORKLOADS
        .iter()
        .find(|w| w.node.is_none());
    if let Some(spec) = unsimulated {
        let (code, stderr) = glomers(&["test", "-w", spec.name, "--sim"]);
        assert_eq!(code, 254);
        assert!(stderr.contains("--sim has no in-process node"), "{stderr}");
    }
}

#[test]
fn challenges_lists_each_with_its_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("challenges")
        .output()
        .expect("run glomers");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l
            == "3d\tbroadcast\tGLOMERS_BROADCAST=3d\t--node-count 25 --time-limit 20 --rate 100 --latency 100"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("1\techo\t-\t")),
        "{text}"
    );
}
