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
pub fn run(store: &Store, line: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("test")
        .args(line.split_whitespace())
        .args(["--recovery-time", "0.5", "--store"])
        .arg(&store.0)
        .output()
        .expect("run glomers");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `line` and expects exit `code` with every needle in stdout.
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
