//! Where nodes live, seen from the runner: a clock plus a line-oriented transport (lines
//! in; lines, or messages already split into their parts, out).
//!
//! The runner is a discrete-event loop: it asks every component for its next due time and
//! then calls [`NodeHost::poll`] with that time. A real-time host ([`crate::harness::hosts::process`]) waits
//! on child-process output with a timeout; a virtual-time host ([`crate::harness::hosts::sim::SimHost`]:
//! our own nodes in-process, `--sim`) just jumps its clock to `until` when no node has
//! anything to say. Nothing in the runner reads the system clock, so the same loop serves
//! both.

mod output;
pub mod pipe;
pub mod process;
pub mod sim;

use std::fmt;

use simd_json::OwnedValue;

/// Nanoseconds on the host's clock, counted from the host's creation.
pub type Time = u64;

/// Nanoseconds per millisecond.
pub const MS: Time = 1_000_000;
/// Nanoseconds per second.
pub const SECOND: Time = 1_000_000_000;

/// Something a node did.
#[derive(Debug)]
pub enum HostEvent {
    /// The node printed one line to stdout (line terminator removed).
    Line {
        /// Index of the node in the node list.
        node: usize,
        /// The raw bytes.
        line: Vec<u8>,
    },
    /// The node sent a message, already split into its parts (the in-process host: the
    /// node's writer located them, so nothing is re-parsed but the body).
    Transmit {
        /// Index of the node in the node list.
        node: usize,
        /// The envelope's src.
        src: String,
        /// The envelope's dest.
        dest: String,
        /// The body (a JSON object).
        body: OwnedValue,
    },
    /// The node's stdout closed: it exited (or closed stdout, which is as fatal).
    Exited {
        /// Index of the node.
        node: usize,
    },
    /// The node broke the protocol in a way only the host sees (a stdout line over the
    /// host's bound); the run fails with `why`, and the node's output is no longer read.
    Fault {
        /// Index of the node.
        node: usize,
        /// What it did, as "Node nX {why}".
        why: String,
    },
}

/// Why a node is considered crashed, with whatever it printed last (for the report).
#[derive(Debug)]
pub struct CrashReport {
    /// Node index.
    pub node: usize,
    /// "exit status 1", "killed by signal 9", …
    pub status: String,
    /// Last stdout lines (at most 32, each cut to 4 KiB).
    pub stdout_tail: Vec<String>,
    /// Last stderr lines (at most 32, each cut to 4 KiB).
    pub stderr_tail: Vec<String>,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crashed with {}.", self.status)?;
        for (name, tail) in [("STDOUT", &self.stdout_tail), ("STDERR", &self.stderr_tail)] {
            if tail.is_empty() {
                write!(f, "\nNo {name} output.")?;
                continue;
            }
            write!(f, "\nLast {name} lines:")?;
            for line in tail {
                write!(f, "\n  {line}")?;
            }
        }
        writeln!(f)
    }
}

/// The node transport and clock the runner drives.
///
/// Call order per loop turn: `now`, any number of `send_line`, `flush`, then `poll`.
pub trait NodeHost {
    /// The current time.
    fn now(&self) -> Time;
    /// Queues one line (without terminator) for a node's stdin. Errors mean the node is gone.
    fn send_line(&mut self, node: usize, line: &[u8]) -> std::io::Result<()>;
    /// Pushes queued lines out to the nodes.
    fn flush(&mut self) -> std::io::Result<()>;
    /// The next thing a node did, waiting at most until `until`; `None` once `until` passed.
    fn poll(&mut self, until: Time) -> Option<HostEvent>;
    /// Details on a node that exited (status and output tails).
    fn crash_report(&mut self, node: usize) -> CrashReport;
    /// Stops every node. Returns the nodes that had already exited on their own: crashes.
    fn shutdown(&mut self) -> Vec<CrashReport>;
}
