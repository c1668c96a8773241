//! Feeds the histories of real Maelstrom runs (tests/fixtures/maelstrom-runs, a copy of
//! the project's shared/fixtures) to our checkers and compares the results with the
//! `results.edn` Maelstrom wrote for them.

use std::path::PathBuf;

use glomers::harness::checkers::value::clj_eq;
use glomers::harness::checkers::{
    Availability, CheckInput, NetCounts, NetStats, Validity, validity_of,
};
use glomers::harness::edn::{read_history_edn, read_results_edn};
use glomers::harness::registry::analyze;
use simd_json::OwnedValue;
use simd_json::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/maelstrom-runs");

fn fixture(name: &str) -> PathBuf {
    let dir = PathBuf::from(FIXTURES).join(name);
    assert!(
        dir.is_dir(),
        "fixture directory {} is missing (tests/fixtures/maelstrom-runs)",
        dir.display()
    );
    dir
}

fn get<'a>(v: &'a OwnedValue, path: &[&str]) -> &'a OwnedValue {
    path.iter().fold(v, |v, k| match v {
        OwnedValue::Object(m) => m
            .get(*k)
            .unwrap_or_else(|| panic!("missing key {k} in {path:?}")),
        _ => panic!("not a map at {k} in {path:?}"),
    })
}

fn int(v: &OwnedValue, path: &[&str]) -> u64 {
    match get(v, path) {
        OwnedValue::Static(simd_json::StaticNode::I64(i)) => *i as u64,
        OwnedValue::Static(simd_json::StaticNode::U64(u)) => *u,
        other => panic!("{path:?} is not an integer: {other:?}"),
    }
}

fn counts(results: &OwnedValue, group: &str) -> NetCounts {
    NetCounts {
        send_count: int(results, &["net", group, "send-count"]),
        recv_count: int(results, &["net", group, "recv-count"]),
        msg_count: int(results, &["net", group, "msg-count"]),
    }
}

/// Runs our analysis on a fixture's history, with the fixture's own journal counts.
fn run(name: &str, workload: &str) -> (OwnedValue, OwnedValue) {
    run_models(name, workload, &[])
}

/// [`run`] with `--consistency-models`.
fn run_models(name: &str, workload: &str, models: &[String]) -> (OwnedValue, OwnedValue) {
    let dir = fixture(name);
    let expected = read_results_edn(&dir.join("results.edn")).expect("results.edn parses");
    let history = read_history_edn(&dir.join("history.edn")).expect("history.edn parses");
    let net = NetStats {
        all: counts(&expected, "all"),
        clients: counts(&expected, "clients"),
        servers: counts(&expected, "servers"),
    };
    let input = CheckInput {
        workload,
        history: &history,
        net,
        availability: Availability::Any,
        consistency_models: models,
    };
    (analyze(&input), expected)
}

fn assert_same(name: &str, key: &str, ours: &OwnedValue, theirs: &OwnedValue) {
    assert!(
        clj_eq(ours, theirs),
        "{name}: {key} differs\n ours:   {}\n theirs: {}",
        simd_json::to_string(ours).unwrap_or_default(),
        simd_json::to_string(theirs).unwrap_or_default()
    );
}

/// Stats, availability and net must match exactly for every fixture with a history.
fn check_common(name: &str, ours: &OwnedValue, theirs: &OwnedValue) {
    for key in ["stats", "availability", "net", "timeline", "exceptions"] {
        assert_same(name, key, get(ours, &[key]), get(theirs, &[key]));
    }
    for key in ["latency-graph", "rate-graph", "valid?"] {
        assert_same(
            name,
            key,
            get(ours, &["perf", key]),
            get(theirs, &["perf", key]),
        );
    }
}

fn check_full(name: &str, workload: &str) {
    let (ours, theirs) = run(name, workload);
    check_common(name, &ours, &theirs);
    assert_same(
        name,
        "workload",
        get(&ours, &["workload"]),
        get(&theirs, &["workload"]),
    );
    assert_eq!(validity_of(&ours), validity_of(&theirs), "{name}: verdict");
}

#[test]
fn broadcast_fixtures_match() {
    check_full("broadcast-5n-valid", "broadcast");
    check_full("broadcast-5n-partition-valid", "broadcast");
}

