//! `pn-counter` node (Maelstrom `-w pn-counter`): a gossiped PN-counter CRDT.

use glomers::workloads::PnCounter;
use glomers::workloads::peer_sync::SyncConfig;

fn main() {
    glomers::runtime::main("pn-counter", PnCounter::new(SyncConfig::default()));
}
