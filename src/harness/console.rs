//! What the user sees: the live progress line and the final summary (MAELSTROM.md §7.3).

use std::io::{IsTerminal, Write};

use simd_json::OwnedValue;

use crate::harness::checkers::Validity;
use crate::harness::hosts::{MS, SECOND, Time};
use crate::harness::run::Counts;

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

/// Exit status for a validity (MAELSTROM.md §5.5).
pub fn exit_code(validity: Validity) -> i32 {
    match validity {
        Validity::Valid => 0,
        Validity::Invalid => 1,
        Validity::Unknown => 2,
    }
}

/// Prints the results map (EDN, as Maelstrom logs it), any top-level error, a blank line
/// and the verdict line; returns the exit status.
pub fn summarize(results: &OwnedValue, validity: Validity) -> i32 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(crate::harness::results::console_summary(results).as_bytes());
    let _ = out.flush();
    exit_code(validity)
}
