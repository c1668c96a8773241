//! The SVG plots read at a glance (issue 18): no line crosses the idle stretch before final
//! reads (it is shaded instead), every quantile line has its own colour, and raw-latency
//! points of different ops have different colours.

use glomers::harness::history::{History, OpType, Process};
use glomers::harness::results::plot::write_plots;
use simd_json::OwnedValue;
use simd_json::prelude::*;

/// Two ops, reads and adds, from 0 to 5 s; nothing until the final reads at 16–17 s.
fn history_with_a_recovery_gap() -> History {
    let mut history = History::default();
    let mut op = |time_ms: u64, op_type: OpType, process: u64, f: &str| {
        history.push(
            time_ms * 1_000_000,
            op_type,
            Process::Client(process),
            f,
            OwnedValue::null(),
        );
    };
    for i in 0..100u64 {
        let t = i * 50;
        let f = if i % 2 == 0 { "add" } else { "read" };
        op(t, OpType::Invoke, i % 3, f);
        op(t + 1 + i % 7, OpType::Ok, i % 3, f);
    }
    for p in 0..3 {
        op(16_000 + p * 100, OpType::Invoke, p, "read");
        op(16_000 + p * 100 + 5, OpType::Ok, p, "read");
    }
    history
}

fn plots() -> (String, String, String) {
    // One directory per call: the tests run in parallel and each removes its own.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("glomers-plots-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    write_plots(&dir, &history_with_a_recovery_gap()).expect("plots");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect(name);
    let out = (
        read("latency-raw.svg"),
        read("latency-quantiles.svg"),
        read("rate.svg"),
    );
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The x pixel range [from, to] of each `<polyline>`.
fn line_spans(svg: &str) -> Vec<(f64, f64)> {
    svg.lines()
        .filter_map(|line| line.strip_prefix("<polyline points=\""))
        .map(|rest| {
            let points = rest.split('"').next().unwrap_or_default();
            let xs: Vec<f64> = points
                .split_whitespace()
                .filter_map(|p| p.split(',').next()?.parse().ok())
                .collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        })
        .collect()
}

/// The idle band's x pixel range.
fn idle_band(svg: &str) -> (f64, f64) {
    let line = svg
        .lines()
        .find(|l| l.contains("<title>no client ops</title>"))
        .expect("the idle stretch is shaded");
    let attr = |name: &str| -> f64 {
        let start = line.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        line[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .parse()
            .expect(name)
    };
    (attr("x"), attr("x") + attr("width"))
}

#[test]
fn lines_break_at_the_idle_stretch_which_is_shaded() {
    let (_, quantiles, rate) = plots();
    for svg in [&quantiles, &rate] {
        let (gap_start, gap_end) = idle_band(svg);
        for (lo, hi) in line_spans(svg) {
            assert!(
                hi <= gap_start + 15.0 || lo >= gap_end - 15.0,
                "a line spans the idle stretch [{gap_start}, {gap_end}]: [{lo}, {hi}]"
            );
        }
    }
}

/// The `stroke`/`fill` colours of the legend entries (drawn right of the plot area: line
/// samples start at x 718, markers sit at x 725).
fn legend_colours(svg: &str, attribute: &str) -> Vec<String> {
    svg.lines()
        .filter(|l| l.contains("h14\"") || l.contains("r=\"3\"") || l.contains("l4 7h-8z"))
        .filter(|l| l.contains("M718.0 ") || l.contains("cx=\"725.0\"") || l.contains("M725.0 "))
        .filter_map(|l| {
            let start = l.find(&format!("{attribute}=\""))? + attribute.len() + 2;
            Some(l[start..].split('"').next()?.to_string())
        })
        .collect()
}

#[test]
fn every_quantile_line_and_every_op_has_its_own_colour() {
    let (raw, quantiles, _) = plots();
    let colours = legend_colours(&quantiles, "stroke");
    assert_eq!(colours.len(), 8, "two ops × four quantiles: {colours:?}");
    let mut unique = colours.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), colours.len(), "{colours:?}");
    let raw_colours = legend_colours(&raw, "fill");
    assert_eq!(raw_colours.len(), 2, "{raw_colours:?}");
    assert_ne!(
        raw_colours[0], raw_colours[1],
        "add and read differ in colour"
    );
}
