//! What the two transactional checkers (txn-list-append, txn-rw-register) share, Elle's
//! machinery without the data-type specifics:
//!
//! * [`graph`]: a dependency graph over transactions with labelled edges (ww, wr, rw,
//!   realtime), its cyclic components and shortest cycles;
//! * [`ids`]: dense integer ids for keys and values, so per-element state is indexed, not
//!   hashed as text;
//! * [`realtime`]: real-time order as graph edges (for strict-serializable);
//! * [`cycles`]: the prohibited dependency cycles of a model, named as Elle names them;
//! * [`models`]: consistency models — which anomalies each prohibits, and running a check
//!   under every `--consistency-models` entry;
//! * [`Anomalies`]: the anomaly collector both checkers report from.
//!
//! Each checker turns its histories into graph edges (from its own version-order
//! inference) and per-transaction anomalies; everything after that is here.

pub mod cycles;
pub mod graph;
pub mod ids;
pub mod models;
pub mod realtime;

use std::collections::BTreeMap;

use simd_json::OwnedValue;

/// Details shown per anomaly type (the first ones found).
const SHOWN: usize = 8;

/// Anomalies found so far: type → the first `SHOWN` details, in type order.
#[derive(Default)]
pub struct Anomalies(pub BTreeMap<String, Vec<OwnedValue>>);

impl Anomalies {
    /// Records one anomaly of `kind`.
    pub fn add(&mut self, kind: &str, detail: OwnedValue) {
        let list = self.0.entry(kind.to_string()).or_default();
        if list.len() < SHOWN {
            list.push(detail);
        }
    }

    /// Keeps only the anomaly types `model` prohibits (Elle reports nothing else).
    pub fn retain_prohibited(&mut self, model: &str) {
        self.0.retain(|kind, _| models::prohibits(model, kind));
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
