//! Bounds on the numeric `glomers test` flags (exit 254 past them, like any bad argument).
//!
//! Each bound is far above what any Maelstrom challenge uses (MAELSTROM.md §6: at most
//! 25 nodes, `--rate 1000`, `--latency 100`, 20 s runs) and low enough that a typo cannot
//! wrap a nanosecond clock (`--latency` past ~1.8e10 ms), spin forever (a `--rate` or
//! `--nemesis-interval` whose gaps round to 0 ns), or fill memory (node names, workers, a
//! `--sim` history that virtual time produces as fast as the CPU allows). `--help` and the
//! README's flag section list them; `tests/harness_cli.rs` checks both edges of each.
//! `cli::check_limits` applies them to the parsed flags.

/// Most nodes (`--node-count`, `--nodes`, `-n`, `--nodes-file`): each is a process with
/// two reader threads.
pub const NODE_COUNT_MAX: usize = 1_000;
/// Most workers (`--concurrency`, after the `n` multiplication).
pub const CONCURRENCY_MAX: usize = 10_000;
/// Longest main phase: one day.
pub const TIME_LIMIT_S_MAX: u64 = 86_400;
/// Highest `--rate`: a mean gap of 1 µs (the throughput benchmark asks for this much).
pub const RATE_MAX: f64 = 1_000_000.0;
/// Lowest non-zero `--rate`: one op per 1000 s on average.
pub const RATE_MIN: f64 = 0.001;
/// Most client ops a `--sim` run may schedule (`--rate` × `--time-limit`): about 1 GB of
/// history and 20 s of CPU.
pub const SIM_OPS_MAX: f64 = 1_000_000.0;
/// Highest mean inter-node latency, ms (as `--reorder-ms`).
pub const LATENCY_MS_MAX: u64 = 60_000;
/// Shortest mean gap between nemesis ops, s.
pub const NEMESIS_INTERVAL_S_MIN: f64 = 0.1;
/// Longest mean gap between nemesis ops, s (one day).
pub const NEMESIS_INTERVAL_S_MAX: f64 = 86_400.0;
/// Longest final-phase recovery sleep, s.
pub const RECOVERY_S_MAX: f64 = 3_600.0;
/// Most repetitions of one test.
pub const TEST_COUNT_MAX: u64 = 1_000;
/// Most active keys (txn and kafka workloads).
pub const KEY_COUNT_MAX: u64 = 100_000;
/// Longest transaction.
pub const TXN_LENGTH_MAX: u64 = 1_000;
/// Most writes per key before it retires.
pub const WRITES_PER_KEY_MAX: u64 = 100_000;
/// Largest `--nodes-file`, bytes (read no further).
pub const NODES_FILE_BYTES_MAX: u64 = 1 << 20;

/// `--flag` must be an integer in [min, max].
pub fn integer(flag: &str, value: u64, min: u64, max: u64) -> Result<(), String> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("--{flag} must be in [{min}, {max}], got {value}"))
    }
}

/// `--flag` must be a number in [min, max] (NaN is not).
pub fn real(flag: &str, value: f64, min: f64, max: f64) -> Result<(), String> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("--{flag} must be in [{min}, {max}], got {value:?}"))
    }
}
