//! What the user sees on the terminal: the live progress line on stderr while a test runs,
//! then the results summary and the verdict line on stdout (MAELSTROM.md §7.3).

use std::io::{IsTerminal, Write};

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::edn_write::pretty;
use super::verdict::{exit_code, verdict_line};
use crate::harness::checkers::{Validity, validity_of};
use crate::harness::hosts::{MS, SECOND, Time};

/// ok / fail / info completions so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// ok completions.
    pub ok: u64,
    /// fail completions.
    pub fail: u64,
    /// info completions.
    pub info: u64,
}

/// Refresh period of the progress line.
const PROGRESS_PERIOD: Time = 200 * MS;

/// A one-line status on stderr, redrawn in place; silent unless stderr is a terminal.
pub struct Progress {
    enabled: bool,
    drawn: bool,
    last: Option<Time>,
    limit_s: u64,
}

impl Progress {
    /// A progress line for a test of `limit_s` seconds; `quiet` silences it (sweeps).
    pub fn new(limit_s: u64, quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            drawn: false,
            last: None,
            limit_s,
        }
    }

    /// Redraws the line if a period has passed.
    pub fn tick(&mut self, now: Time, phase: &str, elapsed: Time, counts: Counts, messages: u64) {
        if !self.enabled || self.last.is_some_and(|l| now < l + PROGRESS_PERIOD) {
            return;
        }
        self.last = Some(now);
        self.drawn = true;
        let seconds = elapsed as f64 / SECOND as f64;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{phase:>8} [{seconds:6.1}s/{}s] ok {} fail {} info {} | {} msgs",
            self.limit_s, counts.ok, counts.fail, counts.info, messages
        );
        let _ = err.flush();
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

/// The results map pretty-printed as EDN (and any top-level error), a blank line, then the
/// verdict line.
pub fn console_summary(results: &OwnedValue) -> String {
    let mut out = pretty(results);
    if let OwnedValue::Object(map) = results
        && let Some(error) = map.get("error")
    {
        out.push('\n');
        out.push_str(&pretty(error));
    }
    out.push_str("\n\n");
    for line in super::headline::conduct_lines(results) {
        out.push_str("WARNING: ");
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(extra) = results.get("extra") {
        let lines = crate::harness::checkers::extra::summary_lines(results);
        let counted = results.get("valid?") != Some(&OwnedValue::from(true))
            && extra.get("valid?") == Some(&OwnedValue::from(false));
        match lines.len() {
            0 => out.push_str("Checks beyond Maelstrom's: no findings.\n"),
            n => {
                out.push_str(&format!(
                    "Checks beyond Maelstrom's: {n} failed{}:\n",
                    if counted {
                        ""
                    } else {
                        " (Maelstrom's verdict below stands)"
                    }
                ));
                for line in lines {
                    out.push_str("  ");
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
    }
    let explanations = super::headline::explanation_lines(results);
    if !explanations.is_empty() {
        out.push_str("What went wrong:\n");
        for line in explanations {
            out.push_str("  - ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push_str(verdict_line(validity_of(results)));
    out.push('\n');
    out
}

/// Prints [`console_summary`] on stdout; returns the exit status for `validity`.
pub fn summarize(results: &OwnedValue, validity: Validity) -> i32 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(console_summary(results).as_bytes());
    let _ = out.flush();
    exit_code(validity)
}
