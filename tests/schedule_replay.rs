//! Schedules (issue 25): a `--sim` run's schedule replays byte for byte, and an edited one
//! still runs and does what the edit says — a removed op is never issued, a removed
//! partition never starts, a shorter one heals earlier, a removed loss delivers the
//! message. The file round-trips, and a bad file is a clear error (exit 254).

use std::path::Path;
use std::sync::Arc;

use glomers::harness::history::{OpType, Process};
use glomers::harness::results::{console_summary, history_edn_line};
use glomers::harness::schedule::{self, Replay, Schedule};
use glomers::harness::session::{Outcome, Sinks, execute, test_config};
use simd_json::prelude::*;

#[path = "common/e2e.rs"]
mod e2e;
use e2e::{Store, run_args};

fn run(config: &glomers::harness::cli::TestConfig) -> Outcome {
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    execute(config, sinks).expect("run")
}

fn history_text(outcome: &Outcome) -> String {
    outcome
        .history
        .ops
        .iter()
        .map(|op| history_edn_line(op) + "\n")
        .collect()
}

fn replaying(flags: &[&str], schedule: Schedule) -> glomers::harness::cli::TestConfig {
    let mut config = test_config(flags, 0).expect("config");
    config.replay = Some(Replay {
        source: "test".to_string(),
        schedule: Arc::new(schedule),
    });
    config
}

const FAULTS: [&str; 13] = [
    "--nemesis",
    "partition",
    "--nemesis-interval",
    "1",
    "--loss",
    "0.1",
    "--duplicate",
    "0.1",
    "--reorder-ms",
    "40",
    "--clock-skew",
    "0.2",
    "--asymmetric-partitions",
];

fn flags(line: &str) -> Vec<&str> {
    line.split_whitespace().chain(FAULTS).collect()
}

#[test]
fn an_unedited_schedule_replays_byte_for_byte() {
    for line in [
        "-w broadcast --sim --node-count 3 --time-limit 4 --rate 50 --seed 3",
        "-w kafka --sim --node-count 2 --concurrency 2n --time-limit 4 --rate 200 --seed 4",
        "-w lin-kv --sim --node-count 3 --concurrency 4n --time-limit 4 --rate 50 --seed 5",
        "-w txn-list-append --sim --node-count 2 --time-limit 4 --rate 50 --seed 6",
        "-w g-counter --sim --node-count 3 --time-limit 4 --rate 50 --seed 7",
    ] {
        let flags = flags(line);
        let original = run(&test_config(&flags, 0).expect("config"));
        let schedule = original
            .schedule
            .clone()
            .expect("a --sim run records its schedule");
        assert!(schedule.ops.len() > 50, "{line}: ops recorded");
        assert!(
            !schedule.partitions.is_empty(),
            "{line}: partitions recorded"
        );
        assert!(
            schedule.messages.iter().any(|m| m.lost)
                && schedule.messages.iter().any(|m| m.copy_ms.is_some()),
            "{line}: message faults recorded"
        );
        let replay = run(&replaying(&flags, schedule.clone()));
        assert!(
            history_text(&original) == history_text(&replay),
            "{line}: same history"
        );
        assert_eq!(
            console_summary(&original.results),
            console_summary(&replay.results),
            "{line}: same results"
        );
        assert!(
            replay.schedule == Some(schedule),
            "{line}: same schedule recorded again"
        );
    }
}

fn invocations(outcome: &Outcome) -> Vec<(u64, String)> {
    outcome
        .history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke && matches!(op.process, Process::Client(_)))
        .filter(|op| !op.is_final)
        .map(|op| (op.time_ns, op.value.encode()))
        .collect()
}

#[test]
fn removed_ops_are_never_issued_and_the_rest_keep_their_times() {
    let flags = flags("-w unique-ids --sim --node-count 3 --time-limit 3 --rate 100 --seed 9");
    let original = run(&test_config(&flags, 0).expect("config"));
    let mut schedule = original.schedule.clone().expect("schedule");
    let before = schedule.ops.len();
    schedule.ops.retain(|op| op.thread != 1);
    let kept: Vec<(u64, String)> = schedule
        .ops
        .iter()
        .map(|op| (op.at, op.value.encode()))
        .collect();
    assert!(kept.len() < before && !kept.is_empty());
    let replay = run(&replaying(&flags, schedule));
    assert_eq!(
        invocations(&replay),
        kept,
        "exactly the kept ops, at their times"
    );
}

#[test]
fn partitions_can_be_removed_and_shortened() {
    let flags = flags("-w broadcast --sim --node-count 3 --time-limit 6 --rate 20 --seed 11");
    let original = run(&test_config(&flags, 0).expect("config"));
    let schedule = original.schedule.clone().expect("schedule");
    let starts = |o: &Outcome| {
        o.history
            .ops
            .iter()
            .filter(|op| op.f == "start-partition")
            .count()
            / 2
    };
    assert_eq!(starts(&original), schedule.partitions.len());

    let mut none = schedule.clone();
    none.partitions.clear();
    assert_eq!(
        starts(&run(&replaying(&flags, none))),
        0,
        "no partition starts"
    );

    let mut shorter = schedule.clone();
    let first = shorter.partitions[0].clone();
    let heal_at = first.start + 1_000_000; // 1 ms after it starts
    shorter.partitions = vec![schedule::Partition {
        end: Some(heal_at),
        ..first
    }];
    let replay = run(&replaying(&flags, shorter));
    let stops: Vec<u64> = replay
        .history
        .ops
        .iter()
        .filter(|op| op.f == "stop-partition")
        .map(|op| op.time_ns)
        .collect();
    assert_eq!(
        stops.first(),
        Some(&heal_at),
        "the shorter partition heals at its new end"
    );
}

