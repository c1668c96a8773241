//! `g-counter` node (Maelstrom `-w g-counter`, Gossip Glomers challenge 4). Strategy from
//! `GLOMERS_G_COUNTER`: `seq-kv` (default) or `crdt`.
use glomers::workloads::g_counter::{GCounter, GCounterStrategy, STRATEGY_ENV};

fn main() {
    let name = std::env::var(STRATEGY_ENV).ok();
    let node = GCounter::new(GCounterStrategy::from_name(name.as_deref()));
    if let Err(error) = glomers::runtime::run(node) {
        eprintln!("g-counter: {error}");
        std::process::exit(1);
    }
}
