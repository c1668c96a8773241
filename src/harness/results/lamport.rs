//! `messages.svg`: a Lamport diagram of a run's messages, as Maelstrom draws one. Clients,
//! nodes and services are vertical lines; every journal event (a send or a receive) takes
//! the next row down, so each message is an arrow from its send row to its receive row,
//! labelled with its body type, coloured by kind (client, peer, service, error), its whole
//! envelope shown on hover (`<title>`). Partitions (the nemesis's start to stop) are shaded
//! across the rows they cover. Hand-written SVG, as [`super::plot`].
//!
//! Past [`DiagramWindow::messages`] messages only a window is drawn (`--diagram-from`,
//! `--diagram-messages`), and the diagram, the results (`messages-diagram`) and the console
//! say what was left out.

use std::fmt::Write as _;
use std::path::Path;

use super::causal::{op_spans, read_causal};
use super::journal::{Journal, Message, Window, read_journal};
use super::plot::{escape, nemesis_intervals};
use crate::harness::history::History;
use crate::harness::services::SERVICE_NAMES;

const LEFT: f64 = 80.0;
const TOP: f64 = 90.0;
const COLUMN: f64 = 110.0;
const ROW: f64 = 14.0;
const BOTTOM: f64 = 40.0;
/// Rows between time labels on the left, and between repeats of the participant names.
const LABEL_EVERY: usize = 20;
const NAMES_EVERY: usize = 100;

pub use super::lamport_window::{
    DIAGRAM_MESSAGES_DEFAULT, DIAGRAM_MESSAGES_MAX, DiagramMode, DiagramSummary, DiagramWindow,
};

/// The kind of a message, which gives its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// To or from a client.
    Client,
    /// Between nodes.
    Peer,
    /// To or from a KV service.
    Service,
    /// An `error` body.
    Error,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Client, Kind::Peer, Kind::Service, Kind::Error];

    fn of(message: &Message) -> Kind {
        let ends = [message.src.as_str(), message.dest.as_str()];
        if message.body_type == "error" {
            Kind::Error
        } else if ends.iter().any(|end| is_client(end)) {
            Kind::Client
        } else if ends.iter().any(|end| SERVICE_NAMES.contains(end)) {
            Kind::Service
        } else {
            Kind::Peer
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Peer => "peer",
            Kind::Service => "service",
            Kind::Error => "error",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Kind::Client => "#1f77b4",
            Kind::Peer => "#2ca02c",
            Kind::Service => "#9467bd",
            Kind::Error => "#d62728",
        }
    }
}

/// `c` followed by digits: the harness's client ids.
fn is_client(name: &str) -> bool {
    name.strip_prefix('c')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes `dir/messages.svg` from `journal` (`None`: the run kept none) and the history's
/// partitions; `main_start_ns` is the journal time of history time 0.
pub fn write_messages_svg(
    dir: &Path,
    journal: Option<&Path>,
    history: &History,
    main_start_ns: u64,
    window: DiagramWindow,
) -> std::io::Result<DiagramSummary> {
    let Some(path) = journal.filter(|path| path.is_file()) else {
        std::fs::write(dir.join("messages.svg"), empty_svg())?;
        return Ok(DiagramSummary::NoJournal);
    };
    let from_ns = window.from_s.map(|from| {
        let offset = (from * 1e9) as i128 + i128::from(main_start_ns);
        offset.clamp(0, i128::from(u64::MAX)) as u64
    });
    let read = read_journal(
        path,
        Window {
            from_ns,
            messages: window.messages,
        },
    )?;
    let seconds = |ns: u64| (ns as f64 - main_start_ns as f64) / 1e9;
    let summary = DiagramSummary::Drawn {
        drawn: read.messages.len(),
        total: read.total,
        before: read.before,
        after: read.after,
        first_s: read.messages.first().map_or(0.0, |m| seconds(m.sent_ns)),
        last_s: read.messages.last().map_or(0.0, |m| seconds(m.sent_ns)),
    };
    let partitions: Vec<(u64, u64)> = nemesis_intervals(history, f64::INFINITY)
        .into_iter()
        .map(|(start, end)| (at_ns(main_start_ns, start), at_ns(main_start_ns, end)))
        .collect();
    let note = summary
        .console_line()
        .unwrap_or_else(|| format!("all {} messages", read.total));
    let svg = diagram(&read, &partitions, main_start_ns, &note);
    std::fs::write(dir.join("messages.svg"), svg)?;
    Ok(summary)
}

/// What a causal diagram drew.
#[derive(Clone, Debug, PartialEq)]
pub struct CausalSummary {
    /// Messages drawn.
    pub drawn: usize,
    /// Messages in the journal.
    pub total: u64,
    /// Ops asked for, and those whose request the journal holds.
    pub ops: usize,
    /// Of those, the ones found.
    pub ops_found: usize,
}

impl CausalSummary {
    /// The results entry (`messages-diagram`) when messages.svg is the causal diagram.
    pub fn results_value(&self) -> simd_json::OwnedValue {
        let mut map = simd_json::owned::Object::new();
        map.insert("mode".into(), "causal".into());
        map.insert("drawn".into(), (self.drawn as u64).into());
        map.insert("total".into(), self.total.into());
        simd_json::OwnedValue::Object(Box::new(map))
    }

    /// "causal.svg: the 23 messages (of 5120) on the causal path of the 4 explained ops".
    pub fn console_line(&self, file: &str) -> String {
        let missing = self.ops - self.ops_found;
        format!(
            "{file}: the {} messages (of {}) on the causal path of the {} explained op(s){}",
            self.drawn,
            self.total,
            self.ops,
            if missing > 0 {
                format!(" ({missing} without a request in the journal)")
            } else {
                String::new()
            }
        )
    }
}

/// Writes `dir/file` (`messages.svg` or `causal.svg`): only the messages on the causal path
/// of the client ops holding history indices `ops` ([`super::causal`]). `None` when the run
/// kept no journal.
pub fn write_causal_svg(
    dir: &Path,
    file: &str,
    journal: Option<&Path>,
    history: &History,
    main_start_ns: u64,
    ops: &[u64],
) -> std::io::Result<Option<CausalSummary>> {
    let Some(path) = journal.filter(|path| path.is_file()) else {
        return Ok(None);
    };
    let spans = op_spans(history, ops, main_start_ns);
    let read = read_causal(path, &spans)?;
    let summary = CausalSummary {
        drawn: read.journal.messages.len(),
        total: read.journal.total,
        ops: spans.len(),
        ops_found: read.ops_found,
    };
    let partitions: Vec<(u64, u64)> = nemesis_intervals(history, f64::INFINITY)
        .into_iter()
        .map(|(start, end)| (at_ns(main_start_ns, start), at_ns(main_start_ns, end)))
        .collect();
    let note = summary.console_line(file);
    let svg = diagram(&read.journal, &partitions, main_start_ns, &note);
    std::fs::write(dir.join(file), svg)?;
    Ok(Some(summary))
}

/// Journal time of `seconds` after the main phase's start (saturating; ∞ → the end).
fn at_ns(main_start_ns: u64, seconds: f64) -> u64 {
    let ns = main_start_ns as f64 + seconds * 1e9;
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns.max(0.0) as u64
    }
}

