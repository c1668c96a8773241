//! Consistency models (MAELSTROM.md §3.12) as the transactional checkers judge them: which
//! non-cycle anomalies each model prohibits, which dependency edges its cycles may use, and
//! running a check under every `--consistency-models` entry.

use simd_json::OwnedValue;

use super::graph::Kind;
use crate::harness::checkers::{CheckInput, Validity};

/// The models we know, weakest first.
const MODELS: &[&str] = &[
    "read-uncommitted",
    "read-committed",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strict-serializable",
];

/// Non-cycle anomaly types, each with the weakest model (index into [`MODELS`]) that
/// prohibits it; every stronger model prohibits it too. One table for both checkers: each
/// only ever finds its own types (`duplicate-elements`, `future-read`, `incompatible-order`
/// for list-append; `cyclic-versions` for rw-register).
const PROHIBITED_FROM: &[(&str, usize)] = &[
    ("cyclic-versions", 0),
    ("duplicate-elements", 0),
    ("G1a", 1),
    ("G1b", 1),
    ("future-read", 1),
    ("incompatible-order", 1),
    ("lost-update", 2),
    ("internal", 3),
];

fn rank(model: &str) -> Option<usize> {
    MODELS.iter().position(|m| *m == model)
}

/// An error for a model we do not know (Maelstrom's checker fails on it too, giving
/// `:unknown`).
pub fn check_known(model: &str) -> Result<(), String> {
    match rank(model) {
        Some(_) => Ok(()),
        None => Err(format!("unknown consistency model {model:?}")),
    }
}

/// Whether `model` prohibits the non-cycle anomaly `kind` (cycle types are judged by
/// [`cycle_kinds`] instead; an unknown kind or model prohibits nothing).
pub fn prohibits(model: &str, kind: &str) -> bool {
    let from = PROHIBITED_FROM.iter().find(|(k, _)| *k == kind);
    matches!((rank(model), from), (Some(r), Some((_, f))) if r >= *f)
}

/// The edge kinds a prohibited cycle may use: read-uncommitted bans ww cycles,
/// read-committed ww+wr cycles (snapshot isolation adds the search of
/// [`super::cycles`] for cycles without adjacent rw edges), repeatable-read and
/// serializable any ww/wr/rw cycle, strict-serializable any cycle with real time.
pub fn cycle_kinds(model: &str) -> &'static [Kind] {
    use Kind::{Rt, Rw, Wr, Ww};
    match model {
        "read-uncommitted" => &[Ww],
        "read-committed" | "snapshot-isolation" => &[Ww, Wr],
        "strict-serializable" => &[Ww, Wr, Rw, Rt],
        _ => &[Ww, Wr, Rw],
    }
}

/// Runs `check` under each `--consistency-models` entry (default strict-serializable) and
/// keeps the worst result, so several models are checked as their union.
pub fn per_model(
    input: &CheckInput,
    check: impl Fn(&str) -> Result<OwnedValue, String>,
) -> Result<OwnedValue, String> {
    let models: Vec<&str> = match input.consistency_models {
        [] => vec!["strict-serializable"],
        ms => ms.iter().map(String::as_str).collect(),
    };
    let mut worst: Option<(Validity, OwnedValue)> = None;
    for model in models {
        let result = check(model)?;
        let v = Validity::from_value(match &result {
            OwnedValue::Object(m) => m.get("valid?"),
            _ => None,
        });
        if worst.as_ref().is_none_or(|(w, _)| w.merge(v) != *w) {
            worst = Some((v, result));
        }
    }
    worst
        .map(|(_, r)| r)
        .ok_or_else(|| "no consistency model".to_string())
}
