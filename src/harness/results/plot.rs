//! Performance plots, hand-written SVG (no plotting dependency, nothing to render PNGs):
//! `latency-raw.svg` (every completed op's latency against its invocation time: one colour
//! per `f`, one marker shape per ok / info / fail), `latency-quantiles.svg` (per-window
//! latency quantiles, one colour per `f` and quantile) and `rate.svg` (completions per second
//! per `f` and type, one colour each). Nemesis activity (from a `start-*` op to the next
//! `stop-*` op) is shaded red, as in Jepsen; stretches with no client op at all (the
//! recovery sleep before final reads) are shaded grey, and lines break there instead of
//! being drawn across them.

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
/// Tableau 20, the ten strong hues first: lines drawn in order get distinct colours for as
/// long as possible (16 quantile lines for four ops stay apart).
const PALETTE: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
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
pub fn nemesis_intervals(history: &History, end: f64) -> Vec<(f64, f64)> {
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

/// What the plots shade: nemesis intervals and stretches without any client op.
struct Shading {
    nemesis: Vec<(f64, f64)>,
    idle: Vec<(f64, f64)>,
}

fn header(out: &mut String, title: &str, y_label: &str, frame: &Frame, shading: &Shading) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{title}</text>\n",
        WIDTH / 2.0
    );
    let bands = [
        (&shading.nemesis, "#f4a6a6", "nemesis"),
        (&shading.idle, "#cccccc", "no client ops"),
    ];
    for (intervals, color, label) in bands {
        for (s, e) in intervals.iter() {
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"{color}\" fill-opacity=\"0.35\"><title>{label}</title></rect>",
                frame.x(*s),
                (frame.x(*e) - frame.x(*s)).max(1.0),
                HEIGHT - TOP - BOTTOM
            );
        }
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
        "cross" => format!(
            "<path d=\"M{:.1} {:.1}l7 7m0 -7l-7 7\" stroke=\"{color}\" stroke-width=\"1.5\"/>\n",
            x - 3.5,
            y - 3.5
        ),
        "triangle" => format!(
            "<path d=\"M{:.1} {:.1}l4 7h-8z\" fill=\"{color}\"/>\n",
            x,
            y - 4.0
        ),
        _ => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{color}\"/>\n"),
    }
}

/// `s` safe inside SVG/HTML text and quoted attribute values (`& < > " '` as entities).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// ok ●, info ▲, fail ✕.
fn type_marker(t: OpType) -> &'static str {
    match t {
        OpType::Ok => "circle",
        OpType::Info => "triangle",
        _ => "cross",
    }
}

