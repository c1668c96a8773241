//! Seeing a run (issue 16): every run directory gets `messages.svg` (a Lamport diagram of
//! the journal: one arrow per delivered message, coloured by kind, its envelope on hover,
//! partitions shaded, a window past a bound that the console and results describe) and
//! `timeline.html` (one bar per op per process).

#[path = "common/e2e.rs"]
mod e2e;

use e2e::{Store, run};

/// The newest run directory of `workload` in `store`.
fn latest(store: &Store, workload: &str) -> std::path::PathBuf {
    store.0.join(workload).join("latest")
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const BROADCAST: &str = "--sim -w broadcast --node-count 3 --time-limit 2 --rate 20 --latency 5 \
                         --nemesis partition --nemesis-interval 0.5 --seed 7";

#[test]
fn the_lamport_diagram_draws_every_message_with_its_kind_and_partitions() {
    let store = Store::new("lamport-all");
    let done = run(&store, BROADCAST);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let dir = latest(&store, "broadcast");
    let svg = read(&dir.join("messages.svg"));
    let sends = read(&dir.join("net-journal.jsonl"))
        .lines()
        .filter(|line| line.contains("\"type\":\"send\""))
        .count();
    assert_eq!(svg.matches("<g class=\"message ").count(), sends);
    assert!(svg.contains(&format!("all {sends} messages")), "note");
    for kind in ["client", "peer"] {
        assert!(
            svg.contains(&format!("<g class=\"message {kind}\">")),
            "{kind}"
        );
    }
    assert!(svg.contains("marker-end=\"url(#arrow-client)\""));
    assert!(
        svg.contains("<title>{&quot;id&quot;:0,"),
        "hover text escaped"
    );
    assert!(
        svg.contains("<rect class=\"partition\""),
        "partitions shaded"
    );
    assert!(svg.contains(">n0</text>") && svg.contains(">c0</text>"));
    let results = read(&dir.join("results.edn"));
    assert!(!results.contains("messages-diagram"), "nothing left out");
    assert!(!done.stderr.contains("messages.svg"), "{}", done.stderr);
}

#[test]
fn past_the_bound_a_window_is_drawn_and_what_was_left_out_is_said() {
    let store = Store::new("lamport-window");
    let line = format!("{BROADCAST} --diagram-from 0.5 --diagram-messages 30");
    let done = run(&store, &line);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let dir = latest(&store, "broadcast");
    let svg = read(&dir.join("messages.svg"));
    assert_eq!(svg.matches("<g class=\"message ").count(), 30);
    assert!(
        done.stderr.contains("messages.svg: drew 30 of ")
            && done
                .stderr
                .contains("--diagram-from SECONDS --diagram-messages N"),
        "{}",
        done.stderr
    );
    assert!(svg.contains("drew 30 of "), "the diagram says it too");
    let results = read(&dir.join("results.edn"));
    assert!(
        results.contains(":messages-diagram {:drawn 30,") && results.contains(":left-out-before"),
        "{results}"
    );
}

#[test]
fn without_a_journal_the_diagram_and_console_say_so() {
    let store = Store::new("lamport-none");
    let done = run(&store, &format!("{BROADCAST} --no-journal"));
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let svg = read(&latest(&store, "broadcast").join("messages.svg"));
    assert!(svg.contains("No network journal"), "{svg}");
    assert!(
        done.stderr.contains("no network journal"),
        "{}",
        done.stderr
    );
}

#[test]
fn diagram_flags_out_of_range_are_bad_arguments() {
    let store = Store::new("lamport-flags");
    for flags in ["--diagram-messages 0", "--diagram-from 100000"] {
        let done = run(&store, &format!("{BROADCAST} {flags}"));
        assert_eq!(done.code, 254, "{flags}: {}", done.stderr);
        assert!(done.stderr.contains("--diagram-"), "{}", done.stderr);
    }
}

#[test]
fn the_timeline_has_a_column_per_process_and_a_bar_per_op() {
    use glomers::harness::history::{History, OpType, Process};
    use glomers::harness::results::timeline::timeline;
    use simd_json::{OwnedValue, ValueBuilder};
    let mut history = History::default();
    let mut push = |ms: u64, op_type: OpType, process: Process, f: &str| {
        history.push(ms * 1_000_000, op_type, process, f, OwnedValue::null());
    };
    push(0, OpType::Invoke, Process::Client(0), "read");
    push(1, OpType::Invoke, Process::Client(1), "add<b>");
    push(5, OpType::Ok, Process::Client(0), "read");
    // Maelstrom's nemesis writes its invocation as :info too.
    push(6, OpType::Info, Process::Nemesis, "start-partition");
    push(7, OpType::Info, Process::Nemesis, "start-partition");
    push(9, OpType::Fail, Process::Client(1), "add<b>");
    push(10, OpType::Invoke, Process::Client(0), "read");
    push(11, OpType::Info, Process::Client(0), "read");
    push(12, OpType::Invoke, Process::Client(3), "read");
    let page = timeline(&history).into_string();
    assert_eq!(
        page.matches("class=\"process\"").count(),
        4,
        "0, 1, 3, nemesis"
    );
    assert!(page.contains(">nemesis</div>"));
    for class in ["ok", "fail", "info", "pending"] {
        assert!(page.contains(&format!("class=\"op {class}\"")), "{class}");
    }
    assert_eq!(page.matches("class=\"op ").count(), 5);
    assert!(
        page.contains("add&lt;b&gt;") && !page.contains("add<b>"),
        "escaped"
    );
    assert!(page.contains("All 5 ops."));
}

#[test]
fn every_run_writes_a_timeline() {
    let store = Store::new("timeline-run");
    let done = run(&store, BROADCAST);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let page = read(&latest(&store, "broadcast").join("timeline.html"));
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains(">nemesis</div>") && page.contains("class=\"op ok\""));
}
