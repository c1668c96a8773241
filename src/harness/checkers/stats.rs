//! The workload-independent checkers Maelstrom composes around every workload: `:perf`,
//! `:exceptions`, `:stats`, `:availability` and `:net` (MAELSTROM.md §5.4, §5.6, §7.2).

use std::collections::BTreeMap;

use simd_json::OwnedValue;

use super::value::{f32_value, obj, quantiles, ratio_f32};
use super::{Availability, NetCounts, NetStats, Validity};
use crate::harness::history::{History, OpType, Process};

/// `:perf`: the graphs are always valid; we add `latencies`, the quantiles of `ok` op
/// latency per `f` in milliseconds (fractional, microsecond resolution), which Maelstrom
/// only draws but users want as numbers.
pub fn perf(history: &History) -> OwnedValue {
    let mut by_f: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (invoke, completion) in history.pairs() {
        if let Some(done) = completion.filter(|c| c.op_type == OpType::Ok) {
            let nanos = done.time_ns.saturating_sub(invoke.time_ns);
            by_f.entry(invoke.f.as_str()).or_default().push(nanos);
        }
    }
    let latencies = obj(by_f.into_iter().filter_map(|(f, nanos)| {
        let micros: Vec<u64> = nanos.iter().map(|n| n / 1_000).collect();
        let q = quantiles(&micros)?;
        Some((f.to_string(), micros_to_ms(q)))
    }));
    let valid = || obj([("valid?", OwnedValue::from(true))]);
    obj([
        ("latency-graph", valid()),
        ("rate-graph", valid()),
        ("latencies", latencies),
        ("valid?", OwnedValue::from(true)),
    ])
}

/// Rewrites a quantile map of integer microseconds into float milliseconds.
fn micros_to_ms(q: OwnedValue) -> OwnedValue {
    match q {
        OwnedValue::Object(map) => obj(map.into_iter().map(|(k, v)| {
            let micros = super::value::as_int(&v).unwrap_or(0) as f64;
            (k, OwnedValue::from(micros / 1000.0))
        })),
        other => other,
    }
}

