//! lin-kv (Raft) answers every client request before the client gives up, whatever the
//! faults. Under `--sim` client messages get no network faults and no latency, so an op
//! completing with `net-timeout` means our node answered after the client's timeout
//! (max(10 × latency, 1000) ms) or never, and the real Maelstrom would then hold a reply
//! for a closed client against the node (MAELSTROM.md §1.8). Each seed must also be valid.
//!
//! The default test runs seeds 1–6 per line: before the node had reply deadlines every
//! one of them had late ops (18–314 per seed: forwards held for 1 s, proposals of a
//! leader cut off from its majority waiting for a commit). The long sweep (issue 23: ≥ 200 seeds at 3
//! and 5 nodes with every fault knob) is ignored by default:
//! `GLOMERS_SEEDS=200 cargo test --release --test lin_kv_timely -- --ignored --nocapture`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use glomers::harness::checkers::Validity;
use glomers::harness::history::{OpType, Process};
use glomers::harness::session::{Sinks, execute, test_config};
use simd_json::prelude::*;

/// Every fault knob, at the strengths issue 23 asks for.
const FAULTS: &str = "--nemesis partition --loss 0.15 --duplicate 0.1 --reorder-ms 80 \
                      --clock-skew 0.3 --asymmetric-partitions";

/// The swept lines (flags after `-w lin-kv --sim`), each followed by [`FAULTS`].
const LINES: [&str; 4] = [
    "--node-count 3 --concurrency 4n --time-limit 30 --rate 30 --nemesis-interval 5",
    "--node-count 3 --concurrency 10n --time-limit 30 --rate 100 --nemesis-interval 3",
    "--node-count 5 --concurrency 4n --time-limit 30 --rate 50 --nemesis-interval 3",
    "--node-count 5 --concurrency 10n --time-limit 30 --rate 100 --nemesis-interval 3",
];

/// One seed: (valid, ops that ended in a net-timeout).
fn run(line: &str, seed: u64) -> (bool, u64) {
    let full = format!("-w lin-kv --sim {line} {FAULTS}");
    let flags: Vec<&str> = full.split_whitespace().collect();
    let config = test_config(&flags, seed).expect("config");
    let sinks = Sinks {
        journal: None,
        node_logs: std::path::Path::new(""),
    };
    let outcome = match execute(&config, sinks) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("seed {seed} crashed: {e}");
            return (false, 0);
        }
    };
    let late = outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type != OpType::Invoke && matches!(op.process, Process::Client(_)))
        .filter(|op| {
            op.error
                .as_ref()
                .and_then(|e| e.as_str())
                .is_some_and(|e| e.ends_with("net-timeout"))
        })
        .count() as u64;
    (outcome.validity == Validity::Valid, late)
}

/// Runs `seeds` on two threads; returns the seeds that were invalid or late, with their
/// late-op counts, and the total of late ops.
fn sweep(line: &str, seeds: &[u64]) -> (Vec<(u64, bool, u64)>, u64) {
    let next = AtomicU64::new(0);
    let bad = Mutex::new(Vec::new());
    let late_total = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(&seed) = seeds.get(next.fetch_add(1, Ordering::Relaxed) as usize) {
                    let (valid, late) = run(line, seed);
                    late_total.fetch_add(late, Ordering::Relaxed);
                    if !valid || late > 0 {
                        bad.lock().expect("lock").push((seed, valid, late));
                    }
                }
            });
        }
    });
    let mut bad = bad.into_inner().expect("lock");
    bad.sort_unstable();
    (bad, late_total.into_inner())
}

/// Sweeps every line over `seeds`; panics listing every bad seed with its replay command.
fn sweep_all(seeds: &[u64]) {
    let mut report = Vec::new();
    for line in LINES {
        let (bad, late) = sweep(line, seeds);
        eprintln!(
            "{line}: {} seeds, {} bad, {late} late ops",
            seeds.len(),
            bad.len()
        );
        for (seed, valid, late) in bad {
            report.push(format!(
                "seed {seed} (valid {valid}, {late} late): glomers test -w lin-kv --sim {line} \
                 {FAULTS} --seed {seed}"
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn every_request_is_answered_in_time() {
    sweep_all(&(1..=6).collect::<Vec<_>>());
}

/// The long sweep: `GLOMERS_SEEDS` seeds (default 200) per line.
#[test]
#[ignore = "long: run with --ignored (GLOMERS_SEEDS=n)"]
fn every_request_is_answered_in_time_long() {
    let seeds: u64 = std::env::var("GLOMERS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    sweep_all(&(1..=seeds).collect::<Vec<_>>());
}
