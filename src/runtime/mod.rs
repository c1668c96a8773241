//! The mio reactor: runs a [`NodeCore`] on stdin/stdout with the real clock.
//!
//! One thread, one loop (the shape of mio's `tcp_server` example):
//! 1. poll until stdin is readable, stdout is writable, or the core's next deadline;
//! 2. backpressure: while the core's output is full (its limit,
//!    [`crate::node::core::MAX_PENDING_OUTPUT`], or more waits to be written), read
//!    nothing; once it is not, first let the core handle the input lines it held back;
//! 3. read stdin straight into the core's framer until `WouldBlock`, at most
//!    [`MAX_READ_PER_TURN`] bytes per turn, checking after every read that the output
//!    is not full (the core stops handling lines when it is, so one read's burst of
//!    requests cannot pile up replies past the limit);
//! 4. fire due timers;
//! 5. write all pending output once, keeping any unwritten tail for the next turn.
//!
//! `EINTR` is retried everywhere; spurious wake-ups are harmless. At stdin EOF the loop
//! flushes what is left and returns. Where stdin or stdout is a regular file (epoll cannot
//! watch those), it is simply treated as always ready.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, RawFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::node::{Millis, NodeCore, Workload};

const STDIN: Token = Token(0);
const STDOUT: Token = Token(1);
/// Input taken per loop turn before output is flushed, so replies flow under heavy load.
pub const MAX_READ_PER_TURN: usize = 1 << 20;
/// Requested kernel pipe buffer for stdin and stdout (the default is 64 KiB).
pub const PIPE_BUFFER_BYTES: libc::c_int = 1 << 20;

/// Runs `workload` as a Maelstrom node on stdin/stdout until stdin closes.
pub fn run<W: Workload>(workload: W) -> io::Result<()> {
    let mut core = NodeCore::new(workload, seed_from_environment());
    let mut reactor = Reactor::new()?;
    let result = reactor.run(&mut core);
    reactor.restore();
    result
}

/// A workload binary's whole `main`: runs the node until stdin closes; on an I/O error,
/// reports it on stderr prefixed with `name` and exits with status 1.
pub fn main<W: Workload>(name: &str, workload: W) {
    if let Err(error) = run(workload) {
        eprintln!("{name}: {error}");
        std::process::exit(1);
    }
}

/// A seed that differs between processes and runs (the runtime is not a simulator).
fn seed_from_environment() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

struct Reactor {
    poll: Poll,
    stdin: ManuallyDrop<File>,
    stdout: ManuallyDrop<File>,
    /// False only after a read hit `WouldBlock` (mio is edge-triggered: we must not sleep
    /// while unread input may remain, e.g. after stopping at the per-turn cap).
    stdin_ready: bool,
    stdout_polled: bool,
    stdout_registered: bool,
    saved_flags: [(RawFd, libc::c_int); 2],
    start: Instant,
}

impl Reactor {
    fn new() -> io::Result<Self> {
        let poll = Poll::new()?;
        let saved_flags = [(0, set_nonblocking(0)?), (1, set_nonblocking(1)?)];
        for fd in [0, 1] {
            // Larger pipe buffers mean fewer, larger reads and writes: bigger parse
            // batches and fewer wake-ups. Not a pipe, or not allowed: keep the default.
            // SAFETY: F_SETPIPE_SZ only resizes the kernel buffer of our own pipe.
            unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BUFFER_BYTES) };
        }
        // SAFETY: fds 0 and 1 are open for the life of the process; ManuallyDrop keeps
        // these handles from closing them.
        let (stdin, stdout) = unsafe { (File::from_raw_fd(0), File::from_raw_fd(1)) };
        // A regular file cannot be registered; it never blocks, so `stdin_ready` stays true.
        let _ = poll
            .registry()
            .register(&mut SourceFd(&0), STDIN, Interest::READABLE);
        Ok(Reactor {
            poll,
            stdin: ManuallyDrop::new(stdin),
            stdout: ManuallyDrop::new(stdout),
            stdin_ready: true,
            stdout_polled: true,
            stdout_registered: false,
            saved_flags,
            start: Instant::now(),
        })
    }

    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }

    fn run<W: Workload>(&mut self, core: &mut NodeCore<W>) -> io::Result<()> {
        let mut events = Events::with_capacity(16);
        let mut stdin_open = true;
        loop {
            let timeout = self.poll_timeout(core, stdin_open);
            if let Err(error) = self.poll.poll(&mut events, timeout)
                && error.kind() != ErrorKind::Interrupted
            {
                return Err(error);
            }
            if events.iter().any(|event| event.token() == STDIN) {
                self.stdin_ready = true;
            }
            core.resume_input(self.now());
            if stdin_open && self.stdin_ready && !core.output_full() {
                stdin_open = self.read_input(core)?;
            }
            core.handle_timeout(self.now());
            self.write_output(core)?;
            if !stdin_open && core.output().is_empty() && !core.input_held() {
                return Ok(());
            }
        }
    }

    /// How long to sleep: until the next deadline, or not at all while input is known to
    /// be waiting (in stdin or held by the core) and the output is not full, or an
    /// unpolled (regular-file) stdout has output to take.
    fn poll_timeout<W: Workload>(&self, core: &NodeCore<W>, stdin_open: bool) -> Option<Duration> {
        let waiting = core.input_held() || (stdin_open && self.stdin_ready);
        let busy_stdin = waiting && !core.output_full();
        let busy_stdout = !core.output().is_empty() && !self.stdout_polled;
        if busy_stdin || busy_stdout {
            return Some(Duration::ZERO);
        }
        let deadline = core.next_deadline()?;
        Some(Duration::from_millis(deadline.saturating_sub(self.now())))
    }

    /// Reads until `WouldBlock`, the per-turn cap, or a full output. Returns false at EOF.
    fn read_input<W: Workload>(&mut self, core: &mut NodeCore<W>) -> io::Result<bool> {
        let mut taken = 0;
        while taken < MAX_READ_PER_TURN && !core.output_full() {
            match self.stdin.read(core.input_space()) {
                Ok(0) => return Ok(false),
                Ok(count) => {
                    taken += count;
                    core.handle_read(self.now(), count);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.stdin_ready = false;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Writes pending output until done or `WouldBlock`; watches stdout only while blocked.
    fn write_output<W: Workload>(&mut self, core: &mut NodeCore<W>) -> io::Result<()> {
        while !core.output().is_empty() {
            match self.stdout.write(core.output()) {
                Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "stdout closed")),
                Ok(count) => core.consume_output(count),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let blocked = !core.output().is_empty();
        if blocked != self.stdout_registered && self.stdout_polled {
            let registry = self.poll.registry();
            let result = if blocked {
                registry.register(&mut SourceFd(&1), STDOUT, Interest::WRITABLE)
            } else {
                registry.deregister(&mut SourceFd(&1))
            };
            match result {
                Ok(()) => self.stdout_registered = blocked,
                Err(_) => self.stdout_polled = false, // a regular file: always writable
            }
        }
        Ok(())
    }

    /// Puts back the blocking mode of stdin/stdout (they may be shared with the parent).
    fn restore(&self) {
        for (fd, flags) in self.saved_flags {
            // SAFETY: fcntl on an fd we do not own only changes its status flags.
            unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
        }
    }
}

/// Sets O_NONBLOCK on `fd`, returning the previous flags.
fn set_nonblocking(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL/F_SETFL on a standard descriptor have no memory effects.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}
