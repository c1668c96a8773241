//! An oracle for the transactional checkers: small random histories (≤ 6 txns, ≤ 3 keys,
//! ok / info / fail outcomes, overlapping in time) judged by the checkers under
//! `serializable` and `strict-serializable`, and by a brute-force search over every serial
//! order of the committed transactions.
//!
//! The brute force: a history is serializable when some order of all `ok` transactions plus
//! any subset of the `info` ones (each may or may not have committed; `fail`ed ones never
//! did), executed one at a time from empty keys, gives every `ok` transaction exactly the
//! reads it observed — internal reads included. Strict-serializable also requires the
//! order to respect real time: a transaction that completed `ok` before another was
//! invoked comes first (an `info` one never completed, so it is only ever the later one).
//!
//! Histories come from a simulated database that executes the transactions in some order
//! (usually one that respects real time, sometimes a shuffled one), then corrupts some
//! `ok` reads (stale, dropped, reordered, duplicated, future or aborted elements; other
//! values). Appended and written values are unique, and every value read was written by
//! some transaction of the history, as Maelstrom's generator and nodes guarantee; at least
//! one transaction is `ok` (else the checkers report an empty transaction graph).
//!
//! What is compared, per workload and model:
//! * txn-list-append: the verdicts must be equal, both ways. Every read shows a whole list,
//!   so Elle's inference is exact here: a key's version order is its longest read (all
//!   reads of `ok` txns, internal ones included, must be prefixes of it), and an append no
//!   read showed comes after every element read. (This test found both rules missing; see
//!   tests/checker_list_append.rs for the regressions.)
//! * txn-rw-register: an invalid verdict must always be right (soundness). A valid verdict
//!   must be right (completeness) only when no txn is `info` and, for every key, each two
//!   values finally written by `ok` txns are ordered by the chain of "a txn that read v then
//!   wrote v' puts v before v'". Like Elle with `:wfr-keys?` (MAELSTROM.md §3.10), the
//!   checker knows no other version order — not real time, not the order of blind writes —
//!   so an anomaly that needs one is invisible to it: the known, documented limitation of
//!   Elle's rw-register analysis, which this comparison leaves out on purpose. (This test
//!   found one gap outside that limitation, a txn reading the value it writes only later;
//!   the checker now reports it as `future-read`, which Elle's rw-register misses.)

use glomers::harness::checkers::{Availability, CheckInput, NetStats, Validity};
use glomers::harness::history::{History, OpType, Process};
use glomers::harness::registry::analyze;
use proptest::prelude::*;
use simd_json::{OwnedValue, json};

/// Keys per history.
const KEYS: usize = 3;

/// One micro-op as the brute force sees it: a write (an append, for list-append) of
/// `value`, or a read of `key` that observed `seen` (`ok` transactions only).
#[derive(Clone, Debug)]
struct Mop {
    key: usize,
    write: Option<i64>,
    seen: Option<Vec<i64>>,
}

#[derive(Clone, Debug)]
struct Txn {
    outcome: OpType,
    invoke_time: u64,
    complete_time: u64,
    mops: Vec<Mop>,
}

/// The data type under test: list-append keeps a list per key, rw-register one value
/// (`Vec` of length ≤ 1, empty for nil).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    ListAppend,
    RwRegister,
}

impl Kind {
    fn workload(self) -> &'static str {
        match self {
            Kind::ListAppend => "txn-list-append",
            Kind::RwRegister => "txn-rw-register",
        }
    }

    fn apply(self, state: &mut [Vec<i64>; KEYS], key: usize, value: i64) {
        match self {
            Kind::ListAppend => state[key].push(value),
            Kind::RwRegister => state[key] = vec![value],
        }
    }
}

/// The generator's raw material for one transaction.
#[derive(Clone, Debug)]
struct Shape {
    mops: Vec<(bool, usize, u8)>, // (write, key, corruption choice)
    start: u64,
    length: u64,
    outcome: u8,
    execute_at: u64,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec((any::<bool>(), 0..KEYS, any::<u8>()), 1..=4),
        0..8u64,
        0..5u64,
        0..10u8,
        any::<u64>(),
    )
        .prop_map(|(mops, start, length, outcome, execute_at)| Shape {
            mops,
            start,
            length,
            outcome,
            execute_at,
        })
}

