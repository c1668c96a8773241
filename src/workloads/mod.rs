//! One module per Maelstrom workload. Each is a [`crate::node::Workload`]: plain state
//! plus handlers, with any strategy knobs as data.

pub mod broadcast;
pub mod echo;
pub mod g_counter;
pub mod g_set;
pub mod kafka;
pub mod lin_kv;
pub mod list_append;
pub mod peer_sync;
#[cfg(feature = "planted-bugs")]
pub mod planted;
pub mod pn_counter;
pub mod spec;
pub mod timely;
pub mod txn_rw_register;
pub mod unique_ids;

pub use broadcast::Broadcast;
pub use echo::Echo;
pub use g_counter::GCounter;
pub use g_set::GSet;
pub use kafka::Kafka;
pub use lin_kv::LinKv;
pub use list_append::ListAppend;
pub use pn_counter::PnCounter;
pub use txn_rw_register::TxnRwRegister;
pub use unique_ids::UniqueIds;
