//! lin-kv (WGL over a cas-register per key): hand-built cases and a property test against a
//! brute-force search over all linearizations.

use glomers::harness::checkers::{Availability, CheckInput, NetStats, Validity};
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use proptest::prelude::*;
use simd_json::{OwnedValue, json};

const NIL: OwnedValue = OwnedValue::Static(simd_json::StaticNode::Null);

/// One op: f, invoke value, completion (type, value), invocation and completion times.
#[derive(Clone, Debug)]
struct Spec {
    f: &'static str,
    arg: OwnedValue,
    done: OpType,
    read: OwnedValue,
    start: u64,
    end: u64,
}

/// Builds a history for key 0; every op runs in its own process.
fn history(specs: &[Spec]) -> History {
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        events.push((2 * s.start, i, true));
        events.push((2 * s.end + 1, i, false));
    }
    events.sort();
    let mut h = History::default();
    for (t, i, is_invoke) in events {
        let s = &specs[i];
        let (ty, v) = match (is_invoke, s.f) {
            (true, "read") => (OpType::Invoke, json!([0, null])),
            (true, _) => (OpType::Invoke, json!([0, s.arg.clone()])),
            (false, "read") => (s.done, json!([0, s.read.clone()])),
            (false, _) => (s.done, json!([0, s.arg.clone()])),
        };
        h.push(t, ty, Process::Client(i as u64), s.f, v);
    }
    h
}

fn verdict(h: &History) -> Validity {
    let r = analyze(&CheckInput {
        workload: "lin-kv",
        history: h,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &[],
    });
    match &r {
        OwnedValue::Object(m) => match m.get("workload") {
            Some(OwnedValue::Object(w)) => Validity::from_value(w.get("valid?")),
            _ => Validity::Unknown,
        },
        _ => Validity::Unknown,
    }
}

fn op(
    f: &'static str,
    arg: OwnedValue,
    done: OpType,
    read: OwnedValue,
    start: u64,
    end: u64,
) -> Spec {
    Spec {
        f,
        arg,
        done,
        read,
        start,
        end,
    }
}

#[test]
fn stale_read_after_a_completed_write_is_not_linearizable() {
    let h = history(&[
        op("write", json!(1), OpType::Ok, NIL, 0, 1),
        op("write", json!(2), OpType::Ok, NIL, 2, 3),
        op("read", NIL, OpType::Ok, json!(1), 4, 5),
    ]);
    assert_eq!(verdict(&h), Validity::Invalid);
}

#[test]
fn concurrent_ops_may_take_effect_in_either_order() {
    let h = history(&[
        op("write", json!(1), OpType::Ok, NIL, 0, 10),
        op("read", NIL, OpType::Ok, json!(1), 1, 2),
        op("cas", json!([1, 3]), OpType::Ok, NIL, 3, 4),
        op("read", NIL, OpType::Ok, json!(3), 11, 12),
        // nil reads are always legal; failed ops never happened.
        op("read", NIL, OpType::Ok, NIL, 13, 14),
        op("write", json!(9), OpType::Fail, NIL, 15, 16),
        op("read", NIL, OpType::Ok, json!(3), 17, 18),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
}

#[test]
fn indeterminate_writes_may_land_late_or_never() {
    let late = history(&[
        op("write", json!(1), OpType::Ok, NIL, 0, 1),
        op("write", json!(2), OpType::Info, NIL, 2, 3),
        op("read", NIL, OpType::Ok, json!(1), 4, 5),
        op("read", NIL, OpType::Ok, json!(2), 6, 7),
    ]);
    assert_eq!(verdict(&late), Validity::Valid);
    let flip_flop = history(&[
        op("write", json!(1), OpType::Ok, NIL, 0, 1),
        op("write", json!(2), OpType::Info, NIL, 2, 3),
        op("read", NIL, OpType::Ok, json!(2), 4, 5),
        op("read", NIL, OpType::Ok, json!(1), 6, 7),
    ]);
    assert_eq!(verdict(&flip_flop), Validity::Invalid);
}

/// Brute force: is there an order of all ok ops (plus any indeterminate ones) that respects
/// real time and the register's rules?
fn brute_force(specs: &[Spec]) -> bool {
    let live: Vec<&Spec> = specs
        .iter()
        .filter(|s| s.done != OpType::Fail && !(s.f == "read" && s.done == OpType::Info))
        .collect();
    fn search(live: &[&Spec], used: &mut Vec<bool>, state: &OwnedValue) -> bool {
        if live
            .iter()
            .zip(used.iter())
            .all(|(s, u)| *u || s.done == OpType::Info)
        {
            return true;
        }
        for i in 0..live.len() {
            if used[i] {
                continue;
            }
            let blocked = live
                .iter()
                .enumerate()
                .any(|(j, y)| !used[j] && j != i && y.done == OpType::Ok && y.end < live[i].start);
            if blocked {
                continue;
            }
            let s = live[i];
            let next = match s.f {
                "read" if s.read == NIL || s.read == *state => Some(state.clone()),
                "write" => Some(s.arg.clone()),
                "cas" => match &s.arg {
                    OwnedValue::Array(ft) if ft[0] == *state => Some(ft[1].clone()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(next) = next {
                used[i] = true;
                if search(live, used, &next) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    search(&live, &mut vec![false; live.len()], &NIL)
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    (
        0..3usize,
        0..3i64,
        0..3i64,
        0..10usize,
        0..4i64,
        0..12u64,
        0..6u64,
    )
        .prop_map(|(kind, a, b, done, read, start, len)| {
            let done = match done {
                0 => OpType::Fail,
                1 | 2 => OpType::Info,
                _ => OpType::Ok,
            };
            let read = if read == 3 { NIL } else { json!(read) };
            match kind {
                0 => op("read", NIL, done, read, start, start + len),
                1 => op("write", json!(a), done, NIL, start, start + len),
                _ => op("cas", json!([a, b]), done, NIL, start, start + len),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn wgl_agrees_with_brute_force(specs in proptest::collection::vec(spec_strategy(), 1..7)) {
        let expected = if brute_force(&specs) { Validity::Valid } else { Validity::Invalid };
        prop_assert_eq!(verdict(&history(&specs)), expected);
    }
}
