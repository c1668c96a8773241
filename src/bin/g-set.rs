//! `g-set` node (Maelstrom `-w g-set`): a grow-only set gossiped as per-origin logs.
use glomers::workloads::GSet;
use glomers::workloads::g_counter::SyncConfig;

fn main() {
    if let Err(error) = glomers::runtime::run(GSet::new(SyncConfig::default())) {
        eprintln!("g-set: {error}");
        std::process::exit(1);
    }
}
