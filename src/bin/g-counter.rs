//! `g-counter` node (Maelstrom `-w g-counter`, Gossip Glomers challenge 4). Strategy from
//! `GLOMERS_G_COUNTER`: `seq-kv` (default), `seq-kv-fresh` or `crdt`.

fn main() {
    glomers::runtime::main("g-counter", glomers::workloads::GCounter::from_env());
}
