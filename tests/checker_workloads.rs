//! Hand-built histories: each checker must catch what Maelstrom catches (and a little more).

use glomers::harness::checkers::counter::Acceptable;
use glomers::harness::checkers::value::clj_eq;
use glomers::harness::checkers::{
    Availability, CheckInput, NetCounts, NetStats, Validity, validity_of,
};
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use proptest::prelude::*;
use simd_json::prelude::*;
use simd_json::{OwnedValue, json};

use OpType::{Fail, Info, Invoke, Ok};

/// A tiny script: `(time, type, process, f, value, final?)`.
fn history(ops: &[(u64, OpType, u64, &str, OwnedValue, bool)]) -> History {
    let mut h = History::default();
    for (t, ty, p, f, v, fin) in ops {
        let process = if *p == u64::MAX {
            Process::Nemesis
        } else {
            Process::Client(*p)
        };
        let i = h.push(*t, *ty, process, f, v.clone());
        h.ops[i as usize].is_final = *fin;
    }
    h
}

fn check(workload: &str, h: &History, availability: Availability) -> OwnedValue {
    analyze(&CheckInput {
        workload,
        history: h,
        net: NetStats::default(),
        availability,
        consistency_models: &[],
    })
}

fn at<'a>(v: &'a OwnedValue, path: &[&str]) -> &'a OwnedValue {
    path.iter().fold(v, |v, k| match v {
        OwnedValue::Object(m) => m.get(*k).unwrap_or_else(|| panic!("no {k} in {v:?}")),
        _ => panic!("not a map: {v:?}"),
    })
}

fn valid(v: &OwnedValue, path: &[&str]) -> Validity {
    Validity::from_value(Some(at(v, path)))
}

fn same(ours: &OwnedValue, expected: OwnedValue) {
    assert!(
        clj_eq(ours, &expected),
        "got {ours:?}\nexpected {expected:?}"
    );
}

const MS: u64 = 1_000_000;
const N: OwnedValue = OwnedValue::Static(simd_json::StaticNode::Null);

#[test]
fn broadcast_element_missing_from_a_later_read_is_lost() {
    let h = history(&[
        (0, Invoke, 0, "broadcast", json!(1), false),
        (MS, Ok, 0, "broadcast", json!(1), false),
        (2 * MS, Invoke, 1, "read", N, false),
        (3 * MS, Ok, 1, "read", json!([1]), false),
        // Invoked after the add became known, and 1 is missing: lost.
        (10 * MS, Invoke, 1, "read", N, true),
        (11 * MS, Ok, 1, "read", json!([]), true),
    ]);
    let r = check("broadcast", &h, Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Invalid);
    assert_eq!(validity_of(&r), Validity::Invalid);
    same(at(&r, &["workload", "lost"]), json!([1]));
    same(at(&r, &["workload", "lost-count"]), json!(1));
    // lost latency = (last-present invoke time + 1 ns) - known time, truncated to ms.
    same(
        at(&r, &["workload", "lost-latencies"]),
        json!({"0": 1, "0.5": 1, "0.95": 1, "0.99": 1, "1": 1}),
    );
}

#[test]
fn absence_in_a_read_concurrent_with_the_add_is_never_read_not_lost() {
    let h = history(&[
        (0, Invoke, 1, "read", N, false),
        (1, Invoke, 0, "broadcast", json!(7), false),
        (2, Ok, 1, "read", json!([]), false),
        (3, Ok, 0, "broadcast", json!(7), false),
    ]);
    let r = check("broadcast", &h, Availability::Any);
    same(at(&r, &["workload", "never-read"]), json!([7]));
    // No element is stable: unknown, as in Jepsen.
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Unknown);
}

