//! `lin-kv` node (Maelstrom `-w lin-kv`, the Raft chapters): a Raft-replicated
//! linearizable key-value store (see `glomers::workloads::lin_kv`).

fn main() {
    glomers::runtime::main("lin-kv", glomers::workloads::LinKv::from_env());
}