#[test]
fn g_set_fixture_matches() {
    check_full("g-set-partition-valid", "g-set");
}

#[test]
fn counter_fixtures_match() {
    check_full("g-counter-partition-valid", "g-counter");
    check_full("pn-counter-partition-valid", "pn-counter");
}

/// Maelstrom lists echo errors in hash-map order; we list them in history order, so the
/// errors are compared as a multiset.
fn check_echo(name: &str) {
    let (ours, theirs) = run(name, "echo");
    check_common(name, &ours, &theirs);
    assert_same(
        name,
        "valid?",
        get(&ours, &["workload", "valid?"]),
        get(&theirs, &["workload", "valid?"]),
    );
    let list = |v: &OwnedValue| match get(v, &["workload", "errors"]) {
        OwnedValue::Array(a) => a.as_ref().clone(),
        other => panic!("errors is not a list: {other:?}"),
    };
    let (mut mine, other) = (list(&ours), list(&theirs));
    assert_eq!(mine.len(), other.len(), "{name}: error count");
    for e in &other {
        let at = mine
            .iter()
            .position(|m| clj_eq(m, e))
            .unwrap_or_else(|| panic!("{name}: missing error {e:?}"));
        mine.swap_remove(at);
    }
    assert_eq!(validity_of(&ours), validity_of(&theirs), "{name}: verdict");
}

#[test]
fn echo_fixtures_match() {
    check_echo("echo-valid");
    check_echo("echo-garbled-invalid");
    assert_eq!(validity_of(&run("echo-valid", "echo").0), Validity::Valid);
    assert_eq!(
        validity_of(&run("echo-garbled-invalid", "echo").0),
        Validity::Invalid
    );
}

/// Workloads we do not check yet still get Maelstrom's stats, availability and net, and an
/// unknown workload verdict.
#[test]
fn other_fixtures_match_stats_availability_and_net() {
    for (name, workload) in [] {
        let (ours, theirs) = run(name, workload);
        check_common(name, &ours, &theirs);
        assert_eq!(
            Validity::from_value(Some(get(&ours, &["workload", "valid?"]))),
            Validity::Unknown
        );
    }
}

#[test]
fn unique_ids_results_parse() {
    let results =
        read_results_edn(&fixture("unique-ids-partition-valid").join("results.edn")).unwrap();
    assert_eq!(validity_of(&results), Validity::Valid);
    assert_eq!(int(&results, &["workload", "attempted-count"]), 26510);
}

