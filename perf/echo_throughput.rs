//! Echo throughput: N echo requests through a node process over pipes, stdin to stdout.
//!
//! Runs glomers' release `echo`, the naive serde_json node (perf/naive_echo.rs) and any
//! `--peer NAME=PATH` contestants (e.g. the `maelstrom-node` crate's echo, built by
//! scripts/throughput.sh) side by side, alternating within each of `--runs` rounds, and
//! prints per run the wall-clock rate (msgs/s, spawn to stdout EOF) and the node's own CPU
//! time per message (user + sys of all its threads, from `wait4`, which a busy shared
//! machine disturbs far less), then medians and ratios against glomers. `--peer-env
//! NAME=KEY=VALUE` sets an environment variable for contestant NAME (repeatable; a NAME
//! may also be listed twice under different names to compare settings). With `--markdown
//! PATH` the medians are also written as a markdown table. Usage:
//!
//!     cargo build --release --bin echo --example naive-echo --example echo-throughput
//!     ./target/release/examples/echo-throughput [--lines 1000000] [--runs 5]
//!         [--peer NAME=PATH]... [--peer-env NAME=KEY=VALUE]... [--markdown PATH]

#[path = "measure.rs"]
mod measure;

use measure::{median, thousands, wait_for_cpu_seconds};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A node under test.
struct Contestant {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    rates: Vec<f64>,
    cpu: Vec<f64>,
}

impl Contestant {
    fn new(name: &str, binary: PathBuf) -> Self {
        Contestant {
            name: name.to_string(),
            binary,
            env: Vec::new(),
            rates: Vec::new(),
            cpu: Vec::new(),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let values = |name: &str| -> Vec<&str> {
        let pairs = args.windows(2).filter(|pair| pair[0] == name);
        pairs.map(|pair| pair[1].as_str()).collect()
    };
    let lines = flag("--lines", 1_000_000);
    let runs = flag("--runs", 5);
    let release = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent().map(|d| d.to_path_buf()));
    let release = release.expect("target/release directory");
    let mut contestants = vec![
        Contestant::new("glomers", release.join("echo")),
        Contestant::new(
            "naive serde_json",
            release.join("examples").join("naive-echo"),
        ),
    ];
    for peer in values("--peer") {
        let Some((name, path)) = peer.split_once('=') else {
            exit_usage(&format!("--peer takes NAME=PATH, got {peer:?}"));
        };
        contestants.push(Contestant::new(name, PathBuf::from(path)));
    }
    for setting in values("--peer-env") {
        let parsed = setting
            .split_once('=')
            .and_then(|(name, kv)| Some((name, kv.split_once('=')?)));
        let Some((name, (key, value))) = parsed else {
            exit_usage(&format!("--peer-env takes NAME=KEY=VALUE, got {setting:?}"));
        };
        let Some(contestant) = contestants.iter_mut().find(|c| c.name == name) else {
            exit_usage(&format!("--peer-env names no contestant: {name:?}"));
        };
        contestant.env.push((key.to_string(), value.to_string()));
    }
    for contestant in &contestants {
        if !contestant.binary.exists() {
            exit_usage(&format!(
                "{} missing (glomers and naive: cargo build --release --bin echo --example naive-echo)",
                contestant.binary.display()
            ));
        }
    }
    let input = session(lines);
    println!(
        "echo throughput: {lines} requests ({} MB) per run, {runs} runs each",
        input.len() >> 20
    );
    for run in 1..=runs {
        for contestant in &mut contestants {
            let (rate, cpu) = measure(contestant, &input, lines);
            println!(
                "run {run}: {:<24} {rate:>10.0} msgs/s {cpu:>7.0} ns CPU/msg",
                contestant.name
            );
            contestant.rates.push(rate);
            contestant.cpu.push(cpu);
        }
    }
    let medians: Vec<(f64, f64)> = contestants
        .iter()
        .map(|c| {
            (
                median(c.rates.iter().copied()),
                median(c.cpu.iter().copied()),
            )
        })
        .collect();
    let (ours_rate, ours_cpu) = medians[0];
    let mut table = String::from(
        "| node | msgs/s (median) | ns CPU/msg (median) | CPU min–max | glomers' wall rate ÷ its | its CPU/msg ÷ glomers' |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (contestant, &(rate, cpu)) in contestants.iter().zip(&medians) {
        println!(
            "median {:<24} {rate:>10.0} msgs/s {cpu:>7.0} ns CPU/msg   glomers: {:.1}x wall, {:.1}x CPU",
            contestant.name,
            ours_rate / rate,
            cpu / ours_cpu
        );
        let env: Vec<String> = contestant
            .env
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        let env = if env.is_empty() {
            String::new()
        } else {
            format!(" ({})", env.join(" "))
        };
        let cpu_samples = contestant.cpu.iter().copied();
        let (low, high) = cpu_samples.fold((f64::MAX, 0f64), |(l, h), c| (l.min(c), h.max(c)));
        table.push_str(&format!(
            "| {}{env} | {} | {} | {}–{} | {:.1}× | {:.1}× |\n",
            contestant.name,
            thousands(rate),
            thousands(cpu),
            thousands(low),
            thousands(high),
            ours_rate / rate,
            cpu / ours_cpu
        ));
    }
    if let Some(path) = values("--markdown").first() {
        std::fs::write(path, table).expect("write --markdown file");
    }
}

fn exit_usage(text: &str) -> ! {
    eprintln!("echo-throughput: {text}");
    std::process::exit(2);
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

/// Messages per second through the contestant (time from spawn to its stdout closing),
/// and the node process's CPU nanoseconds (user + sys) per message.
fn measure(contestant: &Contestant, input: &[u8], lines: usize) -> (f64, f64) {
    let start = Instant::now();
    // Reaped by `wait_for_cpu_seconds` (wait4, for its CPU usage), not `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(&contestant.binary)
        .envs(contestant.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buffer = vec![0u8; 1 << 20];
    let mut replies = 0usize;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let _ = stdin.write_all(input);
        });
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => replies += buffer[..n].iter().filter(|&&b| b == b'\n').count(),
            }
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_seconds = wait_for_cpu_seconds(child.id() as libc::pid_t);
    assert_eq!(
        replies,
        lines + 1,
        "{} answered {replies} of {} lines",
        contestant.name,
        lines + 1
    );
    (lines as f64 / elapsed, cpu_seconds * 1e9 / lines as f64)
}
