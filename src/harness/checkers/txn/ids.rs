//! Dense integer ids for the keys and values of transactions, so the txn checkers index
//! vectors and hash small integers instead of hashing a text identity per (key, element):
//! at 100k txns that hashing, and the strings behind it, were most of both checkers' time.

use std::borrow::{Borrow, Cow};
use std::hash::Hash;

use ahash::AHashMap;
use simd_json::{OwnedValue, StaticNode};

use crate::harness::checkers::value::identity_key;

/// A value's identity under Clojure equality: equal exactly when [`identity_key`]'s texts
/// are. Integers that fit an `i64` — nearly every key and element Maelstrom's txn
/// workloads write — are kept as numbers, with no text built; anything else is its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// An integer (whatever its JSON storage).
    Int(i64),
    /// Any other value, as [`identity_key`] writes it.
    Text(String),
}

impl Identity {
    /// The identity of `v`.
    pub fn of(v: &OwnedValue) -> Identity {
        match v {
            OwnedValue::Static(StaticNode::I64(i)) => Identity::Int(*i),
            OwnedValue::Static(StaticNode::U64(u)) if i64::try_from(*u).is_ok() => {
                Identity::Int(*u as i64)
            }
            // A larger u64 writes as "i…" too, but can never equal an i64's text.
            _ => Identity::Text(identity_key(v)),
        }
    }

    /// The text [`identity_key`] gives the value: reports are ordered by it, as they were
    /// when the checkers kept these texts in ordered maps.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Identity::Int(i) => Cow::Owned(format!("i{i}")),
            Identity::Text(text) => Cow::Borrowed(text),
        }
    }
}

/// Dense ids `0, 1, 2, …` for distinct items, in order of first sight.
pub struct Ids<T> {
    ids: AHashMap<T, usize>,
    items: Vec<T>,
}

impl<T: Clone + Eq + Hash> Default for Ids<T> {
    fn default() -> Self {
        Ids {
            ids: AHashMap::new(),
            items: Vec::new(),
        }
    }
}

impl<T: Clone + Eq + Hash> Ids<T> {
    /// The id of `item`, given a new one if it has none yet.
    pub fn id(&mut self, item: T) -> usize {
        let next = self.items.len();
        let items = &mut self.items;
        *self.ids.entry(item).or_insert_with_key(|item| {
            items.push(item.clone());
            next
        })
    }

    /// The id of a borrowed `item` (a `&str` for `String` items), given a new one if it
    /// has none yet: the item is copied only the first time it is seen.
    pub fn id_of<Q>(&mut self, item: &Q) -> usize
    where
        T: Borrow<Q>,
        Q: ToOwned<Owned = T> + Eq + Hash + ?Sized,
    {
        match self.ids.get(item) {
            Some(&id) => id,
            None => self.id(item.to_owned()),
        }
    }

    /// The id of `item`, if it has one.
    pub fn get<Q>(&self, item: &Q) -> Option<usize>
    where
        T: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.ids.get(item).copied()
    }

    /// The item with id `id`.
    pub fn item(&self, id: usize) -> Option<&T> {
        self.items.get(id)
    }

    /// How many ids were given.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no id was given yet.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Ids for a txn history's keys and slots, a slot being a (key, value) pair: within one
/// key, two values (list-append elements, rw-register versions) have the same identity
/// exactly when their slots are equal, so per-value state lives in vectors indexed by slot
/// instead of maps keyed by text.
#[derive(Default)]
pub struct SlotNames {
    /// Keys, by identity.
    pub keys: Ids<Identity>,
    /// (key id, value identity) pairs.
    pub slots: Ids<(usize, Identity)>,
}

impl SlotNames {
    /// A key's identity text (what reports were ordered by).
    pub fn key_text(&self, key: usize) -> String {
        self.keys
            .item(key)
            .map(|k| k.text().into_owned())
            .unwrap_or_default()
    }

    /// A slot's value identity text.
    pub fn slot_text(&self, slot: usize) -> String {
        self.slots
            .item(slot)
            .map(|(_, v)| v.text().into_owned())
            .unwrap_or_default()
    }

    /// Each key's place in the order of key identity texts: results are reported in that
    /// order (the checkers kept their per-key state in maps ordered by those texts).
    pub fn key_ranks(&self) -> Vec<usize> {
        let mut keys: Vec<(String, usize)> = (0..self.keys.len())
            .map(|k| (self.key_text(k), k))
            .collect();
        keys.sort();
        let mut rank = vec![0; keys.len()];
        for (r, (_, k)) in keys.into_iter().enumerate() {
            rank[k] = r;
        }
        rank
    }
}