fn empty_svg() -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"60\" \
     font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" \
     fill=\"white\"/>\n<text x=\"10\" y=\"35\">No network journal for this run \
     (--no-journal): no messages to draw.</text>\n</svg>\n"
        .to_string()
}

/// Participants in column order: clients, nodes, services; numbers in names sort as
/// numbers (`n2` before `n10`).
fn participants(messages: &[Message]) -> Vec<String> {
    let mut names: Vec<&str> = messages
        .iter()
        .flat_map(|m| [m.src.as_str(), m.dest.as_str()])
        .collect();
    let group = |name: &str| {
        if is_client(name) {
            0
        } else if SERVICE_NAMES.contains(&name) {
            2
        } else {
            1
        }
    };
    let key = |name: &str| {
        let digits = name.trim_start_matches(|c: char| !c.is_ascii_digit());
        let prefix = &name[..name.len() - digits.len()];
        (
            group(name),
            prefix.to_string(),
            digits.parse::<u64>().unwrap_or(u64::MAX),
            name.to_string(),
        )
    };
    names.sort_by_cached_key(|name| key(name));
    names.dedup();
    names.into_iter().map(String::from).collect()
}

/// Journal time of each event row.
fn event_times(journal: &Journal) -> Vec<u64> {
    journal
        .events
        .iter()
        .map(|event| {
            let message = journal.messages.get(event.message);
            match event.receive {
                None => message.map_or(0, |m| m.sent_ns),
                Some(n) => message
                    .and_then(|m| m.received_ns.get(n).copied())
                    .unwrap_or(0),
            }
        })
        .collect()
}

fn row_y(row: usize) -> f64 {
    TOP + ROW * (row as f64 + 1.0)
}

fn diagram(journal: &Journal, partitions: &[(u64, u64)], main_start_ns: u64, note: &str) -> String {
    let names = participants(&journal.messages);
    let column = |name: &str| names.iter().position(|n| n == name).unwrap_or(0);
    let x = |name: &str| LEFT + COLUMN * (column(name) as f64 + 0.5);
    let rows = journal.events.len();
    let width = (LEFT + COLUMN * names.len() as f64 + 20.0).max(720.0);
    let height = row_y(rows) + BOTTOM;
    let mut out = String::with_capacity(600 * journal.messages.len() + 4096);
    header(&mut out, width, height, note);
    let times = event_times(journal);
    shade_partitions(&mut out, &times, partitions, width);
    time_axis(&mut out, &times, main_start_ns);
    for row in (0..rows.max(1)).step_by(NAMES_EVERY) {
        let y = if row == 0 { TOP - 6.0 } else { row_y(row) };
        for name in &names {
            let _ = writeln!(
                out,
                "<text class=\"participant\" x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" \
                 font-weight=\"bold\" fill=\"{}\">{}</text>",
                x(name),
                if row == 0 { "black" } else { "#999999" },
                escape(name)
            );
        }
    }
    for name in &names {
        let _ = writeln!(
            out,
            "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#bbbbbb\"/>",
            x(name),
            height - BOTTOM
        );
    }
    arrows(&mut out, journal, &x);
    out.push_str("</svg>\n");
    out
}

