//! `pn-counter` node (Maelstrom `-w pn-counter`): a gossiped PN-counter CRDT.

fn main() {
    glomers::runtime::main("pn-counter", glomers::workloads::PnCounter::from_env());
}
