//! The helper scripts' argument handling and their messages when a tool is missing.
//! (Running a real challenge needs Maelstrom and a JDK, which CI does not have.)

use std::process::{Command, Output};

fn script(name: &str, args: &[&str], path: &str) -> Output {
    Command::new("bash")
        .arg(format!("{}/scripts/{name}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .env("PATH", path)
        .env_remove("MAELSTROM")
        .output()
        .expect("run script")
}

fn system_path() -> String {
    std::env::var("PATH").unwrap_or_default()
}

#[test]
fn maelstrom_script_rejects_bad_arguments_with_usage() {
    for args in [&[][..], &["9z"][..], &["--harness"][..]] {
        let out = script("maelstrom.sh", args, &system_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("CHALLENGE: 1 2 3a"),
            "usage missing for {args:?}: {stderr}"
        );
    }
    let out = script("maelstrom.sh", &["9z"], &system_path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown challenge '9z'"));
}

#[test]
fn maelstrom_script_explains_where_to_get_maelstrom() {
    // PATH without any maelstrom; cargo is not reached because the check comes first.
    let out = script("maelstrom.sh", &["3b"], "/usr/bin:/bin");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Maelstrom not found"), "{stderr}");
    assert!(
        stderr.contains("releases page") && stderr.contains("JDK"),
        "{stderr}"
    );
    assert!(stderr.contains("--harness"), "{stderr}");
}

#[test]
fn profile_script_rejects_bad_arguments() {
    let out = script("profile.sh", &[], &system_path());
    assert_eq!(out.status.code(), Some(2));
    let out = script("profile.sh", &["no-such-workload"], &system_path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no load generator"));
    let out = script("profile.sh", &["echo", "many"], &system_path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REQUESTS must be a number"));
}

#[test]
fn crdt_sweep_script_rejects_bad_arguments_with_usage() {
    // Rejected before anything is built or run.
    for args in [
        &["--seeds"][..],
        &["--seeds", "0"][..],
        &["--jobs", "x"][..],
        &["--time-limit", "-1"][..],
        &["--bogus"][..],
    ] {
        let out = script("crdt-sweep.sh", args, &system_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("usage: scripts/crdt-sweep.sh"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: no table");
    }
}

#[test]
fn txn_scripts_reject_bad_arguments_before_building() {
    for args in [
        &["--seeds", "many"][..],
        &["--jobs"][..],
        &["--frobnicate"][..],
    ] {
        let out = script("txn-sweeps.sh", args, &system_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage"),
            "{args:?}"
        );
    }
    let perf = |args: &[&str]| {
        Command::new("bash")
            .arg(format!(
                "{}/perf/txn-rw-register.sh",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args(args)
            .output()
            .expect("run perf script")
    };
    for args in [&["--runs", "0"][..], &["--runs", "x"][..], &["--what"][..]] {
        let out = perf(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage"),
            "{args:?}"
        );
    }
}

#[test]
fn timely_matrix_script_rejects_bad_arguments_with_usage() {
    // Rejected before anything is built or run.
    for args in [
        &["--seeds"][..],
        &["--seeds", "x"][..],
        &["--jobs", "-1"][..],
        &["--bogus"][..],
    ] {
        let out = script("timely-matrix.sh", args, &system_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("usage: scripts/timely-matrix.sh"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: no table");
    }
}

#[test]
fn checker_bench_script_rejects_bad_arguments_with_usage() {
    // Rejected before anything is built, generated or timed.
    for args in [
        &["--runs"][..],
        &["--runs", "0"][..],
        &["--max-ops", "many"][..],
        &["--only", "Kafka;rm"][..],
        &["--bogus"][..],
    ] {
        let out = script("checker-bench.sh", args, &system_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("Usage: scripts/checker-bench.sh"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: no table");
    }
}
