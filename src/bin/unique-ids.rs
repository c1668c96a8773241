//! `unique-ids` node (Maelstrom `-w unique-ids`, Gossip Glomers challenge 2).
fn main() {
    if let Err(error) = glomers::runtime::run(glomers::workloads::UniqueIds::default()) {
        eprintln!("unique-ids: {error}");
        std::process::exit(1);
    }
}
