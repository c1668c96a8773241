//! Real-time [`NodeHost`]: every node is a child process on pipes, like Maelstrom runs it.
//!
//! One reader thread per node turns stdout into [`HostEvent`]s on a bounded channel, so the
//! runner's single thread can wait on "any node said something, or the next deadline"
//! with one `recv_timeout`. Another thread per node appends stderr to
//! `node-logs/<node>.log`. Both keep the last 32 lines for crash reports (MAELSTROM.md §1.1).
//! All of it is bounded in bytes, whatever a node writes (`output.rs`).

use std::fs::File;
use std::io::{self, BufReader, Write};

use mio::unix::pipe::Sender;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use crate::harness::hosts::output::{self, Backlog, LineRead, MAX_LINE, Tail};
use crate::harness::hosts::{CrashReport, HostEvent, NodeHost, Time};

/// Bound on node output lines waiting for the runner (back-pressure on chatty nodes beyond
/// it; [`output::QUEUE_BYTES`] bounds their bytes).
const CHANNEL_BOUND: usize = 1 << 16;
/// Input queued for one node beyond what its pipe takes; past it the node is declared stuck.
const MAX_PENDING: usize = 64 << 20;
/// How soon to retry writing to a full pipe.
const BACKLOG_RETRY: Time = 1_000_000;
/// Longest wait for a crashed node's stderr to reach its end (its last lines).
const STDERR_DRAIN: Duration = Duration::from_secs(1);
/// Bytes of a too-long stdout line quoted in the error.
const QUOTED: usize = 200;

struct NodeProcess {
    child: Child,
    /// Non-blocking, so one node that stops reading cannot stall the whole harness.
    stdin: Option<Sender>,
    /// Bytes accepted for this node but not yet taken by its pipe (bounded).
    pending: Vec<u8>,
    stdout_tail: Tail,
    stderr_tail: Tail,
    /// Set once the stderr reader saw the end of the stream.
    stderr_done: Arc<AtomicBool>,
}

/// Child processes on pipes plus the wall clock.
pub struct ProcessHost {
    start: Instant,
    nodes: Vec<NodeProcess>,
    events: Receiver<HostEvent>,
    /// Bytes of the lines in `events`.
    backlog: Arc<Backlog>,
}

/// How to start the nodes.
pub struct Launch<'a> {
    /// Node binary (canonical path).
    pub bin: &'a Path,
    /// Its argv.
    pub args: &'a [String],
    /// Node ids, in order.
    pub names: &'a [String],
    /// Directory for `<node>.log` files.
    pub log_dir: &'a Path,
    /// Also copy node stderr to our stderr (`--log-stderr`).
    pub log_stderr: bool,
}

impl ProcessHost {
    /// Starts every node. Fails if a binary cannot be spawned.
    pub fn spawn(launch: &Launch<'_>) -> io::Result<ProcessHost> {
        let (sender, events) = sync_channel(CHANNEL_BOUND);
        let backlog = Arc::new(Backlog::default());
        let mut nodes = Vec::with_capacity(launch.names.len());
        for (index, name) in launch.names.iter().enumerate() {
            let log_path = launch.log_dir.join(format!("{name}.log"));
            let sink = LineSink {
                node: index,
                sender: sender.clone(),
                backlog: backlog.clone(),
            };
            nodes.push(spawn_one(launch, name, log_path, sink)?);
        }
        Ok(ProcessHost {
            start: Instant::now(),
            nodes,
            events,
            backlog,
        })
    }

    fn report(&mut self, node: usize, status: String) -> CrashReport {
        let (stdout_tail, stderr_tail) = match self.nodes.get(node) {
            Some(process) => (
                process.stdout_tail.lock().iter().cloned().collect(),
                process.stderr_tail.lock().iter().cloned().collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        CrashReport {
            node,
            status,
            stdout_tail,
            stderr_tail,
        }
    }
}

impl Drop for ProcessHost {
    fn drop(&mut self) {
        self.backlog.close();
    }
}

/// Where one node's stdout reader delivers.
struct LineSink {
    node: usize,
    sender: SyncSender<HostEvent>,
    backlog: Arc<Backlog>,
}

fn spawn_one(
    launch: &Launch<'_>,
    name: &str,
    log_path: PathBuf,
    sink: LineSink,
) -> io::Result<NodeProcess> {
    let mut child = Command::new(launch.bin)
        .args(launch.args)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {}: {e}", launch.bin.display()),
            )
        })?;
    let stdin = match child.stdin.take() {
        Some(pipe) => {
            let sender = Sender::from(pipe);
            sender.set_nonblocking(true)?;
            Some(sender)
        }
        None => None,
    };
    let stdout_tail: Tail = Arc::default();
    let stderr_tail: Tail = Arc::default();
    let stderr_done = Arc::new(AtomicBool::new(false));
    if let Some(stdout) = child.stdout.take() {
        let tail = stdout_tail.clone();
        std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || read_stdout(stdout, tail, sink))?;
    }
    if let Some(stderr) = child.stderr.take() {
        let tail = stderr_tail.clone();
        let done = stderr_done.clone();
        let log = File::create(&log_path)?;
        let label = launch.log_stderr.then(|| name.to_string());
        std::thread::Builder::new()
            .name(format!("{name}-stderr"))
            .spawn(move || {
                output::pump_stderr(stderr, log, output::LOG_MAX, &tail, label.as_deref());
                done.store(true, Ordering::Release);
            })?;
    } else {
        stderr_done.store(true, Ordering::Release);
    }
    Ok(NodeProcess {
        child,
        stdin,
        pending: Vec::with_capacity(1 << 16),
        stdout_tail,
        stderr_tail,
        stderr_done,
    })
}

