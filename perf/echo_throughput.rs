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
    let ours = release.join("echo");
    let naive = release.join("examples").join("naive-echo");
    for binary in [&ours, &naive].into_iter().chain(&baseline) {
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
    let (mut ours_rates, mut naive_rates) = (Vec::new(), Vec::new());
    let (mut ours_cpu, mut naive_cpu) = (Vec::new(), Vec::new());
    let (mut baseline_rates, mut baseline_cpu) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let (a, a_cpu) = measure(&ours, &input, lines);
        if let Some(baseline) = &baseline {
            let (c, c_cpu) = measure(baseline, &input, lines);
            println!("run {run}: baseline {c:>9.0} msgs/s {c_cpu:>6.0} ns CPU/msg");
            baseline_rates.push(c);
            baseline_cpu.push(c_cpu);
        }
        let (b, b_cpu) = measure(&naive, &input, lines);
        println!(
            "run {run}: glomers {a:>10.0} msgs/s {a_cpu:>6.0} ns CPU/msg   naive serde_json {b:>9.0} msgs/s {b_cpu:>6.0} ns CPU/msg"
        );
        ours_rates.push(a);
        naive_rates.push(b);
        ours_cpu.push(a_cpu);
        naive_cpu.push(b_cpu);
    }
    let (a, b) = (median(&mut ours_rates), median(&mut naive_rates));
    let (a_cpu, b_cpu) = (median(&mut ours_cpu), median(&mut naive_cpu));
    println!(
        "median wall: glomers {a:.0} msgs/s, naive {b:.0} msgs/s, ratio {:.1}x",
        a / b
    );
    println!(
        "median CPU:  glomers {a_cpu:.0} ns/msg, naive {b_cpu:.0} ns/msg, ratio {:.1}x",
        b_cpu / a_cpu
    );
    if let Some(baseline) = &baseline {
        let (c, c_cpu) = (median(&mut baseline_rates), median(&mut baseline_cpu));
        println!(
            "baseline {}: median {c:.0} msgs/s, {c_cpu:.0} ns CPU/msg (glomers: {:.2}x the rate, {:.2}x the CPU)",
            baseline.display(),
            a / c,
            a_cpu / c_cpu
        );
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
/// node process's CPU nanoseconds (user + sys) per message.
fn measure(binary: &std::path::Path, input: &[u8], lines: usize) -> (f64, f64) {
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
    let cpu_seconds = wait_for_cpu_seconds(child.id() as libc::pid_t);
    assert_eq!(
        replies,
        lines + 1,
        "{} answered {replies} of {} lines",
        binary.display(),
        lines + 1
    );
    (lines as f64 / elapsed, cpu_seconds * 1e9 / lines as f64)
}

/// Reaps the child and returns its user + system CPU seconds.
fn wait_for_cpu_seconds(pid: libc::pid_t) -> f64 {
    let mut status = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
