//! The CLI a stranger meets after `cargo install` (issue 27): `--bin NAME` looked up on
//! PATH like a shell would (a bare name in the current directory still runs when PATH
//! has none), a missing or mistyped `-w` answered with the workloads and the closest
//! name, and `glomers completions SHELL`.

#[path = "common/e2e.rs"]
mod e2e;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use e2e::Store;
use glomers::harness::registry;

const ECHO: &str = "tests/nodes/echo.py";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `glomers ARGS`, run in `cwd` with `path` as PATH.
fn glomers_in(cwd: &Path, path: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .current_dir(cwd)
        .env("PATH", path)
        .output()
        .expect("run glomers")
}

fn glomers(args: &[&str]) -> Output {
    glomers_in(&root(), &std::env::var("PATH").unwrap_or_default(), args)
}

/// A short echo run of `--bin bin`, its store under `store`.
fn echo_run(cwd: &Path, path: &str, bin: &str, store: &Store) -> Output {
    let store = store.0.join("runs");
    let args = [
        "test",
        "-w",
        "echo",
        "--bin",
        bin,
        "--node-count",
        "1",
        "--time-limit",
        "1",
        "--rate",
        "10",
        "--recovery-time",
        "0.5",
        "--store",
        store.to_str().expect("path"),
    ];
    glomers_in(cwd, path, &args)
}

/// A directory holding an executable `name`: a copy of our Python echo node (copies, so two
/// such directories hold different files).
fn dir_with_node(store: &Store, dir: &str, name: &str) -> PathBuf {
    let dir = store.0.join(dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let _ = std::fs::remove_file(dir.join(name));
    std::fs::copy(root().join(ECHO), dir.join(name)).expect("copy");
    dir
}

/// PATH with `dir` first and the system directories (python3 for the node) after.
fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn a_bare_bin_is_looked_up_on_path() {
    let store = Store::new("bin-on-path");
    let bin_dir = dir_with_node(&store, "bin", "glomers-test-echo");
    let elsewhere = store.0.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let out = echo_run(
        &elsewhere,
        &path_with(&bin_dir),
        "glomers-test-echo",
        &store,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_bare_bin_found_nowhere_says_where_it_looked() {
    let store = Store::new("bin-nowhere");
    let out = glomers_in(
        &store.0,
        "/nonexistent-a:/nonexistent-b",
        &["test", "-w", "echo", "--bin", "no-such-node-anywhere"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(stderr.contains("/nonexistent-a:/nonexistent-b"), "{stderr}");
    let cwd_path = store
        .0
        .canonicalize()
        .expect("cwd")
        .join("no-such-node-anywhere");
    assert!(stderr.contains(&cwd_path.display().to_string()), "{stderr}");
}

/// Runs typed the Maelstrom way (`--bin NAME` for a file in the current directory) keep
/// working when PATH has no NAME; when it has one, PATH wins (as in a shell) and a warning
/// says which file runs.
#[test]
fn a_bare_bin_in_the_current_directory_still_runs() {
    let store = Store::new("bin-in-cwd");
    let here = dir_with_node(&store, "here", "local-echo");
    let system = std::env::var("PATH").unwrap_or_default();
    let out = echo_run(&here, &system, "local-echo", &store);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let on_path = dir_with_node(&store, "on-path", "local-echo");
    let out = echo_run(&here, &path_with(&on_path), "local-echo", &store);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("found on PATH"), "{stderr}");
    assert!(stderr.contains("--bin ./local-echo"), "{stderr}");
}

#[test]
fn paths_with_a_slash_are_not_looked_up() {
    let out = glomers(&["test", "-w", "echo", "--bin", "bin/sh-not-here"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(!stderr.contains("PATH"), "{stderr}");
}

#[test]
fn a_missing_workload_lists_the_workloads() {
    let out = glomers(&["test", "--bin", ECHO]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    for name in registry::names() {
        assert!(stderr.contains(name), "{name} missing: {stderr}");
    }
    let out = glomers(&["sweep", "--seeds", "2"]);
    assert_eq!(out.status.code(), Some(254));
    assert!(text(&out.stderr).contains("txn-rw-register"));
}

#[test]
fn an_unknown_workload_names_the_closest() {
    for (typo, meant) in [
        ("gcounter", "g-counter"),
        ("g_counter", "g-counter"),
        ("brodcast", "broadcast"),
        ("kafak", "kafka"),
        ("linkv", "lin-kv"),
        ("txn-list-apend", "txn-list-append"),
        ("unique-id", "unique-ids"),
    ] {
        assert_eq!(registry::closest(typo), Some(meant), "{typo}");
    }
    assert_eq!(registry::closest("frobnicate"), None);
    let out = glomers(&["test", "-w", "gcounter", "--sim"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(stderr.contains("did you mean `g-counter`?"), "{stderr}");
    let out = glomers(&["test", "-w", "frobnicate", "--sim"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(!stderr.contains("did you mean"), "{stderr}");
    assert!(stderr.contains("echo, unique-ids"), "{stderr}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = glomers(&["completions", shell]);
        let script = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        for word in ["glomers", "sweep", "node-count", "completions"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    let out = glomers(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(254));
    let out = glomers(&["completions"]);
    assert_eq!(out.status.code(), Some(254));
}
