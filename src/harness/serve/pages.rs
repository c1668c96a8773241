//! The pages `glomers serve` shows, as maud templates (every value escaped): the index of
//! runs, one run's page, the comparison of selected runs, a directory listing.

use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::runs::RunSummary;
use crate::harness::results::plot::escape;

const STYLE: &str = "body{font-family:sans-serif;font-size:13px;margin:16px}\
    table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
    th{background:#f3f3f3}.true{color:#1a7f1a}.false,.crashed{color:#c62828;font-weight:bold}\
    img{max-width:100%;border:1px solid #ddd;margin:6px 0}\
    .warning{color:#b35c00;font-weight:bold}p.warning{background:#fff4e5;padding:6px;border:1px solid #f0c890}\
    .shrunk{color:#2a6f2a;font-weight:bold}";

/// The files a run page links to, in this order, when present.
pub const RUN_FILES: [(&str, &str); 17] = [
    ("results.edn", "results (EDN)"),
    ("results.json", "results (JSON)"),
    ("messages.svg", "Lamport diagram"),
    ("causal.svg", "causal path of the failure"),
    ("shrink.txt", "how it was shrunk"),
    ("schedule.jsonl", "schedule (replay with --schedule)"),
    ("timeline.html", "op timeline"),
    ("latency-raw.svg", "latency (raw)"),
    ("latency-quantiles.svg", "latency quantiles"),
    ("rate.svg", "rate"),
    ("history.txt", "history (text)"),
    ("history.edn", "history (EDN)"),
    ("history.jsonl", "history (JSONL)"),
    ("jepsen.log", "jepsen.log"),
    ("net-journal.jsonl", "network journal"),
    ("crash.txt", "crash"),
    ("node-logs", "node logs"),
];

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " — glomers" }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

fn milliseconds(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |ms| format!("{ms:.0} ms"))
}

fn latency_text(run: &RunSummary) -> String {
    let parts: Vec<String> = run
        .latencies
        .iter()
        .map(|(f, median, p99)| format!("{f} {median:.0}/{p99:.0}"))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// The index: one row per run, a checkbox each for the comparison.
pub fn index(store: &Path, runs: &[RunSummary], more: usize) -> Markup {
    page(
        "runs",
        html! {
            h2 { "Runs in " (store.display()) }
            @if runs.is_empty() { p { "No runs yet: run `glomers test …` with this store." } }
            @if more > 0 { p { (more) " older runs not listed." } }
            form action="/compare" method="get" {
                p { button type="submit" { "Compare selected runs" } }
                table #runs {
                    tr {
                        th { "" } th { "workload" } th { "time" } th { "verdict" } th { "ops (ok)" }
                        th { "servers msgs/op" } th { "stable latency median/p95" }
                        th { "op latency median/p99 (ms)" } th { "strategy" }
                    }
                    @for run in runs {
                        tr.run {
                            td { input type="checkbox" name="run" value=(run.id); }
                            td { (run.workload) }
                            td { a href=(format!("/run/{}", run.id)) { (run.time) } }
                            td class=(run.verdict) {
                                (run.verdict)
                                @if let Some(shrunk) = &run.shrunk { " " span.shrunk title=(shrunk) { "shrunk" } }
                                @if !run.warnings.is_empty() { " " span.warning title=(run.warnings.join("\n")) { "⚠ muted / late" } }
                            }
                            td { @if let Some((count, ok)) = &run.ops { (count) " (" (ok) ")" } @else { "-" } }
                            td { (run.msgs_per_op.map_or("-".to_string(), |m| format!("{m:.2}"))) }
                            td { (milliseconds(run.stable.map(|s| s.0))) " / " (milliseconds(run.stable.map(|s| s.1))) }
                            td { (latency_text(run)) }
                            td { (run.strategy.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
        },
    )
}

/// One run: its figures, links to its files, its plots inline.
pub fn run_page(run: &RunSummary, present: &[(&str, &str)]) -> Markup {
    let file = |name: &str| format!("/file/{}/{name}", run.id);
    let shown = |name: &str| present.iter().any(|(n, _)| *n == name);
    page(
        &run.id,
        html! {
            p { a href="/" { "← all runs" } }
            h2 { (run.workload) " " (run.time) }
            p {
                "verdict " span class=(run.verdict) { (run.verdict) }
                " · servers msgs-per-op " (run.msgs_per_op.map_or("-".to_string(), |m| format!("{m:.2}")))
                " · stable latency median " (milliseconds(run.stable.map(|s| s.0)))
                " · op latency " (latency_text(run))
            }
            @for warning in &run.warnings {
                p.warning { "⚠ " (warning) }
            }
            @if let Some(shrunk) = &run.shrunk {
                p.shrunk { "Shrunk by glomers shrink: " (shrunk) }
            }
            @if !run.explanation.is_empty() {
                h3 { "What went wrong" }
                ul #explanation { @for line in &run.explanation { li { (line) } } }
            }
            ul #files {
                @for (name, label) in present {
                    li { a href=(file(name)) { (label) } " (" (name) ")" }
                }
            }
            @for plot in ["latency-raw.svg", "latency-quantiles.svg", "rate.svg"] {
                @if shown(plot) { div { img src=(file(plot)) alt=(plot); } }
            }
        },
    )
}

/// One comparison row's text for a run.
type Figure = dyn Fn(&RunSummary) -> String;

/// Selected runs side by side, and msgs-per-op against latency, one point per run.
pub fn compare(runs: &[RunSummary]) -> Markup {
    let rows: [(&str, &Figure); 7] = [
        ("workload", &|r| r.workload.clone()),
        ("strategy", &|r| r.strategy.clone().unwrap_or("-".into())),
        ("verdict", &|r| r.verdict.clone()),
        ("ops (ok)", &|r| {
            r.ops
                .as_ref()
                .map_or("-".into(), |(c, o)| format!("{c} ({o})"))
        }),
        ("servers msgs-per-op", &|r| {
            r.msgs_per_op.map_or("-".into(), |m| format!("{m:.2}"))
        }),
        ("stable latency median/p95", &|r| {
            format!(
                "{} / {}",
                milliseconds(r.stable.map(|s| s.0)),
                milliseconds(r.stable.map(|s| s.1))
            )
        }),
        ("op latency median/p99 (ms)", &|r| latency_text(r)),
    ];
    page(
        "compare",
        html! {
            p { a href="/" { "← all runs" } }
            h2 { "Comparison of " (runs.len()) " runs" }
            table #compare {
                tr { th { "" } @for run in runs { th { a href=(format!("/run/{}", run.id)) { (run.id) } } } }
                @for (label, value) in rows {
                    tr { th { (label) } @for run in runs { td { (value(run)) } } }
                }
            }
            h3 { "Servers msgs-per-op against latency" }
            (PreEscaped(scatter(runs)))
        },
    )
}

/// A hand-written SVG scatter: x msgs-per-op, y the headline latency (ms), labelled.
fn scatter(runs: &[RunSummary]) -> String {
    let points: Vec<(f64, f64, String)> = runs
        .iter()
        .filter_map(|r| {
            let label = r.strategy.clone().unwrap_or_else(|| r.time.clone());
            Some((r.msgs_per_op?, r.headline_latency()?, label))
        })
        .collect();
    if points.is_empty() {
        return "<p>No run with both figures.</p>".to_string();
    }
    let (w, h, pad) = (640.0, 360.0, 60.0);
    let x_max = points.iter().map(|p| p.0).fold(1e-9, f64::max) * 1.15;
    let y_max = points.iter().map(|p| p.1).fold(1e-9, f64::max) * 1.15;
    let x = |v: f64| pad + v / x_max * (w - 2.0 * pad);
    let y = |v: f64| h - pad - v / y_max * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg class=\"scatter\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-size=\"11\"><rect x=\"{pad}\" y=\"{pad}\" width=\"{}\" height=\"{}\" fill=\"none\" \
         stroke=\"black\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">servers msgs-per-op \
         (0 – {x_max:.1})</text><text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" \
         text-anchor=\"middle\">latency, ms (0 – {y_max:.0}): stable median, else op median</text>",
        w - 2.0 * pad,
        h - 2.0 * pad,
        w / 2.0,
        h - 20.0,
        h / 2.0,
        h / 2.0
    );
    for (mx, my, label) in &points {
        svg.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#1f77b4\"><title>{}: {mx:.2} msgs/op, \
             {my:.0} ms</title></circle><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x(*mx),
            y(*my),
            escape(label),
            x(*mx) + 8.0,
            y(*my) + 4.0,
            escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A directory's entries (node-logs/), each `(name, href)`.
pub fn listing(title: &str, entries: &[(String, String)]) -> Markup {
    page(
        title,
        html! {
            p { a href="/" { "← all runs" } }
            h2 { (title) }
            ul { @for (name, href) in entries { li { a href=(href) { (name) } } } }
        },
    )
}

/// An error page.
pub fn error(status: u16, message: &str) -> Markup {
    page(
        "error",
        html! { h2 { (status) } p { (message) } p { a href="/" { "all runs" } } },
    )
}
