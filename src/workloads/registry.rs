//! Workload name → node, configured exactly as its binary configures it (the same
//! environment variables), for drivers that run nodes in-process (the simulator).

use crate::node::{DynNode, NodeCore};

use super::broadcast::{Broadcast, Strategy};
use super::g_counter::{GCounter, GCounterStrategy};
use super::peer_sync::SyncConfig;
use super::{Echo, GSet, PnCounter, UniqueIds};

/// The workloads [`in_process_node`] knows, for error messages and documentation.
pub const IN_PROCESS_WORKLOADS: [&str; 6] = [
    "echo",
    "unique-ids",
    "broadcast",
    "g-counter",
    "g-set",
    "pn-counter",
];

/// The node for Maelstrom workload `workload` (the `-w` name), seeded with `seed`;
/// `None` for workloads we do not implement.
pub fn in_process_node(workload: &str, seed: u64) -> Option<Box<dyn DynNode>> {
    let node: Box<dyn DynNode> = match workload {
        "echo" => Box::new(NodeCore::new(Echo, seed)),
        "unique-ids" => Box::new(NodeCore::new(UniqueIds::default(), seed)),
        "broadcast" => Box::new(NodeCore::new(Broadcast::new(Strategy::from_env()), seed)),
        "g-counter" => Box::new(NodeCore::new(
            GCounter::new(GCounterStrategy::from_env()),
            seed,
        )),
        "g-set" => Box::new(NodeCore::new(GSet::new(SyncConfig::default()), seed)),
        "pn-counter" => Box::new(NodeCore::new(PnCounter::new(SyncConfig::default()), seed)),
        _ => return None,
    };
    Some(node)
}