/// Our results.edn text is byte-identical to Maelstrom's for these runs, once our extra
/// `:perf :latencies` report is removed.
#[test]
fn results_edn_text_is_identical_to_maelstrom() {
    for (name, workload) in [
        ("broadcast-5n-valid", "broadcast"),
        ("broadcast-5n-partition-valid", "broadcast"),
        ("g-set-partition-valid", "g-set"),
        ("g-counter-partition-valid", "g-counter"),
        ("pn-counter-partition-valid", "pn-counter"),
    ] {
        let (mut ours, _) = run(name, workload);
        if let OwnedValue::Object(top) = &mut ours
            && let Some(OwnedValue::Object(perf)) = top.get_mut("perf")
        {
            perf.remove("latencies");
        }
        let dir =
            std::env::temp_dir().join(format!("glomers-results-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        glomers::harness::results::write_results(&dir, &ours).unwrap();
        let text = std::fs::read_to_string(dir.join("results.edn")).unwrap();
        let theirs = std::fs::read_to_string(fixture(name).join("results.edn")).unwrap();
        assert_eq!(text.trim_end(), theirs.trim_end(), "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The unique-ids fixture has no history: check that a flake-id history of the same shape
/// yields the same result keys, counts and range form.
#[test]
fn unique_ids_result_has_maelstrom_shape() {
    use glomers::harness::history::{History, OpType, Process};
    let theirs =
        read_results_edn(&fixture("unique-ids-partition-valid").join("results.edn")).unwrap();
    let mut h = History::default();
    for i in 0..10u64 {
        h.push(
            2 * i,
            OpType::Invoke,
            Process::Client(i % 3),
            "generate",
            OwnedValue::Static(simd_json::StaticNode::Null),
        );
        let id = simd_json::json!([1795375346u64 + i / 4, i % 4, format!("n{}", i % 3)]);
        h.push(
            2 * i + 1,
            OpType::Ok,
            Process::Client(i % 3),
            "generate",
            id,
        );
    }
    let input = CheckInput {
        workload: "unique-ids",
        history: &h,
        net: NetStats::default(),
        availability: Availability::Total,
        consistency_models: &[],
    };
    let ours = analyze(&input);
    let keys = |v: &OwnedValue| match get(v, &["workload"]) {
        OwnedValue::Object(m) => {
            let mut k: Vec<String> = m.keys().cloned().collect();
            k.sort();
            k
        }
        _ => panic!("workload is not a map"),
    };
    assert_eq!(keys(&ours), keys(&theirs));
    assert_same(
        "unique-ids",
        "range",
        get(&ours, &["workload", "range"]),
        &simd_json::json!([[1795375346u64, 0, "n0"], [1795375348u64, 1, "n0"]]),
    );
    assert_eq!(validity_of(&ours), Validity::Valid);
    assert_same(
        "unique-ids",
        "availability",
        get(&ours, &["availability"]),
        get(&theirs, &["availability"]),
    );
}

/// lin-kv: same verdicts, per-key validity and failing keys as Knossos; for the invalid run,
/// the same op (a read of 4 after a write of 2) is the one that cannot be linearized.
#[test]
fn lin_kv_fixtures_match() {
    for name in ["lin-kv-raft-valid", "lin-kv-unreplicated-invalid"] {
        let (ours, theirs) = run(name, "lin-kv");
        check_common(name, &ours, &theirs);
        assert_eq!(validity_of(&ours), validity_of(&theirs), "{name}: verdict");
        for path in [
            &["workload", "valid?"][..],
            &["workload", "failures"],
            &["workload", "results", "0", "valid?"],
        ] {
            assert_same(name, &path.join(" "), get(&ours, path), get(&theirs, path));
        }
    }
    let (ours, theirs) = run("lin-kv-unreplicated-invalid", "lin-kv");
    let op = |v: &OwnedValue| get(v, &["workload", "results", "0", "linearizable", "op"]).clone();
    for key in ["index", "value", "f", "type"] {
        assert_same(
            "unreplicated op",
            key,
            get(&op(&ours), &[key]),
            get(&op(&theirs), &[key]),
        );
    }
}

/// kafka: the healthy demo run is valid, with no error types, like Maelstrom says.
#[test]
fn kafka_fixture_matches() {
    check_kafka("kafka-2n-valid");
}

/// kafka: a log that reuses an offset every 30th send. Maelstrom finds
/// inconsistent-offsets (29), lost-write (24) and unseen — and no nonmonotonic send,
/// because Jepsen indexes one value per offset.
#[test]
fn kafka_reused_offset_fixture_matches() {
    check_kafka("kafka-reused-offset-invalid");
    let (ours, _) = run("kafka-reused-offset-invalid", "kafka");
    assert_eq!(validity_of(&ours), Validity::Invalid);
}

/// Verdict, worst realtime lag (time, process, key and lag, in seconds), error types, info
/// causes, each error type's count and the whole `unseen` report as Maelstrom's
/// results.edn states them.
fn check_kafka(name: &str) {
    let (ours, theirs) = run(name, "kafka");
    check_common(name, &ours, &theirs);
    for key in [
        "valid?",
        "worst-realtime-lag",
        "bad-error-types",
        "error-types",
        "info-txn-causes",
    ] {
        assert_same(
            name,
            key,
            get(&ours, &["workload", key]),
            get(&theirs, &["workload", key]),
        );
    }
    let OwnedValue::Array(types) = get(&theirs, &["workload", "error-types"]) else {
        panic!("{name}: error-types is not a list");
    };
    for kind in types.iter().filter_map(|t| t.as_str()) {
        let path: &[&str] = match kind {
            "unseen" => &["workload", "unseen"],
            _ => &["workload", kind, "count"],
        };
        assert_same(name, &path.join(" "), get(&ours, path), get(&theirs, path));
    }
    assert_eq!(validity_of(&ours), validity_of(&theirs));
}

/// The transactional workload's verdict and anomaly types, as Maelstrom's results.edn
/// states them (Elle lists every anomaly; we show the first few of each type).
fn check_txn_types(name: &str, workload: &str, model: &str) {
    let (ours, theirs) = run_models(name, workload, &[model.to_string()]);
    check_common(name, &ours, &theirs);
    for key in ["valid?", "anomaly-types"] {
        let path = ["workload", key];
        let (mine, other) = match (&ours["workload"], &theirs["workload"]) {
            (OwnedValue::Object(m), OwnedValue::Object(t)) => (m.get(key), t.get(key)),
            _ => panic!("{name}: workload is not a map"),
        };
        match (mine, other) {
            (Some(mine), Some(other)) => assert_same(name, &path.join(" "), mine, other),
            (None, None) => {}
            _ => panic!("{name}: {key} present in only one of the results"),
        }
    }
    assert_eq!(validity_of(&ours), validity_of(&theirs), "{name}: verdict");
}

/// Every transactional fixture: verdicts and anomaly types match Maelstrom's.
#[test]
fn txn_fixture_verdicts_and_anomaly_types_match() {
    for (name, workload, model) in [
        (
            "txn-list-append-valid",
            "txn-list-append",
            "strict-serializable",
        ),
        (
            "txn-list-append-stale-read-invalid",
            "txn-list-append",
            "strict-serializable",
        ),
        (
            "txn-rw-register-read-committed-valid",
            "txn-rw-register",
            "read-committed",
        ),
        (
            "txn-rw-register-serializable-invalid",
            "txn-rw-register",
            "serializable",
        ),
    ] {
        check_txn_types(name, workload, model);
    }
    let (stale, _) = run("txn-list-append-stale-read-invalid", "txn-list-append");
    assert_eq!(validity_of(&stale), Validity::Invalid);
}

/// txn-list-append: the healthy run is valid under the default strict-serializable model
/// (Maelstrom prints exactly `{:valid? true}`), and under every weaker model too.
#[test]
fn txn_list_append_fixture_matches() {
    let name = "txn-list-append-valid";
    let (ours, theirs) = run(name, "txn-list-append");
    check_common(name, &ours, &theirs);
    assert_same(
        name,
        "workload",
        get(&ours, &["workload"]),
        get(&theirs, &["workload"]),
    );
    let history = read_history_edn(&fixture(name).join("history.edn")).unwrap();
    for model in [
        "read-uncommitted",
        "read-committed",
        "repeatable-read",
        "snapshot-isolation",
        "serializable",
    ] {
        let models = [model.to_string()];
        let input = CheckInput {
            workload: "txn-list-append",
            history: &history,
            net: NetStats::default(),
            availability: Availability::Any,
            consistency_models: &models,
        };
        let r = analyze(&input);
        assert_eq!(
            Validity::from_value(Some(get(&r, &["workload", "valid?"]))),
            Validity::Valid,
            "{model}"
        );
    }
}

/// txn-rw-register: same verdicts as Maelstrom for both runs (read-committed valid; the same
/// HAT node under serializable shows lost updates and rw cycles, as Elle found).
#[test]
fn txn_rw_register_fixtures_match() {
    let rc = ["read-committed".to_string()];
    let (ours, theirs) = run_models(
        "txn-rw-register-read-committed-valid",
        "txn-rw-register",
        &rc,
    );
    check_common("rw-rc", &ours, &theirs);
    assert_same(
        "rw-rc",
        "workload",
        get(&ours, &["workload"]),
        get(&theirs, &["workload"]),
    );
    let ser = ["serializable".to_string()];
    let (bad, theirs) = run_models(
        "txn-rw-register-serializable-invalid",
        "txn-rw-register",
        &ser,
    );
    check_common("rw-ser", &bad, &theirs);
    assert_eq!(validity_of(&bad), Validity::Invalid);
    let types = simd_json::to_string(get(&bad, &["workload", "anomaly-types"])).unwrap();
    assert!(
        types.contains("lost-update")
            && (types.contains("G2-item") || types.contains("G-nonadjacent-item")),
        "{types}"
    );
}
