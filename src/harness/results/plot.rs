//! Performance plots, hand-written SVG (no plotting dependency, nothing to render PNGs):
//! `latency-raw.svg` (every completed op's latency against its invocation time, colored by
//! ok / info / fail, one marker shape per `f`), `latency-quantiles.svg` (per-window
//! latency quantiles per `f`) and `rate.svg` (completions per second per `f` and type).
//! Nemesis activity (from a `start-*` op to the next `stop-*` op) is shaded, as in Jepsen.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::harness::history::{History, OpType, Process};

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;
/// Time windows for the quantile and rate plots.
const WINDOWS: usize = 40;
/// Raw points drawn at most; beyond it points are sampled evenly (the file stays small).
const MAX_POINTS: usize = 20_000;
const MARKERS: [&str; 4] = ["circle", "square", "triangle", "diamond"];
const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// One completed client op: invocation time (s), latency (ms), type, f.
struct Sample<'a> {
    t: f64,
    ms: f64,
    kind: OpType,
    f: &'a str,
}

fn samples(history: &History) -> Vec<Sample<'_>> {
    history
        .pairs()
        .into_iter()
        .filter_map(|(inv, done)| {
            let done = done?;
            Some(Sample {
                t: inv.time_ns as f64 / 1e9,
                ms: done.time_ns.saturating_sub(inv.time_ns) as f64 / 1e6,
                kind: done.op_type,
                f: &inv.f,
            })
        })
        .collect()
}

/// Nemesis intervals in seconds: each `start-…` op opens one, the next `stop-…` closes it.
fn nemesis_intervals(history: &History, end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
    for op in history
        .ops
        .iter()
        .filter(|op| op.process == Process::Nemesis)
    {
        let t = op.time_ns as f64 / 1e9;
        if op.f.starts_with("start") {
            open.get_or_insert(t);
        } else if op.f.starts_with("stop")
            && let Some(s) = open.take()
        {
            out.push((s, t));
        }
    }
    if let Some(s) = open {
        out.push((s, end));
    }
    out
}

/// Plot area mapping data to pixels; `log` makes the y axis logarithmic.
struct Frame {
    t_max: f64,
    y_min: f64,
    y_max: f64,
    log: bool,
}

impl Frame {
    fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.t_max.max(1e-9)) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        let (lo, hi, v) = if self.log {
            (
                self.y_min.log10(),
                self.y_max.log10(),
                v.max(self.y_min).log10(),
            )
        } else {
            (self.y_min, self.y_max, v)
        };
        let span = (hi - lo).max(1e-9);
        HEIGHT - BOTTOM - ((v - lo) / span) * (HEIGHT - TOP - BOTTOM)
    }

    /// Log axes span whole decades around the data; linear ones start at 0 and end on a
    /// round tick.
    fn new(t_max: f64, values: impl Iterator<Item = f64>, log: bool) -> Frame {
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let t_max = nice_step(t_max / 5.0) * (t_max / nice_step(t_max / 5.0)).ceil().max(1.0);
        if log {
            let top = 10f64.powf(max.max(1.0).log10().ceil());
            let bottom = 10f64.powf(min.clamp(1e-3, top / 10.0).log10().floor());
            Frame {
                t_max,
                y_min: bottom,
                y_max: top,
                log,
            }
        } else {
            let step = nice_step(max.max(1e-3) / 5.0);
            Frame {
                t_max,
                y_min: 0.0,
                y_max: step * (max / step).ceil().max(1.0),
                log,
            }
        }
    }
}

