//! Each key's log as the history shows it, and Jepsen's indexes over it: the version order
//! the kafka checker judges against (`version-orders` in `jepsen.tests.kafka`).

use ahash::AHashMap;
use simd_json::OwnedValue;

use super::{Errors, Observed, s};
use crate::harness::checkers::txn::ids::{Identity, Ids};
use crate::harness::checkers::value::{arr, clj_cmp, clj_eq, clj_set_first_by, obj};

/// One key's log as observed: offset → the distinct values seen there (value id, value),
/// first seen first. Hashed, not ordered: polls show the same offsets again and again, and
/// the few readers of the log sort it once ([`Log::in_order`]).
#[derive(Default)]
pub struct Log<'a> {
    offsets: AHashMap<i128, Vec<(usize, &'a OwnedValue)>>,
}

/// Jepsen's indexes of one log. An *index* is the rank of an offset among the offsets
/// observed (holes in the log do not count).
pub struct Order<'a> {
    /// value id → the first index it appears at (`value->first-index`, used for lost
    /// writes).
    pub first_index: AHashMap<usize, usize>,
    /// index → the values (id, value) whose last appearance is there
    /// (`log->last-index->values`).
    pub last_index: Vec<Vec<(usize, &'a OwnedValue)>>,
    /// value id → its index in Jepsen's `:by-value` order (used for skips and nonmonotonic
    /// polls and sends): each offset contributes only the value Clojure's `first` takes
    /// from its set, and a value at several offsets keeps the last one.
    pub by_value: AHashMap<usize, usize>,
}

/// The identity text of value `id`: where values are listed in a fixed order, it is this
/// text's (as when the checker kept them in ordered maps keyed by it).
fn text(values: &Ids<Identity>, id: usize) -> Option<std::borrow::Cow<'_, str>> {
    values.item(id).map(Identity::text)
}

impl<'a> Log<'a> {
    /// Records `value` (whose id is `id`; `int`: an integer identity) at `offset`. Values
    /// are told apart by Clojure equality, as Jepsen's sets of values do; two integers are
    /// equal exactly when their ids are, which spares the comparison for the value polls
    /// show again at the same offset.
    pub fn push(&mut self, offset: i128, id: usize, int: bool, value: &'a OwnedValue) {
        let values = self.offsets.entry(offset).or_default();
        if !values
            .iter()
            .any(|&(w_id, w)| (int && w_id == id) || clj_eq(w, value))
        {
            values.push((id, value));
        }
    }

    /// (offset, values there), by offset.
    fn in_order(&self) -> Vec<(i128, &[(usize, &'a OwnedValue)])> {
        let mut offsets: Vec<(i128, &[(usize, &'a OwnedValue)])> = self
            .offsets
            .iter()
            .map(|(&o, values)| (o, values.as_slice()))
            .collect();
        offsets.sort_unstable_by_key(|&(o, _)| o);
        offsets
    }

    /// Jepsen's indexes over this log (`values` name the ids, for a fixed order of values
    /// last seen at the same index).
    pub fn order(&self, values: &Ids<Identity>) -> Order<'a> {
        let mut order = Order {
            first_index: AHashMap::new(),
            last_index: vec![Vec::new(); self.offsets.len()],
            by_value: AHashMap::new(),
        };
        let mut last: AHashMap<usize, (usize, &'a OwnedValue)> = AHashMap::new();
        for (index, (_, at)) in self.in_order().into_iter().enumerate() {
            for &(id, v) in at {
                order.first_index.entry(id).or_insert(index);
                last.insert(id, (index, v));
            }
            if let Some(&(first, _)) = clj_set_first_by(at, |e| e.1) {
                order.by_value.insert(first, index);
            }
        }
        // By index, then in a fixed order (the map's order varies from run to run): the
        // identity text's, looked at only for the rare values that share an index.
        let mut last: Vec<(usize, usize, &OwnedValue)> = last
            .into_iter()
            .map(|(id, (index, v))| (index, id, v))
            .collect();
        last.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| text(values, a.1).cmp(&text(values, b.1)))
        });
        for (index, id, v) in last {
            order.last_index[index].push((id, v));
        }
        order
    }
}

/// inconsistent-offsets (several values at one offset) and duplicate (one value at several
/// offsets), with Jepsen's fields; keys in text order, duplicates by value text.
pub fn version_errors(seen: &Observed, errors: &mut Errors) {
    for &k in &seen.keys_by_text {
        let Some(Some(log)) = seen.logs.get(k) else {
            continue;
        };
        let mut at: AHashMap<usize, (&OwnedValue, Vec<i128>)> = AHashMap::new();
        for (index, (offset, values)) in log.in_order().into_iter().enumerate() {
            if values.len() > 1 {
                let mut sorted: Vec<OwnedValue> = values.iter().map(|e| e.1.clone()).collect();
                sorted.sort_by(|a, b| clj_cmp(a, b).unwrap_or(std::cmp::Ordering::Equal));
                errors.add(
                    "inconsistent-offsets",
                    obj([
                        ("key", s(seen.key(k))),
                        ("offset", OwnedValue::from(offset as i64)),
                        ("index", OwnedValue::from(index)),
                        ("values", arr(sorted)),
                    ]),
                );
            }
            for &(id, v) in values {
                at.entry(id)
                    .or_insert_with(|| (v, Vec::new()))
                    .1
                    .push(offset);
            }
        }
        let mut duplicates: Vec<(usize, &OwnedValue, Vec<i128>)> = at
            .into_iter()
            .filter(|(_, (_, o))| o.len() > 1)
            .map(|(id, (v, o))| (id, v, o))
            .collect();
        duplicates.sort_by(|a, b| text(&seen.values, a.0).cmp(&text(&seen.values, b.0)));
        for (_, v, offsets) in duplicates {
            let count = offsets.len();
            let offsets = arr(offsets
                .iter()
                .map(|o| OwnedValue::from(*o as i64))
                .collect());
            errors.add(
                "duplicate",
                obj([
                    ("key", s(seen.key(k))),
                    ("value", v.clone()),
                    ("count", OwnedValue::from(count)),
                    ("offsets", offsets),
                ]),
            );
        }
    }
}
