//! The sans-IO node core (being written).
pub mod rng;
