//! The set of values a node knows, with its `read_ok` JSON kept ready.
//!
//! Reads are half of all client ops and the set only grows, so the JSON array of every
//! value is appended to as values arrive (`[1,2,3]` → `[1,2,3,4]`) and a read copies it
//! out with one `extend_from_slice` instead of re-formatting thousands of integers.
//!
//! The values are also kept in an append-only log, in arrival order: a peer link whose
//! queue overflowed resyncs by streaming the log from a position ([`super::gossip`]), so
//! it needs no per-value queue.

use ahash::AHashSet;

use crate::wire::writer::write_u64;

/// Values expected in a typical run; both buffers start this large so that steady-state
/// handling does not reallocate.
const EXPECTED_VALUES: usize = 1 << 14;

/// Every value this node knows, in arrival order, plus the cached JSON array.
#[derive(Debug)]
pub struct Values {
    set: AHashSet<u64>,
    /// Always a complete JSON array: `[]` or `[v1,v2,…]`.
    json: Vec<u8>,
    /// Every value in arrival order; only ever appended to.
    log: Vec<u64>,
}

impl Default for Values {
    fn default() -> Self {
        let mut json = Vec::with_capacity(EXPECTED_VALUES * 8);
        json.extend_from_slice(b"[]");
        Values {
            set: AHashSet::with_capacity(EXPECTED_VALUES),
            json,
            log: Vec::with_capacity(EXPECTED_VALUES),
        }
    }
}

impl Values {
    /// Adds `value`; returns true if it was new (and appends it to the JSON).
    pub fn insert(&mut self, value: u64) -> bool {
        if !self.set.insert(value) {
            return false;
        }
        let closing = self.json.pop();
        debug_assert_eq!(closing, Some(b']'));
        if self.json.len() > 1 {
            self.json.push(b',');
        }
        write_u64(&mut self.json, value);
        self.json.push(b']');
        self.log.push(value);
        debug_assert_eq!(self.log.len(), self.set.len());
        true
    }

    /// Whether the node knows `value`.
    pub fn contains(&self, value: u64) -> bool {
        self.set.contains(&value)
    }

    /// Number of values known.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True before the first value.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The JSON array of every value, for `read_ok`.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// Every value, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.log.iter().copied()
    }

    /// Every value in arrival order: position `i` never changes once written.
    pub fn log(&self) -> &[u64] {
        &self.log
    }
}

#[cfg(test)]
mod tests {
    use super::Values;

    #[test]
    fn json_tracks_inserts_and_ignores_duplicates() {
        let mut values = Values::default();
        assert_eq!(values.json(), b"[]");
        assert!(values.insert(7));
        assert!(!values.insert(7));
        assert!(values.insert(12345678901));
        assert_eq!(values.json(), b"[7,12345678901]");
        assert_eq!(values.len(), 2);
        assert_eq!(values.log(), [7, 12345678901]);
        assert!(values.contains(7) && !values.contains(8));
    }
}
