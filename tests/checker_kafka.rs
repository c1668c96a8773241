//! kafka checker: hand-built histories for each error type, and no false alarms for the
//! client's legitimate patterns (assign resets, crashes, sparse offsets).

use glomers::harness::checkers::{Availability, CheckInput, NetStats, Validity, validity_of};
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use simd_json::prelude::*;
use simd_json::{OwnedValue, json};

/// A little script builder: every op is invoked and completed at once by `process`.
struct Script(History);

impl Script {
    fn new() -> Script {
        Script(History::default())
    }

    fn op(
        &mut self,
        p: u64,
        f: &str,
        invoke: OwnedValue,
        done: OpType,
        value: OwnedValue,
    ) -> &mut Script {
        let t = self.0.ops.len() as u64 * 1_000;
        self.0
            .push(t, OpType::Invoke, Process::Client(p), f, invoke);
        self.0.push(t + 1, done, Process::Client(p), f, value);
        self
    }

    fn send(&mut self, p: u64, k: &str, v: i64, offset: i64) -> &mut Script {
        self.op(
            p,
            "send",
            json!([["send", k, v]]),
            OpType::Ok,
            json!([["send", k, [offset, v]]]),
        )
    }

    fn poll(&mut self, p: u64, k: &str, pairs: &[(i64, i64)]) -> &mut Script {
        let pairs: Vec<OwnedValue> = pairs.iter().map(|(o, v)| json!([o, v])).collect();
        let mut msgs = simd_json::owned::Object::default();
        msgs.insert(k.to_string(), OwnedValue::Array(Box::new(pairs)));
        let value = json!([["poll", OwnedValue::Object(Box::new(msgs))]]);
        self.op(p, "poll", json!([["poll"]]), OpType::Ok, value)
    }

    fn assign(&mut self, p: u64, keys: &[&str]) -> &mut Script {
        self.op(p, "assign", json!(keys), OpType::Ok, json!(keys))
    }

    /// The whole results map.
    fn results(&self) -> OwnedValue {
        analyze(&CheckInput {
            workload: "kafka",
            history: &self.0,
            net: NetStats::default(),
            availability: Availability::Any,
            consistency_models: &[],
        })
    }

    fn check(&self) -> (Validity, Vec<String>) {
        let r = self.results();
        let OwnedValue::Object(top) = &r else {
            panic!()
        };
        let Some(OwnedValue::Object(w)) = top.get("workload") else {
            panic!()
        };
        let types = match w.get("error-types") {
            Some(OwnedValue::Array(a)) => a
                .iter()
                .map(|t| t.to_string().trim_matches('"').to_string())
                .collect(),
            _ => vec![],
        };
        (Validity::from_value(w.get("valid?")), types)
    }
}

fn expect(script: &Script, types: &[&str]) {
    let (v, got) = script.check();
    assert_eq!(got, types, "error types");
    assert_eq!(
        v,
        if types.is_empty() {
            Validity::Valid
        } else {
            Validity::Invalid
        }
    );
}

#[test]
fn healthy_sends_and_polls_are_valid_even_with_sparse_offsets_and_reassignment() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0)
        .send(0, "1", 11, 5)
        .send(1, "1", 12, 9);
    s.assign(2, &["1"])
        .poll(2, "1", &[(0, 10), (5, 11)])
        .poll(2, "1", &[(9, 12)]);
    // Dropping the key and assigning it again restarts from 0: no nonmonotonic-poll.
    s.assign(2, &["2"])
        .assign(2, &["1"])
        .poll(2, "1", &[(0, 10), (5, 11), (9, 12)]);
    expect(&s, &[]);
}

#[test]
fn acknowledged_but_never_polled_is_unseen_and_below_the_read_bound_lost() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0)
        .send(0, "1", 11, 1)
        .send(0, "1", 12, 2);
    s.poll(1, "1", &[(0, 10)]).poll(2, "1", &[(2, 12)]);
    expect(&s, &["lost-write", "unseen"]);
}

