//! The core's memory bounds on the input side: a partial giant line does not size the
//! per-batch arena, and a burst of requests whose replies are large stops being handled
//! at the output limit, keeping the rest of the burst for later (nothing lost, in order).

use glomers::node::NodeCore;
use glomers::node::core::MAX_LINE;
use glomers::workloads::Echo;
use glomers::workloads::broadcast::{Broadcast, Strategy};

/// A single-node cluster: no peers, so every output line answers a request.
const INIT: &[u8] = b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\"],\"msg_id\":1}}\n";

/// Output lines as JSON.
fn lines(output: &[u8]) -> Vec<serde_json::Value> {
    output
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("output line is JSON"))
        .collect()
}

#[test]
fn a_partial_giant_line_does_not_grow_the_arena() {
    let mut core = NodeCore::new(Echo, 1);
    core.handle_input(0, INIT);
    let start = core.arena_bytes();
    // Just under the line cap, so the framer keeps it; 64 KiB at a time, as reads come.
    let chunk = [b'x'; 64 * 1024];
    for _ in 0..(MAX_LINE - (1 << 20)) / chunk.len() {
        core.handle_input(1, &chunk);
        assert!(
            core.arena_bytes() <= start,
            "arena grew from {start} to {} bytes for a partial line",
            core.arena_bytes()
        );
    }
    let mut out = Vec::new();
    core.take_output(&mut out);
    core.handle_input(
        2,
        b"\n{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\",\"echo\":2,\"msg_id\":3}}\n",
    );
    core.take_output(&mut out);
    let replies = lines(&out);
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["body"]["type"], "echo_ok");
}

/// `count` `read` requests with msg_ids from 1, as one chunk.
fn read_burst(count: u64) -> Vec<u8> {
    (1..=count)
        .flat_map(|id| {
            format!("{{\"src\":\"c2\",\"dest\":\"n0\",\"body\":{{\"type\":\"read\",\"msg_id\":{id}}}}}\n")
                .into_bytes()
        })
        .collect()
}

/// Hands `bytes` to the core the way the runtime does: read into its input space.
fn read_into(core: &mut NodeCore<Broadcast>, now: u64, bytes: &[u8]) {
    let space = core.input_space();
    assert!(space.len() >= bytes.len(), "one read");
    space[..bytes.len()].copy_from_slice(bytes);
    core.handle_read(now, bytes.len());
}

#[test]
fn a_read_burst_stops_at_the_output_limit_and_resumes_without_loss() {
    const VALUES: u64 = 5000;
    const READS: u64 = 300;
    const LIMIT: usize = 256 * 1024;
    let strategy = Strategy::parse("default").expect("default parses");
    let mut core = NodeCore::new(Broadcast::new(strategy), 1).with_output_limit(LIMIT);
    core.handle_input(0, INIT);
    let mut out = Vec::new();
    for v in 0..VALUES {
        let broadcast = format!(
            "{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"broadcast\",\"message\":{v},\"msg_id\":{v}}}}}\n"
        );
        core.handle_input(1, broadcast.as_bytes());
        core.take_output(&mut out);
    }
    assert_eq!(core.workload().values().len() as u64, VALUES);
    // One reply's size: every read_ok carries the same 5000 values.
    core.handle_input(2, &read_burst(1));
    core.take_output(&mut out);
    let reply_len = out.len();
    assert!(reply_len > 20_000, "{reply_len}");
    // 300 reads in one read would buffer ~8 MB of replies; the limit is 256 KiB.
    read_into(&mut core, 3, &read_burst(READS));
    let mut replies = Vec::new();
    for round in 0.. {
        assert!(
            core.output().len() <= LIMIT + reply_len,
            "round {round}: {} bytes buffered, limit {LIMIT} + one reply {reply_len}",
            core.output().len()
        );
        core.take_output(&mut out);
        replies.extend(lines(&out));
        if !core.input_held() {
            break;
        }
        assert!(round < 100, "held input never drains");
        core.resume_input(4);
    }
    let ids: Vec<u64> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply["body"]["type"], "read_ok");
            let messages = reply["body"]["messages"].as_array().map(Vec::len);
            assert_eq!(messages, Some(VALUES as usize));
            reply["body"]["in_reply_to"].as_u64().expect("in_reply_to")
        })
        .collect();
    assert_eq!(ids, (1..=READS).collect::<Vec<_>>(), "every read, in order");
}

/// Early peer messages, `init`, then echo requests mixed with blank lines, `\r\n`, bad
/// JSON (answered or only logged) and one line over the length cap; a partial line last.
fn mixed_input() -> Vec<u8> {
    let mut input = Vec::new();
    let echo = |input: &mut Vec<u8>, src: &str, id: usize, text: &str| {
        input.extend_from_slice(format!("{{\"src\":\"{src}\",\"dest\":\"n0\",\"body\":{{\"type\":\"echo\",\"echo\":\"{text}\",\"msg_id\":{id}}}}}\n").as_bytes());
    };
    echo(&mut input, "n1", 1, "early");
    input.extend_from_slice(INIT);
    for id in 2..150 {
        match id % 6 {
            0 => input.extend_from_slice(b"\r\n  \n"),
            1 => input.extend_from_slice(format!("{{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"echo\",\"msg_id\":{id},\"echo\":}}\n").as_bytes()),
            2 => input.extend_from_slice(b"not json\n"),
            _ => {}
        }
        if id == 9 {
            input.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
            input.push(b'\n');
        }
        echo(&mut input, "c1", id, "a\\\"b\\u00e9");
    }
    input.extend_from_slice(b"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"echo\"");
    input
}

#[test]
fn held_input_gives_the_same_replies_in_the_same_order() {
    let input = mixed_input();
    let mut reference = NodeCore::new(Echo, 1);
    reference.handle_input(0, &input);
    let mut expected = Vec::new();
    reference.take_output(&mut expected);
    assert_eq!(lines(&expected).len(), 1 + 1 + 148 + 148 / 6);
    // A one-byte limit: every line that writes anything holds the lines after it. Fed at
    // once (a batch ends at the too-long line), then in ever-changing reads.
    for chunk_size in [input.len(), 7919] {
        let output = run_held(&input, chunk_size);
        assert_eq!(
            String::from_utf8_lossy(&output),
            String::from_utf8_lossy(&expected)
        );
    }
}

/// Output of an echo node with a one-byte output limit fed `input` in pieces around
/// `chunk_size`, draining its output (and resuming held input) after every piece.
fn run_held(input: &[u8], chunk_size: usize) -> Vec<u8> {
    let mut core = NodeCore::new(Echo, 1).with_output_limit(1);
    let (mut output, mut taken) = (Vec::new(), Vec::new());
    let mut drain = |core: &mut NodeCore<Echo>| {
        for round in 0.. {
            assert!(core.output().len() < 1024, "output over one line's replies");
            core.take_output(&mut taken);
            output.extend_from_slice(&taken);
            if !core.input_held() {
                break;
            }
            assert!(round < 1000, "held input never drains");
            core.resume_input(0);
        }
    };
    for (index, chunk) in input.chunks(chunk_size).enumerate() {
        let split = (index * 31) % chunk.len().max(1);
        for piece in [&chunk[..split], &chunk[split..]] {
            core.handle_input(0, piece);
            drain(&mut core);
        }
    }
    output
}