/// Turns a node's stdout into events until it closes, a line is too long, or the host is
/// gone. Holds at most one line of [`MAX_LINE`] bytes besides what waits in the channel.
fn read_stdout(stdout: impl io::Read, tail: Tail, to: LineSink) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    let node = to.node;
    loop {
        match output::read_line(&mut reader, &mut line, MAX_LINE) {
            Ok(LineRead::Line) => {}
            Ok(LineRead::End) | Err(_) => break,
            Ok(LineRead::TooLong) => {
                let quoted = String::from_utf8_lossy(&line[..QUOTED.min(line.len())]);
                let why = format!(
                    "printed a line to STDOUT longer than {MAX_LINE} bytes (the harness's \
                     limit), which the harness stopped reading: {quoted}…"
                );
                let _ = to.sender.send(HostEvent::Fault { node, why });
                return;
            }
        }
        output::push_tail(&tail, &line, 0);
        if !to.backlog.reserve(line.len()) {
            return;
        }
        let event = HostEvent::Line {
            node,
            line: std::mem::take(&mut line),
        };
        if to.sender.send(event).is_err() {
            return;
        }
    }
    let _ = to.sender.send(HostEvent::Exited { node });
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => "an unknown status".to_string(),
    }
}

impl NodeHost for ProcessHost {
    fn now(&self) -> Time {
        self.start.elapsed().as_nanos() as Time
    }

    fn send_line(&mut self, node: usize, line: &[u8]) -> io::Result<()> {
        let process = self
            .nodes
            .get_mut(node)
            .ok_or_else(|| io::Error::other("no such node"))?;
        if process.stdin.is_none() {
            // The pipe broke: the node is gone, and its stdout reader reports the exit.
            return Ok(());
        }
        if process.pending.len() + line.len() > MAX_PENDING {
            return Err(io::Error::other(format!(
                "it stopped reading STDIN ({MAX_PENDING} bytes waiting)"
            )));
        }
        process.pending.extend_from_slice(line);
        process.pending.push(b'\n');
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        for process in self.nodes.iter_mut().filter(|p| !p.pending.is_empty()) {
            let Some(stdin) = process.stdin.as_mut() else {
                process.pending.clear();
                continue;
            };
            let mut written = 0;
            while written < process.pending.len() {
                match stdin.write(&process.pending[written..]) {
                    Ok(0) => break,
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        process.stdin = None;
                        break;
                    }
                }
            }
            process.pending.drain(..written);
        }
        Ok(())
    }

    fn poll(&mut self, until: Time) -> Option<HostEvent> {
        let now = self.now();
        // With input still waiting for a full pipe, come back soon to push it.
        let backlog = self
            .nodes
            .iter()
            .any(|p| !p.pending.is_empty() && p.stdin.is_some());
        let until = if backlog {
            until.min(now + BACKLOG_RETRY)
        } else {
            until
        };
        let event = if until <= now {
            self.events.try_recv().ok()
        } else {
            self.events
                .recv_timeout(Duration::from_nanos(until - now))
                .ok()
        };
        if let Some(HostEvent::Line { line, .. }) = &event {
            self.backlog.release(line.len());
        }
        event
    }

    fn crash_report(&mut self, node: usize) -> CrashReport {
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut status = "an unknown status (stdout closed)".to_string();
        while let Some(process) = self.nodes.get_mut(node) {
            if let Ok(Some(exit)) = process.child.try_wait() {
                status = describe(exit);
                break;
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Let the stderr thread reach the end of the stream: the last lines matter most.
        let deadline = Instant::now() + STDERR_DRAIN;
        while let Some(process) = self.nodes.get(node) {
            if process.stderr_done.load(Ordering::Acquire) || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.report(node, status)
    }

    fn shutdown(&mut self) -> Vec<CrashReport> {
        let mut crashed = Vec::new();
        for node in 0..self.nodes.len() {
            let exited = match self.nodes.get_mut(node) {
                Some(p) => p.child.try_wait().ok().flatten(),
                None => None,
            };
            if let Some(status) = exited {
                crashed.push(self.report(node, describe(status)));
            }
        }
        self.backlog.close();
        for process in &mut self.nodes {
            process.stdin = None;
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
        crashed
    }
}