#[test]
fn a_process_that_skips_or_rewinds_is_caught() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0)
        .send(0, "1", 11, 1)
        .send(0, "1", 12, 2);
    s.poll(1, "1", &[(0, 10)])
        .poll(1, "1", &[(2, 12)])
        .poll(2, "1", &[(0, 10), (1, 11), (2, 12)]);
    expect(&s, &["poll-skip"]);
    let mut s = Script::new();
    s.send(0, "1", 10, 0).send(0, "1", 11, 1);
    s.poll(1, "1", &[(0, 10), (1, 11)]).poll(1, "1", &[(1, 11)]);
    expect(&s, &["nonmonotonic-poll"]);
    let mut s = Script::new();
    s.send(0, "1", 10, 0).send(0, "1", 11, 1);
    s.poll(1, "1", &[(0, 10), (1, 11), (0, 10)]);
    expect(&s, &["int-nonmonotonic-poll"]);
}

#[test]
fn offsets_must_be_consistent_and_sends_monotonic() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0).send(1, "1", 11, 0);
    s.poll(2, "1", &[(0, 10)]).poll(3, "1", &[(0, 11)]);
    expect(&s, &["inconsistent-offsets"]);
    let mut s = Script::new();
    s.send(0, "1", 10, 1).send(0, "1", 11, 0);
    s.poll(2, "1", &[(0, 11), (1, 10)]);
    expect(&s, &["nonmonotonic-send"]);
    let mut s = Script::new();
    // The node stored one send twice.
    s.send(0, "1", 10, 0);
    s.poll(2, "1", &[(0, 10), (1, 10)]);
    expect(&s, &["duplicate", "int-nonmonotonic-poll"]);
}

#[test]
fn reading_failed_or_future_sends_is_an_anomaly() {
    let mut s = Script::new();
    s.op(
        0,
        "send",
        json!([["send", "1", 10]]),
        OpType::Fail,
        json!([["send", "1", 10]]),
    );
    s.poll(1, "1", &[(0, 10)]);
    expect(&s, &["G1a"]);
    // The poll completes before the send of the value it returned is even invoked.
    let mut s = Script::new();
    s.poll(1, "1", &[(0, 10)]).send(0, "1", 10, 0);
    expect(&s, &["G1c-realtime"]);
}

#[test]
fn crashed_clients_start_fresh() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0).send(0, "1", 11, 1);
    s.poll(1, "1", &[(0, 10), (1, 11)]);
    s.op(
        1,
        "crash",
        OwnedValue::Static(simd_json::StaticNode::Null),
        OpType::Info,
        OwnedValue::Static(simd_json::StaticNode::Null),
    );
    // The new process (1 + concurrency) polls from the beginning again.
    s.poll(5, "1", &[(0, 10), (1, 11)]);
    expect(&s, &[]);
}

/// Jepsen's kafka checker throws `{:type :no-writer-of-value …}` when a poll returns a value
/// no send wrote, so the workload result is `{:valid? :unknown, :error …}`: never valid.
#[test]
fn a_polled_value_no_send_wrote_makes_the_result_unknown_as_in_jepsen() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0);
    s.poll(1, "1", &[(0, 10), (1, 99)]);
    let results = s.results();
    let workload = &results["workload"];
    assert_eq!(
        Validity::from_value(workload.get("valid?")),
        Validity::Unknown
    );
    let error = workload["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(":type :no-writer-of-value, :key \"1\", :value 99"),
        "{error}"
    );
    assert_eq!(validity_of(&results), Validity::Unknown);
    // Sends that failed, crashed (info) or never completed are still writers.
    let mut s = Script::new();
    s.op(
        0,
        "send",
        json!([["send", "1", 10]]),
        OpType::Info,
        json!([["send", "1", 10]]),
    );
    s.0.push(
        1_000_000,
        OpType::Invoke,
        Process::Client(3),
        "send",
        json!([["send", "1", 11]]),
    );
    s.poll(1, "1", &[(0, 10), (1, 11)]);
    expect(&s, &[]);
}

