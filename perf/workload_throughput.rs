//! Throughput of every workload binary: a session of client requests and peer messages
//! (perf/load.rs) piped through the release binary as a child process, the way
//! perf/echo_throughput.rs drives `echo`: input written from a thread, stdout read to EOF,
//! the node's CPU (user + sys) from `wait4`.
//!
//! What the node sends other nodes is answered by fake peers (perf/fake_peers.rs) and fed
//! back into its stdin, so acks, syncs and forwards reach a steady state. Raft cases keep
//! at most `window` client requests unanswered (a closed loop, like Maelstrom's clients).
//! Stdin closes only once every client request has its reply (a Raft node answers after
//! its batching window; closing earlier would drop those replies), so the wall time runs
//! from the first load line to the node's exit.
//!
//! Per case and run: input messages per second (every line the node read: the session
//! and the fake peers' answers), CPU ns per input message, output lines per input message
//! and client error replies; then medians over `--runs`, and with `--markdown PATH` one
//! markdown table. Runs go round-robin over the cases so all see the same machine.
//!
//!     cargo build --release --bins --example workload-throughput
//!     ./target/release/examples/workload-throughput [--runs 5] [--messages N]
//!         [--only NAME,NAME] [--markdown PATH]

#[path = "fake_peers.rs"]
mod fake_peers;
#[path = "load.rs"]
mod load;
#[path = "measure.rs"]
mod measure;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use load::{CASES, Case, Session};
use measure::{median, thousands, wait_for_cpu_seconds};

/// Bytes the writer gathers before one `write`.
const WRITE_CHUNK: usize = 64 << 10;
/// Longest wait for the last replies before stdin is closed anyway (the run then fails).
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// One run's figures.
#[derive(Clone, Copy, Debug)]
struct Run {
    rate: f64,
    cpu_ns: f64,
    out_per_in: f64,
    errors: usize,
    messages: usize,
    /// Input lines that were fake peers' answers.
    answers: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let runs: usize = value("--runs").and_then(|v| v.parse().ok()).unwrap_or(5);
    let messages: Option<usize> = value("--messages").and_then(|v| v.parse().ok());
    let only: Option<Vec<&str>> = value("--only").map(|v| v.split(',').collect());
    let release = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
        .expect("target/release directory");
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|case| only.as_ref().is_none_or(|names| names.contains(&case.name)))
        .collect();
    if cases.is_empty() {
        let names: Vec<&str> = CASES.iter().map(|case| case.name).collect();
        eprintln!(
            "workload-throughput: --only takes some of: {}",
            names.join(",")
        );
        std::process::exit(2);
    }
    for case in &cases {
        let binary = release.join(case.binary);
        if !binary.exists() {
            eprintln!("{} missing: cargo build --release --bins", binary.display());
            std::process::exit(2);
        }
    }
    let sessions: Vec<Session> = cases
        .iter()
        .map(|case| load::session(case, messages.unwrap_or(case.messages)))
        .collect();
    println!("workload throughput: {runs} runs per case, round-robin");
    let mut results: Vec<Vec<Run>> = vec![Vec::new(); cases.len()];
    for run in 1..=runs {
        for ((case, session), results) in cases.iter().zip(&sessions).zip(&mut results) {
            let result = measure(&release.join(case.binary), case, session);
            let result = result.unwrap_or_else(|error| {
                eprintln!("workload-throughput: {}: {error}", case.name);
                std::process::exit(1);
            });
            println!(
                "run {run} {:<16} {:>10.0} msgs/s {:>6.0} ns CPU/msg  {:.2} out/in  {} errors  {} of {} inputs from fake peers",
                case.name,
                result.rate,
                result.cpu_ns,
                result.out_per_in,
                result.errors,
                result.answers,
                result.messages
            );
            results.push(result);
        }
    }
    let mut table = String::from(
        "| workload | node | input msgs per run | msgs/s (median) | ns CPU/msg (median) | CPU min–max | output lines per input | error replies |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (case, results) in cases.iter().zip(&mut results) {
        let rate = median(results.iter().map(|r| r.rate));
        let cpu: Vec<f64> = results.iter().map(|r| r.cpu_ns).collect();
        let (low, high) = cpu
            .iter()
            .fold((f64::MAX, 0f64), |(l, h), &c| (l.min(c), h.max(c)));
        let cpu = median(cpu);
        let out = median(results.iter().map(|r| r.out_per_in));
        let errors = results.iter().map(|r| r.errors).max().unwrap_or(0);
        let messages = median(results.iter().map(|r| r.messages as f64));
        println!(
            "median {:<16} {rate:>10.0} msgs/s {cpu:>6.0} ns CPU/msg",
            case.name
        );
        table.push_str(&format!(
            "| {} | {} | {} | **{}** | **{cpu:.0}** | {low:.0}–{high:.0} | {out:.2} | {errors} |\n",
            case.name,
            case.cluster,
            thousands(messages),
            thousands(rate),
        ));
    }
    table.push('\n');
    for case in &cases {
        let env: Vec<String> = case.env.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        let env = if env.is_empty() {
            String::new()
        } else {
            format!(" ({})", env.join(" "))
        };
        table.push_str(&format!("* {}{env}: {}\n", case.name, case.mix));
    }
    if let Some(path) = value("--markdown") {
        std::fs::write(path, &table).expect("write --markdown file");
    } else {
        print!("\n{table}");
    }
}

