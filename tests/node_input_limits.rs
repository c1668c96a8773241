//! The core's memory bounds on the input side: a partial giant line does not size the
//! per-batch arena.

use glomers::node::NodeCore;
use glomers::node::core::MAX_LINE;
use glomers::workloads::Echo;

/// A single-node cluster.
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
