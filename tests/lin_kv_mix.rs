//! lin-kv's op mix matches the real Maelstrom 0.2.4 (issue 23). Jepsen's `reserve` inside
//! `independent/concurrent-generator` compares its reader range 0..n-1 with *global* thread
//! ids, so only the first group's first n threads read and every other thread writes or
//! cas-es (src/harness/clients/lin_kv.rs explains the source lines): the read share is
//! about n / C, not one half. Each line below is one measured under the real Maelstrom,
//! run here against our own Raft node in `--sim`, and its read / write / cas shares must
//! land within a few points of the real figures.

use glomers::harness::history::{OpType, Process};
use glomers::harness::session::{Sinks, execute, test_config};

/// Invocations per f: (read, write, cas).
fn invocations(line: &str, seed: u64) -> (u64, u64, u64) {
    let flags: Vec<&str> = line.split_whitespace().collect();
    let config = test_config(&flags, seed).expect("config");
    let sinks = Sinks {
        journal: None,
        node_logs: std::path::Path::new(""),
    };
    let outcome = execute(&config, sinks).expect("run");
    let mut counts = (0, 0, 0);
    for op in outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke && matches!(op.process, Process::Client(_)))
    {
        match op.f.as_str() {
            "read" => counts.0 += 1,
            "write" => counts.1 += 1,
            "cas" => counts.2 += 1,
            other => panic!("unexpected f {other} in {line}"),
        }
    }
    counts
}

/// Percentages (read, write, cas) of `counts`.
fn shares((r, w, c): (u64, u64, u64)) -> (f64, f64, f64) {
    let total = (r + w + c).max(1) as f64;
    let pct = |x: u64| 100.0 * x as f64 / total;
    (pct(r), pct(w), pct(c))
}

/// Asserts `line`'s shares are within `tolerance` points of `expected` (read, write, cas).
fn assert_shares(line: &str, expected: (f64, f64, f64), tolerance: f64) {
    let counts = invocations(line, 1);
    let got = shares(counts);
    eprintln!("{line}: {counts:?} → {got:.1?} (real Maelstrom {expected:?})");
    assert!(counts.0 + counts.1 + counts.2 >= 300, "{line}: {counts:?}");
    let off = [
        (got.0 - expected.0).abs(),
        (got.1 - expected.1).abs(),
        (got.2 - expected.2).abs(),
    ];
    assert!(
        off.iter().all(|&d| d <= tolerance),
        "{line}: shares {got:.1?}, real Maelstrom {expected:?} (±{tolerance})"
    );
}

/// 3 nodes, 10n: 10 / 30 / 60 % (real: 187 / 568 / 1,124 of 1,879 ops).
#[test]
fn three_nodes_10n_reads_a_tenth() {
    assert_shares(
        "-w lin-kv --sim --node-count 3 --concurrency 10n --rate 100 --time-limit 20",
        (10.0, 30.0, 60.0),
        3.0,
    );
}

/// 3 nodes, 4n: 25 / 24 / 51 % (real: 1,480 ops).
#[test]
fn three_nodes_4n_reads_a_quarter() {
    assert_shares(
        "-w lin-kv --sim --node-count 3 --concurrency 4n --rate 100 --time-limit 15",
        (25.0, 24.0, 51.0),
        3.5,
    );
}

/// 5 nodes, 4n at rate 30: 25 / 25 / 50 %.
#[test]
fn five_nodes_4n_reads_a_quarter() {
    assert_shares(
        "-w lin-kv --sim --node-count 5 --concurrency 4n --rate 30 --time-limit 30",
        (25.0, 25.0, 50.0),
        4.0,
    );
}

/// 3 nodes, 2n: one group, so half reads (real: about 47 / 14 / 39 % of only 99 ops; the
/// expectation is ½ / ⅙ / ⅓, asserted over more ops).
#[test]
fn three_nodes_2n_reads_half() {
    assert_shares(
        "-w lin-kv --sim --node-count 3 --concurrency 2n --rate 100 --time-limit 10",
        (50.0, 100.0 / 6.0, 100.0 / 3.0),
        4.0,
    );
}

/// With partitions every 3 s the real Maelstrom read 13 / 29 / 58 %. The read share there
/// is not a constant of the generator: a thread blocked on a request (a partitioned node
/// that answers only at the 1 s timeout) cannot be picked, and Jepsen picks among the free
/// threads group by group, so how much the read share rises above n / C depends on which
/// requests the node holds and for how long. What the generator alone fixes, and what we
/// assert: reads stay near n / C (10 %, allowing the rise the real run showed, up to
/// 18 %), and writers split writes to cas 1 : 2 whatever the node does.
#[test]
fn partitions_keep_writes_to_cas_one_to_two() {
    let line = "-w lin-kv --sim --node-count 3 --concurrency 10n --rate 100 --time-limit 60 \
                --nemesis partition --nemesis-interval 3";
    let counts = invocations(line, 1);
    let got = shares(counts);
    eprintln!("{line}: {counts:?} → {got:.1?} (real Maelstrom (13, 29, 58))");
    assert!(
        (8.0..=18.0).contains(&got.0),
        "read share {got:.1?}: {counts:?}"
    );
    let cas_of_writers = 100.0 * counts.2 as f64 / (counts.1 + counts.2).max(1) as f64;
    assert!(
        (cas_of_writers - 200.0 / 3.0).abs() <= 3.0,
        "cas share of writes {cas_of_writers:.1}: {counts:?}"
    );
}

