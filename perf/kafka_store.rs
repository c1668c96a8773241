//! Memory of the kafka message store (src/workloads/kafka/store.rs): appends 1M messages
//! over 100 keys and reports the heap bytes per stored message beyond the message's own
//! JSON text (target ≤ 16 for the default store).
//!
//! A global allocator counts live heap bytes; the figure is (live bytes after the appends −
//! live bytes of the empty store − total message bytes) / messages, so it includes every
//! vector's spare capacity and the per-key overhead. Two message mixes: small integers
//! (the workload's own: 1…16) and 100-byte strings.
//!
//! `cargo build --release --example kafka-store && ./target/release/examples/kafka-store`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use glomers::workloads::kafka::store::Store;

struct LiveBytes;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: defers to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: LiveBytes = LiveBytes;

const MESSAGES: usize = 1_000_000;
const KEYS: usize = 100;

/// Appends `MESSAGES` messages written by `message` round-robin over `KEYS` keys; returns
/// (message bytes, heap bytes beyond them per message, the store's own capacity count).
fn measure(message: impl Fn(usize, &mut Vec<u8>)) -> (usize, f64, usize) {
    let names: Vec<String> = (0..KEYS).map(|k| k.to_string()).collect();
    let mut text = Vec::with_capacity(256);
    let before = LIVE.load(Ordering::Relaxed);
    let mut store = Store::default();
    let mut message_bytes = 0;
    for i in 0..MESSAGES {
        let key = store.intern(&names[i % KEYS]).expect("room for the keys");
        text.clear();
        message(i, &mut text);
        message_bytes += text.len();
        let log = store.log_mut(key).expect("interned");
        log.append(&text).expect("room in the log");
    }
    let live = (LIVE.load(Ordering::Relaxed) - before) as usize;
    let overhead = (live - message_bytes) as f64 / MESSAGES as f64;
    let counted = store.log_heap_bytes();
    drop(store);
    (message_bytes, overhead, counted)
}

/// A message mix: its name, and how message `i` is written.
type Mix = (&'static str, fn(usize, &mut Vec<u8>));

fn main() {
    let mixes: [Mix; 2] = [
        ("integers 1..=16 (the workload's messages)", |i, out| {
            out.extend_from_slice((i % 16 + 1).to_string().as_bytes())
        }),
        ("100-byte strings", |i, out| {
            out.push(b'"');
            out.extend_from_slice(format!("{i:098}").as_bytes());
            out.push(b'"');
        }),
    ];
    println!("{MESSAGES} messages over {KEYS} keys:");
    for (name, message) in mixes {
        let (bytes, overhead, counted) = measure(message);
        println!(
            "  {name}: {bytes} message bytes; {overhead:.2} heap bytes per message beyond them \
             (logs' own capacity count: {:.2} per message)",
            (counted - bytes) as f64 / MESSAGES as f64
        );
    }
}
