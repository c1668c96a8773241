//! The mio runtime under output backpressure: a `broadcast` binary gets a burst of `read`
//! requests whose replies (~135 MB) exceed the node's output limit while nobody reads its
//! stdout. The node must stop at the limit (its peak memory shows it), hold the rest of the
//! burst, then resume it as stdout drains and before it exits at stdin EOF: every read
//! answered, in order.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use glomers::node::core::MAX_PENDING_OUTPUT;

const VALUES: u64 = 20_000;

/// Output lines of the node: one per request, the reads last.
fn input(reads: u64) -> Vec<u8> {
    let mut input = b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\"],\"msg_id\":1}}\n".to_vec();
    for v in 0..VALUES {
        input.extend_from_slice(format!("{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"broadcast\",\"message\":{v},\"msg_id\":{v}}}}}\n").as_bytes());
    }
    for id in 1..=reads {
        input.extend_from_slice(
            format!("{{\"src\":\"c2\",\"dest\":\"n0\",\"body\":{{\"type\":\"read\",\"msg_id\":{id}}}}}\n")
                .as_bytes(),
        );
    }
    input
}

#[test]
fn a_read_burst_past_the_output_limit_is_answered_in_full_after_a_stall() {
    // Each read_ok lists 20,000 values (~110 KB): replies for twice the limit.
    let reply_len = 6 * VALUES as usize;
    let reads = 2 * MAX_PENDING_OUTPUT / reply_len;
    let mut child = Command::new(env!("CARGO_BIN_EXE_broadcast"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input(reads as u64);
    let writer = std::thread::spawn(move || stdin.write_all(&input).expect("write"));
    // Nobody reads for a while: the node's output fills up to its limit.
    std::thread::sleep(Duration::from_millis(1500));
    if let Some(peak) = peak_memory(child.id()) {
        // The output buffer, the values, the input buffer and the program itself.
        let bound = MAX_PENDING_OUTPUT + (16 << 20);
        assert!(peak < bound, "node peaked at {peak} bytes (bound {bound})");
    }
    let mut stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut output = Vec::new();
        let read = stdout.read_to_end(&mut output).map(|_| output);
        let _ = sender.send(read);
    });
    let Ok(read) = receiver.recv_timeout(Duration::from_secs(60)) else {
        let _ = child.kill();
        panic!("the node stalled: its output did not end within 60 s");
    };
    let output = read.expect("read stdout");
    writer.join().expect("writer");
    assert!(child.wait().expect("wait").success());
    let lines: Vec<&[u8]> = output
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1 + VALUES as usize + reads,
        "one reply per request"
    );
    for (index, line) in lines[1 + VALUES as usize..].iter().enumerate() {
        let head = format!(
            "{{\"src\":\"n0\",\"dest\":\"c2\",\"body\":{{\"type\":\"read_ok\",\"in_reply_to\":{},",
            index + 1
        );
        assert!(
            line.starts_with(head.as_bytes()) && line.len() > reply_len / 2,
            "read {}: {}",
            index + 1,
            String::from_utf8_lossy(&line[..line.len().min(120)])
        );
    }
}

/// The process's peak resident memory (`VmHWM`), where /proc tells it.
fn peak_memory(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}
