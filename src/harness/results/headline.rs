//! A few-line headline of a results map: the figures people compare across runs
//! (verdict, op counts, servers msgs-per-op, stable latencies, per-op latency quantiles).
//! Used by `glomers report --brief` and scripts/maelstrom.sh.

use std::fmt::Write;

use simd_json::OwnedValue;
use simd_json::prelude::*;

/// The headline of `results` (a results map as read from results.edn or results.json).
pub fn headline(results: &OwnedValue) -> String {
    let mut out = String::new();
    let text = |v: Option<&OwnedValue>| v.map(render).unwrap_or_else(|| "-".to_string());
    let _ = writeln!(out, "valid?            {}", text(results.get("valid?")));
    let failing = failing_checkers(results);
    if !failing.is_empty() {
        let _ = writeln!(out, "failing           {}", failing.join("; "));
    }
    for line in conduct_lines(results) {
        let _ = writeln!(out, "WARNING           {line}");
    }
    for line in explanation_lines(results) {
        let _ = writeln!(out, "what went wrong   {line}");
    }
    if let Some(stats) = results.get("stats") {
        let _ = writeln!(
            out,
            "ops               {} ({} ok, {} fail, {} info)",
            text(stats.get("count")),
            text(stats.get("ok-count")),
            text(stats.get("fail-count")),
            text(stats.get("info-count"))
        );
    }
    if let Some(net) = results.get("net") {
        let per_op = |group: &str| text(net.get(group).and_then(|g| g.get("msgs-per-op")));
        let _ = writeln!(
            out,
            "msgs-per-op       servers {}, all {}",
            per_op("servers"),
            per_op("all")
        );
    }
    if let Some(stable) = results
        .get("workload")
        .and_then(|w| w.get("stable-latencies"))
    {
        let _ = writeln!(
            out,
            "stable latency    median {} ms, p95 {} ms, max {} ms",
            text(quantile(stable, "0.5")),
            text(quantile(stable, "0.95")),
            text(quantile(stable, "1"))
        );
    }
    if let Some(latencies) = results
        .get("perf")
        .and_then(|p| p.get("latencies"))
        .and_then(|l| l.as_object())
    {
        let mut names: Vec<&str> = latencies.keys().map(|k| k.as_ref()).collect();
        names.sort_unstable();
        for name in names {
            let Some(q) = latencies.get(name) else {
                continue;
            };
            let _ = writeln!(
                out,
                "latency {:<9} median {} ms, p99 {} ms, max {} ms",
                name,
                text(quantile(q, "0.5")),
                text(quantile(q, "0.99")),
                text(quantile(q, "1"))
            );
        }
    }
    out
}

/// The figures worth showing of a failing checker's result, in this order.
const KEY_FIGURES: [&str; 14] = [
    "error",
    "bad-error-types",
    "anomaly-types",
    "failures",
    "lost-count",
    "unexpected-count",
    "duplicated-count",
    "never-read-count",
    "errors",
    "duplicated",
    "ok-fraction",
    "final-reads",
    "acceptable",
    "valid-count",
];

/// Each top-level checker whose `valid?` is not `true`, with its key figures:
/// `workload (anomaly-types ["G1b"])`.
fn failing_checkers(results: &OwnedValue) -> Vec<String> {
    let Some(map) = results.as_object() else {
        return Vec::new();
    };
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let checker = map.get(name)?.as_object()?;
            let valid = checker.get("valid?")?;
            if valid.as_bool() == Some(true) {
                return None;
            }
            let figures: Vec<String> = KEY_FIGURES
                .iter()
                .filter_map(|key| Some(format!("{key} {}", short(checker.get(*key)?))))
                .collect();
            let verdict = if valid.as_bool() == Some(false) {
                "invalid"
            } else {
                "unknown"
            };
            Some(format!("{name} {verdict} ({})", figures.join(", ")))
        })
        .collect()
}

/// A value in at most 120 characters.
fn short(value: &OwnedValue) -> String {
    let text = render(value);
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A quantile entry; keys may be written `0.5` or `0.5` as a string, `1` or `1.0`.
pub(crate) fn quantile<'v>(map: &'v OwnedValue, key: &str) -> Option<&'v OwnedValue> {
    let object = map.as_object()?;
    object.get(key).or_else(|| match key {
        "1" => object.get("1.0"),
        "0" => object.get("0.0"),
        _ => None,
    })
}

pub(crate) fn render(value: &OwnedValue) -> String {
    match value.as_str() {
        Some(text) => text.to_string(),
        None => value.encode(),
    }
}

/// What a run's `muted-nodes` and `late-replies` entries say, one line each (none for a
/// run where every node answered every request once and in time): for the headline, the
/// console summary and the run's page.
pub fn conduct_lines(results: &OwnedValue) -> Vec<String> {
    let mut lines = Vec::new();
    let field = |v: &OwnedValue, key: &str| v.get(key).map(render).unwrap_or_default();
    let seconds = |v: &OwnedValue| v.get("time").and_then(|t| t.cast_f64()).unwrap_or(0.0) / 1e9;
    if let Some(muted) = results.get("muted-nodes").and_then(|m| m.as_array()) {
        for m in muted {
            let node = m.get("node").and_then(|n| n.as_str()).unwrap_or("?");
            lines.push(format!(
                "{node} muted at {:.3} s: it sent a message with an {}; the real Maelstrom stops \
                 reading {node}'s output there, so its later messages were dropped ({} in all)",
                seconds(m),
                m.get("why").and_then(|w| w.as_str()).unwrap_or("?"),
                field(results, "dropped-after-mute"),
            ));
        }
    }
    if let Some(late) = results.get("late-replies") {
        let count = |key: &str| late.get(key).and_then(|c| c.as_u64()).unwrap_or(0);
        let first = late
            .get("first")
            .and_then(|f| f.as_array())
            .and_then(|f| f.first());
        let example = first.map_or(String::new(), |l| {
            format!(
                " (first: {} → {} {} in reply to {} at {:.3} s)",
                field(l, "node"),
                field(l, "client"),
                field(l, "type"),
                field(l, "in-reply-to"),
                seconds(l)
            )
        });
        lines.push(format!(
            "{} repl(ies) after the client's timeout, {} request(s) answered twice{example}; \
             Maelstrom's clients discard these",
            count("after-timeout"),
            count("second-replies")
        ));
    }
    lines
}

/// The texts of an invalid run's `explanation` entries (none for a valid run): what went
/// wrong, in words, for the console summary, the headline and the run's page.
pub fn explanation_lines(results: &OwnedValue) -> Vec<String> {
    results
        .get("explanation")
        .and_then(|e| e.as_array())
        .map_or(&[][..], |e| e.as_slice())
        .iter()
        .filter_map(|entry| entry.get("text").and_then(|t| t.as_str()))
        .map(str::to_string)
        .collect()
}
