//! Key order for printed results. JSON objects (`OwnedValue`) are hash maps, so the order
//! Maelstrom prints (`results.edn`) is restored here, recognising each kind of map by a key
//! only it has. Unknown keys follow in sorted order (numbers numerically), so output is
//! deterministic whatever the map.

use std::cmp::Ordering;

use simd_json::owned::Object;

/// `(marker key, order)`: a map containing the marker is printed in that order.
const SCHEMAS: &[(&str, &[&str])] = &[
    (
        "workload",
        &[
            "perf",
            "timeline",
            "exceptions",
            "stats",
            "availability",
            "net",
            "workload",
            "faults",
            "error",
            "valid?",
        ],
    ),
    (
        "asymmetric-partitions",
        &[
            "loss",
            "duplicate",
            "reorder-ms",
            "clock-skew",
            "asymmetric-partitions",
        ],
    ),
    (
        "latency-graph",
        &["latency-graph", "rate-graph", "latencies", "valid?"],
    ),
    ("servers", &["all", "clients", "servers", "valid?"]),
    (
        "send-count",
        &["send-count", "recv-count", "msg-count", "msgs-per-op"],
    ),
    ("ok-fraction", &["valid?", "ok-fraction"]),
    (
        "ok-count",
        &[
            "valid?",
            "count",
            "ok-count",
            "fail-count",
            "info-count",
            "by-f",
        ],
    ),
    (
        "worst-stale",
        &[
            "worst-stale",
            "duplicated-count",
            "valid?",
            "lost-count",
            "lost",
            "stable-count",
            "stale-count",
            "stale",
            "never-read-count",
            "stable-latencies",
            "lost-latencies",
            "attempt-count",
            "never-read",
            "duplicated",
            "unexpected-count",
            "unexpected",
        ],
    ),
    (
        "outcome",
        &[
            "element",
            "outcome",
            "stable-latency",
            "lost-latency",
            "known",
            "last-absent",
        ],
    ),
    (
        "acceptable",
        &["valid?", "errors", "final-reads", "acceptable"],
    ),
    (
        "attempted-count",
        &[
            "valid?",
            "attempted-count",
            "acknowledged-count",
            "duplicated-count",
            "duplicated",
            "range",
        ],
    ),
    // kafka errors that carry an `index` (before the op schema, which also has one).
    (
        "max-read-index",
        &[
            "key",
            "value",
            "index",
            "max-read-index",
            "writer",
            "max-read",
        ],
    ),
    ("offset", &["key", "offset", "index", "values"]),
    (
        "index",
        &[
            "index",
            "time",
            "type",
            "process",
            "f",
            "value",
            "error",
            "exception",
            "final?",
        ],
    ),
    ("failures", &["valid?", "results", "failures"]),
    (
        "bad-error-types",
        &[
            "valid?",
            "worst-realtime-lag",
            "bad-error-types",
            "error-types",
            "info-txn-causes",
        ],
    ),
    ("linearizable", &["linearizable", "timeline", "valid?"]),
    (
        "configs",
        &[
            "valid?",
            "configs",
            "final-paths",
            "previous-ok",
            "last-op",
            "op",
            "error",
        ],
    ),
    ("pending", &["model", "last-op", "pending"]),
];

/// Fallback: `valid?` first (as in most Jepsen checker maps), then the rest sorted.
const DEFAULT: &[&str] = &["valid?"];

/// Objects of up to this many keys are vector-backed in `simd_json` and iterate in
/// insertion order; larger ones are hash-backed and iterate in no stable order.
const INSERTION_ORDERED_MAX: usize = 32;

/// The keys of `map` in print order: a known schema's order; else, for small maps, the
/// order they were built or parsed in (checkers build maps in Maelstrom's order, parsed
/// reply bodies keep wire order); else `valid?` first and the rest sorted.
pub fn ordered_keys(map: &Object) -> Vec<&String> {
    let schema = SCHEMAS.iter().find(|(marker, _)| map.contains_key(*marker));
    if schema.is_none() && map.len() <= INSERTION_ORDERED_MAX {
        return map.keys().collect();
    }
    let order = schema.map_or(DEFAULT, |(_, order)| *order);
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| natural(a, b)));
    keys
}

/// Numbers (quantile points `0`, `0.5`, `1`) numerically, before other keys; then strings.
fn natural(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        _ => a.cmp(b),
    }
}