/// Invocations per (process, f) in a real Maelstrom history.edn (one op per line).
fn real_invocations(history: &str) -> Vec<(u64, String)> {
    let field = |line: &str, key: &str| {
        let start = line.find(key)? + key.len();
        let rest = &line[start..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    };
    history
        .lines()
        .filter(|line| line.contains(":type :invoke"))
        .filter_map(|line| {
            let process = field(line, ":process ")?.parse().ok()?;
            Some((process, field(line, ":f :")?))
        })
        .collect()
}

/// Per thread 0..2n of one group, ops taken, as fractions of the role's ops.
fn per_thread_fractions(ops: &[(u64, String)], n: u64) -> Vec<f64> {
    let mut counts = vec![0u64; 2 * n as usize];
    for (process, f) in ops {
        let thread = (process % (2 * n)) as usize;
        assert_eq!(
            f == "read",
            thread < n as usize,
            "process {process} did {f}"
        );
        counts[thread] += 1;
    }
    let role_total = |lo: usize| counts[lo..lo + n as usize].iter().sum::<u64>().max(1);
    let (readers, writers) = (role_total(0), role_total(n as usize));
    counts
        .iter()
        .enumerate()
        .map(|(t, &c)| c as f64 / if t < n as usize { readers } else { writers } as f64)
        .collect()
}

/// The real Maelstrom's own run (tests/fixtures/maelstrom-runs/lin-kv-raft-valid, 3 nodes,
/// 2n, rate 10) shows both mechanisms: processes 0–2 only read, 3–5 only write or cas, and
/// within a role the lowest thread takes most ops (59 / 22 / 12 reads), because
/// `some-free-process` takes the first free thread at or after a cursor that turns once per
/// invocation over C + 1 slots. Ours, same line: same roles, same skew (within 15 points).
#[test]
fn threads_and_roles_match_a_real_maelstrom_run() {
    let history = include_str!("fixtures/maelstrom-runs/lin-kv-raft-valid/history.edn");
    let real = per_thread_fractions(&real_invocations(history), 3);
    let line = "-w lin-kv --sim --node-count 3 --concurrency 2n --rate 10 --time-limit 20";
    let flags: Vec<&str> = line.split_whitespace().collect();
    let config = test_config(&flags, 1).expect("config");
    let sinks = Sinks {
        journal: None,
        node_logs: std::path::Path::new(""),
    };
    let outcome = execute(&config, sinks).expect("run");
    let ours: Vec<(u64, String)> = outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke)
        .filter_map(|op| match op.process {
            Process::Client(p) => Some((p, op.f.clone())),
            Process::Nemesis => None,
        })
        .collect();
    let ours = per_thread_fractions(&ours, 3);
    eprintln!("per-thread shares of their role: real {real:.2?}, ours {ours:.2?}");
    for (t, (r, o)) in real.iter().zip(&ours).enumerate() {
        assert!(
            (r - o).abs() <= 0.15,
            "thread {t}: real {r:.2}, ours {o:.2}"
        );
    }
    assert!(ours[0] > 0.5 && ours[3] > 0.5, "{ours:.2?}");
}

/// Issue 23: Jepsen funnels most requests to n0, so a leader elsewhere forwards nearly
/// every op (2 more messages each: ≈ 3.4 servers msgs-per-op at 60 s). Seeds 4, 8, 9 and 10
/// elect another node first; the leader must hand leadership to n0 (`timeout_now`) and
/// the run must end near the n0-leads cost, valid, every request answered once and in time.
#[test]
fn leadership_moves_to_where_requests_enter() {
    use simd_json::prelude::*;
    let line = "-w lin-kv --sim --node-count 3 --concurrency 10n --rate 100 --time-limit 20";
    let flags: Vec<&str> = line.split_whitespace().collect();
    for seed in [4, 8, 9, 10] {
        let config = test_config(&flags, seed).expect("config");
        let sinks = Sinks {
            journal: None,
            node_logs: std::path::Path::new(""),
        };
        let outcome = execute(&config, sinks).expect("run");
        assert_eq!(
            outcome.validity,
            glomers::harness::checkers::Validity::Valid,
            "seed {seed}"
        );
        assert!(
            outcome.conduct.is_clean(),
            "seed {seed}: {:?}",
            outcome.conduct
        );
        let per_op = outcome
            .results
            .get("net")
            .and_then(|net| net.get("servers"))
            .and_then(|servers| servers.get("msgs-per-op"))
            .and_then(|m| m.as_f64())
            .expect("servers msgs-per-op");
        eprintln!("seed {seed}: servers msgs-per-op {per_op:.3}");
        assert!(per_op < 2.3, "seed {seed}: servers msgs-per-op {per_op:.3}");
    }
}
