//! The simulated network and what acts on it: message queues with latency and faults
//! ([`network`]), partitions ([`nemesis`]), the fault knobs Maelstrom lacks ([`faults`]),
//! broadcast topologies ([`topology`]) and the node-facing envelope ([`envelope`]).

pub mod envelope;
pub mod fates;
pub mod faults;
pub mod nemesis;
pub mod network;
pub mod topology;
