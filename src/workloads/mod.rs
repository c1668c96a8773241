//! One module per Maelstrom workload. Each is a [`crate::node::Workload`]: plain state
//! plus handlers, with any strategy knobs as data.

pub mod echo;
pub mod unique_ids;

pub use echo::Echo;
pub use unique_ids::UniqueIds;