/// Executes the shapes in the simulated database and returns the transactions as the
/// history records them.
fn simulate(kind: Kind, shapes: &[Shape], shuffle: Option<&[u64]>) -> Vec<Txn> {
    let outcome = |s: &Shape, i: usize| match s.outcome {
        _ if i == 0 => OpType::Ok,
        0 => OpType::Fail,
        1 | 2 => OpType::Info,
        _ => OpType::Ok,
    };
    let mut txns: Vec<Txn> = Vec::new();
    let mut all_values: Vec<Vec<i64>> = vec![Vec::new(); KEYS];
    for (i, s) in shapes.iter().enumerate() {
        let mops = s.mops.iter().enumerate().map(|(j, &(write, key, _))| {
            let value = (10 * i + j + 1) as i64;
            if write {
                all_values[key].push(value);
            }
            Mop {
                key,
                write: write.then_some(value),
                seen: None,
            }
        });
        txns.push(Txn {
            outcome: outcome(s, i),
            invoke_time: 4 * s.start,
            complete_time: 4 * (s.start + s.length) + 2,
            mops: mops.collect(),
        });
    }
    // Execution points: inside each txn's interval (real-time order), or shuffled.
    let mut order: Vec<usize> = (0..txns.len()).collect();
    order.sort_by_key(|&i| match shuffle {
        Some(keys) => (keys[i], i as u64),
        None => {
            let t = &txns[i];
            let span = t.complete_time - t.invoke_time - 1;
            (t.invoke_time + 1 + shapes[i].execute_at % span, i as u64)
        }
    });
    let mut state: [Vec<i64>; KEYS] = Default::default();
    for i in order {
        let applied = match txns[i].outcome {
            OpType::Ok => true,
            OpType::Info => shapes[i].outcome == 1,
            _ => false,
        };
        if !applied {
            continue;
        }
        for j in 0..txns[i].mops.len() {
            let (key, write) = (txns[i].mops[j].key, txns[i].mops[j].write);
            match write {
                Some(value) => kind.apply(&mut state, key, value),
                None if txns[i].outcome == OpType::Ok => {
                    let choice = shapes[i].mops[j].2;
                    let seen = corrupt(kind, &state[key], &all_values[key], choice);
                    txns[i].mops[j].seen = Some(seen);
                }
                None => {}
            }
        }
    }
    txns
}

/// What an `ok` read reports: usually the truth, sometimes a wrong value built from values
/// some transaction of the history wrote to that key.
fn corrupt(kind: Kind, truth: &[i64], written: &[i64], choice: u8) -> Vec<i64> {
    let mut seen = truth.to_vec();
    let other = written.get(choice as usize % written.len().max(1)).copied();
    match (kind, choice % 16) {
        (Kind::RwRegister, 0) => seen.clear(),
        (Kind::RwRegister, 1 | 2) => seen = other.into_iter().collect(),
        (Kind::ListAppend, 0) => {
            seen.pop();
        }
        (Kind::ListAppend, 1) => seen.extend(other.filter(|v| !truth.contains(v))),
        (Kind::ListAppend, 2) => match choice / 16 % 3 {
            0 if seen.len() >= 2 => {
                let n = seen.len();
                seen.swap(n - 1, n - 2);
            }
            1 => seen.extend(truth.last().copied()),
            _ => seen.truncate(choice as usize / 48 % (truth.len() + 1)),
        },
        _ => {}
    }
    seen
}

/// The history the checkers see: invocations carry the txn with `nil` reads, `ok`
/// completions the observed reads; `info` and `fail` completions repeat the invocation.
fn history(kind: Kind, txns: &[Txn]) -> History {
    let mop_json = |m: &Mop, completed: bool| {
        let f = match kind {
            Kind::ListAppend => "append",
            Kind::RwRegister => "w",
        };
        match (m.write, &m.seen) {
            (Some(v), _) => json!([f, m.key, v]),
            (None, Some(seen)) if completed => read_json(kind, m.key, seen),
            (None, _) => json!(["r", m.key, null]),
        }
    };
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, t) in txns.iter().enumerate() {
        events.push((t.invoke_time, i, false));
        events.push((t.complete_time, i, true));
    }
    events.sort_unstable();
    let mut h = History::default();
    for (time, i, completion) in events {
        let t = &txns[i];
        let ok = completion && t.outcome == OpType::Ok;
        let value = OwnedValue::Array(Box::new(t.mops.iter().map(|m| mop_json(m, ok)).collect()));
        let op_type = if completion {
            t.outcome
        } else {
            OpType::Invoke
        };
        h.push(time, op_type, Process::Client(i as u64), "txn", value);
    }
    h
}

fn read_json(kind: Kind, key: usize, seen: &[i64]) -> OwnedValue {
    match (kind, seen) {
        (_, []) => json!(["r", key, null]),
        (Kind::RwRegister, [v, ..]) => json!(["r", key, v]),
        (Kind::ListAppend, list) => json!(["r", key, list.to_vec()]),
    }
}

/// The brute force: is there an order of the `ok` txns and some `info` ones that explains
/// every `ok` read (respecting real time when `strict`)?
fn serializable(kind: Kind, txns: &[Txn], strict: bool) -> bool {
    let must: u32 = (0..txns.len())
        .filter(|&i| txns[i].outcome == OpType::Ok)
        .fold(0, |mask, i| mask | 1 << i);
    search(kind, txns, strict, must, 0, &Default::default())
}