#[test]
fn stale_elements_and_stable_latency_use_the_last_absent_read_plus_one_ns() {
    let h = history(&[
        (0, Invoke, 0, "add", json!(5), false),
        (1_000, Ok, 0, "add", json!(5), false),
        (2_500 * MS, Invoke, 1, "read", N, false),
        (2_600 * MS, Ok, 1, "read", json!([]), false),
        (3_000 * MS, Invoke, 1, "read", N, false),
        (3_001 * MS, Ok, 1, "read", json!([5]), false),
    ]);
    let r = check("g-set", &h, Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Valid);
    // (2500 ms + 1 ns) - 1 µs = 2499.999001 ms -> 2499.
    same(at(&r, &["workload", "stable-latencies", "1"]), json!(2499));
    same(at(&r, &["workload", "stale"]), json!([5]));
    same(
        &at(&r, &["workload", "worst-stale"]).as_array_first_element(),
        json!(5),
    );
}

trait FirstElement {
    fn as_array_first_element(&self) -> OwnedValue;
}

impl FirstElement for OwnedValue {
    fn as_array_first_element(&self) -> OwnedValue {
        match self {
            OwnedValue::Array(a) => a.first().map(|e| at(e, &["element"]).clone()).unwrap_or(N),
            _ => N,
        }
    }
}

#[test]
fn garbled_and_failed_echoes_are_errors_indeterminate_ones_are_not() {
    let h = history(&[
        (0, Invoke, 0, "echo", json!("hi"), false),
        (
            1,
            Ok,
            0,
            "echo",
            json!({"type": "echo_ok", "echo": "hi"}),
            false,
        ),
        (2, Invoke, 0, "echo", json!("a"), false),
        (
            3,
            Ok,
            0,
            "echo",
            json!({"type": "echo_ok", "echo": "WRONG a"}),
            false,
        ),
        (4, Invoke, 0, "echo", json!("b"), false),
        (5, Fail, 0, "echo", json!("b"), false),
        (6, Invoke, 0, "echo", json!("c"), false),
        (7, Info, 0, "echo", json!("c"), false),
    ]);
    let r = check("echo", &h, Availability::Any);
    assert_eq!(validity_of(&r), Validity::Invalid);
    let OwnedValue::Array(errors) = at(&r, &["workload", "errors"]) else {
        panic!()
    };
    assert_eq!(
        errors.len(),
        2,
        "the fail echo is an error, the info echo is not"
    );
    same(
        &errors[0],
        json!(["Expected a message with :echo", "a", "But received", {"type": "echo_ok", "echo": "WRONG a"}]),
    );
}

#[test]
fn duplicate_unique_ids_are_invalid_and_mixed_kinds_unknown() {
    let ids = [json!(1), json!(2), json!(1), json!(3), json!(1)];
    let mut ops = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        ops.push((2 * i as u64, Invoke, 0, "generate", N, false));
        ops.push((2 * i as u64 + 1, Ok, 0, "generate", id.clone(), false));
    }
    let r = check("unique-ids", &history(&ops), Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Invalid);
    same(at(&r, &["workload", "duplicated"]), json!({"1": 3}));
    same(at(&r, &["workload", "duplicated-count"]), json!(1));
    same(at(&r, &["workload", "range"]), json!([1, 3]));
    same(at(&r, &["workload", "acknowledged-count"]), json!(5));
    // 1 and 1.0 are different ids; 1 and "1" cannot even be compared.
    ops.push((20, Invoke, 0, "generate", N, false));
    ops.push((21, Ok, 0, "generate", json!("1"), false));
    let r = check("unique-ids", &history(&ops), Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Unknown);
    assert!(
        at(&r, &["workload", "error"])
            .as_str()
            .is_some_and(|e| e.contains("compare"))
    );
}

