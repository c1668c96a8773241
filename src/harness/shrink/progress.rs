//! The shrink's progress on stderr: on a terminal one line redrawn in place (a bar of the
//! time budget, runs so far, the stage, the original and current size); elsewhere (CI
//! logs, pipes) a line each time the smallest run gets smaller, at most every few runs.

use std::io::{IsTerminal, Write};

use super::search::Status;

const WIDTH: usize = 24;

/// The progress display.
pub struct Bar {
    budget: f64,
    terminal: bool,
    drawn: bool,
    last_weight: Option<u64>,
}

impl Bar {
    /// A bar over a budget of `budget` seconds.
    pub fn new(budget: f64) -> Bar {
        Bar {
            budget,
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
            last_weight: None,
        }
    }

    /// Shows one try's status.
    pub fn show(&mut self, status: &Status) {
        let line = render(status, self.budget);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            self.drawn = true;
        } else if self.last_weight != Some(status.current.weight()) {
            let _ = writeln!(err, "{line}");
        }
        self.last_weight = Some(status.current.weight());
        let _ = err.flush();
    }

    /// Ends the redrawn line.
    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}

/// `[#########---------------]  41 s · run 57 · fine: ops · 5012 ops 48113 msgs → 23 ops 88 msgs`
pub fn render(status: &Status, budget: f64) -> String {
    let filled = ((status.elapsed / budget).clamp(0.0, 1.0) * WIDTH as f64).round() as usize;
    format!(
        "[{}{}] {:>4.0} s · run {} · {} · {} ops {} msgs → {} ops {} msgs",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        status.elapsed,
        status.tries,
        status.stage,
        status.original.ops,
        status.original.messages,
        status.current.ops,
        status.current.messages
    )
}
