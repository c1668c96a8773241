//! Echo throughput: N echo requests through a node process over pipes, stdin to stdout.
//!
//! Runs glomers' release `echo` and the naive serde_json node (perf/naive_echo.rs) side by
//! side, alternating, `--runs` times each, and prints per run the wall-clock rate (msgs/s,
//! spawn to stdout EOF) and the node's own CPU time per message (user + sys from `wait4`,
//! which a busy shared machine disturbs far less), then medians and ratios. With
//! `--baseline PATH`, a third binary (e.g. a copy of an older `echo`) runs in the same
//! rotation, so that a change is measured side by side with what it replaces. Usage:
//!
//!     cargo build --release --bin echo --example naive-echo --example echo-throughput
//!     ./target/release/examples/echo-throughput [--lines 1000000] [--runs 5] [--baseline PATH]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let lines = flag("--lines", 1_000_000);
    let runs = flag("--runs", 5);
    let baseline = args
        .iter()
        .position(|a| a == "--baseline")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let release = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent().map(|d| d.to_path_buf()));
    let release = release.expect("target/release directory");
    let ours_binary = release.join("echo");
    let naive_binary = release.join("examples").join("naive-echo");
    for binary in [&ours_binary, &naive_binary].into_iter().chain(&baseline) {
        assert!(
            binary.exists(),
            "{} missing: cargo build --release --bin echo --example naive-echo",
            binary.display()
        );
    }
    let input = session(lines);
    println!(
        "echo throughput: {lines} requests ({} MB) per run, {runs} runs each",
        input.len() >> 20
    );
    let (mut ours, mut naive) = (Series::default(), Series::default());
    let mut old = Series::default();
    for run in 1..=runs {
        let a = measure(&ours_binary, &input, lines);
        if let Some(baseline) = &baseline {
            let c = measure(baseline, &input, lines);
            println!("run {run}: baseline {}", c.describe());
            old.push(c);
        }
        let b = measure(&naive_binary, &input, lines);
        println!(
            "run {run}: glomers {}   naive serde_json {}",
            a.describe(),
            b.describe()
        );
        ours.push(a);
        naive.push(b);
    }
    let (a, b) = (ours.median(), naive.median());
    println!(
        "median wall: glomers {:.0} msgs/s, naive {:.0} msgs/s, ratio {:.1}x",
        a.rate,
        b.rate,
        a.rate / b.rate
    );
    println!(
        "median CPU:  glomers {:.0} ns/msg (user {:.0}, sys {:.0}), naive {:.0} ns/msg, ratio {:.1}x",
        a.cpu_ns(),
        a.user_ns,
        a.sys_ns,
        b.cpu_ns(),
        b.cpu_ns() / a.cpu_ns()
    );
    if let Some(baseline) = &baseline {
        let c = old.median();
        println!(
            "baseline {}: median {:.0} msgs/s, {:.0} ns CPU/msg (user {:.0}, sys {:.0}); glomers: {:.2}x the rate, {:.2}x the CPU",
            baseline.display(),
            c.rate,
            c.cpu_ns(),
            c.user_ns,
            c.sys_ns,
            a.rate / c.rate,
            a.cpu_ns() / c.cpu_ns()
        );
    }
}

/// One run of one binary.
#[derive(Clone, Copy)]
struct Sample {
    /// Messages per second, spawn to stdout EOF.
    rate: f64,
    /// The node's user and system CPU nanoseconds per message.
    user_ns: f64,
    sys_ns: f64,
}

impl Sample {
    fn cpu_ns(&self) -> f64 {
        self.user_ns + self.sys_ns
    }

    fn describe(&self) -> String {
        format!(
            "{:>10.0} msgs/s {:>6.0} ns CPU/msg",
            self.rate,
            self.cpu_ns()
        )
    }
}

/// The runs of one binary; medians taken field by field.
#[derive(Default)]
struct Series(Vec<Sample>);

impl Series {
    fn push(&mut self, sample: Sample) {
        self.0.push(sample);
    }

    /// Median rate, median CPU (user + sys), and user and sys in the proportion of the
    /// run with the median CPU.
    fn median(&self) -> Sample {
        let mut by_cpu = self.0.clone();
        by_cpu.sort_by(|a, b| a.cpu_ns().total_cmp(&b.cpu_ns()));
        let mut rates: Vec<f64> = self.0.iter().map(|s| s.rate).collect();
        rates.sort_by(f64::total_cmp);
        Sample {
            rate: rates[rates.len() / 2],
            ..by_cpu[by_cpu.len() / 2]
        }
    }
}

fn session(lines: usize) -> Vec<u8> {
    let mut input = Vec::with_capacity(lines * 96);
    input.extend_from_slice(b"{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\"],\"msg_id\":1}}\n");
    for i in 0..lines {
        let line = format!(
            "{{\"id\":{i},\"src\":\"c{}\",\"dest\":\"n0\",\"body\":{{\"echo\":\"Please echo {}\",\"type\":\"echo\",\"msg_id\":{i}}}}}\n",
            i % 25,
            i % 128
        );
        input.extend_from_slice(line.as_bytes());
    }
    input
}

/// Messages per second through `binary` (time from spawn to its stdout closing), and the
/// node process's CPU nanoseconds (user, sys) per message.
fn measure(binary: &std::path::Path, input: &[u8], lines: usize) -> Sample {
    let start = Instant::now();
    // Reaped by `wait_for_cpu_seconds` (wait4, for its CPU usage), not `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buffer = vec![0u8; 1 << 20];
    let mut replies = 0usize;
    loop {
        match stdout.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => replies += buffer[..n].iter().filter(|&&b| b == b'\n').count(),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let _ = writer.join();
    let (user_seconds, sys_seconds) = wait_for_cpu_seconds(child.id() as libc::pid_t);
    assert_eq!(
        replies,
        lines + 1,
        "{} answered {replies} of {} lines",
        binary.display(),
        lines + 1
    );
    Sample {
        rate: lines as f64 / elapsed,
        user_ns: user_seconds * 1e9 / lines as f64,
        sys_ns: sys_seconds * 1e9 / lines as f64,
    }
}

/// Reaps the child and returns its user and system CPU seconds.
fn wait_for_cpu_seconds(pid: libc::pid_t) -> (f64, f64) {
    let mut status = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}
