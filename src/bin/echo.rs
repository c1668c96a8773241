//! `echo` node (Maelstrom `-w echo`, Gossip Glomers challenge 1).
fn main() {
    if let Err(error) = glomers::runtime::run(glomers::workloads::Echo) {
        eprintln!("echo: {error}");
        std::process::exit(1);
    }
}
