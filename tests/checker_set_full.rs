//! set-full (broadcast, g-set) is as strict as the README says: an element returned twice by
//! one read is reported the way Jepsen's `set-full` means to (`:duplicated` element → most
//! copies in one read, `:duplicated-count`) and makes the result invalid. (Jepsen 0.3.7's
//! filter keeps frequencies below 1, so Maelstrom never flags it: MAELSTROM.md §3.3.)

use glomers::harness::checkers::value::clj_eq;
use glomers::harness::checkers::{Availability, CheckInput, NetStats, Validity};
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use simd_json::{OwnedValue, json};

fn check(workload: &str, h: &History) -> OwnedValue {
    let r = analyze(&CheckInput {
        workload,
        history: h,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &[],
    });
    match r {
        OwnedValue::Object(mut top) => top.remove("workload").expect("workload result"),
        other => panic!("not a map: {other:?}"),
    }
}

fn field<'a>(result: &'a OwnedValue, key: &str) -> &'a OwnedValue {
    match result {
        OwnedValue::Object(map) => map.get(key).unwrap_or_else(|| panic!("no {key}")),
        other => panic!("not a map: {other:?}"),
    }
}

/// Adds of 1 and 2, then reads; `reads` are the values the reads return.
fn adds_then_reads(f: &str, reads: &[OwnedValue]) -> History {
    let mut h = History::default();
    let null = OwnedValue::Static(simd_json::StaticNode::Null);
    for (i, element) in [1, 2].into_iter().enumerate() {
        h.push(
            2 * i as u64,
            OpType::Invoke,
            Process::Client(0),
            f,
            json!(element),
        );
        h.push(
            2 * i as u64 + 1,
            OpType::Ok,
            Process::Client(0),
            f,
            json!(element),
        );
    }
    for (i, read) in reads.iter().enumerate() {
        let t = 10 + 2 * i as u64;
        h.push(t, OpType::Invoke, Process::Client(1), "read", null.clone());
        h.push(t + 1, OpType::Ok, Process::Client(1), "read", read.clone());
    }
    h
}

#[test]
fn an_element_read_twice_by_one_read_is_duplicated_and_invalid() {
    for (workload, f) in [("broadcast", "broadcast"), ("g-set", "add")] {
        let healthy = check(workload, &adds_then_reads(f, &[json!([1, 2])]));
        assert_eq!(
            Validity::from_value(Some(field(&healthy, "valid?"))),
            Validity::Valid
        );
        assert!(clj_eq(field(&healthy, "duplicated-count"), &json!(0)));

        // Three copies of 1 in one read, two in another: the most copies one read held.
        let reads = [json!([1, 2, 1]), json!([1, 1, 2, 1])];
        let result = check(workload, &adds_then_reads(f, &reads));
        assert_eq!(
            Validity::from_value(Some(field(&result, "valid?"))),
            Validity::Invalid,
            "{workload}"
        );
        assert!(clj_eq(field(&result, "duplicated-count"), &json!(1)));
        assert!(clj_eq(field(&result, "duplicated"), &json!({"1": 3})));
        // The elements themselves are still stable: only the duplicate is wrong.
        assert!(clj_eq(field(&result, "stable-count"), &json!(2)));
    }
}

#[test]
fn duplicates_of_values_never_added_count_too_and_print_as_a_map() {
    let result = check("g-set", &adds_then_reads("add", &[json!([1, 2, 9, 9])]));
    assert!(clj_eq(field(&result, "duplicated"), &json!({"9": 2})));
    assert!(clj_eq(field(&result, "unexpected"), &json!([9])));
    let text = glomers::harness::results::console_summary(&result);
    assert!(text.contains(":duplicated {9 2}"), "{text}");
    assert!(text.contains(":duplicated-count 1"), "{text}");
}
