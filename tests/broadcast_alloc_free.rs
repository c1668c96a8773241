//! After warm-up, a broadcast hub handling a `broadcast`, a `read` and a gossip batch (with
//! new values, acks, and the batched sends and timers they cause) allocates nothing.
//!
//! A counting global allocator wraps the system one; this file holds one test so that no
//! other test thread allocates while we count. Input lines are written into reused buffers
//! and output is scanned in place, so the test itself does not allocate either.

use std::io::Write;

use glomers::node::NodeCore;
use glomers::workloads::Broadcast;
use glomers::workloads::broadcast::Strategy;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

const INIT: &[u8] = b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}\n";

/// The highest `seq` the hub sent to each of n1 and n2 in `output` (0 if none).
fn last_seqs(output: &[u8], seqs: &mut [u64; 3]) {
    for line in output.split(|&b| b == b'\n') {
        let dest = if contains(line, b"\"dest\":\"n1\"") {
            1
        } else if contains(line, b"\"dest\":\"n2\"") {
            2
        } else {
            continue;
        };
        if let Some(at) = find(line, b"\"seq\":") {
            let digits = &line[at + 6..];
            let seq = digits
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            seqs[dest] = seqs[dest].max(seq);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// One round's input: a broadcast, a read, and gossip from n1 (new values, acking the
/// hub) and n2 (an ack only).
fn write_round(input: &mut Vec<u8>, round: u64, seqs: &[u64; 3]) {
    input.clear();
    let (mine, theirs) = (3 * round, 3 * round + 1);
    let _ = writeln!(
        input,
        r#"{{"src":"c1","dest":"n0","body":{{"type":"broadcast","message":{mine},"msg_id":{round}}}}}"#
    );
    let _ = writeln!(
        input,
        r#"{{"src":"c2","dest":"n0","body":{{"type":"read","msg_id":{round}}}}}"#
    );
    let _ = writeln!(
        input,
        r#"{{"src":"n1","dest":"n0","body":{{"type":"gossip","seq":{},"ack":{},"values":[{theirs},{},{mine}]}}}}"#,
        round + 1,
        seqs[1],
        theirs + 1
    );
    let _ = writeln!(
        input,
        r#"{{"src":"n2","dest":"n0","body":{{"type":"gossip","seq":0,"ack":{},"values":[]}}}}"#,
        seqs[2]
    );
}

#[test]
fn broadcast_read_and_gossip_allocate_nothing_after_warm_up() {
    let strategy = Strategy::parse("default").expect("default parses");
    let mut core = NodeCore::new(Broadcast::new(strategy), 1);
    let mut out = Vec::with_capacity(1 << 20);
    let mut input = Vec::with_capacity(1 << 12);
    let mut seqs = [0u64; 3];
    core.handle_input(0, INIT);
    core.take_output(&mut out);
    let mut step = |core: &mut NodeCore<Broadcast>, round: u64| {
        let now = round * 10;
        write_round(&mut input, round, &seqs);
        core.handle_input(now, &input);
        core.handle_timeout(now);
        core.take_output(&mut out);
        last_seqs(&out, &mut seqs);
    };
    for round in 0..300 {
        step(&mut core, round);
    }
    let before = allocations();
    for round in 300..1300 {
        step(&mut core, round);
    }
    let allocations = allocations() - before;
    let hub = core.workload();
    eprintln!(
        "allocations over 1000 rounds: {allocations}; values known {}",
        hub.values().len()
    );
    assert_eq!(hub.values().len(), 1300 * 3);
    assert!(
        hub.unacknowledged() < 100,
        "acks were not applied: {}",
        hub.unacknowledged()
    );
    assert_eq!(
        allocations, 0,
        "broadcast/read/gossip allocated after warm-up"
    );
}
