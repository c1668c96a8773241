//! `glomers test` argument handling (MAELSTROM.md §5.5): bad arguments exit with 254.

use clap::Parser;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glomers::harness::checkers::Availability;
use glomers::harness::cli::{
    Cli, Command as CliCommand, TestConfig, parse_availability, parse_concurrency, resolve,
    split_models,
};

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
        &["test", "-w", "nope", "--sim"],
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

/// Runs glomers, killing it after `limit` (old code hung on some of these flags).
fn glomers_within(args: &[&str], limit: Duration) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run glomers");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("collect glomers");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each flag past its bound exits 254 at once with a message naming the flag. Before the
/// bounds, `--latency u64::MAX` wrapped to 0 (or panicked), `--time-limit u64::MAX`
/// overflowed, `--rate 1e308` and `--nemesis-interval 1e-300` spun forever, and
/// `--node-count` or `--nodes-file /dev/zero` allocated without end.
#[test]
fn numeric_flags_past_their_bounds_exit_254() {
    let cases = [
        ("latency", "--latency 18446744073709551615"),
        ("latency", "--latency 60001"),
        ("time-limit", "--time-limit 18446744073709551615"),
        ("time-limit", "--time-limit 86401 --rate 0"),
        ("rate", "--rate 1e308"),
        ("rate", "--rate 1e-300"),
        ("rate", "--rate 1000 --time-limit 1001"),
        ("concurrency", "--concurrency 18446744073709551615n"),
        ("concurrency", "--concurrency 10001"),
        (
            "nemesis-interval",
            "--nemesis partition --nemesis-interval 1e-300",
        ),
        (
            "nemesis-interval",
            "--nemesis partition --nemesis-interval 86401",
        ),
        ("recovery-time", "--recovery-time 1e300"),
        ("node-count", "--node-count 100000000000"),
        ("nodes-file", "--nodes-file /dev/zero"),
        ("test-count", "--test-count 1001"),
        ("key-count", "--key-count 0"),
        ("max-txn-length", "--max-txn-length 1001"),
        ("max-writes-per-key", "--max-writes-per-key 0"),
    ];
    // Refused runs write nothing; the store is only for runs that wrongly start.
    let store = std::env::temp_dir().join(format!("glomers-cli-{}", std::process::id()));
    let store = store.to_str().expect("utf-8 temp dir");
    std::thread::scope(|scope| {
        for (flag, extra) in cases {
            scope.spawn(move || {
                let line = format!("test --sim -w broadcast --store {store} {extra}");
                let args: Vec<&str> = line.split_whitespace().collect();
                let (code, stderr) = glomers_within(&args, Duration::from_secs(20));
                assert_eq!(code, 254, "{extra}: {stderr}");
                assert!(stderr.contains(&format!("--{flag}")), "{extra}: {stderr}");
            });
        }
    });
    let _ = std::fs::remove_dir_all(store);
}

/// Resolves `glomers test …` flags as the binary would (with `--bin` unless `--sim`).
fn resolve_line(line: &str) -> Result<TestConfig, String> {
    let node = if line.contains("--sim") {
        String::new()
    } else {
        format!("--bin {ECHO}")
    };
    let argv = format!("glomers test -w echo {node} {line}");
    match Cli::try_parse_from(argv.split_whitespace()) {
        Ok(Cli {
            command: CliCommand::Test(args),
        }) => resolve(args, 1),
        other => panic!("{line}: {other:?}"),
    }
}

/// Each bound admits its edge value and refuses the next one.
#[test]
fn bounds_admit_their_edges() {
    let edges = [
        ("--latency 60000", "--latency 60001"),
        ("--time-limit 86400", "--time-limit 86401"),
        ("--rate 1000000", "--rate 1000001"),
        ("--rate 0.001", "--rate 0.0009"),
        (
            "--sim --rate 1000 --time-limit 1000",
            "--sim --rate 1000 --time-limit 1001",
        ),
        ("--concurrency 10000", "--concurrency 10001"),
        (
            "--concurrency 2000n --node-count 5",
            "--concurrency 2001n --node-count 5",
        ),
        ("--nemesis-interval 0.1", "--nemesis-interval 0.09"),
        ("--nemesis-interval 86400", "--nemesis-interval 86400.5"),
        ("--recovery-time 3600", "--recovery-time 3601"),
        ("--node-count 1000", "--node-count 1001"),
        ("--test-count 1000", "--test-count 1001"),
        ("--key-count 100000", "--key-count 100001"),
        ("--max-txn-length 1000", "--max-txn-length 1001"),
        ("--max-writes-per-key 100000", "--max-writes-per-key 100001"),
    ];
    for (inside, outside) in edges {
        assert!(
            resolve_line(inside).is_ok(),
            "{inside}: {:?}",
            resolve_line(inside)
        );
        assert!(resolve_line(outside).is_err(), "{outside}");
    }
}

/// `--help` states each bound next to its flag.
#[test]
fn help_states_the_bounds() {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(["test", "--help"])
        .output()
        .expect("run glomers");
    let help = String::from_utf8_lossy(&out.stdout);
    let bounds = [
        ("--node-count", "1000"),
        ("--nodes-file", "1 MiB"),
        ("--concurrency", "10000"),
        ("--time-limit", "86400"),
        ("--rate", "1000000"),
        ("--latency ", "60000"),
        ("--nemesis-interval", "86400"),
        ("--key-count", "100000"),
        ("--max-txn-length", "1000"),
        ("--max-writes-per-key", "100000"),
        ("--test-count", "1000"),
    ];
    for (flag, bound) in bounds {
        let block = help
            .split("\n\n")
            .find(|block| block.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} missing from --help"));
        assert!(block.contains(bound), "{flag} help lacks {bound}: {block}");
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

/// `--test-count N` ends with one overall verdict line (and the worst run's exit status).
#[test]
fn test_count_prints_one_overall_verdict() {
    let store = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-count-store");
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "test",
            "-w",
            "echo",
            "--sim",
            "--time-limit",
            "1",
            "--test-count",
            "3",
        ])
        .arg("--store")
        .arg(&store)
        .output()
        .expect("glomers test");
    let _ = std::fs::remove_dir_all(&store);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.trim_end().ends_with("All 3 tests valid."),
        "{stdout}"
    );
    assert_eq!(
        glomers::harness::session::rounds_verdict(5, &[7, 9]),
        "2 of 5 tests not valid (seeds 7 9)."
    );
}