/// What the reader tells the writer.
#[derive(Default)]
struct Shared {
    /// Client replies seen so far, and error replies (to clients or peers).
    replies: AtomicUsize,
    errors: AtomicUsize,
    /// Fake peers' answers waiting to be written, and how many lines they hold in all.
    answers: Mutex<Vec<u8>>,
    answered: AtomicUsize,
    wake: Condvar,
}

impl Shared {
    /// Waits up to `limit` for the reader to report something.
    fn wait(&self, limit: Duration) {
        let guard = self.answers.lock().expect("lock");
        let _ = self.wake.wait_timeout(guard, limit);
    }

    fn take_answers(&self, into: &mut Vec<u8>) {
        into.append(&mut self.answers.lock().expect("lock"));
    }
}

/// One run of `binary` on `session`.
fn measure(binary: &Path, case: &Case, session: &Session) -> Result<Run, String> {
    // Reaped by `wait_for_cpu_seconds` (wait4, for its CPU usage), not `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(binary)
        .envs(case.env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", binary.display()))?;
    let shared = Shared::default();
    let stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (written, output) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_session(stdin, session, case.window, &shared));
        let output = read_output(&mut stdout, case.peers, &shared);
        (writer.join(), output)
    });
    let cpu_seconds = wait_for_cpu_seconds(child.id() as libc::pid_t);
    let written = written.map_err(|_| "writer thread panicked".to_string())??;
    let expected = written.client_requests;
    if output.replies != expected {
        return Err(format!(
            "{} client replies to {expected} requests",
            output.replies
        ));
    }
    let messages = written.lines;
    Ok(Run {
        rate: messages as f64 / (output.end - written.start).as_secs_f64(),
        cpu_ns: cpu_seconds * 1e9 / messages as f64,
        out_per_in: output.lines as f64 / messages as f64,
        errors: output.errors - written.probe_errors,
        messages,
        answers: written.answers,
    })
}

/// What the node wrote.
struct Output {
    lines: usize,
    replies: usize,
    errors: usize,
    /// When stdout closed.
    end: Instant,
}

/// Reads the node's stdout to EOF: counts lines, client replies and errors, and hands
/// the fake peers' answers (to lines addressed to nodes) to the writer.
fn read_output(stdout: &mut impl Read, peers: &str, shared: &Shared) -> Output {
    let mut buffer = vec![0u8; 1 << 20];
    let mut partial: Vec<u8> = Vec::new();
    let (mut lines, mut replies, mut errors) = (0usize, 0usize, 0usize);
    let mut answers = Vec::new();
    loop {
        let n = match stdout.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buffer[..n];
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            let line = if partial.is_empty() {
                &chunk[..end]
            } else {
                partial.extend_from_slice(&chunk[..end]);
                &partial[..]
            };
            lines += 1;
            if memchr::memmem::find(line, br#""type":"error""#).is_some() {
                errors += 1;
            }
            match destination(line) {
                Some(b'c') => replies += 1,
                Some(b'n') if peers != "none" => {
                    if let Some(answer) = fake_peers::answer(peers, line) {
                        answers.extend_from_slice(&answer);
                    }
                }
                _ => {}
            }
            partial.clear();
            chunk = &chunk[end + 1..];
        }
        partial.extend_from_slice(chunk);
        if !answers.is_empty() {
            let count = answers.iter().filter(|&&b| b == b'\n').count();
            shared.answers.lock().expect("lock").append(&mut answers);
            shared.answered.fetch_add(count, Ordering::Relaxed);
        }
        shared.replies.store(replies, Ordering::Release);
        shared.errors.store(errors, Ordering::Release);
        shared.wake.notify_all();
    }
    Output {
        lines,
        replies,
        errors,
        end: Instant::now(),
    }
}

