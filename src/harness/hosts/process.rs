//! Real-time [`NodeHost`]: every node is a child process on pipes, like Maelstrom runs it.
//!
//! One reader thread per node turns stdout into [`HostEvent`]s on a bounded channel, so the
//! runner's single thread can wait on "any node said something, or the next deadline"
//! with one `recv_timeout`. Another thread per node appends stderr to
//! `node-logs/<node>.log`. Both keep the last 32 lines for crash reports (MAELSTROM.md §1.1).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use mio::unix::pipe::Sender;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::harness::hosts::{CrashReport, HostEvent, NodeHost, Time};

/// Lines kept per stream for crash reports.
const TAIL_LINES: usize = 32;
/// Bound on node output waiting for the runner (back-pressure on chatty nodes beyond it).
const CHANNEL_BOUND: usize = 1 << 16;
/// Input queued for one node beyond what its pipe takes; past it the node is declared stuck.
const MAX_PENDING: usize = 64 << 20;
/// How soon to retry writing to a full pipe.
const BACKLOG_RETRY: Time = 1_000_000;
/// Longest stdout line accepted from a node, in bytes.
const MAX_LINE: usize = 64 << 20;

type Tail = Arc<Mutex<VecDeque<String>>>;

struct NodeProcess {
    child: Child,
    /// Non-blocking, so one node that stops reading cannot stall the whole harness.
    stdin: Option<Sender>,
    /// Bytes accepted for this node but not yet taken by its pipe (bounded).
    pending: Vec<u8>,
    stdout_tail: Tail,
    stderr_tail: Tail,
}

/// Child processes on pipes plus the wall clock.
pub struct ProcessHost {
    start: Instant,
    nodes: Vec<NodeProcess>,
    events: Receiver<HostEvent>,
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
        let mut nodes = Vec::with_capacity(launch.names.len());
        for (index, name) in launch.names.iter().enumerate() {
            let log_path = launch.log_dir.join(format!("{name}.log"));
            nodes.push(spawn_one(launch, index, name, log_path, sender.clone())?);
        }
        Ok(ProcessHost {
            start: Instant::now(),
            nodes,
            events,
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

fn spawn_one(
    launch: &Launch<'_>,
    index: usize,
    name: &str,
    log_path: PathBuf,
    sender: SyncSender<HostEvent>,
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
    if let Some(stdout) = child.stdout.take() {
        let tail = stdout_tail.clone();
        std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || read_stdout(index, stdout, tail, sender))?;
    }
    if let Some(stderr) = child.stderr.take() {
        let tail = stderr_tail.clone();
        let log = File::create(&log_path)?;
        let label = if launch.log_stderr {
            Some(name.to_string())
        } else {
            None
        };
        std::thread::Builder::new()
            .name(format!("{name}-stderr"))
            .spawn(move || read_stderr(stderr, log, tail, label))?;
    }
    Ok(NodeProcess {
        child,
        stdin,
        pending: Vec::with_capacity(1 << 16),
        stdout_tail,
        stderr_tail,
    })
}

fn push_tail(tail: &Tail, line: &[u8]) {
    let mut tail = tail.lock();
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(String::from_utf8_lossy(line).into_owned());
}

fn read_stdout(node: usize, stdout: impl io::Read, tail: Tail, sender: SyncSender<HostEvent>) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        line.truncate(MAX_LINE);
        push_tail(&tail, &line);
        let event = HostEvent::Line {
            node,
            line: std::mem::take(&mut line),
        };
        if sender.send(event).is_err() {
            return;
        }
    }
    let _ = sender.send(HostEvent::Exited { node });
}

fn read_stderr(stderr: impl io::Read, log: File, tail: Tail, label: Option<String>) {
    let mut reader = BufReader::new(stderr);
    let mut log = BufWriter::new(log);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let _ = log.write_all(&line);
        let _ = log.flush();
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if let Some(name) = &label {
            eprintln!("{name}: {}", String::from_utf8_lossy(&line));
        }
        push_tail(&tail, &line);
    }
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
        if until <= now {
            return self.events.try_recv().ok();
        }
        self.events
            .recv_timeout(Duration::from_nanos(until - now))
            .ok()
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
        // Give the stderr thread a moment to drain the last lines.
        std::thread::sleep(Duration::from_millis(50));
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
        for process in &mut self.nodes {
            process.stdin = None;
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
        crashed
    }
}
