//! Bounded reading of a node's output: whatever a child writes, the harness holds a fixed
//! number of bytes of it.
//!
//! * stdout is read line by line, and a line is cut at [`MAX_LINE`] while it is read (it is
//!   never read whole and then truncated): a longer line ends the run with a clear error.
//! * Lines waiting for the runner are bounded in bytes as well as in count ([`Backlog`]).
//! * stderr is read in [`CHUNK`]-byte pieces: each piece goes to the node log (up to
//!   [`LOG_MAX`] bytes, then the log says it was cut), and is split into lines of which at
//!   most [`KEPT_LINE`] bytes are kept for the console copy and the crash-report tail.
//! * Tails hold [`TAIL_LINES`] lines of at most [`KEPT_LINE`] bytes each (MAELSTROM.md §1.1
//!   keeps 32 lines; a line over the bound ends with how much was cut).

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

/// Longest stdout line accepted from a node, in bytes. A message this size is far beyond any
/// workload's (a broadcast read of 8 million values); a longer line fails the run.
pub const MAX_LINE: usize = 64 << 20;
/// Bytes of stdout lines (all nodes together) that may wait for the runner; readers wait
/// beyond it, as they do when the line channel is full.
pub const QUEUE_BYTES: usize = 128 << 20;
/// Lines kept per stream for crash reports.
pub const TAIL_LINES: usize = 32;
/// Bytes kept of each tail line and of each stderr line copied with `--log-stderr`.
pub const KEPT_LINE: usize = 4 << 10;
/// Most bytes of stderr written to one node log; the rest is read and discarded.
pub const LOG_MAX: u64 = 1 << 30;
/// Size of one stderr read.
const CHUNK: usize = 64 << 10;

/// The last [`TAIL_LINES`] lines of one stream, each cut to [`KEPT_LINE`] bytes.
pub type Tail = Arc<Mutex<VecDeque<String>>>;

/// Adds a line to a tail: its first [`KEPT_LINE`] bytes, plus how many more it had.
pub fn push_tail(tail: &Tail, line: &[u8], cut: usize) {
    let text = kept_text(line, cut);
    let mut tail = tail.lock();
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(text);
}

/// The printable part of a line of which `cut` further bytes were dropped.
fn kept_text(line: &[u8], cut: usize) -> String {
    let kept = line.len().min(KEPT_LINE);
    let cut = cut + (line.len() - kept);
    let mut text = String::from_utf8_lossy(&line[..kept]).into_owned();
    if cut > 0 {
        text.push_str(&format!("… ({cut} more bytes)"));
    }
    text
}

/// How [`read_line`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line (the last one may lack its `\n`).
    Line,
    /// The line is longer than the bound: `line` holds its first `max` bytes, and the rest
    /// is left unread.
    TooLong,
    /// The stream ended.
    End,
}

/// Reads one line into `line` (cleared first; `\n` and trailing `\r` removed), holding at
/// most `max` bytes of it at any time.
pub fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    line.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            // The last line may lack its `\n`.
            return Ok(if line.is_empty() {
                LineRead::End
            } else {
                end_line(line)
            });
        }
        let end = memchr::memchr(b'\n', available);
        let part = &available[..end.unwrap_or(available.len())];
        let room = max - line.len();
        if part.len() > room {
            line.extend_from_slice(&part[..room]);
            return Ok(LineRead::TooLong);
        }
        line.extend_from_slice(part);
        let used = part.len() + usize::from(end.is_some());
        reader.consume(used);
        if end.is_some() {
            return Ok(end_line(line));
        }
    }
}

/// Drops the `\r`s of a `\r\n` ending.
fn end_line(line: &mut Vec<u8>) -> LineRead {
    while line.last() == Some(&b'\r') {
        line.pop();
    }
    LineRead::Line
}

/// Splits a byte stream into lines, keeping at most [`KEPT_LINE`] bytes of each and
/// counting the rest.
#[derive(Default)]
struct LineCutter {
    line: Vec<u8>,
    cut: usize,
}

impl LineCutter {
    /// Takes the next bytes; calls `done(line, cut)` for each line they complete.
    fn feed(&mut self, mut bytes: &[u8], done: &mut impl FnMut(&[u8], usize)) {
        while let Some(end) = memchr::memchr(b'\n', bytes) {
            self.keep(&bytes[..end]);
            self.finish(done);
            bytes = &bytes[end + 1..];
        }
        self.keep(bytes);
    }

    fn keep(&mut self, part: &[u8]) {
        let take = (KEPT_LINE - self.line.len()).min(part.len());
        self.line.extend_from_slice(&part[..take]);
        self.cut += part.len() - take;
    }

    /// Ends the current line (also at end of stream, if anything is pending).
    fn finish(&mut self, done: &mut impl FnMut(&[u8], usize)) {
        while self.cut == 0 && self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        done(&self.line, self.cut);
        self.line.clear();
        self.cut = 0;
    }
}