/// What the writer wrote.
struct Written {
    /// When the load (after any probe) started.
    start: Instant,
    /// Input lines written in all, and client requests among them (probes included).
    lines: usize,
    client_requests: usize,
    /// Probes answered with an error (the node was not ready yet).
    probe_errors: usize,
    /// Fake peers' answers among `lines`.
    answers: usize,
}

/// Writes the session (probe, then load, with the fake peers' answers mixed in), then keeps
/// forwarding answers until every client request is answered, then closes stdin.
fn write_session(
    mut stdin: ChildStdin,
    session: &Session,
    window: Option<usize>,
    shared: &Shared,
) -> Result<Written, String> {
    let io = |e: std::io::Error| format!("writing the node's stdin: {e}");
    let mut lines = session.lines.iter();
    let (first_end, _) = *lines.next().ok_or("empty session")?;
    stdin.write_all(&session.bytes[..first_end]).map_err(io)?;
    let (mut client_requests, mut probe_errors, mut written) = (1usize, 0usize, 1usize);
    if let Some(probe) = &session.probe {
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            stdin.write_all(probe).map_err(io)?;
            client_requests += 1;
            written += 1;
            while shared.replies.load(Ordering::Acquire) < client_requests {
                if Instant::now() > deadline {
                    return Err("the probe was never answered".into());
                }
                shared.wait(Duration::from_millis(10));
            }
            if shared.errors.load(Ordering::Acquire) == probe_errors {
                break;
            }
            probe_errors += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let start = Instant::now();
    let mut buffer: Vec<u8> = Vec::with_capacity(2 * WRITE_CHUNK);
    let mut previous = first_end;
    for &(end, client) in lines {
        buffer.extend_from_slice(&session.bytes[previous..end]);
        previous = end;
        written += 1;
        if client {
            client_requests += 1;
            if let Some(window) = window {
                while client_requests - shared.replies.load(Ordering::Acquire) > window {
                    flush(&mut stdin, &mut buffer, shared).map_err(io)?;
                    shared.wait(Duration::from_millis(1));
                }
            }
        }
        if buffer.len() >= WRITE_CHUNK {
            flush(&mut stdin, &mut buffer, shared).map_err(io)?;
        }
    }
    let deadline = Instant::now() + DRAIN_LIMIT;
    loop {
        flush(&mut stdin, &mut buffer, shared).map_err(io)?;
        if shared.replies.load(Ordering::Acquire) >= client_requests || Instant::now() > deadline {
            break;
        }
        shared.wait(Duration::from_millis(1));
    }
    drop(stdin);
    Ok(Written {
        start,
        lines: written + shared.answered.load(Ordering::Acquire),
        answers: shared.answered.load(Ordering::Acquire),
        client_requests,
        probe_errors,
    })
}

/// Writes `buffer` and any answers waiting, and empties it.
fn flush(stdin: &mut ChildStdin, buffer: &mut Vec<u8>, shared: &Shared) -> std::io::Result<()> {
    shared.take_answers(buffer);
    let result = stdin.write_all(buffer);
    buffer.clear();
    result
}

/// First byte of an output line's `dest` (`c` for a client, `n` for a node).
fn destination(line: &[u8]) -> Option<u8> {
    let head = &line[..line.len().min(64)];
    let at = memchr::memmem::find(head, br#""dest":""#)?;
    head.get(at + 8).copied()
}
