//! Clojure equality and hashing over parsed JSON, and a map keyed by it.
//!
//! Maelstrom's services compare keys and values with Clojure's `=` on what cheshire parsed
//! (MAELSTROM.md §4; src/maelstrom/service.clj, src/maelstrom/process.clj). On JSON that means:
//!
//! * integers compare by value whatever their width (cheshire yields Integer, Long or
//!   BigInteger; simd-json yields `I64` or `U64`), so `I64(1) == U64(1)`;
//! * an integer never equals a float: `1 != 1.0`;
//! * floats compare with `==`, so `0.0 == -0.0` (and they hash alike, as in Clojure);
//!   NaN cannot come from JSON, and is made equal to itself here only to keep `Eq` lawful;
//! * strings by content; arrays element-wise; objects as maps, so key order never matters.
//!
//! simd-json's own `PartialEq` is not enough: it compares floats *approximately*
//! (`approx_eq!`, so `1.0000000000000002 == 1.0`), where Clojure compares them exactly, and
//! `OwnedValue` has no `Hash` at all.

use simd_json::{OwnedValue, StaticNode};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

/// The scalar view of a value that equality and hashing care about.
enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
}

fn scalar(node: &StaticNode) -> Scalar {
    #[allow(unreachable_patterns)] // wider integer variants exist under simd-json's `128bit`
    match node {
        StaticNode::Null => Scalar::Null,
        StaticNode::Bool(b) => Scalar::Bool(*b),
        StaticNode::I64(i) => Scalar::Int(i128::from(*i)),
        StaticNode::U64(u) => Scalar::Int(i128::from(*u)),
        StaticNode::F64(f) => Scalar::Float(*f),
        other => match simd_json::prelude::ValueAsScalar::as_i128(other) {
            Some(i) => Scalar::Int(i),
            None => Scalar::Null,
        },
    }
}

/// Clojure `=` on two parsed JSON values.
pub fn clojure_eq(a: &OwnedValue, b: &OwnedValue) -> bool {
    match (a, b) {
        (OwnedValue::Static(x), OwnedValue::Static(y)) => match (scalar(x), scalar(y)) {
            (Scalar::Null, Scalar::Null) => true,
            (Scalar::Bool(p), Scalar::Bool(q)) => p == q,
            (Scalar::Int(p), Scalar::Int(q)) => p == q,
            (Scalar::Float(p), Scalar::Float(q)) => p == q || (p.is_nan() && q.is_nan()),
            _ => false,
        },
        (OwnedValue::String(x), OwnedValue::String(y)) => x == y,
        (OwnedValue::Array(x), OwnedValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| clojure_eq(p, q))
        }
        (OwnedValue::Object(x), OwnedValue::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k.as_str()).is_some_and(|w| clojure_eq(v, w)))
        }
        _ => false,
    }
}

/// Fixed seeds: hashes only pick buckets, but a fixed seed keeps every run byte-identical.
fn hasher() -> impl Hasher {
    ahash::RandomState::with_seeds(0x6d61_656c, 0x7374_726f, 0x6d2d_6b76, 0x0063_6c6a)
        .build_hasher()
}

/// A hash consistent with [`clojure_eq`]: equal values hash alike.
pub fn clojure_hash(value: &OwnedValue) -> u64 {
    let mut state = hasher();
    hash_into(value, &mut state);
    state.finish()
}

fn hash_into(value: &OwnedValue, state: &mut impl Hasher) {
    match value {
        OwnedValue::Static(node) => match scalar(node) {
            Scalar::Null => 0u8.hash(state),
            Scalar::Bool(b) => (1u8, b).hash(state),
            Scalar::Int(i) => (2u8, i).hash(state),
            Scalar::Float(f) => {
                // -0.0 == 0.0, so both must hash as 0.0; all NaNs hash alike.
                let canonical = if f == 0.0 {
                    0.0f64
                } else if f.is_nan() {
                    f64::NAN
                } else {
                    f
                };
                (3u8, canonical.to_bits()).hash(state)
            }
        },
        OwnedValue::String(s) => (4u8, s.as_str()).hash(state),
        OwnedValue::Array(items) => {
            (5u8, items.len()).hash(state);
            items.iter().for_each(|item| hash_into(item, state));
        }
        OwnedValue::Object(entries) => {
            // Order-independent: sum the hashes of the entries.
            let sum = entries.iter().fold(0u64, |sum, (k, v)| {
                let mut entry = hasher();
                k.as_str().hash(&mut entry);
                hash_into(v, &mut entry);
                sum.wrapping_add(entry.finish())
            });
            (6u8, entries.len(), sum).hash(state);
        }
    }
}