fn fs<'a>(samples: &[Sample<'a>]) -> Vec<&'a str> {
    let mut v: Vec<&str> = samples.iter().map(|s| s.f).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn latency_raw(samples: &[Sample], t_max: f64, shading: &Shading) -> String {
    let frame = Frame::new(t_max, samples.iter().map(|s| s.ms), true);
    let mut out = String::new();
    header(&mut out, "Raw latency", "latency (ms)", &frame, shading);
    let f_list = fs(samples);
    let color = |f: &str| PALETTE[f_list.iter().position(|g| *g == f).unwrap_or(0) % PALETTE.len()];
    let step = samples.len().div_ceil(MAX_POINTS).max(1);
    for s in samples.iter().step_by(step) {
        out.push_str(&marker_svg(
            type_marker(s.kind),
            frame.x(s.t),
            frame.y(s.ms),
            color(s.f),
        ));
    }
    let mut row = 0;
    for f in &f_list {
        for t in [OpType::Ok, OpType::Info, OpType::Fail] {
            if samples.iter().any(|s| s.f == *f && s.kind == t) {
                legend(
                    &mut out,
                    row,
                    color(f),
                    type_marker(t),
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

/// Draws `points` (window index, time, value) as lines, broken wherever windows are missing
/// (no line is drawn across a stretch without data).
fn polyline(
    out: &mut String,
    frame: &Frame,
    points: &[(usize, f64, f64)],
    color: &str,
    dash: usize,
) {
    let mut start = 0;
    while start < points.len() {
        let mut end = start + 1;
        while end < points.len() && points[end].0 == points[end - 1].0 + 1 {
            end += 1;
        }
        if end == start + 1 {
            // A lone window: a dot, since a one-point line draws nothing.
            let (_, t, v) = points[start];
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"/>",
                frame.x(t),
                frame.y(v)
            );
            start = end;
            continue;
        }
        let pts: Vec<String> = points[start..end]
            .iter()
            .map(|(_, t, v)| format!("{:.1},{:.1}", frame.x(*t), frame.y(*v)))
            .collect();
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"{}/>",
            pts.join(" "),
            dash_attr(dash)
        );
        start = end;
    }
}

/// Groups samples into `WINDOWS` equal time windows; yields (window index, mid-time,
/// samples) for the windows that have samples.
fn windows<'s, 'a>(
    samples: &[&'s Sample<'a>],
    t_max: f64,
) -> Vec<(usize, f64, Vec<&'s Sample<'a>>)> {
    let width = (t_max / WINDOWS as f64).max(1e-9);
    let mut buckets: BTreeMap<usize, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        buckets.entry(window_of(s.t, width)).or_default().push(s);
    }
    buckets
        .into_iter()
        .map(|(i, v)| (i, (i as f64 + 0.5) * width, v))
        .collect()
}

fn window_of(t: f64, width: f64) -> usize {
    ((t / width) as usize).min(WINDOWS - 1)
}

const QUANTILES: [f64; 4] = [0.5, 0.95, 0.99, 1.0];

fn latency_quantiles(samples: &[Sample], t_max: f64, shading: &Shading) -> String {
    let frame = Frame::new(t_max, samples.iter().map(|s| s.ms), true);
    let mut out = String::new();
    header(
        &mut out,
        "Latency quantiles",
        "latency (ms)",
        &frame,
        shading,
    );
    let mut row = 0;
    for f in fs(samples) {
        let of_f: Vec<&Sample> = samples.iter().filter(|s| s.f == f).collect();
        let wins = windows(&of_f, t_max);
        for (qi, q) in QUANTILES.into_iter().enumerate() {
            let points: Vec<(usize, f64, f64)> = wins
                .iter()
                .map(|(i, t, v)| {
                    let mut ms: Vec<f64> = v.iter().map(|s| s.ms).collect();
                    ms.sort_by(f64::total_cmp);
                    let idx = ((ms.len() as f64 * q) as usize).min(ms.len() - 1);
                    (*i, *t, ms[idx])
                })
                .collect();
            let color = PALETTE[row % PALETTE.len()];
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

/// One rate line: f, completion type, (window, time, ops/s) points.
type Series = (String, OpType, Vec<(usize, f64, f64)>);

fn rate(samples: &[Sample], t_max: f64, shading: &Shading) -> String {
    let width = (t_max / WINDOWS as f64).max(1e-9);
    let mut active = [false; WINDOWS];
    for s in samples {
        active[window_of(s.t, width)] = true;
    }
    let mut series: Vec<Series> = Vec::new();
    for f in fs(samples) {
        for t in [OpType::Ok, OpType::Info, OpType::Fail] {
            let of: Vec<&Sample> = samples.iter().filter(|s| s.f == f && s.kind == t).collect();
            if of.is_empty() {
                continue;
            }
            let mut counts = [0usize; WINDOWS];
            for s in &of {
                counts[window_of(s.t, width)] += 1;
            }
            // Windows where no op at all was invoked are gaps, not zero rates.
            let pts = (0..WINDOWS)
                .filter(|&i| active[i])
                .map(|i| (i, (i as f64 + 0.5) * width, counts[i] as f64 / width))
                .collect();
            series.push((f.to_string(), t, pts));
        }
    }
    let frame = Frame::new(
        t_max,
        series.iter().flat_map(|s| s.2.iter().map(|p| p.2)),
        false,
    );
    let mut out = String::new();
    header(&mut out, "Throughput", "ops/s", &frame, shading);
    for (row, (f, t, pts)) in series.iter().enumerate() {
        let color = PALETTE[row % PALETTE.len()];
        let dash = if *t == OpType::Ok { 0 } else { 1 };
        polyline(&mut out, &frame, pts, color, dash);
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

/// Stretches of at least two seconds (and 5 % of the run) in which no client op was
/// invoked or completed: the recovery sleep before final reads, or a stalled run.
fn idle_intervals(history: &History, end: f64) -> Vec<(f64, f64)> {
    let min_gap = (end * 0.05).max(2.0);
    let mut out = Vec::new();
    let mut last = 0.0;
    for op in history.client_ops() {
        let t = op.time_ns as f64 / 1e9;
        if t - last >= min_gap {
            out.push((last, t));
        }
        last = last.max(t);
    }
    out
}

/// Writes `latency-raw.svg`, `latency-quantiles.svg` and `rate.svg` into `dir`.
pub fn write_plots(dir: &Path, history: &History) -> std::io::Result<()> {
    let samples = samples(history);
    let end = history.ops.last().map_or(0.0, |op| op.time_ns as f64 / 1e9);
    let t_max = end.max(1e-3);
    let shading = Shading {
        nemesis: nemesis_intervals(history, end),
        idle: idle_intervals(history, end),
    };
    std::fs::write(
        dir.join("latency-raw.svg"),
        latency_raw(&samples, t_max, &shading),
    )?;
    std::fs::write(
        dir.join("latency-quantiles.svg"),
        latency_quantiles(&samples, t_max, &shading),
    )?;
    std::fs::write(dir.join("rate.svg"), rate(&samples, t_max, &shading))
}
