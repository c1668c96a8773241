//! The kafka error types found in an observed history, each as Jepsen's kafka checker
//! finds and shows it.

use std::collections::BTreeMap;

use ahash::{AHashMap, AHashSet};
use simd_json::OwnedValue;

use super::log::Order;
use super::{ERRS_SHOWN, Errors, Observed, PollData, find_key, s, send_of};
use crate::harness::checkers::txn::ids::Identity;
use crate::harness::checkers::value::{arr, clj_cmp, clj_set_first_by, null, obj, op_value};
use crate::harness::history::{Op, OpType, Process};

/// A polled value that no send (of any outcome) wrote cannot be explained: Jepsen's
/// checker throws `{:type :no-writer-of-value, :key k, :value v}` while building its
/// write-read graph, so the kafka result is `{:valid? :unknown, :error …}` whatever else
/// the history shows. We do the same: an error, never a silently valid result.
pub(super) fn unwritten_polls(seen: &Observed) -> Result<(), String> {
    for (_, done, data) in &seen.polls {
        for (k, vs) in data {
            for &(_, id, v) in vs {
                if !seen.writer.contains_key(&(*k, id)) {
                    return Err(format!(
                        "throw+: {{:type :no-writer-of-value, :key {:?}, :value {}}} \
                         (polled by op {}, but no send wrote it)",
                        seen.key(*k),
                        simd_json::to_string(v).unwrap_or_default(),
                        done.index
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The difference of two values' `:by-value` indexes in key `k`'s log; 1 (no error) when
/// either has none (or was never seen, `None`), as in Jepsen.
fn delta(orders: &[Option<Order>], k: usize, a: Option<usize>, b: Option<usize>) -> i64 {
    let index = |v: Option<usize>| orders.get(k)?.as_ref()?.by_value.get(&v?).copied();
    match (index(a), index(b)) {
        (Some(i), Some(j)) => j as i64 - i as i64,
        _ => 1,
    }
}

/// Per `ok` poll: G1a (a value whose send failed), G1c-realtime (a value whose send was
/// invoked only after the poll completed), and int-poll-skip / int-nonmonotonic-poll
/// (consecutive values of a key one poll returned that are not +1 apart).
pub(super) fn poll_errors(seen: &Observed, orders: &[Option<Order>], errors: &mut Errors) {
    for (_, done, data) in &seen.polls {
        for (k, vs) in data {
            let k = *k;
            for &(_, id, v) in vs {
                let Some((w_invoke, w_done)) = seen.writer.get(&(k, id)) else {
                    continue;
                };
                if w_done.op_type == OpType::Fail {
                    let writer = ("writer", op_value(w_done, None));
                    let reader = ("reader", op_value(done, None));
                    errors.add(
                        "G1a",
                        obj([
                            ("key", s(seen.key(k))),
                            ("value", v.clone()),
                            writer,
                            reader,
                        ]),
                    );
                }
                if done.index < w_invoke.index {
                    let cycle = arr(vec![op_value(w_done, None), op_value(done, None)]);
                    let error = obj([
                        ("key", s(seen.key(k))),
                        ("value", v.clone()),
                        ("cycle", cycle),
                    ]);
                    errors.add("G1c-realtime", error);
                }
            }
            for pair in vs.windows(2) {
                let delta = delta(orders, k, Some(pair[0].1), Some(pair[1].1));
                let kind = match delta {
                    2.. => "int-poll-skip",
                    ..=0 => "int-nonmonotonic-poll",
                    _ => continue,
                };
                let values = arr(vec![pair[0].2.clone(), pair[1].2.clone()]);
                errors.add(
                    kind,
                    obj([
                        ("key", s(seen.key(k))),
                        ("values", values),
                        ("delta", OwnedValue::from(delta)),
                        ("op", op_value(done, None)),
                    ]),
                );
            }
        }
    }
}

/// Value ids read by `ok` polls, per key id.
fn polled(seen: &Observed) -> Vec<AHashSet<usize>> {
    let mut read: Vec<AHashSet<usize>> = vec![AHashSet::new(); seen.keys.len()];
    for (_, _, data) in &seen.polls {
        for (k, vs) in data {
            read[*k].extend(vs.iter().map(|e| e.1));
        }
    }
    read
}

/// lost-write: per key, every acknowledged value whose last index is at or below the
/// highest first index of any polled value (`max-read-index`) must have been polled.
pub(super) fn lost_writes(seen: &Observed, orders: &[Option<Order>], errors: &mut Errors) {
    let read = polled(seen);
    for &k in &seen.keys_by_text {
        let Some(polled) = read.get(k) else { continue };
        let Some(Some(order)) = orders.get(k) else {
            continue;
        };
        let bound = polled.iter().filter_map(|v| order.first_index.get(v)).max();
        let Some(&bound) = bound else { continue };
        // Jepsen shows the first op that polled (the set-first of) the values last at bound.
        // Found only once a lost write needs it: the search scans every poll, and doing it
        // for every key of a clean history made this checker quadratic (keys × polls).
        let mut max_read = None;
        let find_max_read = || {
            order
                .last_index
                .get(bound)
                .and_then(|vs| clj_set_first_by(vs, |e| e.1))
                .and_then(|&(id, _)| {
                    seen.polls.iter().find(|(_, _, data)| {
                        data.iter()
                            .any(|(k2, vs)| *k2 == k && vs.iter().any(|w| w.1 == id))
                    })
                })
        };
        for &(id, v) in order.last_index.iter().take(bound + 1).flatten() {
            let writer = seen.writer.get(&(k, id));
            if polled.contains(&id) || !writer.is_some_and(|w| w.1.op_type == OpType::Ok) {
                continue;
            }
            errors.add(
                "lost-write",
                obj([
                    ("key", s(seen.key(k))),
                    ("value", v.clone()),
                    (
                        "index",
                        OwnedValue::from(order.first_index.get(&id).copied().unwrap_or(0)),
                    ),
                    ("max-read-index", OwnedValue::from(bound)),
                    ("writer", writer.map_or_else(null, |w| op_value(w.1, None))),
                    (
                        "max-read",
                        (*max_read.get_or_insert_with(find_max_read))
                            .map_or_else(null, |p| op_value(p.1, None)),
                    ),
                ]),
            );
        }
    }
}

/// unseen: acknowledged values no `ok` poll ever returned, as Jepsen's last `unseen`
/// sample: `{:time <ns of the last ok send or poll>, :unseen {key count},
/// :messages {key [values, sorted, ≤ 32]}}`.
pub(super) fn unseen(seen: &Observed, errors: &mut Errors) {
    let read = polled(seen);
    let mut unseen: BTreeMap<&str, Vec<OwnedValue>> = BTreeMap::new();
    for (&(k, id), (_, done)) in &seen.writer {
        if done.op_type == OpType::Ok
            && !read.get(k).is_some_and(|set| set.contains(&id))
            && let Some((_, v, _)) = send_of(done)
        {
            unseen.entry(seen.key(k)).or_default().push(v.clone());
        }
    }
    if unseen.is_empty() {
        return;
    }
    let last_ok = seen
        .ops
        .iter()
        .rev()
        .find(|op| op.op_type == OpType::Ok && (op.f == "send" || op.f == "poll"));
    let counts = obj(unseen
        .iter()
        .map(|(k, vs)| (k.to_string(), OwnedValue::from(vs.len()))));
    let messages = obj(unseen.into_iter().map(|(k, mut vs)| {
        vs.sort_by(|a, b| clj_cmp(a, b).unwrap_or(std::cmp::Ordering::Equal));
        vs.truncate(ERRS_SHOWN);
        (k.to_string(), arr(vs))
    }));
    let time = OwnedValue::from(last_ok.map_or(0, |op| op.time_ns));
    errors.add(
        "unseen",
        obj([("time", time), ("unseen", counts), ("messages", messages)]),
    );
}

/// A message: its value id and the value as the history wrote it.
type Message<'a> = (usize, &'a OwnedValue);

/// What one process last polled and sent per key, while walking its ops.
#[derive(Default)]
struct ProcessState<'a> {
    /// key id → the last value (id, value) its previous `ok` poll of the key returned (if
    /// any), that poll.
    last_reads: AHashMap<usize, (Option<Message<'a>>, &'a Op)>,
    /// key id → the value (id, if any value id has it; value) of its previous send to the
    /// key, that send.
    last_sends: AHashMap<usize, (Option<usize>, &'a OwnedValue, &'a Op)>,
}

/// Per process, in history order (its `ok` and `info` completions): poll-skip /
/// nonmonotonic-poll (each poll of a key must start right after where this process's
/// previous poll of it ended) and nonmonotonic-send. An ok or info `assign` forgets the
/// keys it does not list; a new process (after a crash) starts fresh.
pub(super) fn per_process(seen: &Observed, orders: &[Option<Order>], errors: &mut Errors) {
    let poll_data: AHashMap<u64, &PollData> = seen
        .polls
        .iter()
        .map(|(_, done, d)| (done.index, d))
        .collect();
    let mut by_process: BTreeMap<Process, Vec<&Op>> = BTreeMap::new();
    for &op in seen.ops.iter() {
        if op.op_type == OpType::Ok || op.op_type == OpType::Info {
            by_process.entry(op.process).or_default().push(op);
        }
    }
    for process_ops in by_process.values() {
        let mut state = ProcessState::default();
        for &op in process_ops {
            match op.f.as_str() {
                "assign" => {
                    // A key no op showed has no id, and so no state to keep.
                    let keep: AHashSet<usize> = match &op.value {
                        OwnedValue::Array(ks) => {
                            ks.iter().filter_map(|k| find_key(&seen.keys, k)).collect()
                        }
                        _ => AHashSet::new(),
                    };
                    state.last_reads.retain(|k, _| keep.contains(k));
                    state.last_sends.retain(|k, _| keep.contains(k));
                }
                "poll" if op.op_type == OpType::Ok => {
                    if let Some(data) = poll_data.get(&op.index) {
                        state.poll(op, data, seen, orders, errors);
                    }
                }
                "send" => state.send(op, seen, orders, errors),
                _ => {}
            }
        }
    }
}

impl<'a> ProcessState<'a> {
    fn poll(
        &mut self,
        op: &'a Op,
        data: &PollData<'a>,
        seen: &Observed,
        orders: &[Option<Order>],
        errors: &mut Errors,
    ) {
        for (k, vs) in data {
            let k = *k;
            if let (Some((Some((id, v)), last_op)), Some(&(_, first_id, first))) =
                (self.last_reads.get(&k), vs.first())
            {
                let d = delta(orders, k, Some(*id), Some(first_id));
                let kind = match d {
                    2.. => Some("poll-skip"),
                    ..=0 => Some("nonmonotonic-poll"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let values = arr(vec![(*v).clone(), first.clone()]);
                    let pair = arr(vec![op_value(last_op, None), op_value(op, None)]);
                    errors.add(
                        kind,
                        obj([
                            ("key", s(seen.key(k))),
                            ("values", values),
                            ("delta", OwnedValue::from(d)),
                            ("ops", pair),
                        ]),
                    );
                }
            }
            let last = vs.last().map(|&(_, id, v)| (id, v));
            self.last_reads.insert(k, (last, op));
        }
    }

    /// A send to a key no op showed is not tracked: without a log its delta is always 1,
    /// so it can never be nonmonotonic.
    fn send(&mut self, op: &'a Op, seen: &Observed, orders: &[Option<Order>], errors: &mut Errors) {
        let Some((k, v, _)) = send_of(op) else {
            return;
        };
        let Some(k) = find_key(&seen.keys, k) else {
            return;
        };
        let id = seen.values.get(&Identity::of(v));
        if let Some((prev_id, prev, prev_op)) = self.last_sends.get(&k) {
            let d = delta(orders, k, *prev_id, id);
            if d < 1 {
                let values = arr(vec![(*prev).clone(), v.clone()]);
                let pair = arr(vec![op_value(prev_op, None), op_value(op, None)]);
                errors.add(
                    "nonmonotonic-send",
                    obj([
                        ("key", s(seen.key(k))),
                        ("values", values),
                        ("delta", OwnedValue::from(d)),
                        ("ops", pair),
                    ]),
                );
            }
        }
        self.last_sends.insert(k, (id, v, op));
    }
}
