//! What went wrong, in words (results `:explanation`, the console's "What went wrong:"),
//! and the causal diagram of the ops it names: on real Maelstrom runs (the checker
//! fixtures) and on deliberately broken nodes from tests/nodes run by `glomers test`.

#[path = "common/e2e.rs"]
mod e2e;

use std::path::{Path, PathBuf};

use e2e::{Store, run};
use glomers::harness::checkers::explain::{self, Context, Explanation};
use glomers::harness::checkers::{Availability, CheckInput, NetStats};
use glomers::harness::edn::read_history_edn;
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/maelstrom-runs");

/// Our analysis of a real Maelstrom run's history, and its explanations.
fn explain_fixture(
    name: &str,
    workload: &str,
    models: &[&str],
    sizes: (usize, usize),
) -> (History, Vec<Explanation>) {
    let history = read_history_edn(&PathBuf::from(FIXTURES).join(name).join("history.edn"))
        .expect("history.edn parses");
    let models: Vec<String> = models.iter().map(|m| m.to_string()).collect();
    let results = analyze(&CheckInput {
        workload,
        history: &history,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &models,
    });
    let context = Context {
        workload,
        history: &history,
        node_count: sizes.0,
        concurrency: sizes.1,
    };
    let explanations = explain::explain(&context, &results);
    assert!(!explanations.is_empty(), "{name}: nothing explained");
    for e in &explanations {
        assert!(
            e.text.chars().count() <= explain::TEXT_MAX + 1,
            "{}",
            e.text
        );
    }
    assert!(explanations.len() <= explain::EXPLANATIONS_MAX);
    (history, explanations)
}

/// The history op at `index`.
fn op(history: &History, index: u64) -> &glomers::harness::history::Op {
    &history.ops[index as usize]
}

#[test]
fn lin_kv_names_the_read_that_cannot_be_linearized_and_the_write_before_it() {
    let (history, found) = explain_fixture("lin-kv-unreplicated-invalid", "lin-kv", &[], (3, 6));
    let first = &found[0];
    assert!(
        first.text.starts_with(
            "key 0: read → 4 by process 0 on n0 at 2.038–2.044 s cannot be linearized: after \
             write 2 by process 5 on n2 at 1.904–1.909 s the register holds 2"
        ),
        "{}",
        first.text
    );
    // The ops are the read's and the write's invocations and completions.
    let named: Vec<(&str, OpType, Process)> = first
        .ops
        .iter()
        .map(|&i| {
            (
                op(&history, i).f.as_str(),
                op(&history, i).op_type,
                op(&history, i).process,
            )
        })
        .collect();
    assert!(named.contains(&("read", OpType::Invoke, Process::Client(0))));
    assert!(named.contains(&("read", OpType::Ok, Process::Client(0))));
    assert!(named.contains(&("write", OpType::Ok, Process::Client(5))));
}

#[test]
fn kafka_names_the_two_sends_that_got_one_offset() {
    let (history, found) = explain_fixture("kafka-reused-offset-invalid", "kafka", &[], (0, 0));
    let first = &found[0];
    assert!(
        first.text.starts_with(
            "2 sends to key 10 got offset 1: 2 by process 2 at 0.386–0.389 s (offset 1); 3 by \
             process 1 at 0.390–0.391 s (offset 1)"
        ),
        "{}",
        first.text
    );
    assert_eq!(first.ops.len(), 4);
    assert!(first.ops.iter().all(|&i| op(&history, i).f == "send"));
    let texts: Vec<&str> = found.iter().map(|e| e.text.as_str()).collect();
    assert!(
        texts.iter().any(|t| t.contains("is missing")),
        "a lost write is explained too: {texts:#?}"
    );
}

