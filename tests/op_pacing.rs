//! Op pacing after a stall (MAELSTROM.md §2.4, "No backlog").
//!
//! Jepsen's `stagger` schedules each client op `U[0, 2/rate)` after the moment the previous
//! one was actually issued. When every worker is stuck waiting on a slow node, the ops that
//! were "due" meanwhile are never issued, and the rate resumes at `rate` once the node
//! answers again: no burst, and fewer ops in total than `rate × time-limit`. A harness
//! that kept the scheduled times instead fires the whole backlog the instant a worker frees
//! (2,024 ops against the real Maelstrom's 233 for a g-counter whose reads blocked 1 s).

use std::path::Path;

use glomers::harness::history::{OpType, Process};
use glomers::harness::hosts::SECOND;
use glomers::harness::session::{Outcome, Sinks, execute_with_nodes, test_config};
use glomers::node::{Ctx, DynNode, Message, NodeCore, RequestError, Workload};

/// When the node starts holding echo replies, in ms after the first echo (the first op,
/// issued at relative time 0).
const STALL_FROM_MS: u64 = 2_000;
/// When it releases them all and answers promptly again.
const STALL_UNTIL_MS: u64 = 3_000;

/// An echo node that holds every reply during [`STALL_FROM_MS`, `STALL_UNTIL_MS`), as a
/// node whose reads wait on peers during a partition would.
#[derive(Default)]
struct StallingEcho {
    /// Node time of the first echo: the node clock does not start with the main phase.
    first: Option<u64>,
    /// Held replies: (client, msg_id, echo text).
    held: Vec<(String, u64, String)>,
}

impl Workload for StallingEcho {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        if msg.kind != "echo" {
            return Err(RequestError::not_supported(msg.kind));
        }
        let echo = msg.str("echo")?;
        let first = *self.first.get_or_insert(ctx.now());
        let now = ctx.now() - first;
        if (STALL_FROM_MS..STALL_UNTIL_MS).contains(&now) {
            if self.held.is_empty() {
                ctx.set_timer(STALL_UNTIL_MS - now, ());
            }
            let msg_id = msg.msg_id.unwrap_or(0);
            self.held
                .push((msg.src.to_string(), msg_id, echo.to_string()));
        } else {
            ctx.reply(msg, "echo_ok").str("echo", echo);
        }
        Ok(())
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, _tag: ()) {
        for (client, msg_id, echo) in std::mem::take(&mut self.held) {
            ctx.reply_to(&client, msg_id, "echo_ok").str("echo", &echo);
        }
    }
}

fn stalling(_: usize, seed: u64) -> Box<dyn DynNode> {
    Box::new(NodeCore::new(StallingEcho::default(), seed))
}

fn run(seed: &str) -> Outcome {
    let flags = [
        "-w",
        "echo",
        "--sim",
        "--node-count",
        "1",
        "--concurrency",
        "2",
        "--time-limit",
        "6",
        "--rate",
        "200",
        "--seed",
        seed,
    ];
    let config = test_config(&flags, 0).expect("config");
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    execute_with_nodes(&config, sinks, &stalling).expect("run")
}

/// Invocation times (relative ns) of client ops.
fn invocations(outcome: &Outcome) -> Vec<u64> {
    outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke && op.process != Process::Nemesis)
        .map(|op| op.time_ns)
        .collect()
}

/// The most invocations in any window of `width` ns.
fn max_in_window(times: &[u64], width: u64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, &t) in times.iter().enumerate() {
        while times[start] + width <= t {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

#[test]
fn a_stall_is_followed_by_the_normal_rate_not_a_burst() {
    for seed in ["1", "2", "3"] {
        let outcome = run(seed);
        let times = invocations(&outcome);
        // At 200 ops/s a 100 ms window holds 20 ops on average; a backlog would put the
        // whole stalled second's 200 ops at the instant the node answers.
        let burst = max_in_window(&times, SECOND / 10);
        eprintln!(
            "seed {seed}: {} ops, at most {burst} in 100 ms",
            times.len()
        );
        assert!(burst <= 45, "seed {seed}: {burst} ops in 100 ms");
        let after: Vec<u64> = times
            .iter()
            .copied()
            .filter(|t| {
                (STALL_UNTIL_MS * 1_000_000..(STALL_UNTIL_MS + 100) * 1_000_000).contains(t)
            })
            .collect();
        assert!(
            after.len() <= 45,
            "seed {seed}: {} ops in the 100 ms after the stall",
            after.len()
        );
    }
}

#[test]
fn ops_due_during_a_stall_are_never_issued() {
    for seed in ["1", "2", "3"] {
        let outcome = run(seed);
        let count = invocations(&outcome).len();
        // Stagger from issue: ~200/s for the 5 s the node answers (≈1,000, ±2 % at one
        // standard deviation), plus the two ops that got stuck. Keeping the schedule would
        // issue the stalled second's ops too (≈1,200).
        assert!(
            (920..=1_080).contains(&count),
            "seed {seed}: {count} ops, expected about 1,000"
        );
        // Nothing is issued while both workers wait on the stalled node.
        let stalled = invocations(&outcome)
            .into_iter()
            .filter(|t| ((STALL_FROM_MS + 50) * 1_000_000..STALL_UNTIL_MS * 1_000_000).contains(t))
            .count();
        assert_eq!(stalled, 0, "seed {seed}: ops issued during the stall");
    }
}

/// The learner node, in process mode: a g-counter whose reads wait up to 1 s on
/// each peer, so during partitions every worker is stuck; after each heal the ops resume at
/// `--rate` (about 10 per 100 ms at rate 100), not in a burst.
#[test]
fn a_learners_blocking_g_counter_gets_no_burst_after_a_heal() {
    let store = std::env::temp_dir().join(format!("glomers-pacing-{}", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args([
            "test",
            "-w",
            "g-counter",
            "--bin",
            "tests/nodes/g_counter_blocking.py",
            "--node-count",
            "3",
            "--time-limit",
            "8",
            "--rate",
            "100",
            "--nemesis",
            "partition",
            "--nemesis-interval",
            "2",
            "--recovery-time",
            "0.5",
            "--seed",
            "5",
            "--no-journal",
            "--store",
        ])
        .arg(&store)
        .output()
        .expect("glomers test");
    let history = std::fs::read_to_string(store.join("latest").join("history.jsonl"));
    let _ = std::fs::remove_dir_all(&store);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mut times: Vec<u64> = history
        .expect("history.jsonl")
        .lines()
        .filter(|l| l.contains("\"type\":\"invoke\"") && !l.contains("\"nemesis\""))
        .filter_map(|l| {
            let rest = l.split("\"time\":").nth(1)?;
            rest.split(',').next()?.parse().ok()
        })
        .collect();
    times.sort_unstable();
    let burst = max_in_window(&times, SECOND / 10);
    assert!(burst <= 30, "{burst} ops in 100 ms: a backlog was fired");
}
