//! Results and history files: round trips through our EDN writer and reader, the console
//! summary's verdict line, and the plots.

use std::path::PathBuf;

use glomers::harness::checkers::value::clj_eq;
use glomers::harness::checkers::{Availability, CheckInput, NetStats};
use glomers::harness::edn::{
    parse, parse_all, parse_history, read_history_edn, read_results_edn, to_json,
};
use glomers::harness::edn_ops::op_from_form;
use glomers::harness::history::History;
use glomers::harness::registry::analyze;
use glomers::harness::results::plot::write_plots;
use glomers::harness::results::{console_summary, write_history, write_results};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/maelstrom-runs");

fn history(name: &str) -> History {
    let dir = PathBuf::from(FIXTURES).join(name);
    assert!(
        dir.is_dir(),
        "fixture directory {} is missing (tests/fixtures/maelstrom-runs)",
        dir.display()
    );
    read_history_edn(&dir.join("history.edn")).expect("history parses")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glomers-checker-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn analyze_fixture(_name: &str, workload: &str, h: &History) -> simd_json::OwnedValue {
    analyze(&CheckInput {
        workload,
        history: h,
        net: NetStats::default(),
        availability: Availability::Total,
        consistency_models: &[],
    })
}

#[test]
fn results_round_trip_through_edn_and_json() {
    for (name, workload) in [
        ("broadcast-5n-partition-valid", "broadcast"),
        ("g-counter-partition-valid", "g-counter"),
        ("echo-garbled-invalid", "echo"),
        ("kafka-2n-valid", "kafka"),
    ] {
        let h = history(name);
        let results = analyze_fixture(name, workload, &h);
        let dir = scratch(name);
        write_results(&dir, &results).expect("write results");
        let edn = read_results_edn(&dir.join("results.edn")).expect("our results.edn parses");
        assert!(
            clj_eq(&edn, &results),
            "{name}: results.edn does not read back"
        );
        let mut json = std::fs::read(dir.join("results.json")).expect("results.json");
        let back = simd_json::to_owned_value(&mut json).expect("results.json parses");
        assert!(
            clj_eq(&back, &results),
            "{name}: results.json does not read back"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn history_round_trips_and_plots_render() {
    for name in [
        "broadcast-5n-partition-valid",
        "kafka-2n-valid",
        "txn-list-append-valid",
        "echo-valid",
    ] {
        let h = history(name);
        let dir = scratch(&format!("h-{name}"));
        write_history(&dir, &h).expect("write history");
        let text = std::fs::read_to_string(dir.join("history.edn")).expect("history.edn");
        let back = parse_history(&text).expect("our history.edn parses");
        assert_eq!(back.ops.len(), h.ops.len());
        for (a, b) in back.ops.iter().zip(h.ops.iter()) {
            assert!(
                clj_eq(&a.value, &b.value) && a.index == b.index && a.f == b.f,
                "{name}: op {} differs",
                b.index
            );
            assert_eq!(
                (a.op_type, a.process, a.time_ns, a.is_final),
                (b.op_type, b.process, b.time_ns, b.is_final)
            );
        }
        let txt = std::fs::read_to_string(dir.join("history.txt")).expect("history.txt");
        assert_eq!(txt.lines().count(), h.ops.len());
        let jsonl = std::fs::read_to_string(dir.join("history.jsonl")).expect("history.jsonl");
        for line in jsonl.lines() {
            let mut bytes = line.as_bytes().to_vec();
            simd_json::to_owned_value(&mut bytes).expect("jsonl line parses");
        }
        write_plots(&dir, &h).expect("plots");
        for svg in ["latency-raw.svg", "latency-quantiles.svg", "rate.svg"] {
            let s = std::fs::read_to_string(dir.join(svg)).expect("svg written");
            assert!(
                s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
                "{name}/{svg}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn console_summary_ends_with_the_verdict() {
    let h = history("broadcast-5n-partition-valid");
    let summary = console_summary(&analyze_fixture("b", "broadcast", &h));
    println!("{summary}");
    assert!(summary.ends_with("}\n\nEverything looks good! ヽ(‘ー`)ノ\n"));
    let bad = console_summary(&analyze_fixture(
        "e",
        "echo",
        &history("echo-garbled-invalid"),
    ));
    assert!(bad.ends_with("\n\nAnalysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻\n"));
    let unknown = console_summary(&analyze_fixture("t", "txn-rw-register", &h));
    assert!(
        unknown.ends_with("\n\nErrors occurred during analysis, but no anomalies found. ಠ~ಠ\n")
    );
}

#[test]
fn edn_reader_handles_records_sets_and_odd_input() {
    let op = parse(r#"#jepsen.history.Op{:index 3, :type :ok, :value #{1 "a" [:x nil]}, :t 1.5e3, :r 1/2, :b 12345678901234567890N}"#)
        .expect("parses");
    let json = to_json(&op);
    let text = simd_json::to_string(&json).unwrap();
    assert!(
        text.contains("\"index\":3") && text.contains("[\"x\",null]") && text.contains("1500"),
        "{text}"
    );
    let discarded = parse("[1 #_2 #_ #_ 3 4] ; comment").expect("discards parse");
    assert_eq!(simd_json::to_string(&to_json(&discarded)).unwrap(), "[1]");
    assert!(parse("#_1").is_err(), "nothing left after a discard");
    for bad in [
        "{:a",
        "[1 2",
        "\"abc",
        "{:a 1 :b}",
        ")",
        "#",
        &"[".repeat(10_000),
    ] {
        assert!(parse(bad).is_err(), "{bad:?} should not parse");
    }
}

/// Our history.edn is byte-identical to Maelstrom's, except where Maelstrom prints an EDN
/// set (partition grudges; JSON has no sets, so we print vectors) or op keys our history
/// model does not carry (kafka's `:unseen`, `:seek-to-beginning?`, `:poll-ms`).
#[test]
fn history_edn_lines_match_maelstrom() {
    for name in [
        "broadcast-5n-valid",
        "broadcast-5n-partition-valid",
        "echo-valid",
        "g-set-partition-valid",
        "g-counter-partition-valid",
        "pn-counter-partition-valid",
        "kafka-2n-valid",
        "lin-kv-raft-valid",
        "txn-list-append-valid",
        "txn-rw-register-read-committed-valid",
    ] {
        let h = history(name);
        let original =
            std::fs::read_to_string(PathBuf::from(FIXTURES).join(name).join("history.edn"))
                .unwrap();
        let mut compared = 0;
        for (ours, theirs) in h
            .ops
            .iter()
            .map(glomers::harness::results::history_edn_line)
            .zip(original.lines())
        {
            let extra_keys = [":unseen", ":seek-to-beginning?", ":poll-ms"];
            if theirs.contains("#{") || extra_keys.iter().any(|k| theirs.contains(k)) {
                continue;
            }
            assert_eq!(ours, theirs, "{name}");
            compared += 1;
        }
        assert!(
            compared * 10 >= h.ops.len() * 9,
            "{name}: only {compared} lines compared"
        );
    }
}

#[test]
fn report_of_a_maelstrom_store_dir_adds_latencies() {
    let dir = PathBuf::from(FIXTURES).join("lin-kv-raft-valid");
    let text = glomers::harness::results::report_store_dir(&dir).expect("report");
    assert!(text.contains(":latencies {:cas {0 "), "{text}");
    assert!(text.ends_with("Everything looks good! ヽ(‘ー`)ノ\n"));
}

/// The op reader's fast path (op maps read key by key in place, src/harness/edn_ops.rs)
/// gives exactly what the generic reader's tree gives: ops, and errors.
#[test]
fn history_ops_read_in_place_equal_the_generic_reader() {
    let generic = |text: &str| -> Result<History, String> {
        let ops = parse_all(text)?
            .into_iter()
            .enumerate()
            .map(|(position, form)| op_from_form(form, position))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(History { ops })
    };
    let texts = [
        "{:index 0, :time 5, :type :invoke, :process 0, :f :send, :value [[:send \"k\" 1]]}\n\
         #jepsen.history.Op{:type :ok, \"type\" 1, :process :nemesis, :f \"start\", \
         :value {:a 1.5, 2 nil, [1] #{:x}}, :type :fail, :error [:timeout \"x\\\"y\\u00e9\"], \
         :final? true, :extra (1 2)}\n\
         #_ {:skip 1} {:type :info :process 3 :f x :value ##Inf :exception {:via []}}\n\
         #tag\n {:type :ok :process 1 :f :read :index 7 :time 9}",
        "[1 2]",
        "#{:type :ok}",
        "#jepsen.history.Op [:type :ok]",
        "{:type :ok :process}",
        "{:type :bogus, :process 0, :f :x}",
        "{:type :ok, :process -1, :f :x}",
        "{:type :ok, :process 0, :f 3}",
        "{:type :ok, :process 0, :f :x, :index -2}",
        "{:type :ok, :process 0, : 1}",
        "{:type :ok, :process 0, :f :x, :value [1 2}",
        "",
    ];
    for text in texts {
        assert_eq!(parse_history(text), generic(text), "{text}");
    }
    assert_eq!(parse_history(texts[0]).map(|h| h.ops.len()), Ok(4));
}
