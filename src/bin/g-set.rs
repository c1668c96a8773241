//! `g-set` node (Maelstrom `-w g-set`): a grow-only set gossiped as per-origin logs.

use glomers::workloads::GSet;
use glomers::workloads::peer_sync::SyncConfig;

fn main() {
    glomers::runtime::main("g-set", GSet::new(SyncConfig::default()));
}