fn header(out: &mut String, title: &str, y_label: &str, frame: &Frame, nemesis: &[(f64, f64)]) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{title}</text>\n",
        WIDTH / 2.0
    );
    for (s, e) in nemesis {
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"#f4a6a6\" fill-opacity=\"0.3\"><title>nemesis</title></rect>",
            frame.x(*s),
            (frame.x(*e) - frame.x(*s)).max(1.0),
            HEIGHT - TOP - BOTTOM
        );
    }
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let _ = writeln!(
        out,
        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>",
        x1 - x0,
        y1 - y0
    );
    let t_step = nice_step(frame.t_max / 5.0);
    for i in 0..=((frame.t_max / t_step).round() as usize) {
        let t = t_step * i as f64;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            frame.x(t),
            y1 + 15.0,
            fmt_tick(t)
        );
    }
    let ticks: Vec<f64> = if frame.log {
        let mut v = frame.y_min;
        std::iter::from_fn(|| {
            let cur = v;
            v *= 10.0;
            (cur <= frame.y_max * 1.0001).then_some(cur)
        })
        .collect()
    } else {
        let step = nice_step(frame.y_max / 5.0);
        (0..=((frame.y_max / step).round() as usize))
            .map(|i| step * i as f64)
            .collect()
    };
    for v in ticks {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 5.0,
            frame.y(v) + 4.0,
            fmt_tick(v)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (s)</text>",
        (x0 + x1) / 2.0,
        HEIGHT - 12.0
    );
    let _ = writeln!(
        out,
        "<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">{y_label}</text>",
        (y0 + y1) / 2.0
    );
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn fmt_tick(v: f64) -> String {
    if v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

fn legend(out: &mut String, row: usize, color: &str, marker: &str, label: &str) {
    let (x, y) = (WIDTH - RIGHT + 15.0, TOP + 10.0 + 16.0 * row as f64);
    match marker.strip_prefix("line") {
        Some(dash) => {
            let _ = writeln!(
                out,
                "<path d=\"M{:.1} {y:.1}h14\" stroke=\"{color}\" stroke-width=\"2\"{}/>",
                x - 7.0,
                dash_attr(dash.parse().unwrap_or(0))
            );
        }
        None => out.push_str(&marker_svg(marker, x, y, color)),
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\">{}</text>",
        x + 10.0,
        y + 4.0,
        escape(label)
    );
}

fn marker_svg(marker: &str, x: f64, y: f64, color: &str) -> String {
    match marker {
        "square" => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"5\" height=\"5\" fill=\"{color}\"/>\n",
            x - 2.5,
            y - 2.5
        ),
        "triangle" => format!(
            "<path d=\"M{:.1} {:.1}l3 5h-6z\" fill=\"{color}\"/>\n",
            x,
            y - 3.0
        ),
        "diamond" => format!(
            "<path d=\"M{:.1} {:.1}l3 3l-3 3l-3 -3z\" fill=\"{color}\"/>\n",
            x,
            y - 3.0
        ),
        _ => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{color}\"/>\n"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn type_color(t: OpType) -> &'static str {
    match t {
        OpType::Ok => "#1f77b4",
        OpType::Info => "#ff7f0e",
        _ => "#e377c2",
    }
}

fn fs<'a>(samples: &[Sample<'a>]) -> Vec<&'a str> {
    let mut v: Vec<&str> = samples.iter().map(|s| s.f).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn latency_raw(samples: &[Sample], t_max: f64, nemesis: &[(f64, f64)]) -> String {
    let frame = Frame::new(t_max, samples.iter().map(|s| s.ms), true);
    let mut out = String::new();
    header(&mut out, "Raw latency", "latency (ms)", &frame, nemesis);
    let f_list = fs(samples);
    let marker =
        |f: &str| MARKERS[f_list.iter().position(|g| *g == f).unwrap_or(0) % MARKERS.len()];
    let step = samples.len().div_ceil(MAX_POINTS).max(1);
    for s in samples.iter().step_by(step) {
        out.push_str(&marker_svg(
            marker(s.f),
            frame.x(s.t),
            frame.y(s.ms),
            type_color(s.kind),
        ));
    }
    let mut row = 0;
    for f in &f_list {
        for t in [OpType::Ok, OpType::Info, OpType::Fail] {
            if samples.iter().any(|s| s.f == *f && s.kind == t) {
                legend(
                    &mut out,
                    row,
                    type_color(t),
                    marker(f),
                    &format!("{f} {}", t.name()),
                );
                row += 1;
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Dash patterns: solid, dashed, dotted, dash-dot.
fn dash_attr(style: usize) -> &'static str {
    match style % 4 {
        0 => "",
        1 => " stroke-dasharray=\"6 3\"",
        2 => " stroke-dasharray=\"2 2\"",
        _ => " stroke-dasharray=\"6 2 2 2\"",
    }
}

fn polyline(out: &mut String, frame: &Frame, points: &[(f64, f64)], color: &str, dash: usize) {
    let pts: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", frame.x(*t), frame.y(*v)))
        .collect();
    let _ = writeln!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"{}/>",
        pts.join(" "),
        dash_attr(dash)
    );
}

/// Groups samples into `WINDOWS` equal time windows; yields (window mid-time, samples).
fn windows<'s, 'a>(samples: &[&'s Sample<'a>], t_max: f64) -> Vec<(f64, Vec<&'s Sample<'a>>)> {
    let width = (t_max / WINDOWS as f64).max(1e-9);
    let mut buckets: BTreeMap<usize, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        buckets
            .entry(((s.t / width) as usize).min(WINDOWS - 1))
            .or_default()
            .push(s);
    }
    buckets
        .into_iter()
        .map(|(i, v)| ((i as f64 + 0.5) * width, v))
        .collect()
}

fn latency_quantiles(samples: &[Sample], t_max: f64, nemesis: &[(f64, f64)]) -> String {
    let frame = Frame::new(t_max, samples.iter().map(|s| s.ms), true);
    let mut out = String::new();
    header(
        &mut out,
        "Latency quantiles",
        "latency (ms)",
        &frame,
        nemesis,
    );
    let mut row = 0;
    for (fi, f) in fs(samples).into_iter().enumerate() {
        let of_f: Vec<&Sample> = samples.iter().filter(|s| s.f == f).collect();
        let wins = windows(&of_f, t_max);
        for (qi, q) in [0.5, 0.95, 0.99, 1.0].into_iter().enumerate() {
            let points: Vec<(f64, f64)> = wins
                .iter()
                .map(|(t, v)| {
                    let mut ms: Vec<f64> = v.iter().map(|s| s.ms).collect();
                    ms.sort_by(f64::total_cmp);
                    let idx = ((ms.len() as f64 * q) as usize).min(ms.len() - 1);
                    (*t, ms[idx])
                })
                .collect();
            let color = PALETTE[fi % PALETTE.len()];
            polyline(&mut out, &frame, &points, color, qi);
            legend(
                &mut out,
                row,
                color,
                &format!("line{qi}"),
                &format!("{f} {q}"),
            );
            row += 1;
        }
    }
    out.push_str("</svg>\n");
    out
}

/// One rate line: f, completion type, (time, ops/s) points.
type Series = (String, OpType, Vec<(f64, f64)>);

fn rate(samples: &[Sample], t_max: f64, nemesis: &[(f64, f64)]) -> String {
    let width = (t_max / WINDOWS as f64).max(1e-9);
    let mut series: Vec<Series> = Vec::new();
    for f in fs(samples) {
        for t in [OpType::Ok, OpType::Info, OpType::Fail] {
            let of: Vec<&Sample> = samples.iter().filter(|s| s.f == f && s.kind == t).collect();
            if of.is_empty() {
                continue;
            }
            let mut counts = vec![0usize; WINDOWS];
            for s in &of {
                counts[((s.t / width) as usize).min(WINDOWS - 1)] += 1;
            }
            let pts = counts
                .iter()
                .enumerate()
                .map(|(i, c)| ((i as f64 + 0.5) * width, *c as f64 / width))
                .collect();
            series.push((f.to_string(), t, pts));
        }
    }
    let frame = Frame::new(
        t_max,
        series.iter().flat_map(|s| s.2.iter().map(|p| p.1)),
        false,
    );
    let mut out = String::new();
    header(&mut out, "Throughput", "ops/s", &frame, nemesis);
    for (row, (f, t, pts)) in series.iter().enumerate() {
        let color = PALETTE[row % PALETTE.len()];
        polyline(
            &mut out,
            &frame,
            pts,
            color,
            if *t == OpType::Ok { 0 } else { 1 },
        );
        let dash = if *t == OpType::Ok { 0 } else { 1 };
        legend(
            &mut out,
            row,
            color,
            &format!("line{dash}"),
            &format!("{f} {}", t.name()),
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Writes `latency-raw.svg`, `latency-quantiles.svg` and `rate.svg` into `dir`.
pub fn write_plots(dir: &Path, history: &History) -> std::io::Result<()> {
    let samples = samples(history);
    let end = history.ops.last().map_or(0.0, |op| op.time_ns as f64 / 1e9);
    let t_max = end.max(1e-3);
    let nemesis = nemesis_intervals(history, end);
    std::fs::write(
        dir.join("latency-raw.svg"),
        latency_raw(&samples, t_max, &nemesis),
    )?;
    std::fs::write(
        dir.join("latency-quantiles.svg"),
        latency_quantiles(&samples, t_max, &nemesis),
    )?;
    std::fs::write(dir.join("rate.svg"), rate(&samples, t_max, &nemesis))
}
