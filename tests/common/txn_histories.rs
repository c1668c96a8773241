//! Hand-built transaction histories and a verdict helper, shared by the txn-list-append
//! and txn-rw-register checker tests (included with `#[path]`).

pub use glomers::harness::checkers::{Availability, CheckInput, NetStats, Validity};
pub use glomers::harness::history::{History, OpType, Process};
pub use glomers::harness::registry::analyze;
pub use simd_json::{OwnedValue, json};

/// Txns in history order; `overlap` makes all of them concurrent (invoked before any
/// completes), otherwise each completes before the next is invoked.
pub fn history(txns: &[(OpType, OwnedValue)], overlap: bool) -> History {
    let mut h = History::default();
    let invoke_value = |v: &OwnedValue| match v {
        OwnedValue::Array(mops) => OwnedValue::Array(Box::new(
            mops.iter()
                .map(|m| match m {
                    OwnedValue::Array(m)
                        if m.first().and_then(|f| f.as_str_value()) == Some("r") =>
                    {
                        json!(["r", m[1].clone(), null])
                    }
                    other => other.clone(),
                })
                .collect(),
        )),
        other => other.clone(),
    };
    if overlap {
        for (i, (_, v)) in txns.iter().enumerate() {
            h.push(
                i as u64,
                OpType::Invoke,
                Process::Client(i as u64),
                "txn",
                invoke_value(v),
            );
        }
        for (i, (t, v)) in txns.iter().enumerate() {
            h.push(
                100 + i as u64,
                *t,
                Process::Client(i as u64),
                "txn",
                v.clone(),
            );
        }
    } else {
        for (i, (t, v)) in txns.iter().enumerate() {
            h.push(
                2 * i as u64,
                OpType::Invoke,
                Process::Client(i as u64),
                "txn",
                invoke_value(v),
            );
            h.push(
                2 * i as u64 + 1,
                *t,
                Process::Client(i as u64),
                "txn",
                v.clone(),
            );
        }
    }
    h
}

trait AsStr {
    fn as_str_value(&self) -> Option<&str>;
}

impl AsStr for OwnedValue {
    fn as_str_value(&self) -> Option<&str> {
        match self {
            OwnedValue::String(s) => Some(s),
            _ => None,
        }
    }
}

pub fn judge(workload: &str, h: &History, model: &str) -> (Validity, Vec<String>) {
    let models = [model.to_string()];
    let r = analyze(&CheckInput {
        workload,
        history: h,
        net: NetStats::default(),
        availability: Availability::Any,
        consistency_models: &models,
    });
    let OwnedValue::Object(top) = &r else {
        panic!()
    };
    let Some(OwnedValue::Object(w)) = top.get("workload") else {
        panic!()
    };
    let types = match w.get("anomaly-types") {
        Some(OwnedValue::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str_value().map(String::from))
            .collect(),
        _ => vec![],
    };
    (Validity::from_value(w.get("valid?")), types)
}

pub fn ok(v: OwnedValue) -> (OpType, OwnedValue) {
    (OpType::Ok, v)
}
