//! `timeline.html`: Jepsen's op timeline. One column per process (the nemesis last), one
//! bar per op from its invocation to its completion, coloured ok / info / fail (an op the
//! test ended before it completed runs to the end, hatched), its invocation and completion
//! on hover. Plain HTML and CSS (maud escapes every value), no script. Past
//! [`TIMELINE_OPS_MAX`] ops the first ones are drawn and the page says how many were not.

use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::files::history_txt_line;
use crate::harness::history::{History, Op, OpType, Process};

/// Most ops drawn: the page stays a few MB and renders in a second.
pub const TIMELINE_OPS_MAX: usize = 20_000;
/// Width of one process column, px.
const COLUMN: f64 = 110.0;
/// Left margin for the time axis, px.
const LEFT: f64 = 70.0;
/// Height of the page's time range, px (bars are at least 12 px, so their label shows).
const TARGET_HEIGHT: f64 = 12_000.0;
/// Longest hover text of one op.
const TITLE_MAX: usize = 1_000;

const STYLE: &str = "body{font-family:sans-serif;font-size:12px;margin:10px}\
    .ops{position:relative}\
    .process{position:absolute;top:0;width:106px;text-align:center;font-weight:bold}\
    .op{position:absolute;width:100px;overflow:hidden;white-space:nowrap;font-size:10px;\
    border-radius:2px;box-sizing:border-box;padding-left:2px;border:1px solid #0004}\
    .ok{background:#8fd18f}.info{background:#f7d07a}.fail{background:#f29a9a}\
    .pending{background:repeating-linear-gradient(45deg,#ddd,#ddd 4px,#fff 4px,#fff 8px)}\
    .tick{position:absolute;left:0;width:60px;text-align:right;color:#666}\
    .rule{position:absolute;left:64px;height:1px;background:#eee}\
    .legend span{display:inline-block;padding:1px 6px;margin-right:6px}";

/// One bar: an invocation and its completion (`None`: the test ended first).
struct Bar<'a> {
    invoke: &'a Op,
    done: Option<&'a Op>,
}

/// Pairs every invocation (clients and nemesis) with its process's next completion. The
/// nemesis writes both halves as `:info` (as Jepsen does), so a nemesis op with none open
/// opens one.
fn bars(history: &History) -> Vec<Bar<'_>> {
    let mut open: ahash::AHashMap<Process, usize> = ahash::AHashMap::new();
    let mut bars: Vec<Bar> = Vec::new();
    for op in &history.ops {
        let opens = op.op_type == OpType::Invoke
            || (op.process == Process::Nemesis && !open.contains_key(&op.process));
        if opens {
            open.insert(op.process, bars.len());
            bars.push(Bar {
                invoke: op,
                done: None,
            });
        } else if let Some(bar) = open.remove(&op.process).and_then(|i| bars.get_mut(i)) {
            bar.done = Some(op);
        }
    }
    bars
}

fn process_name(process: Process) -> String {
    match process {
        Process::Client(n) => n.to_string(),
        Process::Nemesis => "nemesis".to_string(),
    }
}

/// Writes `dir/timeline.html` for `history`.
pub fn write_timeline(dir: &Path, history: &History) -> std::io::Result<()> {
    std::fs::write(dir.join("timeline.html"), timeline(history).into_string())
}

/// The timeline page.
pub fn timeline(history: &History) -> Markup {
    let all = bars(history);
    let drawn = &all[..all.len().min(TIMELINE_OPS_MAX)];
    let mut processes: Vec<Process> = drawn.iter().map(|bar| bar.invoke.process).collect();
    processes.sort_unstable();
    processes.dedup();
    let end_ns = history.ops.last().map_or(0, |op| op.time_ns);
    let px_per_ms = (TARGET_HEIGHT / (end_ns as f64 / 1e6).max(1.0)).clamp(0.02, 2.0);
    let y = |ns: u64| 24.0 + ns as f64 / 1e6 * px_per_ms;
    let column = |p: Process| processes.iter().position(|q| *q == p).unwrap_or(0);
    let height = y(end_ns) + 20.0;
    let width = LEFT + COLUMN * processes.len() as f64;
    let note = if drawn.len() < all.len() {
        format!(
            "Drew the first {} of {} ops; {} left out.",
            drawn.len(),
            all.len(),
            all.len() - drawn.len()
        )
    } else {
        format!("All {} ops.", all.len())
    };
    let tick_ms = nice_tick(80.0 / px_per_ms);
    let ticks = (0..)
        .map(|i| i as f64 * tick_ms)
        .take_while(|ms| *ms * 1e6 <= end_ns as f64);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Timeline" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h3 { "Op timeline" }
                p.legend {
                    (note) " One column per process, one bar per op from invocation to \
                    completion (hover for details): "
                    span.ok { "ok" } span.info { "info" } span.fail { "fail" }
                    span.pending { "not completed" }
                }
                div.ops style=(format!("width:{width:.0}px;height:{height:.0}px")) {
                    @for ms in ticks {
                        div.rule style=(format!("top:{:.1}px;width:{:.0}px", y((ms * 1e6) as u64), width)) {}
                        div.tick style=(format!("top:{:.1}px", y((ms * 1e6) as u64) - 7.0)) {
                            (format!("{:.3} s", ms / 1e3))
                        }
                    }
                    @for process in &processes {
                        div.process style=(format!("left:{:.0}px", LEFT + COLUMN * column(*process) as f64)) {
                            (process_name(*process))
                        }
                    }
                    @for bar in drawn {
                        (bar_markup(bar, &y, LEFT + COLUMN * column(bar.invoke.process) as f64, end_ns))
                    }
                }
            }
        }
    }
}

fn bar_markup(bar: &Bar, y: &dyn Fn(u64) -> f64, left: f64, end_ns: u64) -> Markup {
    let (class, end) = match bar.done {
        Some(done) => (done.op_type.name(), done.time_ns),
        None => ("pending", end_ns),
    };
    let top = y(bar.invoke.time_ns);
    let height = (y(end) - top).max(12.0);
    html! {
        div.op.(class) title=(hover(bar))
            style=(format!("left:{left:.0}px;top:{top:.1}px;height:{height:.1}px")) {
            (bar.invoke.f)
        }
    }
}

/// The hover text: both history lines, and the op's span.
fn hover(bar: &Bar) -> String {
    let line = |op: &Op| history_txt_line(op).replace('\t', " ");
    let start = bar.invoke.time_ns as f64 / 1e9;
    let mut text = format!(
        "process {} — {}\n",
        process_name(bar.invoke.process),
        line(bar.invoke)
    );
    match bar.done {
        Some(done) => {
            let ms = done.time_ns.saturating_sub(bar.invoke.time_ns) as f64 / 1e6;
            text.push_str(&format!("{}\n{start:.3} s, {ms:.3} ms", line(done)));
        }
        None => text.push_str(&format!("not completed\n{start:.3} s")),
    }
    match text.char_indices().nth(TITLE_MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// 1, 2 or 5 × 10^k ms at least `raw` ms.
fn nice_tick(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.max(1e-3).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}
