//! The `broadcast` binary under the `glomers` harness with the Gossip Glomers 3a/3b/3c
//! command lines (shortened: 3a/3b with a 2 s recovery, 3c with Maelstrom's full 10 s so
//! that partitions have time to heal). Asserts exit 0 and a valid result with no lost
//! values. The 3d/3e numeric targets are checked by scripts/compare-strategies.sh, never
//! here (real time on a shared machine is too noisy for a unit test).

use std::path::PathBuf;
use std::process::Command;

/// Command-line words from one string (keeps flag lists on one readable line).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn run(name: &str, args: &[&str]) {
    let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("broadcast-{name}"));
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "test",
            "-w",
            "broadcast",
            "--bin",
            env!("CARGO_BIN_EXE_broadcast"),
        ])
        .args(args)
        .arg("--store")
        .arg(&store)
        .env_remove("GLOMERS_BROADCAST")
        .output()
        .expect("glomers runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = |s: &str| {
        s.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: exit {:?}\n{}\n{}",
        out.status,
        tail(&stdout),
        tail(&stderr)
    );
    let results =
        std::fs::read_to_string(store.join("latest").join("results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&results).expect("results.json parses");
    assert_eq!(results["valid?"], true, "{name}");
    assert_eq!(results["workload"]["lost-count"], 0, "{name}");
    assert!(
        results["workload"]["stable-count"].as_u64().unwrap_or(0) > 0,
        "{name}: nothing stable"
    );
}

#[test]
fn challenge_3a_single_node() {
    run(
        "3a",
        &words("--node-count 1 --time-limit 5 --rate 10 --recovery-time 2"),
    );
}

#[test]
fn challenge_3b_five_nodes() {
    run(
        "3b",
        &words("--node-count 5 --time-limit 5 --rate 10 --recovery-time 2"),
    );
}

#[test]
fn challenge_3c_five_nodes_with_partitions() {
    run(
        "3c",
        &words("--node-count 5 --time-limit 10 --rate 10 --nemesis partition"),
    );
}
