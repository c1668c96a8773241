//! The lin-kv checker (MAELSTROM.md §3.7): Jepsen's `independent` split by key, each key
//! checked for linearizability against a cas-register whose initial value is `nil`, with the
//! Wing–Gong search plus Lowe's memoisation (the WGL algorithm Knossos races).
//!
//! Ops: `ok` ops take effect between invocation and completion; `info` ops at any time after
//! their invocation, or never; `fail` ops never. A read of `nil` is always legal.
//! Values are `[k v]` (reads invoke `[k nil]`, cas carries `[k [from to]]`).

use simd_json::OwnedValue;

use super::value::{arr, clj_cmp, clj_eq, identity_key, null, obj, op_value};
use super::{CheckInput, Checker, Validity};
use crate::harness::history::{Op, OpType};

/// Search steps allowed per key before giving up with `unknown` (Knossos times out too).
const MAX_STEPS: u64 = 20_000_000;

/// Maelstrom's lin-kv workload checker.
pub struct LinKv;

/// What an op does to the register.
enum Effect {
    Read(OwnedValue),
    Write(OwnedValue),
    Cas(OwnedValue, OwnedValue),
}

/// One op of one key: its effect, and the invocation/completion shown in results.
struct KeyOp<'a> {
    effect: Effect,
    invoke: &'a Op,
    /// The `ok` completion; `None` for an indeterminate op.
    ok: Option<&'a Op>,
}

/// The register's legal transition for `effect` from `state`, if any.
fn step(state: &OwnedValue, effect: &Effect) -> Option<OwnedValue> {
    match effect {
        Effect::Read(v) if v.is_null_value() || clj_eq(v, state) => Some(state.clone()),
        Effect::Read(_) => None,
        Effect::Write(v) => Some(v.clone()),
        Effect::Cas(from, to) if clj_eq(from, state) => Some(to.clone()),
        Effect::Cas(..) => None,
    }
}

trait IsNull {
    fn is_null_value(&self) -> bool;
}

impl IsNull for OwnedValue {
    fn is_null_value(&self) -> bool {
        matches!(self, OwnedValue::Static(simd_json::StaticNode::Null))
    }
}

/// `[k v]` → (k, v).
fn split(v: &OwnedValue) -> Result<(&OwnedValue, &OwnedValue), String> {
    match v {
        OwnedValue::Array(kv) if kv.len() == 2 => Ok((&kv[0], &kv[1])),
        other => Err(format!(
            "lin-kv op value is not a [key value] pair: {other:?}"
        )),
    }
}

fn effect(f: &str, invoke: &Op, ok: Option<&Op>) -> Result<Option<Effect>, String> {
    let (_, v) = split(&invoke.value)?;
    Ok(match f {
        // An indeterminate read constrains nothing.
        "read" => match ok {
            Some(done) => Some(Effect::Read(split(&done.value)?.1.clone())),
            None => None,
        },
        "write" => Some(Effect::Write(v.clone())),
        "cas" => match v {
            OwnedValue::Array(ft) if ft.len() == 2 => {
                Some(Effect::Cas(ft[0].clone(), ft[1].clone()))
            }
            other => return Err(format!("cas value is not [from to]: {other:?}")),
        },
        other => return Err(format!("unknown lin-kv function {other:?}")),
    })
}

