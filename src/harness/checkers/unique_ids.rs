//! Jepsen's `unique-ids` checker (MAELSTROM.md §3.2).

use std::cmp::Ordering;

use simd_json::OwnedValue;

use super::value::{arr, clj_cmp, data_key, identity_key, null, obj};
use super::{CheckInput, Checker};
use crate::harness::history::OpType;

/// How many duplicated ids the result lists (Jepsen's `(take 48)`).
const DUPLICATES_SHOWN: usize = 48;

/// Every `ok` `generate` must return a distinct id. `range` is `[min max]` under Clojure
/// `compare`; ids of mixed kinds cannot be compared and make the result unknown, exactly as
/// in Jepsen, where `compare` throws.
pub struct UniqueIds;

impl Checker for UniqueIds {
    fn check(&self, input: &CheckInput) -> Result<OwnedValue, String> {
        let generate = || input.history.client_ops().filter(|op| op.f == "generate");
        let attempted = generate().filter(|op| op.op_type == OpType::Invoke).count();
        // identity -> (id, count), in first-seen order.
        let mut counts: ahash::AHashMap<String, usize> = ahash::AHashMap::new();
        let mut ids: Vec<(&OwnedValue, usize)> = Vec::new();
        let mut range: Option<(&OwnedValue, &OwnedValue)> = None;
        for op in generate().filter(|op| op.op_type == OpType::Ok) {
            let id = &op.value;
            let slot = *counts.entry(identity_key(id)).or_insert_with(|| {
                ids.push((id, 0));
                ids.len() - 1
            });
            ids[slot].1 += 1;
            range = Some(match range {
                None => (id, id),
                Some((lo, hi)) => (
                    if clj_cmp(id, lo)? == Ordering::Less {
                        id
                    } else {
                        lo
                    },
                    if clj_cmp(id, hi)? == Ordering::Greater {
                        id
                    } else {
                        hi
                    },
                ),
            });
        }
        let acknowledged: usize = ids.iter().map(|(_, n)| n).sum();
        let mut dups: Vec<(&OwnedValue, usize)> = ids.into_iter().filter(|(_, n)| *n > 1).collect();
        let dup_count = dups.len();
        // Jepsen: sorted map by id, sort-by count, reverse, take 48, back into a sorted map.
        sort_by_id(&mut dups)?;
        dups.sort_by_key(|(_, n)| *n);
        dups.reverse();
        dups.truncate(DUPLICATES_SHOWN);
        sort_by_id(&mut dups)?;
        let duplicated = obj(dups
            .into_iter()
            .map(|(id, n)| (data_key(id), OwnedValue::from(n))));
        let range = match range {
            Some((lo, hi)) => arr(vec![lo.clone(), hi.clone()]),
            None => arr(vec![null(), null()]),
        };
        Ok(obj([
            ("valid?", OwnedValue::from(dup_count == 0)),
            ("attempted-count", OwnedValue::from(attempted)),
            ("acknowledged-count", OwnedValue::from(acknowledged)),
            ("duplicated-count", OwnedValue::from(dup_count)),
            ("duplicated", duplicated),
            ("range", range),
        ]))
    }
}

fn sort_by_id(items: &mut [(&OwnedValue, usize)]) -> Result<(), String> {
    let mut failure = None;
    items.sort_by(|a, b| {
        clj_cmp(a.0, b.0).unwrap_or_else(|e| {
            failure = Some(e);
            Ordering::Equal
        })
    });
    failure.map_or(Ok(()), Err)
}
