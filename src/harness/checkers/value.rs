//! Small helpers over `OwnedValue` shared by the checkers: building result maps, Clojure
//! equality and ordering (Maelstrom compares values with Clojure's `=` and `compare`),
//! rendering ops, single-precision floats and quantiles.

use std::cmp::Ordering;

use simd_json::{OwnedValue, StaticNode};

use crate::harness::history::{Op, Process};

/// The quantile points Jepsen reports: `[0 0.5 0.95 0.99 1]`, with their map keys.
pub const QUANTILE_POINTS: [(f64, &str); 5] = [
    (0.0, "0"),
    (0.5, "0.5"),
    (0.95, "0.95"),
    (0.99, "0.99"),
    (1.0, "1"),
];

/// Builds an object from `(key, value)` pairs. Key order is applied when writing
/// (see `results::order`), so insertion order does not matter here.
pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, OwnedValue)>) -> OwnedValue {
    let mut map = simd_json::owned::Object::default();
    for (k, v) in pairs {
        map.insert(k.into(), v);
    }
    OwnedValue::Object(Box::new(map))
}

/// An array value.
pub fn arr(items: Vec<OwnedValue>) -> OwnedValue {
    OwnedValue::Array(Box::new(items))
}

/// JSON `null`.
pub fn null() -> OwnedValue {
    OwnedValue::Static(StaticNode::Null)
}

/// A single-precision float the way Clojure's `(float x)` prints it: the value stored is the
/// shortest decimal that round-trips the `f32`, so `110/54` shows as `2.0370371`, not as the
/// `f64` widening `2.0370371341705322`.
pub fn f32_value(x: f32) -> OwnedValue {
    if !x.is_finite() {
        return null();
    }
    let shortest = format!("{x}");
    OwnedValue::from(shortest.parse::<f64>().unwrap_or(f64::from(x)))
}

/// Clojure's `(float (/ a b))`: the ratio as a double, then narrowed to single precision.
pub fn ratio_f32(numerator: u64, denominator: u64) -> f32 {
    (numerator as f64 / denominator as f64) as f32
}

/// The integer inside a JSON number, if it is one (either signed or unsigned storage).
pub fn as_int(v: &OwnedValue) -> Option<i128> {
    match v {
        OwnedValue::Static(StaticNode::I64(i)) => Some(i128::from(*i)),
        OwnedValue::Static(StaticNode::U64(u)) => Some(i128::from(*u)),
        _ => None,
    }
}

/// Clojure `=` on parsed JSON: integers equal integers of the same value whatever their
/// storage, floats equal floats, `1` and `1.0` differ, collections compare structurally.
pub fn clj_eq(a: &OwnedValue, b: &OwnedValue) -> bool {
    match (a, b) {
        (OwnedValue::Static(StaticNode::F64(x)), OwnedValue::Static(StaticNode::F64(y))) => x == y,
        (OwnedValue::Static(x), OwnedValue::Static(y)) => match (as_int(a), as_int(b)) {
            (Some(i), Some(j)) => i == j,
            (None, None) => x == y,
            _ => false,
        },
        (OwnedValue::String(x), OwnedValue::String(y)) => x == y,
        (OwnedValue::Array(x), OwnedValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| clj_eq(p, q))
        }
        (OwnedValue::Object(x), OwnedValue::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| clj_eq(v, w)))
        }
        _ => false,
    }
}