#[test]
fn txn_cycles_say_each_edge_in_words() {
    let (history, found) = explain_fixture(
        "txn-rw-register-serializable-invalid",
        "txn-rw-register",
        &["serializable"],
        (0, 0),
    );
    let g2 = found
        .iter()
        .find(|e| e.text.starts_with("G2-item: T1 →rw T2 →rw T1:"))
        .expect("a G2-item explanation");
    assert!(
        g2.text.contains(
            "T1 read key 24 as nil, missing T2's write of 2; T2 read key 24 as nil, missing \
             T1's write of 1"
        ),
        "{}",
        g2.text
    );
    assert!(
        g2.text
            .contains("T2 = process 2 at 2.697–2.699 s [[:r 24 nil] [:w 24 2]]")
    );
    assert_eq!(g2.ops.len(), 4, "two transactions, invoked and completed");
    assert!(g2.ops.iter().all(|&i| op(&history, i).f == "txn"));
    let list_append = explain_fixture(
        "txn-list-append-stale-read-invalid",
        "txn-list-append",
        &[],
        (0, 0),
    )
    .1;
    assert!(
        list_append[0].text.contains(
            "G-single-item: T1 →rw T2 →ww T1: T1 read key 7 as [1 2 3 4], missing T2's append \
             of 11"
        ),
        "{}",
        list_append[0].text
    );
}

#[test]
fn echo_names_the_echo_that_came_back_wrong() {
    let (_, found) = explain_fixture("echo-garbled-invalid", "echo", &[], (1, 1));
    assert_eq!(
        found[0].text,
        "echo by process 0 on n0 at 0.027–0.042 s sent \"Please echo 6\" but got back \
         \"WRONG Please echo 6\""
    );
}

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

fn latest(store: &Store, workload: &str) -> PathBuf {
    store.0.join(workload).join("latest")
}

/// The explanation entries of a run's results: (text, ops).
fn explanations(results: &Value) -> Vec<(String, Vec<u64>)> {
    results["explanation"]
        .as_array()
        .expect("an :explanation")
        .iter()
        .map(|e| {
            let ops = e["ops"].as_array().expect("ops");
            (
                e["text"].as_str().expect("text").to_string(),
                ops.iter().map(|o| o.as_u64().expect("an index")).collect(),
            )
        })
        .collect()
}

/// Messages drawn in an SVG Lamport diagram.
fn drawn(svg: &str) -> usize {
    svg.matches("<g class=\"message").count()
}

/// History lines of a run (history.jsonl), by index.
fn history_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .expect("history.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a history line"))
        .collect()
}

#[test]
fn a_lossy_broadcast_names_the_value_the_final_read_lacks_and_draws_its_causal_path() {
    let store = Store::new("explain-broadcast");
    let line = "-w broadcast --bin tests/nodes/broadcast.py lossy --node-count 5 --time-limit 6 \
                --rate 10 --nemesis partition --nemesis-interval 1 --seed 2";
    let out = run(&store, line);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("What went wrong:\n  - final read by process"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("causal.svg: the "), "{}", out.stderr);
    let dir = latest(&store, "broadcast");
    let results = results(&dir);
    let history = history_lines(&dir);
    let (text, ops) = &explanations(&results)[0];
    // "final read by process 4 on n4 at … lacks 1, acknowledged to process 3 on n3 at …":
    // the named value is missing from the named read and was added by the named op.
    let value: u64 = text
        .split(" lacks ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no lacked value in {text}"));
    let reader: u64 = text
        .strip_prefix("final read by process ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no reader in {text}"));
    let final_read = ops
        .iter()
        .map(|&i| &history[i as usize])
        .find(|op| {
            op["f"] == "read"
                && op["type"] == "ok"
                && op["final?"] == true
                && op["process"].as_u64() == Some(reader)
        })
        .unwrap_or_else(|| panic!("no final read of process {reader} among {ops:?}"));
    let read_values = final_read["value"].as_array().expect("a read's values");
    assert!(!read_values.iter().any(|v| v.as_u64() == Some(value)));
    assert!(ops.iter().any(|&i| {
        let op = &history[i as usize];
        op["f"] == "broadcast" && op["type"] == "ok" && op["value"].as_u64() == Some(value)
    }));
    let full = std::fs::read_to_string(dir.join("messages.svg")).expect("messages.svg");
    let causal = std::fs::read_to_string(dir.join("causal.svg")).expect("causal.svg");
    assert!(
        drawn(&causal) >= 2 && drawn(&causal) * 5 <= drawn(&full),
        "causal {} vs full {}",
        drawn(&causal),
        drawn(&full)
    );
    // The explained broadcast's request and its reply are drawn.
    let request = format!("&quot;message&quot;:{value}");
    let request_drawn = [",", "}"]
        .iter()
        .any(|end| causal.contains(&format!("{request}{end}")));
    assert!(request_drawn, "no broadcast of {value} in causal.svg");
    assert!(causal.contains("broadcast_ok"));
    assert!(causal.contains("read_ok"));
}

