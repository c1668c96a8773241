//! Challenge 5a–5c, `kafka`: append-only logs per key with offsets, polls, and committed
//! offsets (MAELSTROM.md §3.11), with two strategies chosen at start-up from
//! `GLOMERS_KAFKA` ([`strategy`]):
//!
//! * [`owner`] (default): each key owned by one node; sends forwarded to the owner in
//!   batches, offsets allocated there, logs replicated to every node in batches so polls
//!   are answered locally. No coordination service, no cas.
//! * [`lin_kv`]: each key's log stored in Maelstrom's lin-kv and appended to by cas, as
//!   the challenge suggests.
//!
//! Both keep messages as raw JSON text in compact per-key tables ([`store`]) and answer
//! polls the same way ([`requests`]): consecutive messages from the requested offset, from
//! a gap-free prefix of the key's log, so no poll ever skips an offset that exists.

pub mod lin_kv;
pub mod owner;
pub mod requests;
pub mod store;
pub mod strategy;

pub use lin_kv::LinKvKafka;
pub use owner::Owner;
pub use strategy::{LinKvConfig, OwnerConfig, Strategy};

/// The kafka node: one of the strategies.
#[derive(Debug)]
pub enum Kafka {
    /// Keys owned by nodes.
    Owner(Owner),
    /// Logs in lin-kv.
    LinKv(LinKvKafka),
}

impl Kafka {
    /// The node the `kafka` binary runs: strategy from `GLOMERS_KAFKA`.
    pub fn from_env() -> Self {
        Kafka::new(Strategy::from_env())
    }

    /// A node following `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        match strategy {
            Strategy::Owner(config) => Kafka::Owner(Owner::new(config)),
            Strategy::LinKv(config) => Kafka::LinKv(LinKvKafka::new(config)),
        }
    }

    /// The message store (logs and committed offsets) this node answers polls from.
    pub fn store(&self) -> &store::Store {
        match self {
            Kafka::Owner(node) => node.store(),
            Kafka::LinKv(node) => node.store(),
        }
    }
}

crate::forward_workload!(Kafka, KafkaTag { Owner(Owner), LinKv(LinKvKafka) });
