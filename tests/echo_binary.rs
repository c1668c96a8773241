//! End to end: a scripted session piped through the built `echo` and `unique-ids`
//! binaries (the mio runtime on real pipes).

use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// Runs `binary` with `input` on stdin (written from another thread, in pieces);
/// returns (stdout lines, stderr, exit success).
fn pipe_through(binary: &str, input: Vec<u8>) -> (Vec<serde_json::Value>, String, bool) {
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for piece in input.chunks(7777) {
            stdin.write_all(piece).expect("write");
        }
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    writer.join().expect("writer");
    let status = child.wait().expect("wait");
    let lines = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad output line {line:?}: {e}"))
        })
        .collect();
    (lines, stderr, status.success())
}

#[test]
fn scripted_echo_session() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\"],\"msg_id\":1}}\n");
    input.extend_from_slice(b"{\"id\":1,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"Please echo 12\",\"msg_id\":1}}\n");
    input.extend_from_slice(b"{\"id\":2,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"teleport\",\"msg_id\":2}}\n");
    input.extend_from_slice(
        b"{\"id\":3,\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"msg_id\":3,\n",
    );
    input.extend_from_slice(
        b"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":\"",
    );
    input.extend(std::iter::repeat_n(b'z', 9 << 20));
    input.extend_from_slice(b"\",\"msg_id\":4}}\n");
    for i in 5..1005 {
        input.extend_from_slice(format!("{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"echo\",\"echo\":{i},\"msg_id\":{i}}}}}\r\n").as_bytes());
    }
    let (out, stderr, ok) = pipe_through(env!("CARGO_BIN_EXE_echo"), input);
    assert!(ok, "echo exited with failure; stderr: {stderr}");
    assert_eq!(out.len(), 4 + 1000, "{:?}", &out[..out.len().min(6)]);
    assert_eq!(
        out[0]["body"],
        serde_json::json!({"type":"init_ok","in_reply_to":1})
    );
    assert_eq!(
        out[1]["body"],
        serde_json::json!({"type":"echo_ok","in_reply_to":1,"echo":"Please echo 12"})
    );
    assert_eq!(out[2]["body"]["code"], 10);
    assert_eq!(out[2]["body"]["in_reply_to"], 2);
    assert_eq!(out[3]["body"]["code"], 12);
    assert_eq!(out[3]["body"]["in_reply_to"], 3);
    for (i, reply) in out[4..].iter().enumerate() {
        let expect = i as u64 + 5;
        assert_eq!(reply["src"], "n0");
        assert_eq!(reply["dest"], "c1");
        assert_eq!(reply["body"]["echo"], expect);
        assert_eq!(reply["body"]["in_reply_to"], expect);
    }
    assert!(
        stderr.contains("dropped an input line"),
        "giant line not reported: {stderr}"
    );
}

#[test]
fn unique_ids_binary_answers_generate() {
    let mut input = b"{\"src\":\"c0\",\"dest\":\"n2\",\"body\":{\"type\":\"init\",\"node_id\":\"n2\",\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}\n".to_vec();
    for i in 0..100 {
        input.extend_from_slice(format!("{{\"src\":\"c9\",\"dest\":\"n2\",\"body\":{{\"type\":\"generate\",\"msg_id\":{i}}}}}\n").as_bytes());
    }
    let (out, stderr, ok) = pipe_through(env!("CARGO_BIN_EXE_unique-ids"), input);
    assert!(ok, "{stderr}");
    let ids: Vec<u64> = out[1..]
        .iter()
        .map(|r| r["body"]["id"].as_u64().expect("integer id"))
        .collect();
    assert_eq!(ids.len(), 100);
    assert!(ids.iter().all(|id| id % 3 == 2));
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 100);
}
