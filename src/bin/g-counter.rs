//! `g-counter` node (Maelstrom `-w g-counter`, Gossip Glomers challenge 4). Strategy from
//! `GLOMERS_G_COUNTER`: `seq-kv` (default) or `crdt`.

use glomers::workloads::g_counter::{GCounter, GCounterStrategy};

fn main() {
    let strategy = GCounterStrategy::from_env();
    glomers::runtime::main("g-counter", GCounter::new(strategy));
}