/// Clojure `compare` on parsed JSON: numbers numerically, strings by UTF-16 code units,
/// vectors by length and then element-wise, `nil` first. Mixed kinds (and maps) are not
/// comparable in Clojure, which throws; so do we, with `Err`.
pub fn clj_cmp(a: &OwnedValue, b: &OwnedValue) -> Result<Ordering, String> {
    use OwnedValue::{Array, Static, String as Str};
    match (a, b) {
        (Static(StaticNode::Null), Static(StaticNode::Null)) => Ok(Ordering::Equal),
        (Static(StaticNode::Null), _) => Ok(Ordering::Less),
        (_, Static(StaticNode::Null)) => Ok(Ordering::Greater),
        (Static(StaticNode::Bool(x)), Static(StaticNode::Bool(y))) => Ok(x.cmp(y)),
        (Static(_), Static(_)) => match (as_int(a), as_int(b)) {
            (Some(i), Some(j)) => Ok(i.cmp(&j)),
            _ => match (number_f64(a), number_f64(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).ok_or_else(|| "NaN compared".to_string()),
                _ => Err(incomparable(a, b)),
            },
        },
        (Str(x), Str(y)) => Ok(x.encode_utf16().cmp(y.encode_utf16())),
        (Array(x), Array(y)) => {
            if x.len() != y.len() {
                return Ok(x.len().cmp(&y.len()));
            }
            for (p, q) in x.iter().zip(y.iter()) {
                let o = clj_cmp(p, q)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            Ok(Ordering::Equal)
        }
        _ => Err(incomparable(a, b)),
    }
}

fn number_f64(v: &OwnedValue) -> Option<f64> {
    match v {
        OwnedValue::Static(StaticNode::F64(x)) => Some(*x),
        OwnedValue::Static(StaticNode::I64(i)) => Some(*i as f64),
        OwnedValue::Static(StaticNode::U64(u)) => Some(*u as f64),
        _ => None,
    }
}

fn incomparable(a: &OwnedValue, b: &OwnedValue) -> String {
    format!(
        "cannot compare {} with {}",
        simd_json::to_string(a).unwrap_or_default(),
        simd_json::to_string(b).unwrap_or_default()
    )
}

/// The element Clojure's `(first (set values))` returns, for `values` distinct under
/// Clojure `=`: Jepsen's checkers take it where a set holds several values, so which one
/// decides what they report. A hash set iterates its hash trie in order of the hash's 5-bit
/// groups from the low end; integers hash with Murmur3 `hashLong` (Clojure's `hasheq`).
/// Other values (not hashed here) fall back to the first given. `None` if empty.
pub fn clj_set_first(values: &[OwnedValue]) -> Option<&OwnedValue> {
    clj_set_first_by(values, |v| v)
}

/// [`clj_set_first`] of the values `value` gives for `items`, so callers can keep ids
/// beside the values.
pub fn clj_set_first_by<T>(items: &[T], value: impl Fn(&T) -> &OwnedValue) -> Option<&T> {
    // One item is its own first, whatever its type (the common case: no hashing).
    if items.len() == 1 {
        return items.first();
    }
    let trie_position = |v: &OwnedValue| {
        let hash = murmur3_hash_long(as_int(v)? as i64);
        Some(
            (0..7)
                .map(|level| (hash >> (5 * level)) & 31)
                .collect::<Vec<u32>>(),
        )
    };
    if items.iter().all(|item| as_int(value(item)).is_some()) {
        items.iter().min_by_key(|item| trie_position(value(item)))
    } else {
        items.first()
    }
}

/// Where a string key sits in the iteration order of a Clojure hash map or set (compare
/// the results; ties keep insertion order): its `hasheq`, Murmur3 `hashInt` of Java's
/// `String.hashCode`, in 5-bit groups from the low end, as the hash trie is walked.
pub fn clj_string_trie_position(s: &str) -> [u32; 7] {
    let java = s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    let hash = murmur3_hash_int(java);
    std::array::from_fn(|level| (hash >> (5 * level)) & 31)
}

/// Clojure's `Murmur3.hashInt` (seed 0), as `hasheq` hashes a string's `hashCode`.
fn murmur3_hash_int(input: i32) -> u32 {
    if input == 0 {
        return 0;
    }
    let k1 = (input as u32)
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    let mut h = k1.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    h ^= 4;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Clojure's `Murmur3.hashLong` (seed 0), as `hasheq` hashes a long.
fn murmur3_hash_long(input: i64) -> u32 {
    if input == 0 {
        return 0;
    }
    let mix_k1 = |k: u32| {
        k.wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593)
    };
    let mix_h1 = |h: u32, k: u32| {
        (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64)
    };
    let bits = input as u64;
    let mut h = mix_h1(0, mix_k1(bits as u32));
    h = mix_h1(h, mix_k1((bits >> 32) as u32));
    h ^= 8;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The micro-ops of a transaction op's value (`[[f k v] …]`) as borrowed `(f, k, v)`
/// triples; an error names the first malformed part. Shared by the txn checkers.
pub fn micro_ops(op: &Op) -> Result<Vec<(&str, &OwnedValue, &OwnedValue)>, String> {
    let OwnedValue::Array(mops) = &op.value else {
        return Err(format!("txn is not a list: {:?}", op.value));
    };
    let mut out = Vec::with_capacity(mops.len());
    for m in mops.iter() {
        let OwnedValue::Array(m) = m else {
            return Err(format!("micro-op is not a list: {m:?}"));
        };
        let (Some(OwnedValue::String(f)), Some(k), Some(v)) = (m.first(), m.get(1), m.get(2))
        else {
            return Err(format!("malformed micro-op {m:?}"));
        };
        out.push((f.as_str(), k, v));
    }
    Ok(out)
}

/// A hashable identity for a value under Clojure equality (integers normalised, floats
/// keep their decimal point), used to key per-element state.
pub fn identity_key(v: &OwnedValue) -> String {
    let mut out = String::new();
    push_identity(v, &mut out);
    out
}

/// Writes straight into `out` (`write!`, not `format!`: a temporary string per scalar was a
/// tenth of the kafka checker's time). Writing to a `String` cannot fail.
fn push_identity(v: &OwnedValue, out: &mut String) {
    use std::fmt::Write;
    match v {
        OwnedValue::Static(StaticNode::F64(x)) => {
            let _ = write!(out, "f{x:?}");
        }
        OwnedValue::Static(s) => match as_int(v) {
            // itoa, not `write!`: formatting an i128 through `fmt` is slow, and the kafka
            // checker writes an identity per message several times over.
            Some(i) => {
                out.push('i');
                out.push_str(itoa::Buffer::new().format(i));
            }
            None => {
                let _ = write!(out, "{s:?}");
            }
        },
        OwnedValue::String(s) => {
            let _ = write!(out, "s{s:?}");
        }
        OwnedValue::Array(items) => {
            out.push('[');
            for item in items.iter() {
                push_identity(item, out);
                out.push(' ');
            }
            out.push(']');
        }
        OwnedValue::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                let _ = write!(out, "{k:?}=");
                if let Some(item) = map.get(k) {
                    push_identity(item, out);
                }
                out.push(' ');
            }
            out.push('}');
        }
    }
}