/// Jepsen indexes one value per offset (the one Clojure's `first` takes from the offset's
/// hash set), so two values at one offset are inconsistent-offsets, not also a
/// nonmonotonic send (as Maelstrom's kafka-reused-offset-invalid run shows).
#[test]
fn an_offset_holding_two_values_is_inconsistent_but_not_a_nonmonotonic_send() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0)
        .send(0, "1", 11, 0)
        .send(0, "1", 12, 1);
    s.poll(1, "1", &[(0, 11), (1, 12)]);
    expect(&s, &["inconsistent-offsets", "lost-write", "unseen"]);
}

/// `unseen` is Jepsen's last sample: its `:time` is the last ok send or poll, in ns.
#[test]
fn unseen_is_timed_by_the_last_ok_send_or_poll_in_nanoseconds() {
    let mut s = Script::new();
    s.send(0, "1", 10, 0).send(0, "1", 11, 1);
    s.poll(1, "1", &[(0, 10)]);
    let last_poll = s.0.ops.last().map(|op| op.time_ns).unwrap_or_default();
    s.assign(1, &["1"]);
    let results = s.results();
    let unseen = &results["workload"]["unseen"];
    assert_eq!(unseen["time"].as_u64(), Some(last_poll), "{unseen:?}");
    assert_eq!(unseen["unseen"]["1"].as_u64(), Some(1));
}

/// Clojure iterates a hash set of longs in the order of their Murmur3 hashes' 5-bit groups:
/// `(seq (set (range 10)))` is `(0 7 1 4 6 3 2 9 5 8)`.
#[test]
fn clojure_set_first_follows_clojure_hash_set_order() {
    use glomers::harness::checkers::value::clj_set_first;
    let mut left: Vec<OwnedValue> = (0..10).map(|i| json!(i)).collect();
    let mut order = Vec::new();
    while let Some(first) = clj_set_first(&left).cloned() {
        order.push(first.as_i64().unwrap_or(-1));
        left.retain(|v| *v != first);
    }
    assert_eq!(order, [0, 7, 1, 4, 6, 3, 2, 9, 5, 8]);
}

/// `:worst-realtime-lag` as Jepsen's `realtime-lag` defines it: a poll that still sees
/// offset 0 after offset 1 was acknowledged lags by (poll invocation − that ack), in
/// seconds, and the first of the greatest lags is reported with its process and key.
#[test]
fn worst_realtime_lag_is_jepsens() {
    let mut s = Script::new();
    s.assign(0, &["x"]) // t 0
        .send(1, "x", 10, 0) // t 2000, ack 2001: offset 0 exists
        .poll(0, "x", &[(0, 10)]) // t 4000: caught up, lag 0
        .send(1, "x", 11, 1) // t 6000, ack 6001: offset 0 is no longer the tail
        .poll(0, "x", &[]) // t 8000: still at offset 0, lag 8000 − 6001
        .poll(0, "x", &[(1, 11)]) // t 10000: caught up again
        .send(1, "y", 1, 1_000_000_000_000_000); // a huge sparse offset is fine
    let r = s.results();
    let lag = &r["workload"]["worst-realtime-lag"];
    assert_eq!(
        lag,
        &json!({"time": 8e-6, "process": 0, "key": "x", "lag": 1.999e-6}),
        "{lag:?}"
    );
    let OwnedValue::Object(map) = lag else {
        panic!("not a map")
    };
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["time", "process", "key", "lag"],
        "Jepsen's key order"
    );

    // No poll at all: Jepsen's default, {:time 0 :lag 0} in seconds.
    let mut s = Script::new();
    s.send(0, "x", 1, 0);
    assert_eq!(
        s.results()["workload"]["worst-realtime-lag"],
        json!({"time": 0.0, "lag": 0.0})
    );
}
