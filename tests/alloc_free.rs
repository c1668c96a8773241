//! After warm-up, handling an echo request allocates nothing on the heap.
//!
//! A counting global allocator wraps the system one; this file holds one test so that no
//! other test thread allocates while we count.

use glomers::node::NodeCore;
use glomers::workloads::{Echo, UniqueIds};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

const INIT: &[u8] = b"{\"id\":0,\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\"],\"msg_id\":1}}\n";

/// Allocations made while handling `rounds` batches of `batch` (after the same warm-up).
fn allocations_per_request<W: glomers::node::Workload>(
    core: &mut NodeCore<W>,
    batch: &[u8],
) -> u64 {
    let mut out = Vec::with_capacity(1 << 20);
    core.handle_input(0, INIT);
    for now in 0..200 {
        core.handle_input(now, batch);
        core.take_output(&mut out);
    }
    let before = allocations();
    for now in 200..1200 {
        core.handle_input(now, batch);
        core.handle_timeout(now);
        core.take_output(&mut out);
    }
    allocations() - before
}

#[test]
fn echo_and_generate_allocate_nothing_after_warm_up() {
    let echo: Vec<u8> = (0..50)
        .map(|i| format!("{{\"id\":{i},\"src\":\"c1\",\"dest\":\"n0\",\"body\":{{\"type\":\"echo\",\"echo\":\"Please echo {i}\",\"msg_id\":{i}}}}}\n"))
        .collect::<String>()
        .into_bytes();
    let echo_allocations = allocations_per_request(&mut NodeCore::new(Echo, 1), &echo);
    let generate =
        b"{\"src\":\"c1\",\"dest\":\"n0\",\"body\":{\"type\":\"generate\",\"msg_id\":2}}\n"
            .repeat(50);
    let generate_allocations =
        allocations_per_request(&mut NodeCore::new(UniqueIds::default(), 1), &generate);
    eprintln!(
        "allocations over 50,000 requests: echo {echo_allocations}, generate {generate_allocations}"
    );
    assert_eq!(echo_allocations, 0, "echo allocated after warm-up");
    assert_eq!(generate_allocations, 0, "generate allocated after warm-up");
}