/// A JSON object key for a value used as a map key in results (an id → count map): strings
/// as themselves, anything else as its JSON text (so `5` prints back as the number 5).
pub fn data_key(value: &OwnedValue) -> String {
    match value {
        OwnedValue::String(s) => s.clone(),
        other => simd_json::to_string(other).unwrap_or_default(),
    }
}

/// Jepsen's rendering of one op, as it appears inside results (`:known`, `:errors`, …).
/// `f` overrides the op's function, for workloads whose checker renames it (broadcast's
/// `broadcast` becomes set-full's `add`).
pub fn op_value(op: &Op, f: Option<&str>) -> OwnedValue {
    let process = match op.process {
        Process::Client(p) => OwnedValue::from(p),
        Process::Nemesis => OwnedValue::from("nemesis"),
    };
    let mut pairs = vec![
        ("index", OwnedValue::from(op.index)),
        ("time", OwnedValue::from(op.time_ns)),
        ("type", OwnedValue::from(op.op_type.name())),
        ("process", process),
        ("f", OwnedValue::from(f.unwrap_or(&op.f))),
        ("value", op.value.clone()),
    ];
    if let Some(error) = &op.error {
        pairs.push(("error", error.clone()));
    }
    if let Some(exception) = &op.exception {
        pairs.push(("exception", exception.clone()));
    }
    if op.is_final {
        pairs.push(("final?", OwnedValue::from(true)));
    }
    obj(pairs)
}

/// Jepsen's `frequency-distribution`: sort, then for each point take the element at
/// `min(len-1, floor(len*q))`. `None` for an empty input.
pub fn quantiles<T: Copy + Ord + Into<OwnedValue>>(values: &[T]) -> Option<OwnedValue> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    Some(obj(QUANTILE_POINTS.iter().map(|(q, key)| {
        let idx = ((n as f64 * q).floor() as usize).min(n - 1);
        (*key, sorted[idx].into())
    })))
}
