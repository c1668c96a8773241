//! How a run failed, as `glomers shrink` compares runs: which checker said `:valid? false`
//! and with which anomaly or error types, or how it crashed. A smaller run "fails the same way" when it is
//! invalid and shows the original's *primary* failure: its first (checker, kind) pair, the
//! workload checker's before the others.

use simd_json::OwnedValue;
use simd_json::prelude::*;

/// One (checker, kind) pair, e.g. `workload` / `G-single-item`, `workload` / `lost`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Failure {
    /// The results key of the checker (`workload`, `stats`, `availability`, …).
    pub checker: String,
    /// The anomaly or error type, or what the checker counted (`lost`, `duplicated`), or
    /// `invalid` when it says no more.
    pub kind: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} checker: {}", self.checker, self.kind)
    }
}

/// Counts whose non-zero value names what a set or id checker found.
const COUNTED_KINDS: [&str; 6] = [
    "lost",
    "duplicated",
    "unexpected",
    "stale",
    "never-read",
    "bad",
];

/// Every failure the results show, the workload checker's first, then by checker name.
pub fn failures(results: &OwnedValue) -> Vec<Failure> {
    let Some(map) = results.as_object() else {
        return Vec::new();
    };
    let mut checkers: Vec<&String> = map
        .iter()
        .filter(|(_, v)| v.get("valid?").and_then(|v| v.as_bool()) == Some(false))
        .map(|(k, _)| k)
        .collect();
    checkers.sort_by_key(|k| (k.as_str() != "workload", k.as_str()));
    let mut out = Vec::new();
    for checker in checkers {
        let Some(result) = map.get(checker.as_str()) else {
            continue;
        };
        let mut kinds = kinds_of(result);
        if kinds.is_empty() {
            kinds.push("invalid".to_string());
        }
        out.extend(kinds.into_iter().map(|kind| Failure {
            checker: checker.clone(),
            kind,
        }));
    }
    out
}

/// The kinds one checker's map names: Elle's `anomaly-types`, the kafka checker's
/// `bad-error-types`, or the non-zero counts of [`COUNTED_KINDS`].
fn kinds_of(result: &OwnedValue) -> Vec<String> {
    for key in ["anomaly-types", "bad-error-types"] {
        if let Some(list) = result.get(key).and_then(|v| v.as_array()) {
            let kinds: Vec<String> = list
                .iter()
                .filter_map(|k| k.as_str().map(|s| s.trim_start_matches(':').to_string()))
                .collect();
            if !kinds.is_empty() {
                return kinds;
            }
        }
    }
    COUNTED_KINDS
        .iter()
        .filter(|kind| {
            result
                .get(format!("{kind}-count").as_str())
                .and_then(|v| v.as_u64())
                .is_some_and(|n| n > 0)
        })
        .map(|kind| kind.to_string())
        .collect()
}

/// A crash as a failure: checker `crash`, kind its first line with every digit run
/// replaced by `#` (times, ids and counts differ between runs that crash the same way).
pub fn crash(message: &str) -> Failure {
    let first = message.lines().next().unwrap_or("").trim();
    let mut kind = String::with_capacity(first.len());
    let mut in_digits = false;
    for c in first.chars().take(300) {
        if c.is_ascii_digit() {
            if !in_digits {
                kind.push('#');
            }
            in_digits = true;
        } else {
            kind.push(c);
            in_digits = false;
        }
    }
    Failure {
        checker: "crash".to_string(),
        kind,
    }
}

/// Whether `results` show `primary`.
pub fn shows(results: &OwnedValue, primary: &Failure) -> bool {
    failures(results).iter().any(|f| f == primary)
}
