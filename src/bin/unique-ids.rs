//! `unique-ids` node (Maelstrom `-w unique-ids`, Gossip Glomers challenge 2).

fn main() {
    glomers::runtime::main("unique-ids", glomers::workloads::UniqueIds::default());
}
