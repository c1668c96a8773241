//! `results.json` and `history.jsonl`: a results value written as JSON with object keys in
//! [`order`](super::order)'s order (Maelstrom's `results.edn` order), so files are
//! deterministic and diff well. simd-json's encoder would print hash-map order; strings and
//! integers go through the node writer's primitives ([`crate::wire::writer`]), so JSON is
//! escaped by one piece of code. Floats print as in `results.edn` (Clojure's form, `e` for
//! the exponent) so both files show the same numbers.

use simd_json::{OwnedValue, StaticNode};

use super::edn_write::clj_double;
use super::order::ordered_keys;
use crate::wire::writer::{write_i64, write_str, write_u64};

/// `value` as JSON: pretty (two-space indent, one item per line) or on one line.
pub fn to_json(value: &OwnedValue, pretty: bool) -> String {
    let mut out = Vec::new();
    write_value(value, 0, pretty, &mut out);
    // Only valid UTF-8 is written (str contents and ASCII), so this never replaces anything.
    String::from_utf8_lossy(&out).into_owned()
}

fn newline(out: &mut Vec<u8>, pretty: bool, level: usize) {
    if pretty {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', 2 * level));
    }
}

fn write_value(value: &OwnedValue, indent: usize, pretty: bool, out: &mut Vec<u8>) {
    match value {
        OwnedValue::Static(StaticNode::Null) => out.extend_from_slice(b"null"),
        OwnedValue::Static(StaticNode::Bool(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" })
        }
        OwnedValue::Static(StaticNode::I64(i)) => write_i64(out, *i),
        OwnedValue::Static(StaticNode::U64(u)) => write_u64(out, *u),
        OwnedValue::Static(StaticNode::F64(x)) if x.is_finite() => {
            out.extend_from_slice(clj_double(*x).replace('E', "e").as_bytes());
        }
        OwnedValue::Static(_) => out.extend_from_slice(b"null"),
        OwnedValue::String(s) => write_str(out, s),
        OwnedValue::Array(items) if items.is_empty() => out.extend_from_slice(b"[]"),
        OwnedValue::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, pretty, indent + 1);
                write_value(item, indent + 1, pretty, out);
            }
            newline(out, pretty, indent);
            out.push(b']');
        }
        OwnedValue::Object(map) if map.is_empty() => out.extend_from_slice(b"{}"),
        OwnedValue::Object(map) => {
            out.push(b'{');
            for (i, key) in ordered_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, pretty, indent + 1);
                write_str(out, key);
                out.push(b':');
                if pretty {
                    out.push(b' ');
                }
                if let Some(item) = map.get(key) {
                    write_value(item, indent + 1, pretty, out);
                }
            }
            newline(out, pretty, indent);
            out.push(b'}');
        }
    }
}
