//! Each key's log as the history shows it, and Jepsen's indexes over it: the version order
//! the kafka checker judges against (`version-orders` in `jepsen.tests.kafka`).

use std::collections::BTreeMap;

use ahash::AHashMap;
use simd_json::OwnedValue;

use super::{Errors, s};
use crate::harness::checkers::value::{arr, clj_cmp, clj_eq, clj_set_first, identity_key, obj};

/// One key's log as observed: offset → the distinct values seen there, first seen first.
#[derive(Default)]
pub struct Log {
    offsets: BTreeMap<i128, Vec<OwnedValue>>,
}

/// Jepsen's indexes of one log. An *index* is the rank of an offset among the offsets
/// observed (holes in the log do not count).
pub struct Order {
    /// value identity → the first index it appears at (`value->first-index`, used for
    /// lost writes).
    pub first_index: AHashMap<String, usize>,
    /// index → the values whose last appearance is there (`log->last-index->values`).
    pub last_index: Vec<Vec<OwnedValue>>,
    /// value identity → its index in Jepsen's `:by-value` order (used for skips and
    /// nonmonotonic polls and sends): each offset contributes only the value Clojure's
    /// `first` takes from its set, and a value at several offsets keeps the last one.
    pub by_value: AHashMap<String, usize>,
}

impl Log {
    /// Records `value` at `offset`.
    pub fn push(&mut self, offset: i128, value: &OwnedValue) {
        let values = self.offsets.entry(offset).or_default();
        if !values.iter().any(|w| clj_eq(w, value)) {
            values.push(value.clone());
        }
    }

    /// Jepsen's indexes over this log.
    pub fn order(&self) -> Order {
        let mut order = Order {
            first_index: AHashMap::new(),
            last_index: vec![Vec::new(); self.offsets.len()],
            by_value: AHashMap::new(),
        };
        let mut last: AHashMap<String, (usize, &OwnedValue)> = AHashMap::new();
        for (index, values) in self.offsets.values().enumerate() {
            for v in values {
                order.first_index.entry(identity_key(v)).or_insert(index);
                last.insert(identity_key(v), (index, v));
            }
            if let Some(first) = clj_set_first(values) {
                order.by_value.insert(identity_key(first), index);
            }
        }
        // By index, then in a fixed order (the map's order varies from run to run).
        let mut last: Vec<(usize, String, &OwnedValue)> = last
            .into_iter()
            .map(|(id, (index, v))| (index, id, v))
            .collect();
        last.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (index, _, v) in last {
            order.last_index[index].push(v.clone());
        }
        order
    }
}

/// inconsistent-offsets (several values at one offset) and duplicate (one value at several
/// offsets), with Jepsen's fields.
pub fn version_errors(logs: &BTreeMap<String, Log>, errors: &mut Errors) {
    for (k, log) in logs {
        let mut at: BTreeMap<String, (OwnedValue, Vec<i128>)> = BTreeMap::new();
        for (index, (offset, values)) in log.offsets.iter().enumerate() {
            if values.len() > 1 {
                let mut sorted = values.clone();
                sorted.sort_by(|a, b| clj_cmp(a, b).unwrap_or(std::cmp::Ordering::Equal));
                errors.add(
                    "inconsistent-offsets",
                    obj([
                        ("key", s(k)),
                        ("offset", OwnedValue::from(*offset as i64)),
                        ("index", OwnedValue::from(index)),
                        ("values", arr(sorted)),
                    ]),
                );
            }
            for v in values {
                let slot = at
                    .entry(identity_key(v))
                    .or_insert_with(|| (v.clone(), Vec::new()));
                slot.1.push(*offset);
            }
        }
        for (v, offsets) in at.into_values().filter(|(_, o)| o.len() > 1) {
            let count = offsets.len();
            let offsets = arr(offsets
                .iter()
                .map(|o| OwnedValue::from(*o as i64))
                .collect());
            errors.add(
                "duplicate",
                obj([
                    ("key", s(k)),
                    ("value", v),
                    ("count", OwnedValue::from(count)),
                    ("offsets", offsets),
                ]),
            );
        }
    }
}
