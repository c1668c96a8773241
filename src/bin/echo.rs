//! `echo` node (Maelstrom `-w echo`, Gossip Glomers challenge 1).

fn main() {
    glomers::runtime::main("echo", glomers::workloads::Echo);
}
