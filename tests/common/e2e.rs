//! Runs `glomers test` as a process against the Python nodes in tests/nodes, in a
//! temporary store that is removed afterwards.

use std::path::PathBuf;
use std::process::Command;

/// What one run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A store directory for this test process, removed on drop.
pub struct Store(pub PathBuf);

impl Store {
    #[allow(dead_code)] // not every test file that includes this module makes a store
    pub fn new(name: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("glomers-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        Store(dir)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `glomers test LINE --recovery-time 0.5 --store STORE` (LINE split on whitespace).
#[allow(dead_code)] // not every test file that includes this module uses every helper
pub fn run(store: &Store, line: &str) -> Run {
    run_args(store, &line.split_whitespace().collect::<Vec<_>>())
}

/// `glomers test ARGS --recovery-time 0.5 --store STORE`.
pub fn run_args(store: &Store, args: &[&str]) -> Run {
    // Our flags go before a `--`, since what follows it is the node's arguments.
    let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("test")
        .args(&args[..split])
        .args(["--recovery-time", "0.5", "--store"])
        .arg(&store.0)
        .args(&args[split..])
        .output()
        .expect("run glomers");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    if std::env::var_os("GLOMERS_TEST_VERBOSE").is_some() {
        eprintln!("{args:?} → {}\n{}\n{}", run.code, run.stdout, run.stderr);
    }
    run
}

/// `glomers ARGS` as given (any subcommand), in the current directory.
#[allow(dead_code)]
pub fn glomers(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .output()
        .expect("run glomers");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `line` and expects exit `code` with every needle in stdout.
#[allow(dead_code)]
pub fn expect(store: &Store, line: &str, code: i32, needles: &[&str]) -> Run {
    let run = run(store, line);
    assert_eq!(
        run.code, code,
        "{line}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    for needle in needles {
        assert!(
            run.stdout.contains(needle),
            "{line}: {needle} missing in\n{}",
            run.stdout
        );
    }
    run
}