#[test]
fn lin_kv_with_diagram_causal_draws_only_the_causal_path_in_messages_svg() {
    let store = Store::new("explain-lin-kv");
    let base = "-w lin-kv --bin tests/nodes/lin_kv.py --node-count 2 --concurrency 4 \
                --time-limit 3 --rate 30 --seed 3";
    let full = run(&store, base);
    assert_eq!(full.code, 1, "{}\n{}", full.stdout, full.stderr);
    let dir = latest(&store, "lin-kv");
    let full_svg = std::fs::read_to_string(dir.join("messages.svg")).expect("messages.svg");
    let full_results = results(&dir);
    let (text, ops) = &explanations(&full_results)[0];
    assert!(text.contains("cannot be linearized"), "{text}");
    assert!(
        full.stdout
            .contains(&format!("What went wrong:\n  - {text}"))
    );
    let causal = run(&store, &format!("{base} --diagram causal"));
    assert_eq!(causal.code, 1);
    assert!(
        causal.stderr.contains("messages.svg: the "),
        "the console says messages.svg is the causal diagram: {}",
        causal.stderr
    );
    let svg = std::fs::read_to_string(dir.join("messages.svg")).expect("messages.svg");
    assert!(!dir.join("causal.svg").exists());
    let results = results(&dir);
    assert_eq!(results["messages-diagram"]["mode"], "causal");
    assert_eq!(
        &explanations(&results)[0].1,
        ops,
        "the same seed explains the same ops"
    );
    // Each explained op is a request and its reply: at least two messages per op pair.
    assert!(
        drawn(&svg) >= ops.len(),
        "{} drawn for {ops:?}",
        drawn(&svg)
    );
    assert!(drawn(&svg) * 5 <= drawn(&full_svg));
    assert!(svg.contains("read_ok"));
}

#[test]
fn valid_runs_get_no_explanation_and_no_causal_diagram() {
    let store = Store::new("explain-valid");
    let out = run(
        &store,
        "-w g-counter --sim --node-count 3 --time-limit 2 --rate 20 --seed 4",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("What went wrong"));
    let dir = latest(&store, "g-counter");
    assert!(!dir.join("causal.svg").exists());
    assert!(results(&dir).get("explanation").is_none());
    let causal = run(
        &store,
        "-w g-counter --sim --node-count 3 --time-limit 2 --rate 20 --seed 4 --diagram causal",
    );
    assert_eq!(causal.code, 0);
    assert!(causal.stderr.contains("messages.svg: the full diagram"));
}

#[test]
fn counters_say_what_the_acknowledged_adds_sum_to() {
    let store = Store::new("explain-counter");
    let out = run(
        &store,
        "-w g-counter --bin tests/nodes/counter.py double --node-count 2 --time-limit 3 \
         --rate 20 --seed 2",
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let dir = latest(&store, "g-counter");
    let history = history_lines(&dir);
    let (text, ops) = &explanations(&results(&dir))[0];
    let words: Vec<&str> = text.split_whitespace().collect();
    let read: i64 = words[2].parse().expect("final read N …");
    let sum: i64 = words[words.iter().position(|w| *w == "to").expect("sum to") + 1]
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .expect("a sum");
    let acknowledged: i64 = history
        .iter()
        .filter(|op| op["f"] == "add" && op["type"] == "ok")
        .map(|op| op["value"].as_i64().expect("a delta"))
        .sum();
    assert_eq!(sum, acknowledged, "{text}");
    assert_ne!(read, sum);
    assert!(
        ops.iter()
            .any(|&i| history[i as usize]["value"].as_i64() == Some(read))
    );
}
