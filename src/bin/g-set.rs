//! `g-set` node (Maelstrom `-w g-set`): a grow-only set gossiped as per-origin logs.

fn main() {
    glomers::runtime::main("g-set", glomers::workloads::GSet::from_env());
}