fn header(out: &mut String, width: f64, height: f64, note: &str) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         font-family=\"sans-serif\" font-size=\"10\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n<text x=\"10\" y=\"20\" font-size=\"14\">Messages (Lamport \
         diagram): one row per send or receive; hover an arrow for its message</text>\n\
         <text x=\"10\" y=\"38\">{}</text>",
        escape(note)
    );
    out.push_str("<defs>\n");
    for kind in Kind::ALL {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            kind.name(),
            kind.color()
        );
    }
    out.push_str("</defs>\n");
    let legend = Kind::ALL
        .iter()
        .map(|kind| (kind.color(), kind.name(), ""))
        .chain([("#999999", "lost / undelivered", " stroke-dasharray=\"4 3\"")])
        .chain([("#f4a6a6", "partition", "")]);
    for (index, (color, label, dash)) in legend.enumerate() {
        let left = 10.0 + 130.0 * index as f64;
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"56\" x2=\"{}\" y2=\"56\" stroke=\"{color}\" \
             stroke-width=\"3\"{dash}/><text x=\"{}\" y=\"60\">{label}</text>",
            left + 24.0,
            left + 30.0
        );
    }
}

/// Shades the rows each partition covers (a thin band when no event fell inside it).
fn shade_partitions(out: &mut String, times: &[u64], partitions: &[(u64, u64)], width: f64) {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return;
    };
    for &(start, end) in partitions {
        if end < first || start > last {
            continue;
        }
        let from = times.partition_point(|&t| t < start);
        let to = times.partition_point(|&t| t < end);
        let top = row_y(from) - ROW / 2.0;
        let height = (ROW * (to - from) as f64).max(3.0);
        let _ = writeln!(
            out,
            "<rect class=\"partition\" x=\"{LEFT}\" y=\"{top:.1}\" width=\"{:.1}\" \
             height=\"{height:.1}\" fill=\"#f4a6a6\" fill-opacity=\"0.35\">\
             <title>partition</title></rect>",
            width - LEFT
        );
    }
}

/// Main-phase seconds every [`LABEL_EVERY`] rows, down the left margin.
fn time_axis(out: &mut String, times: &[u64], main_start_ns: u64) {
    for (row, &time) in times.iter().enumerate().step_by(LABEL_EVERY) {
        let seconds = (time as f64 - main_start_ns as f64) / 1e9;
        let (y, tick) = (row_y(row), LEFT - 6.0);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666666\">{seconds:.3} s</text>\
             <line x1=\"{tick:.1}\" y1=\"{y:.1}\" x2=\"{LEFT}\" y2=\"{y:.1}\" stroke=\"#666666\"/>",
            LEFT - 10.0,
            y + 3.0,
        );
    }
}

/// One `<g class="message">` per message: an arrow per receive (or a dashed stub when it
/// was never received), its body type at the arrow's middle, the envelope as `<title>`.
fn arrows(out: &mut String, journal: &Journal, x: &dyn Fn(&str) -> f64) {
    let mut send_row = vec![0usize; journal.messages.len()];
    let mut receive_rows: Vec<Vec<usize>> = vec![Vec::new(); journal.messages.len()];
    for (row, event) in journal.events.iter().enumerate() {
        match event.receive {
            None => {
                if let Some(slot) = send_row.get_mut(event.message) {
                    *slot = row;
                }
            }
            Some(_) => {
                if let Some(rows) = receive_rows.get_mut(event.message) {
                    rows.push(row);
                }
            }
        }
    }
    for ((message, &sent), received) in journal.messages.iter().zip(&send_row).zip(&receive_rows) {
        let kind = Kind::of(message);
        let (x1, y1) = (x(&message.src), row_y(sent));
        let x_dest = x(&message.dest);
        let _ = write!(
            out,
            "<g class=\"message {}\"><title>{}</title>",
            kind.name(),
            escape(&message.text)
        );
        let lost = received.is_empty();
        let ends: Vec<(f64, f64)> = if lost {
            vec![((x1 + x_dest) / 2.0, y1 + ROW)]
        } else {
            received.iter().map(|&row| (x_dest, row_y(row))).collect()
        };
        for &(x2, y2) in &ends {
            let style = if lost {
                "stroke-dasharray=\"4 3\"".to_string()
            } else {
                format!("marker-end=\"url(#arrow-{})\"", kind.name())
            };
            let _ = write!(
                out,
                "<line class=\"arrow\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" \
                 y2=\"{y2:.1}\" stroke=\"{}\" stroke-width=\"1.2\" {style}/>",
                kind.color()
            );
        }
        if let Some(&(x2, y2)) = ends.first() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{}\" \
                 stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">{}{}</text>",
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 2.0,
                kind.color(),
                escape(&message.body_type),
                if lost { " (undelivered)" } else { "" }
            );
        }
        out.push_str("</g>\n");
    }
}