fn counter_history(final_read: i64) -> History {
    history(&[
        (0, Invoke, 0, "add", json!(10), false),
        (1, Ok, 0, "add", json!(10), false),
        (2, Invoke, 0, "add", json!(1), false),
        (3, Info, 0, "add", json!(1), false),
        (4, Invoke, 1, "add", json!(5), false),
        (5, Info, 1, "add", json!(5), false),
        (6, Invoke, 2, "add", json!(3), false),
        (7, Fail, 2, "add", json!(3), false),
        // A non-final read outside the set is never checked.
        (8, Invoke, 3, "read", N, false),
        (9, Ok, 3, "read", json!(-100), false),
        (10, Invoke, 3, "read", N, true),
        (11, Ok, 3, "read", json!(final_read), true),
    ])
}

#[test]
fn counter_info_adds_widen_the_acceptable_set_into_merged_intervals() {
    // {10} ∪ +1 -> [10 11]; ∪ +5 -> [10 11] [15 16]. The failed +3 is ignored.
    for ok in [10, 11, 15, 16] {
        let r = check("pn-counter", &counter_history(ok), Availability::Any);
        assert_eq!(validity_of(&r), Validity::Valid, "read {ok}");
        same(
            at(&r, &["workload", "acceptable"]),
            json!([[10, 11], [15, 16]]),
        );
        same(at(&r, &["workload", "final-reads"]), json!([ok]));
        assert!(at(&r, &["workload", "errors"]).is_null());
    }
    for bad in [9, 12, 13, 14, 17, 19] {
        let r = check("g-counter", &counter_history(bad), Availability::Any);
        assert_eq!(
            valid(&r, &["workload", "valid?"]),
            Validity::Invalid,
            "read {bad}"
        );
        let OwnedValue::Array(errors) = at(&r, &["workload", "errors"]) else {
            panic!()
        };
        same(at(&errors[0], &["value"]), json!(bad));
        same(at(&errors[0], &["final?"]), json!(true));
    }
}

#[test]
fn stats_are_invalid_when_some_f_never_succeeds_except_crash() {
    let h = history(&[
        (0, Invoke, 0, "broadcast", json!(0), false),
        (1, Ok, 0, "broadcast", json!(0), false),
        (2, Invoke, 0, "read", N, false),
        (3, Fail, 0, "read", N, false),
        (4, Info, u64::MAX, "start-partition", N, false),
        (
            5,
            Info,
            u64::MAX,
            "start-partition",
            json!("majority"),
            false,
        ),
    ]);
    let r = check("broadcast", &h, Availability::Any);
    assert_eq!(valid(&r, &["stats", "valid?"]), Validity::Invalid);
    assert_eq!(
        valid(&r, &["stats", "by-f", "read", "valid?"]),
        Validity::Invalid
    );
    same(at(&r, &["stats", "count"]), json!(2));
    assert_eq!(validity_of(&r), Validity::Invalid);
    let crash = history(&[
        (0, Invoke, 0, "send", N, false),
        (1, Ok, 0, "send", N, false),
        (2, Invoke, 0, "crash", N, false),
        (3, Info, 0, "crash", N, false),
    ]);
    let r = check("kafka", &crash, Availability::Any);
    assert_eq!(valid(&r, &["stats", "valid?"]), Validity::Valid);
    assert_eq!(
        valid(&r, &["stats", "by-f", "crash", "valid?"]),
        Validity::Invalid
    );
}

#[test]
fn availability_total_and_fraction() {
    let mut ops = Vec::new();
    for i in 0..4u64 {
        ops.push((2 * i, Invoke, i, "generate", N, false));
        ops.push((
            2 * i + 1,
            if i == 3 { Info } else { Ok },
            i,
            "generate",
            json!(i),
            false,
        ));
    }
    let h = history(&ops);
    let r = check("unique-ids", &h, Availability::Total);
    assert_eq!(valid(&r, &["availability", "valid?"]), Validity::Invalid);
    same(at(&r, &["availability", "ok-fraction"]), json!(0.75));
    assert_eq!(validity_of(&r), Validity::Invalid);
    let ok = check("unique-ids", &h, Availability::Fraction(0.75));
    assert_eq!(valid(&ok, &["availability", "valid?"]), Validity::Valid);
    let strict = check("unique-ids", &h, Availability::Fraction(0.76));
    assert_eq!(
        valid(&strict, &["availability", "valid?"]),
        Validity::Invalid
    );
    let none = check("unique-ids", &h, Availability::Any);
    assert_eq!(valid(&none, &["availability", "valid?"]), Validity::Valid);
    let empty = check("echo", &History::default(), Availability::Total);
    same(
        at(&empty, &["availability"]),
        json!({"valid?": true, "ok-fraction": 1}),
    );
}