/// Drains a node's stderr until it closes: every byte goes to `log` until `log_max`, and
/// every line (cut to [`KEPT_LINE`]) to `tail` and, with `label`, to our stderr.
pub fn pump_stderr(
    mut stderr: impl Read,
    mut log: impl Write,
    log_max: u64,
    tail: &Tail,
    label: Option<&str>,
) {
    let mut chunk = vec![0u8; CHUNK];
    let mut logged: u64 = 0;
    let mut lines = LineCutter::default();
    let mut done = |line: &[u8], cut: usize| {
        if let Some(name) = label {
            eprintln!("{name}: {}", kept_text(line, cut));
        }
        push_tail(tail, line, cut);
    };
    loop {
        let count = match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => count,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let bytes = &chunk[..count];
        if logged <= log_max {
            let take = (log_max - logged).min(count as u64) as usize;
            let _ = log.write_all(&bytes[..take]);
            logged += count as u64;
            if logged > log_max {
                let note = format!(
                    "\n[glomers: this log stops at {log_max} bytes; the rest of STDERR was discarded]\n"
                );
                let _ = log.write_all(note.as_bytes());
            }
            let _ = log.flush();
        }
        lines.feed(bytes, &mut done);
    }
    if !lines.line.is_empty() || lines.cut > 0 {
        lines.finish(&mut done);
    }
}

/// Bytes of stdout lines handed to the runner and not yet taken, with a flag that frees
/// waiting readers once the host is gone.
#[derive(Default)]
pub struct Backlog {
    state: Mutex<(usize, bool)>,
    drained: Condvar,
}

impl Backlog {
    /// Waits until `bytes` more fit under [`QUEUE_BYTES`] (a line always fits into an empty
    /// backlog), then counts them. `false` once the host closed: stop reading.
    pub fn reserve(&self, bytes: usize) -> bool {
        let mut state = self.state.lock();
        while state.0 > 0 && state.0 + bytes > QUEUE_BYTES && !state.1 {
            self.drained.wait(&mut state);
        }
        if state.1 {
            return false;
        }
        state.0 += bytes;
        true
    }

    /// The runner took a line of `bytes`.
    pub fn release(&self, bytes: usize) {
        let mut state = self.state.lock();
        debug_assert!(state.0 >= bytes, "backlog released more than reserved");
        state.0 = state.0.saturating_sub(bytes);
        self.drained.notify_all();
    }

    /// The host is gone: wake and stop every reader.
    pub fn close(&self) {
        self.state.lock().1 = true;
        self.drained.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_while_reading() {
        let input = b"short\r\nabcdefghij\nlast";
        let mut reader = io::BufReader::with_capacity(4, &input[..]);
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(line, b"short");
        assert_eq!(
            read_line(&mut reader, &mut line, 8).unwrap(),
            LineRead::TooLong
        );
        assert_eq!(line, b"abcdefgh");
        let mut exact = io::BufReader::new(&b"12345678\nlast\r"[..]);
        assert_eq!(read_line(&mut exact, &mut line, 8).unwrap(), LineRead::Line);
        assert_eq!(read_line(&mut exact, &mut line, 8).unwrap(), LineRead::Line);
        assert_eq!(line, b"last");
        assert_eq!(read_line(&mut exact, &mut line, 8).unwrap(), LineRead::End);
    }

    #[test]
    fn stderr_log_and_tail_are_bounded() {
        let mut input = b"first\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', KEPT_LINE + 100));
        input.extend_from_slice(b"\nend");
        let tail = Tail::default();
        let mut log = Vec::new();
        pump_stderr(&input[..], &mut log, 10, &tail, None);
        let tail: Vec<String> = tail.lock().iter().cloned().collect();
        assert_eq!(tail.len(), 3);
        assert_eq!(tail[0], "first");
        assert!(tail[1].ends_with("… (100 more bytes)"), "{}", tail[1]);
        assert_eq!(tail[1].len(), KEPT_LINE + "… (100 more bytes)".len());
        assert_eq!(tail[2], "end");
        let log = String::from_utf8(log).unwrap();
        assert!(log.starts_with("first\r\nxxx\n[glomers: this log stops at 10 bytes"));
        for (size, max, cut) in [
            (CHUNK * 2, CHUNK, true),
            (CHUNK, CHUNK, false),
            (5, 4, true),
        ] {
            let mut log = Vec::new();
            pump_stderr(
                &vec![b'y'; size][..],
                &mut log,
                max as u64,
                &Tail::default(),
                None,
            );
            let note = b"\n[glomers: this log stops at";
            assert_eq!(log.len() > max, cut, "{size} bytes into a log of {max}");
            assert_eq!(log.get(max..max + note.len()) == Some(&note[..]), cut);
        }
    }

    #[test]
    fn backlog_readers_wait_for_room_and_stop_on_close() {
        let backlog = Arc::new(Backlog::default());
        assert!(backlog.reserve(QUEUE_BYTES));
        let waiting = {
            let backlog = backlog.clone();
            std::thread::spawn(move || backlog.reserve(1))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiting.is_finished());
        backlog.release(QUEUE_BYTES);
        assert!(waiting.join().unwrap());
        backlog.close();
        assert!(!backlog.reserve(QUEUE_BYTES));
    }
}
