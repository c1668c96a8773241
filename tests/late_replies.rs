//! Replies after the client gave up, as the real Maelstrom treats them (MAELSTROM.md §1.8,
//! §1.9, §2.3), and said out loud:
//!
//! * a reply to a client that was closed mutes the node for the rest of the run (no `ok`
//!   from it afterwards), with a warning on stderr, `muted-nodes` in the results, a line in
//!   `report --brief`; the run keeps Maelstrom's verdict (valid for echo). `--strict`
//!   stops the run instead (exit 255);
//! * a late or second reply to a client that is still open is discarded, as Maelstrom's
//!   client does, and counted under `late-replies`;
//! * a sweep fails a seed whose nodes answered late or twice, even when the checkers pass.

#[path = "common/e2e.rs"]
mod e2e;

use std::path::Path;
use std::process::Command;

use e2e::{Store, run};
use glomers::harness::conduct::Lateness;
use glomers::harness::session::{Outcome, Sinks, execute_with_nodes, test_config};
use glomers::harness::sweep::{SeedResult, seed_result};
use glomers::node::kv::ReplyTo;
use glomers::node::{Ctx, DynNode, Message, NodeCore, RequestError, Workload};
use serde_json::Value;
use simd_json::prelude::*;

/// Ops of a run's history.jsonl.
fn history(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("history.jsonl")).expect("history.jsonl");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("history line"))
        .collect()
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

/// The echo node answers its 3rd echo 6 s late (after the client's 5 s timeout, to a
/// client closed by then): the measured case, shortened from 12 s.
const LATE_ECHO: &str = "-w echo --bin tests/nodes/echo_late.py --node-count 1 --time-limit 10 \
                         --rate 10 --seed 3 -- 3 6";

#[test]
fn a_late_echo_mutes_the_node_and_the_run_stays_valid() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let store = Store::new("late-echo");
            let r = run(&store, LATE_ECHO);
            assert_eq!(
                r.code, 0,
                "valid, as under the real Maelstrom\n{}",
                r.stderr
            );
            assert!(r.stdout.contains("Everything looks good!"), "{}", r.stdout);
            let warned = r
                .stderr
                .contains("WARN: node n0 sent a message with an invalid dest")
                && r.stderr
                    .contains("The real Maelstrom stops reading n0's output here")
                && r.stderr.contains("--strict");
            assert!(warned, "{}", r.stderr);
            assert!(r.stdout.contains("WARNING: n0 muted at"), "{}", r.stdout);

            let dir = store.0.join("latest");
            let results = results(&dir);
            let muted = &results["muted-nodes"][0];
            assert_eq!(muted["node"], "n0");
            assert!(muted["message"].as_str().unwrap_or("").contains("echo_ok"));
            let muted_at = muted["time"].as_u64().expect("mute time");
            let ops = history(&dir);
            let invoked_third = ops
                .iter()
                .filter(|op| op["type"] == "invoke")
                .nth(2)
                .and_then(|op| op["time"].as_u64())
                .expect("a third echo");
            let delay = muted_at - invoked_third;
            assert!(
                (6_000_000_000..7_000_000_000).contains(&delay),
                "muted by the reply 6 s after the third echo, not {delay} ns"
            );
            let ok_after = ops
                .iter()
                .filter(|op| op["type"] == "ok")
                .filter(|op| op["time"].as_u64() > Some(muted_at))
                .count();
            assert_eq!(
                ok_after, 0,
                "no ok op from the muted node after its late reply"
            );
            let info_after = ops
                .iter()
                .filter(|op| op["type"] == "info")
                .filter(|op| op["time"].as_u64() > Some(muted_at))
                .count();
            assert!(info_after >= 1, "its later ops time out");

            let brief = Command::new(env!("CARGO_BIN_EXE_glomers"))
                .args(["report", "--brief"])
                .arg(&dir)
                .output()
                .expect("report");
            let brief = String::from_utf8_lossy(&brief.stdout);
            assert!(brief.contains("WARNING           n0 muted at"), "{brief}");
        });
        s.spawn(|| {
            let store = Store::new("late-echo-strict");
            let r = run(&store, &LATE_ECHO.replace(" -- ", " --strict -- "));
            assert_eq!(r.code, 255, "--strict keeps the crash\n{}", r.stderr);
            let named = r
                .stderr
                .contains("Node n0 sent a message with an invalid dest \"c");
            assert!(named, "{}", r.stderr);
        });
    });
}