#[test]
fn msgs_per_op_is_single_precision_over_client_invocations() {
    let mut h = History::default();
    for i in 0..1991u64 {
        h.push(i, Invoke, Process::Client(i), "read", N);
    }
    h.push(5000, Invoke, Process::Nemesis, "start-partition", N);
    let net = NetStats {
        all: NetCounts {
            send_count: 9980,
            recv_count: 9000,
            msg_count: 9980,
        },
        clients: NetCounts {
            send_count: 0,
            recv_count: 0,
            msg_count: 0,
        },
        servers: NetCounts {
            send_count: 110,
            recv_count: 110,
            msg_count: 110,
        },
    };
    let input = CheckInput {
        workload: "g-set",
        history: &h,
        net,
        availability: Availability::Any,
        consistency_models: &[],
    };
    let r = analyze(&input);
    same(at(&r, &["net", "all", "msgs-per-op"]), json!(5.0125566));
    assert!(
        at(&r, &["net", "clients"])
            .as_object()
            .is_some_and(|m| !m.contains_key("msgs-per-op"))
    );
    let text = glomers::harness::results::console_summary(&r);
    assert!(text.contains(":msgs-per-op 5.0125566"), "{text}");
    // No client invocations: no msgs-per-op at all.
    let r = check("echo", &History::default(), Availability::Any);
    assert!(
        at(&r, &["net", "all"])
            .as_object()
            .is_some_and(|m| !m.contains_key("msgs-per-op"))
    );
}

#[test]
fn unknown_workloads_and_failing_checkers_are_unknown() {
    let r = check("no-such-workload", &History::default(), Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Unknown);
    assert!(
        at(&r, &["workload", "error"])
            .as_str()
            .is_some_and(|e| e.contains("no checker"))
    );
    assert_eq!(validity_of(&r), Validity::Unknown);
    let bad_read = history(&[
        (0, Invoke, 0, "read", N, false),
        (1, Ok, 0, "read", json!(3), false),
    ]);
    let r = check("broadcast", &bad_read, Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Unknown);
    assert_eq!(
        Validity::Valid
            .merge(Validity::Unknown)
            .merge(Validity::Invalid),
        Validity::Invalid
    );
    assert_eq!(
        Validity::Invalid.merge(Validity::Unknown),
        Validity::Invalid
    );
    assert_eq!(Validity::Valid.merge(Validity::Unknown), Validity::Unknown);
}

/// Every subset sum of the indeterminate deltas, by brute force.
fn subset_sums(base: i128, deltas: &[i128]) -> std::collections::BTreeSet<i128> {
    let mut sums = std::collections::BTreeSet::from([base]);
    for d in deltas {
        let shifted: Vec<i128> = sums.iter().map(|s| s + d).collect();
        sums.extend(shifted);
    }
    sums
}

proptest! {
    #[test]
    fn acceptable_intervals_equal_brute_force_subset_sums(
        base in -20i128..20,
        deltas in proptest::collection::vec(-6i128..7, 0..9),
    ) {
        let mut a = Acceptable::new(base);
        for d in &deltas {
            a.widen(*d).unwrap();
        }
        let expected = subset_sums(base, &deltas);
        let (lo, hi) = (expected.first().unwrap() - 3, expected.last().unwrap() + 3);
        for x in lo..=hi {
            prop_assert_eq!(a.contains(x), expected.contains(&x), "x = {}", x);
        }
        // Intervals are disjoint, sorted and never adjacent (adjacent integers merge).
        for w in a.intervals().windows(2) {
            prop_assert!(w[0].1 + 1 < w[1].0);
        }
    }
}