/// `:exceptions` (Jepsen's `checker/unhandled-exceptions`): ops whose client threw,
/// grouped by the class of the exception's last `via` entry, most frequent first, each
/// with its count and first op as example. Always valid; the key `exceptions` appears only
/// when there is one.
pub fn exceptions(history: &History) -> OwnedValue {
    let mut groups: Vec<(String, u64, &crate::harness::history::Op)> = Vec::new();
    for op in history.client_ops() {
        let Some(exception) = &op.exception else {
            continue;
        };
        let class = exception_class(exception);
        match groups.iter_mut().find(|(c, _, _)| *c == class) {
            Some(group) => group.1 += 1,
            None => groups.push((class, 1, op)),
        }
    }
    if groups.is_empty() {
        return obj([("valid?", OwnedValue::from(true))]);
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let list = groups
        .into_iter()
        .map(|(class, count, example)| {
            obj([
                ("count", OwnedValue::from(count)),
                ("class", OwnedValue::from(class)),
                ("example", super::value::op_value(example, None)),
            ])
        })
        .collect();
    obj([
        ("valid?", OwnedValue::from(true)),
        ("exceptions", OwnedValue::Array(Box::new(list))),
    ])
}

/// `(-> exception :via last :type)`, or `"unknown"`.
fn exception_class(exception: &OwnedValue) -> String {
    use simd_json::prelude::*;
    exception
        .get("via")
        .and_then(|via| via.as_array())
        .and_then(|via| via.last())
        .and_then(|last| last.get("type"))
        .and_then(|t| t.as_str())
        .unwrap_or("unknown")
        .to_string()
}

#[derive(Default)]
struct Counts {
    ok: u64,
    fail: u64,
    info: u64,
}

impl Counts {
    fn add(&mut self, t: OpType) {
        match t {
            OpType::Ok => self.ok += 1,
            OpType::Fail => self.fail += 1,
            OpType::Info => self.info += 1,
            OpType::Invoke => {}
        }
    }

    fn to_value(&self, valid: OwnedValue) -> Vec<(&'static str, OwnedValue)> {
        vec![
            ("valid?", valid),
            ("count", OwnedValue::from(self.ok + self.fail + self.info)),
            ("ok-count", OwnedValue::from(self.ok)),
            ("fail-count", OwnedValue::from(self.fail)),
            ("info-count", OwnedValue::from(self.info)),
        ]
    }
}

/// Functions whose ops may legitimately never succeed (Maelstrom's kafka stats wrapper).
pub const STATS_EXEMPT: [&str; 2] = ["crash", "debug-topic-partitions"];

/// `:stats`: client completions counted overall and per `f`. An `f` is valid only with at
/// least one `ok`; the overall verdict is true when every non-exempt `f` is valid, else the
/// merge of all of them (so a test where some op kind never succeeds is invalid).
pub fn stats(history: &History) -> OwnedValue {
    let mut all = Counts::default();
    let mut by_f: BTreeMap<&str, Counts> = BTreeMap::new();
    for op in history
        .client_ops()
        .filter(|op| op.op_type != OpType::Invoke)
    {
        all.add(op.op_type);
        by_f.entry(op.f.as_str()).or_default().add(op.op_type);
    }
    let mut merged = Validity::Valid;
    let mut exempt_ok = true;
    let by_f_value = obj(by_f.iter().map(|(f, c)| {
        let valid = if c.ok > 0 {
            Validity::Valid
        } else {
            Validity::Invalid
        };
        merged = merged.merge(valid);
        if valid != Validity::Valid && !STATS_EXEMPT.contains(f) {
            exempt_ok = false;
        }
        (f.to_string(), obj(c.to_value(valid.to_value())))
    }));
    let verdict = if exempt_ok { Validity::Valid } else { merged };
    let mut pairs = all.to_value(verdict.to_value());
    pairs.push(("by-f", by_f_value));
    obj(pairs)
}

/// Client invocations: the denominator of `msgs-per-op` and of availability.
pub fn op_count(history: &History) -> u64 {
    history
        .ops
        .iter()
        .filter(|op| op.op_type == OpType::Invoke && op.process != Process::Nemesis)
        .count() as u64
}

/// `:availability`: `ok-fraction` = oks / invocations (single precision, `1` when nothing
/// was invoked). `total` demands every invocation be `ok`, counted exactly rather than
/// through the float (stricter than Maelstrom's `(== 1 fraction)`, which rounds); a number
/// demands that fraction, again checked on the exact ratio as well as on the float.
pub fn availability(history: &History, goal: Availability) -> Result<OwnedValue, String> {
    let client = || {
        history
            .ops
            .iter()
            .filter(|op| op.process != Process::Nemesis)
    };
    let ok = client().filter(|op| op.op_type == OpType::Ok).count() as u64;
    let invokes = op_count(history);
    let fraction = if invokes == 0 {
        OwnedValue::from(1u64)
    } else {
        f32_value(ratio_f32(ok, invokes))
    };
    let exact = if invokes == 0 {
        1.0
    } else {
        ok as f64 / invokes as f64
    };
    let valid = match goal {
        Availability::Any => true,
        Availability::Total => ok >= invokes,
        Availability::Fraction(a) if a.is_finite() => {
            exact >= a && (invokes == 0 || f64::from(ratio_f32(ok, invokes)) >= a)
        }
        Availability::Fraction(a) => {
            return Err(format!("Don't know how to handle :availability {a}"));
        }
    };
    Ok(obj([
        ("valid?", OwnedValue::from(valid)),
        ("ok-fraction", fraction),
    ]))
}

/// `:net`: the journal counts per group, with `msgs-per-op` (single precision) on `all` and
/// `servers` when there was at least one client invocation.
pub fn net(history: &History, net: &NetStats) -> OwnedValue {
    let ops = op_count(history);
    let group = |c: &NetCounts, per_op: bool| {
        let mut pairs = vec![
            ("send-count", OwnedValue::from(c.send_count)),
            ("recv-count", OwnedValue::from(c.recv_count)),
            ("msg-count", OwnedValue::from(c.msg_count)),
        ];
        if per_op && ops > 0 {
            pairs.push(("msgs-per-op", f32_value(ratio_f32(c.msg_count, ops))));
        }
        obj(pairs)
    };
    obj([
        ("all", group(&net.all, true)),
        ("clients", group(&net.clients, false)),
        ("servers", group(&net.servers, true)),
        ("valid?", OwnedValue::from(true)),
    ])
}