/// unique-ids (a reusable client) answering its Nth `generate` `delay_ms` late, and
/// optionally again at once.
struct LateIds {
    nth: u64,
    delay_ms: u64,
    twice: bool,
    seen: u64,
    next: u64,
}

impl Workload for LateIds {
    type Tag = ReplyTo;

    fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, ReplyTo>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        self.seen += 1;
        self.next += 1;
        let id = format!("{}-{}", ctx.node_id(), self.next);
        if self.seen == self.nth {
            if let Some(to) = ReplyTo::of(msg) {
                ctx.set_timer(self.delay_ms, to);
            }
            if !self.twice {
                return Ok(());
            }
        }
        ctx.reply(msg, "generate_ok").str("id", &id);
        Ok(())
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, ReplyTo>, to: ReplyTo) {
        self.next += 1;
        let id = format!("{}-late-{}", ctx.node_id(), self.next);
        to.reply(ctx, "generate_ok").str("id", &id);
    }
}

fn late_ids(delay_ms: u64, twice: bool) -> Outcome {
    let flags = [
        "-w",
        "unique-ids",
        "--sim",
        "--node-count",
        "1",
        "--time-limit",
        "10",
        "--rate",
        "20",
        "--seed",
        "5",
    ];
    let config = test_config(&flags, 0).expect("flags");
    let make = move |_: usize, seed: u64| -> Box<dyn DynNode> {
        let node = LateIds {
            nth: 5,
            delay_ms,
            twice,
            seen: 0,
            next: 0,
        };
        Box::new(NodeCore::new(node, seed))
    };
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    execute_with_nodes(&config, sinks, &make).expect("run")
}

#[test]
fn late_and_second_replies_to_an_open_client_are_discarded_and_counted() {
    let late = late_ids(6_000, false);
    assert!(
        late.conduct.muted.is_empty(),
        "unique-ids clients are reused: no mute"
    );
    assert_eq!(late.conduct.after_timeout, 1);
    assert_eq!(late.conduct.second_replies, 0);
    let first = &late.conduct.late[0];
    assert_eq!(first.lateness, Lateness::AfterTimeout);
    assert_eq!(
        (first.node.as_str(), first.reply_type.as_str()),
        ("n0", "generate_ok")
    );
    assert!(
        (900_000_000..1_100_000_000).contains(&first.late_by_ns),
        "about 1 s past the 5 s timeout: {} ns",
        first.late_by_ns
    );
    assert_eq!(
        late.results["late-replies"]["after-timeout"].as_u64(),
        Some(1)
    );
    assert_eq!(
        late.results["valid?"].as_bool(),
        Some(true),
        "the checker never saw it"
    );
    let ids: Vec<String> = late
        .history
        .ops
        .iter()
        .filter_map(|op| op.value.as_str().map(str::to_string))
        .collect();
    assert!(
        !ids.iter().any(|id| id.contains("late")),
        "the late id was discarded"
    );

    let twice = late_ids(10, true);
    assert_eq!(twice.conduct.after_timeout, 0);
    assert_eq!(twice.conduct.second_replies, 1);
    assert_eq!(twice.conduct.late[0].lateness, Lateness::Second);

    let on_time = late_ids(10, false);
    assert!(on_time.conduct.is_clean(), "{:?}", on_time.conduct);
}

#[test]
fn a_sweep_fails_a_valid_seed_whose_node_answered_late() {
    let late = late_ids(6_000, false);
    assert_eq!(late.validity, glomers::harness::checkers::Validity::Valid);
    match seed_result(Ok(late)) {
        SeedResult::Late(message) => {
            assert!(message.contains("after the client's timeout"), "{message}")
        }
        other => panic!("expected a late seed, got {other:?}"),
    }
    assert_eq!(seed_result(Ok(late_ids(10, false))), SeedResult::Valid);
}