fn search(
    kind: Kind,
    txns: &[Txn],
    strict: bool,
    must: u32,
    placed: u32,
    state: &[Vec<i64>; KEYS],
) -> bool {
    if placed & must == must {
        return true;
    }
    (0..txns.len()).any(|j| {
        let free = placed & 1 << j == 0 && txns[j].outcome != OpType::Fail;
        let after_predecessors = !strict
            || (0..txns.len()).all(|i| {
                placed & 1 << i != 0
                    || txns[i].outcome != OpType::Ok
                    || txns[i].complete_time > txns[j].invoke_time
            });
        free && after_predecessors
            && run(kind, &txns[j], state)
                .is_some_and(|next| search(kind, txns, strict, must, placed | 1 << j, &next))
    })
}

/// Runs one txn on `state`; `None` when one of its reads does not match.
fn run(kind: Kind, txn: &Txn, state: &[Vec<i64>; KEYS]) -> Option<[Vec<i64>; KEYS]> {
    let mut next = state.clone();
    for m in &txn.mops {
        match (m.write, &m.seen) {
            (Some(v), _) => kind.apply(&mut next, m.key, v),
            (None, Some(seen)) if *seen != next[m.key] => return None,
            (None, _) => {}
        }
    }
    Some(next)
}

fn checker_says_valid(kind: Kind, h: &History, model: &str) -> Validity {
    let models = [model.to_string()];
    let results = analyze(&CheckInput {
        workload: kind.workload(),
        history: h,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &models,
    });
    let workload = match &results {
        OwnedValue::Object(top) => top.get("workload"),
        _ => None,
    };
    let valid = match workload {
        Some(OwnedValue::Object(w)) => w.get("valid?"),
        _ => None,
    };
    Validity::from_value(valid)
}

/// Whether each key's version order is fully inferred (see the module doc): every two
/// values finally written to it by `ok` txns are ordered by the chain of "a txn that first
/// read v then wrote v' puts v before v'".
fn version_orders_inferred(txns: &[Txn]) -> bool {
    (0..KEYS).all(|key| {
        let mut finals: Vec<i64> = Vec::new();
        let mut edges: Vec<(i64, i64)> = Vec::new();
        for t in txns.iter().filter(|t| t.outcome == OpType::Ok) {
            let of_key: Vec<&Mop> = t.mops.iter().filter(|m| m.key == key).collect();
            let Some(last) = of_key.iter().rev().find_map(|m| m.write) else {
                continue;
            };
            finals.push(last);
            if let Some(Some(seen)) = of_key
                .first()
                .filter(|m| m.write.is_none())
                .map(|m| &m.seen)
                && let Some(&from) = seen.last()
            {
                edges.push((from, last));
            }
        }
        let n = finals.len();
        let mut reach = vec![vec![false; n]; n];
        for &(from, to) in &edges {
            let (a, b) = (
                finals.iter().position(|v| *v == from),
                finals.iter().position(|v| *v == to),
            );
            if let (Some(a), Some(b)) = (a, b) {
                reach[a][b] = true;
            }
        }
        for via in 0..n {
            for a in 0..n {
                for b in 0..n {
                    reach[a][b] |= reach[a][via] && reach[via][b];
                }
            }
        }
        (0..n).all(|a| (0..n).all(|b| a == b || reach[a][b] || reach[b][a]))
    })
}

fn judge(kind: Kind, txns: &[Txn]) -> Result<(), TestCaseError> {
    let h = history(kind, txns);
    for (model, strict) in [("serializable", false), ("strict-serializable", true)] {
        let truth = serializable(kind, txns, strict);
        let verdict = checker_says_valid(kind, &h, model);
        let compared = kind == Kind::ListAppend || verdict == Validity::Invalid || {
            version_orders_inferred(txns) && txns.iter().all(|t| t.outcome != OpType::Info)
        };
        if compared {
            prop_assert_eq!(
                verdict == Validity::Valid,
                truth,
                "{} under {}: checker {:?}, brute force {}\n{:#?}",
                kind.workload(),
                model,
                verdict,
                truth,
                txns
            );
        }
    }
    Ok(())
}

fn histories() -> impl Strategy<Value = (Vec<Shape>, Option<Vec<u64>>)> {
    prop::collection::vec(shape(), 1..=6).prop_flat_map(|shapes| {
        let n = shapes.len();
        let shuffle = prop::option::weighted(0.3, prop::collection::vec(any::<u64>(), n));
        (Just(shapes), shuffle)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn list_append_verdicts_match_brute_force((shapes, shuffle) in histories()) {
        let txns = simulate(Kind::ListAppend, &shapes, shuffle.as_deref());
        judge(Kind::ListAppend, &txns)?;
    }

    #[test]
    fn rw_register_verdicts_match_brute_force((shapes, shuffle) in histories()) {
        let txns = simulate(Kind::RwRegister, &shapes, shuffle.as_deref());
        judge(Kind::RwRegister, &txns)?;
    }
}