#[test]
fn reads_of_values_never_added_are_unexpected_and_invalid() {
    let h = history(&[
        (0, Invoke, 0, "broadcast", json!(1), false),
        (1, Ok, 0, "broadcast", json!(1), false),
        (2, Invoke, 1, "read", N, false),
        (3, Ok, 1, "read", json!([1, 99, 42, 99]), false),
        // Added only after the read completed: still unexpected for that read.
        (4, Invoke, 0, "broadcast", json!(42), false),
        (5, Ok, 0, "broadcast", json!(42), false),
        (6, Invoke, 1, "read", N, true),
        (7, Ok, 1, "read", json!([1, 42]), true),
    ]);
    let r = check("broadcast", &h, Availability::Any);
    assert_eq!(valid(&r, &["workload", "valid?"]), Validity::Invalid);
    same(at(&r, &["workload", "unexpected"]), json!([42, 99]));
    same(at(&r, &["workload", "unexpected-count"]), json!(2));
    same(at(&r, &["workload", "lost-count"]), json!(0));
}

/// A long history (1500 adds, 1500 growing reads) checks quickly and every element ends
/// stable; Jepsen's algorithm touches every element on every read.
#[test]
fn set_full_scales_to_thousands_of_elements() {
    let mut h = History::default();
    let mut seen: Vec<OwnedValue> = Vec::new();
    let mut t = 0;
    for i in 0..1500u64 {
        h.push(t, Invoke, Process::Client(0), "broadcast", json!(i));
        h.push(t + 1, Ok, Process::Client(0), "broadcast", json!(i));
        seen.push(json!(i));
        h.push(t + 2, Invoke, Process::Client(1), "read", N);
        h.push(
            t + 3,
            Ok,
            Process::Client(1),
            "read",
            OwnedValue::Array(Box::new(seen.clone())),
        );
        t += 4;
    }
    let started = std::time::Instant::now();
    let r = check("broadcast", &h, Availability::Any);
    assert!(
        started.elapsed().as_secs() < 20,
        "set-full took {:?}",
        started.elapsed()
    );
    same(at(&r, &["workload", "stable-count"]), json!(1500));
    assert_eq!(validity_of(&r), Validity::Valid);
}

#[test]
fn duplicated_string_ids_print_as_string_keys() {
    let mut ops = Vec::new();
    for (i, id) in ["n0-1", "n0-1", "n1-7"].iter().enumerate() {
        ops.push((2 * i as u64, Invoke, 0, "generate", N, false));
        ops.push((2 * i as u64 + 1, Ok, 0, "generate", json!(id), false));
    }
    let r = check("unique-ids", &history(&ops), Availability::Any);
    let text = glomers::harness::results::console_summary(&r);
    assert!(text.contains(":duplicated {\"n0-1\" 2}"), "{text}");
    assert!(text.contains(":range [\"n0-1\" \"n1-7\"]"), "{text}");
}

#[test]
fn faithful_echoes_are_valid() {
    let h = history(&[
        (0, Invoke, 0, "echo", json!("Please echo 6"), false),
        (
            1,
            Ok,
            0,
            "echo",
            json!({"type": "echo_ok", "in_reply_to": 1, "echo": "Please echo 6"}),
            false,
        ),
        (2, Invoke, 1, "echo", json!("Please echo 7"), false),
        (
            3,
            Ok,
            1,
            "echo",
            json!({"type": "echo_ok", "in_reply_to": 1, "echo": "Please echo 7"}),
            false,
        ),
    ]);
    let r = check("echo", &h, Availability::Total);
    assert_eq!(validity_of(&r), Validity::Valid);
    same(at(&r, &["workload"]), json!({"valid?": true, "errors": []}));
}