/// Groups the client history by key, in first-seen key order.
fn by_key<'a>(input: &CheckInput<'a>) -> Result<Vec<(OwnedValue, Vec<KeyOp<'a>>)>, String> {
    let mut index: ahash::AHashMap<String, usize> = ahash::AHashMap::new();
    let mut keys: Vec<(OwnedValue, Vec<KeyOp<'a>>)> = Vec::new();
    for (invoke, completion) in input.history.pairs() {
        let ok = match completion.map(|c| c.op_type) {
            Some(OpType::Fail) => continue,
            Some(OpType::Ok) => completion,
            _ => None,
        };
        let Some(effect) = effect(&invoke.f, invoke, ok)? else {
            continue;
        };
        let (k, _) = split(&invoke.value)?;
        let slot = *index.entry(identity_key(k)).or_insert_with(|| {
            keys.push((k.clone(), Vec::new()));
            keys.len() - 1
        });
        keys[slot].1.push(KeyOp { effect, invoke, ok });
    }
    Ok(keys)
}

/// An op as shown in results: the key stripped from its value, as Jepsen's `independent`.
fn show(op: &Op) -> OwnedValue {
    let mut plain = op.clone();
    if let Ok((_, v)) = split(&op.value) {
        plain.value = v.clone();
    }
    op_value(&plain, None)
}

/// The WGL search over one key's ops. Entries are calls and returns ordered by history
/// position (indeterminate returns last) in a doubly linked list that lifting edits.
fn check_key(ops: &[KeyOp]) -> OwnedValue {
    let n = ops.len();
    // Entry 2i is op i's call, 2i+1 its return; HEAD = 2n, END = 2n+1.
    let (head, end) = (2 * n, 2 * n + 1);
    let mut order: Vec<(u64, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in ops.iter().enumerate() {
        order.push((op.invoke.index, 2 * i));
        order.push((op.ok.map_or(u64::MAX, |c| c.index), 2 * i + 1));
    }
    order.sort_unstable();
    let mut next = vec![end; 2 * n + 2];
    let mut prev = vec![head; 2 * n + 2];
    let mut last = head;
    for &(_, e) in &order {
        next[last] = e;
        prev[e] = last;
        last = e;
    }
    next[last] = end;
    prev[end] = last;

    let mut state = null();
    let mut linearized = vec![0u64; n.div_ceil(64)];
    let mut seen: ahash::AHashSet<(Vec<u64>, String)> = ahash::AHashSet::new();
    let mut stack: Vec<(usize, OwnedValue)> = Vec::new();
    // Deepest dead end: (depth, op that could not be linearized, state, last linearized op).
    let mut worst: Option<(usize, usize, OwnedValue, Option<usize>)> = None;
    let mut entry = next[head];
    let mut steps = 0u64;
    let valid = loop {
        steps += 1;
        if steps > MAX_STEPS {
            return obj([
                ("valid?", Validity::Unknown.to_value()),
                (
                    "error",
                    OwnedValue::from(format!("search exceeded {MAX_STEPS} steps")),
                ),
            ]);
        }
        if entry == end || (entry % 2 == 1 && ops[entry / 2].ok.is_none()) {
            break true;
        }
        let i = entry / 2;
        if entry % 2 == 0 {
            if let Some(new_state) = step(&state, &ops[i].effect) {
                linearized[i / 64] |= 1 << (i % 64);
                if seen.insert((linearized.clone(), identity_key(&new_state))) {
                    stack.push((entry, std::mem::replace(&mut state, new_state)));
                    for e in [entry, entry + 1] {
                        next[prev[e]] = next[e];
                        prev[next[e]] = prev[e];
                    }
                    entry = next[head];
                    continue;
                }
                linearized[i / 64] &= !(1 << (i % 64));
            }
            entry = next[entry];
        } else {
            if worst.as_ref().is_none_or(|w| stack.len() > w.0) {
                worst = Some((stack.len(), i, state.clone(), stack.last().map(|s| s.0 / 2)));
            }
            let Some((call, previous)) = stack.pop() else {
                break false;
            };
            let j = call / 2;
            linearized[j / 64] &= !(1 << (j % 64));
            state = previous;
            for e in [call + 1, call] {
                next[prev[e]] = e;
                prev[next[e]] = e;
            }
            entry = next[call];
        }
    };
    let shown = |i: usize| show(ops[i].ok.unwrap_or(ops[i].invoke));
    if valid {
        let last_op = stack.last().map_or_else(null, |s| shown(s.0 / 2));
        let config = obj([
            ("model", obj([("value", state)])),
            ("last-op", last_op),
            ("pending", arr(vec![])),
        ]);
        return obj([
            ("valid?", OwnedValue::from(true)),
            ("configs", arr(vec![config])),
            ("final-paths", arr(vec![])),
        ]);
    }
    let (_, bad, model, last) = worst.unwrap_or((0, 0, null(), None));
    let last_op = last.map_or_else(null, shown);
    // Knossos shows the pending invocation with its completed value.
    let mut pending = ops[bad].invoke.clone();
    if let Some(done) = ops[bad].ok {
        pending.value = done.value.clone();
    }
    let config = obj([
        ("model", obj([("value", model)])),
        ("last-op", last_op.clone()),
        ("pending", arr(vec![show(&pending)])),
    ]);
    obj([
        ("valid?", OwnedValue::from(false)),
        ("configs", arr(vec![config])),
        ("final-paths", arr(vec![])),
        ("previous-ok", last_op.clone()),
        ("last-op", last_op),
        ("op", shown(bad)),
    ])
}

impl Checker for LinKv {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let mut keys = by_key(input)?;
        keys.sort_by(|a, b| clj_cmp(&a.0, &b.0).unwrap_or(std::cmp::Ordering::Equal));
        let mut verdict = Validity::Valid;
        let mut failures = Vec::new();
        let mut results = Vec::new();
        for (k, ops) in &keys {
            let linearizable = check_key(ops);
            let v = Validity::from_value(match &linearizable {
                OwnedValue::Object(m) => m.get("valid?"),
                _ => None,
            });
            verdict = verdict.merge(v);
            if v == Validity::Invalid {
                failures.push(k.clone());
            }
            let key = match k {
                OwnedValue::String(s) => s.clone(),
                other => simd_json::to_string(other).unwrap_or_default(),
            };
            let timeline = obj([("valid?", OwnedValue::from(true))]);
            results.push((
                key,
                obj([
                    ("linearizable", linearizable),
                    ("timeline", timeline),
                    ("valid?", v.to_value()),
                ]),
            ));
        }
        Ok(obj([
            ("valid?", verdict.to_value()),
            ("results", obj(results)),
            ("failures", arr(failures)),
        ]))
    }
}
