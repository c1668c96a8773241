//! `g-counter` (challenge 4), with three strategies chosen at start-up:
//!
//! * [`GCounterStrategy::SeqKv`] (default, `seq-kv`): the counter lives in Maelstrom's
//!   `seq-kv`, as the challenge asks, one key per node; reads come from a view at most
//!   [`PerNodeConfig::stale_ms`] old ([`per_node`]).
//! * [`GCounterStrategy::SeqKvFresh`] (`seq-kv-fresh`): one seq-kv key holding every
//!   node's total; every read is made fresh first, at about 3.5 messages per op
//!   ([`seq_kv`]).
//! * [`GCounterStrategy::Crdt`] (`crdt`): a state-based CRDT gossiped between nodes, no
//!   service at all ([`crate::workloads::PnCounter`] refusing negative deltas).
//!
//! The binary reads the choice from `GLOMERS_G_COUNTER`, so the harness can compare them
//! on the same command line.

pub mod per_node;
pub mod seq_kv;
pub mod totals;

pub use super::peer_sync::SyncConfig;
pub use per_node::{PerNodeConfig, PerNodeCounter};
pub use seq_kv::{SeqKvConfig, SeqKvCounter};

use super::PnCounter;

/// Environment variable naming the strategy.
pub const STRATEGY_ENV: &str = "GLOMERS_G_COUNTER";

/// How the g-counter keeps its value.
#[derive(Clone, Copy, Debug)]
pub enum GCounterStrategy {
    /// One seq-kv key per node, reads of bounded staleness (see [`per_node`]).
    SeqKv(PerNodeConfig),
    /// Per-node totals in one seq-kv key, every read fresh (see [`seq_kv`]).
    SeqKvFresh(SeqKvConfig),
    /// Per-node counts gossiped between nodes, merged by max.
    Crdt(SyncConfig),
    /// Planted bug `planted-overwrite` (docs/planted-bugs.md): [`GCounterStrategy::Crdt`]
    /// merging by overwriting instead of max.
    #[cfg(feature = "planted-bugs")]
    PlantedOverwrite(SyncConfig),
}

impl GCounterStrategy {
    /// The strategy named by [`STRATEGY_ENV`], as the binary and the simulator read it.
    pub fn from_env() -> Self {
        GCounterStrategy::from_name(std::env::var(STRATEGY_ENV).ok().as_deref())
    }

    /// The strategy named by `value` (the env var's content): `seq-kv` (also when unset
    /// or empty), `seq-kv-fresh` or `crdt`. Anything else is reported on stderr and gives
    /// the default.
    pub fn from_name(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            None | Some("") | Some("seq-kv") => GCounterStrategy::SeqKv(PerNodeConfig::default()),
            Some("seq-kv-fresh") => GCounterStrategy::SeqKvFresh(SeqKvConfig::default()),
            Some("crdt") => GCounterStrategy::Crdt(SyncConfig::default()),
            #[cfg(feature = "planted-bugs")]
            Some("planted-overwrite") => GCounterStrategy::PlantedOverwrite(SyncConfig::default()),
            Some(other) => {
                eprintln!(
                    "g-counter: unknown {STRATEGY_ENV}={other:?} (expected seq-kv, seq-kv-fresh or crdt); using seq-kv"
                );
                GCounterStrategy::SeqKv(PerNodeConfig::default())
            }
        }
    }
}

/// The g-counter node: one of the strategies.
#[derive(Debug)]
pub enum GCounter {
    /// Backed by seq-kv, one key per node.
    SeqKv(PerNodeCounter),
    /// Backed by seq-kv, one key, every read fresh.
    SeqKvFresh(SeqKvCounter),
    /// A gossiped CRDT.
    Crdt(PnCounter),
}

impl GCounter {
    /// The node the `g-counter` binary runs: strategy from `GLOMERS_G_COUNTER`.
    pub fn from_env() -> Self {
        GCounter::new(GCounterStrategy::from_env())
    }

    /// A node using `strategy`.
    pub fn new(strategy: GCounterStrategy) -> Self {
        match strategy {
            GCounterStrategy::SeqKv(config) => GCounter::SeqKv(PerNodeCounter::new(config)),
            GCounterStrategy::SeqKvFresh(config) => GCounter::SeqKvFresh(SeqKvCounter::new(config)),
            GCounterStrategy::Crdt(config) => GCounter::Crdt(PnCounter::grow_only(config)),
            #[cfg(feature = "planted-bugs")]
            GCounterStrategy::PlantedOverwrite(config) => {
                GCounter::Crdt(PnCounter::grow_only(config).planted_overwrite())
            }
        }
    }
}

crate::forward_workload!(
    GCounter,
    GCounterTag {
        SeqKv(PerNodeCounter),
        SeqKvFresh(SeqKvCounter),
        Crdt(PnCounter),
    }
);
