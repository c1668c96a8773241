//! `glomers shrink` (issue 25): a failing run shrinks to a smaller one that fails the same
//! way, the smallest run replays as a failure, and the command's edges exit as documented
//! (0 shrunk, 1 not failing, 254 bad arguments), and a crash shrinks to the op that trips
//! it. Budgets are counted in runs, never in seconds, so nothing here depends on the
//! machine's speed.

use std::path::Path;
use std::sync::Arc;

use glomers::harness::checkers::Validity;
use glomers::harness::schedule::Replay;
use glomers::harness::session::{Sinks, execute, test_config};
use glomers::harness::shrink::class;
use glomers::harness::shrink::search::{Budget, shrink, shrink_with_nodes};
use glomers::node::{Ctx, DynNode, Message, NodeCore, RequestError, Workload};

#[path = "common/e2e.rs"]
mod e2e;
use e2e::Store;

/// Our txn-rw-register node is totally available, so under partitions it is not
/// strict-serializable (the default consistency model): Elle finds a realtime G-single.
const TXN_FAILING: &str = "-w txn-rw-register --sim --node-count 2 --rate 100 --time-limit 6 \
     --nemesis partition --nemesis-interval 2 --loss 0.1 --duplicate 0.1 --reorder-ms 30 \
     --clock-skew 0.2 --asymmetric-partitions --seed 11";

#[test]
fn a_failing_run_shrinks_and_keeps_its_failure_class() {
    let flags: Vec<&str> = TXN_FAILING.split_whitespace().collect();
    let config = test_config(&flags, 0).expect("config");
    let budget = Budget {
        max_seconds: 3600.0,
        max_tries: Some(150),
    };
    let report = shrink(&config, budget, &mut |_| {}).expect("the run fails");
    assert_eq!(report.primary.checker, "workload");
    assert!(
        report.primary.kind.starts_with('G') || report.primary.kind == "lost-update",
        "{}",
        report.primary
    );
    let (before, after) = (report.original, report.smallest.size);
    assert!(after.ops < before.ops, "{before} → {after}");
    assert!(after.messages < before.messages, "{before} → {after}");
    assert!(
        after.ops <= 30 && after.messages <= 100,
        "{before} → {after}"
    );
    assert!(class::shows(&report.smallest.results, &report.primary));

    // The smallest run replays, through its schedule, as the same failure.
    let mut replay = report.smallest.config.clone();
    replay.replay = Some(Replay {
        source: "test".to_string(),
        schedule: Arc::new(report.smallest.schedule.clone()),
    });
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    let outcome = execute(&replay, sinks).expect("replay");
    assert_eq!(outcome.validity, Validity::Invalid);
    assert!(class::shows(&outcome.results, &report.primary));
}

fn glomers(args: &[&str]) -> (i32, String, String) {
    let run = e2e::glomers(args);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn the_command_writes_the_smallest_run_and_its_replay() {
    let store = Store::new("shrink");
    let store_dir = store.0.display().to_string();
    let mut args = vec!["shrink", "--max-tries", "120", "glomers", "test"];
    args.extend(TXN_FAILING.split_whitespace());
    args.extend(["--store", store_dir.as_str()]);
    let (code, _, stderr) = glomers(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Shrunk in"), "{stderr}");
    assert!(stderr.contains("fails as: workload checker"), "{stderr}");
    let replay = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Replay: glomers "))
        .expect("a replay command");
    let dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Smallest failing run: "))
        .expect("the run directory");
    for file in [
        "history.edn",
        "results.edn",
        "schedule.jsonl",
        "messages.svg",
    ] {
        assert!(Path::new(dir).join(file).exists(), "{dir}/{file}");
    }
    // The printed command replays the failure.
    let words: Vec<&str> = replay.split_whitespace().collect();
    let (code, _, stderr) = glomers(&words);
    assert_eq!(code, 1, "{replay}\n{stderr}");

    // A run directory is an input too: already small, it shrinks no further (2) or a bit (0).
    let (code, _, stderr) = glomers(&["shrink", "--max-tries", "40", dir]);
    assert!(code == 0 || code == 2, "{code}: {stderr}");
}

#[test]
fn a_valid_run_is_not_shrunk_and_bad_arguments_exit_254() {
    let store = Store::new("shrink-edges");
    let store_dir = store.0.display().to_string();
    let valid = [
        "shrink",
        "--max-tries",
        "5",
        "glomers",
        "test",
        "-w",
        "echo",
        "--sim",
        "--node-count",
        "1",
        "--time-limit",
        "2",
        "--seed",
        "1",
        "--store",
        &store_dir,
    ];
    let (code, _, stderr) = glomers(&valid);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("does not fail"), "{stderr}");

    for (args, needle) in [
        (vec!["shrink"], "required"),
        (
            vec!["shrink", "glomers", "sweep", "-w", "echo"],
            "not the sweep",
        ),
        (
            vec!["shrink", "-w", "echo", "--seed", "1"],
            "needs a --sim run",
        ),
        (vec!["shrink", "-w", "echo", "--sim"], "needs its --seed"),
        (vec!["shrink", "/nonexistent-dir", "x"], "--sim"),
        (
            vec![
                "shrink",
                "--max-seconds",
                "0",
                "-w",
                "echo",
                "--sim",
                "--seed",
                "1",
            ],
            "--max-seconds",
        ),
    ] {
        let (code, _, stderr) = glomers(&args);
        assert_eq!(code, 254, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let empty = Store::new("shrink-no-schedule");
    let empty_dir = empty.0.display().to_string();
    let (code, _, stderr) = glomers(&["shrink", &empty_dir]);
    assert_eq!(code, 254);
    assert!(stderr.contains("has no schedule.jsonl"), "{stderr}");
}

/// An echo node that panics on an echo whose text holds "7" (after echoing the others):
/// a protocol assertion tripping, as the crash a shrink must keep.
#[derive(Default)]
struct UnluckyEcho;

impl Workload for UnluckyEcho {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let echo = msg.str("echo")?;
        assert!(!echo.contains('7'), "unlucky echo {echo:?}");
        ctx.reply(msg, "echo_ok").str("echo", echo);
        Ok(())
    }
}

fn unlucky(_: usize, seed: u64) -> Box<dyn DynNode> {
    Box::new(NodeCore::new(UnluckyEcho, seed))
}

#[test]
fn a_crash_shrinks_to_the_op_that_trips_it() {
    let flags = [
        "-w",
        "echo",
        "--sim",
        "--node-count",
        "3",
        "--concurrency",
        "2n",
        "--time-limit",
        "10",
        "--rate",
        "50",
        "--seed",
        "4",
    ];
    let config = test_config(&flags, 0).expect("config");
    let budget = Budget {
        max_seconds: 3600.0,
        max_tries: Some(300),
    };
    let report = shrink_with_nodes(&config, budget, Some(&unlucky), &mut |_| {}).expect("shrinks");
    assert_eq!(report.primary.checker, "crash", "{}", report.primary);
    assert!(
        report.primary.kind.contains("unlucky echo"),
        "{}",
        report.primary
    );
    let (before, after) = (report.original, report.smallest.size);
    assert!(before.ops > 5, "the crash comes after some ops: {before}");
    assert!(
        after.ops < before.ops && after.ops <= 2,
        "{before} → {after}"
    );
    assert_eq!(after.nodes, 1, "{before} → {after}");
}
