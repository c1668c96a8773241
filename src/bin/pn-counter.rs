//! `pn-counter` node (Maelstrom `-w pn-counter`): a gossiped PN-counter CRDT.
use glomers::workloads::PnCounter;
use glomers::workloads::g_counter::SyncConfig;

fn main() {
    if let Err(error) = glomers::runtime::run(PnCounter::new(SyncConfig::default())) {
        eprintln!("pn-counter: {error}");
        std::process::exit(1);
    }
}