fn server_counts(outcome: &Outcome) -> (u64, u64) {
    let servers = outcome
        .results
        .get("net")
        .and_then(|n| n.get("servers"))
        .expect("net");
    let count = |key: &str| servers.get(key).and_then(|v| v.as_u64()).expect("count");
    (count("send-count"), count("recv-count"))
}

#[test]
fn without_its_message_faults_every_message_arrives_once() {
    let flags: Vec<&str> = "-w g-set --sim --node-count 3 --time-limit 3 --rate 20 --seed 13 --loss 0.3 --duplicate 0.3"
        .split_whitespace()
        .collect();
    let original = run(&test_config(&flags, 0).expect("config"));
    let (sent, received) = server_counts(&original);
    assert!(
        sent != received,
        "loss and duplication change the counts ({sent} vs {received})"
    );
    let mut schedule = original.schedule.clone().expect("schedule");
    for fate in &mut schedule.messages {
        fate.lost = false;
        fate.copy_ms = None;
    }
    let replay = run(&replaying(&flags, schedule));
    let (sent, received) = server_counts(&replay);
    assert_eq!(
        sent, received,
        "no fault left: every server message arrives once"
    );
}

#[test]
fn the_file_round_trips_and_bad_files_name_their_line() {
    let flags =
        flags("-w kafka --sim --node-count 2 --concurrency 2n --time-limit 2 --rate 100 --seed 2");
    let original = run(&test_config(&flags, 0).expect("config"));
    let schedule = original.schedule.expect("schedule");
    let mut bytes = Vec::new();
    schedule::file::write(&schedule, &mut bytes).expect("write");
    let read = schedule::file::read(bytes.as_slice()).expect("read back");
    assert!(read == schedule, "what is written reads back the same");

    for (text, needle) in [
        ("", "no header"),
        (
            "{\"op\":{}}\n",
            "line 1: the first line is not a schedule header",
        ),
        (
            "{\"glomers-schedule\":99}\n",
            "newer than this glomers reads",
        ),
        ("not json\n", "line 1: not a JSON object"),
    ] {
        let error = schedule::file::read(text.as_bytes()).expect_err(text);
        assert!(error.contains(needle), "{text:?}: {error}");
    }
    let mut lines: Vec<&str> = std::str::from_utf8(&bytes)
        .expect("utf-8")
        .lines()
        .collect();
    lines.insert(2, "{\"msg\":[\"n0\",\"nobody\",0],\"latency-ms\":1}");
    let error = schedule::file::read(lines.join("\n").as_bytes()).expect_err("unknown name");
    assert!(
        error.contains("line 3: unknown participant \"nobody\""),
        "{error}"
    );
    // Times and delays that would wrap the clock are refused, not replayed.
    lines[2] = "{\"msg\":[\"n0\",\"n1\",0],\"latency-ms\":18446744073709551615}";
    let error = schedule::file::read(lines.join("\n").as_bytes()).expect_err("huge delay");
    assert!(error.contains("line 3: a message delay of"), "{error}");
    lines[2] = "{\"op\":{\"at\":18446744073709551615,\"thread\":0,\"f\":\"send\",\"value\":null}}";
    let error = schedule::file::read(lines.join("\n").as_bytes()).expect_err("huge time");
    assert!(error.contains("line 3: \"at\" is past"), "{error}");
}

#[test]
fn glomers_test_replays_a_schedule_file_and_refuses_one_that_does_not_fit() {
    let store = Store::new("schedule-replay");
    let line = "-w echo --sim --node-count 2 --time-limit 2 --rate 20 --seed 5";
    let args: Vec<&str> = line.split_whitespace().collect();
    let first = run_args(&store, &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let dir = std::fs::read_dir(store.0.join("echo"))
        .expect("runs")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("schedule.jsonl").exists())
        .expect("a run directory with schedule.jsonl");
    let file = dir.join("schedule.jsonl");
    let history = std::fs::read(dir.join("history.edn")).expect("history");

    let replay_store = Store::new("schedule-replay-again");
    let file_text = file.display().to_string();
    let mut replay_args = args.clone();
    replay_args.extend(["--schedule", file_text.as_str()]);
    let replay = run_args(&replay_store, &replay_args);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let again = std::fs::read_dir(replay_store.0.join("echo"))
        .expect("runs")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("history.edn").exists())
        .expect("the replay's run directory");
    assert!(std::fs::read(again.join("history.edn")).expect("history") == history);

    let mut wrong = vec!["-w", "echo", "--sim", "--node-count", "3", "--seed", "5"];
    wrong.extend(["--schedule", file_text.as_str()]);
    let refused = run_args(&replay_store, &wrong);
    assert_eq!(refused.code, 254);
    assert!(
        refused.stderr.contains("recorded with nodes n0 n1"),
        "{}",
        refused.stderr
    );

    std::fs::write(store.0.join("bad.jsonl"), "{\"glomers-schedule\":1}\n").expect("write");
    let bad = store.0.join("bad.jsonl").display().to_string();
    let mut bad_args = args.clone();
    bad_args.extend(["--schedule", bad.as_str()]);
    let refused = run_args(&replay_store, &bad_args);
    assert_eq!(refused.code, 254);
    assert!(
        refused.stderr.contains("line 1: \"workload\" missing"),
        "{}",
        refused.stderr
    );
}