/// A map keyed by JSON values under Clojure equality, like the Clojure map inside a
/// Maelstrom KV service. Lookups take `&OwnedValue`, so no key is cloned to read.
///
/// It offers no iteration on purpose: the services never need it, so no behaviour can come
/// to depend on bucket order.
#[derive(Clone, Debug)]
pub struct ValueMap<V> {
    buckets: HashMap<u64, Vec<(OwnedValue, V)>, ahash::RandomState>,
    len: usize,
}

impl<V> Default for ValueMap<V> {
    fn default() -> Self {
        ValueMap {
            buckets: HashMap::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4)),
            len: 0,
        }
    }
}

impl<V> ValueMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry for a key Clojure-equal to `key`.
    pub fn get(&self, key: &OwnedValue) -> Option<&V> {
        let bucket = self.buckets.get(&clojure_hash(key))?;
        bucket
            .iter()
            .find(|(k, _)| clojure_eq(k, key))
            .map(|(_, v)| v)
    }

    /// Mutable access to the entry for `key`.
    pub fn get_mut(&mut self, key: &OwnedValue) -> Option<&mut V> {
        let bucket = self.buckets.get_mut(&clojure_hash(key))?;
        bucket
            .iter_mut()
            .find(|(k, _)| clojure_eq(k, key))
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`. An equal key already present keeps its original spelling,
    /// as `assoc` on a Clojure map does.
    pub fn insert(&mut self, key: &OwnedValue, value: V) {
        let bucket = self.buckets.entry(clojure_hash(key)).or_default();
        match bucket.iter_mut().find(|(k, _)| clojure_eq(k, key)) {
            Some((_, slot)) => *slot = value,
            None => {
                bucket.push((key.clone(), value));
                self.len += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OwnedValue {
        let mut bytes = text.as_bytes().to_vec();
        simd_json::to_owned_value(&mut bytes).expect("test JSON")
    }

    #[test]
    fn ints_floats_and_structures_follow_clojure() {
        let cases = [
            ("1", "1", true),
            ("1", "1.0", false),
            ("1.0", "1.0", true),
            ("0.0", "-0.0", true),
            ("1.0", "1.0000000000000002", false),
            ("9223372036854775808", "9223372036854775808", true),
            ("[1,[2]]", "[1,[2]]", true),
            ("[1,2]", "[2,1]", false),
            (r#"{"a":1,"b":[2]}"#, r#"{"b":[2],"a":1}"#, true),
            (r#"{"a":1}"#, r#"{"a":1.0}"#, false),
            (r#"{"a":1}"#, r#"{"a":1,"b":null}"#, false),
            ("null", "false", false),
            (r#""1""#, "1", false),
        ];
        for (a, b, equal) in cases {
            let (a, b) = (parse(a), parse(b));
            assert_eq!(clojure_eq(&a, &b), equal, "{a:?} vs {b:?}");
            if equal {
                assert_eq!(clojure_hash(&a), clojure_hash(&b), "{a:?} vs {b:?}");
            }
        }
        let (small, big) = (OwnedValue::from(7i64), OwnedValue::from(7u64));
        assert!(clojure_eq(&small, &big));
        assert_eq!(clojure_hash(&small), clojure_hash(&big));
    }

    #[test]
    fn value_map_keys_by_clojure_equality() {
        let mut map = ValueMap::new();
        map.insert(&parse(r#"{"x":1,"y":2}"#), "object");
        map.insert(&parse("1"), "int");
        map.insert(&parse("1.0"), "float");
        map.insert(&parse(r#"{"y":2,"x":1}"#), "object again");
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&parse(r#"{"x":1,"y":2}"#)), Some(&"object again"));
        assert_eq!(map.get(&parse("1")), Some(&"int"));
        assert_eq!(map.get(&parse("1.0")), Some(&"float"));
        assert_eq!(map.get(&parse("2")), None);
        if let Some(v) = map.get_mut(&parse("1")) {
            *v = "changed";
        }
        assert_eq!(map.get(&OwnedValue::from(1u64)), Some(&"changed"));
    }
}
