//! `broadcast` node (Maelstrom `-w broadcast`, Gossip Glomers 3a–3e); strategy from the
//! `GLOMERS_BROADCAST` environment variable (see `glomers::workloads::broadcast::strategy`).

fn main() {
    glomers::runtime::main("broadcast", glomers::workloads::Broadcast::from_env());
}
