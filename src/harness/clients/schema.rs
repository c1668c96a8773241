//! Closed reply schemas (MAELSTROM.md §1.7, Appendix A): the expected `type`, an integer
//! `in_reply_to`, an optional integer `msg_id`, exactly the declared fields, nothing else.

use simd_json::prelude::*;
use simd_json::{OwnedValue, StaticNode};

/// A declared field type.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Anything, including null.
    Any,
    /// A JSON integer (not `3.0`).
    Int,
    /// An array (null tolerated).
    ArrayOrNull,
}

/// Whether a value is a JSON integer.
pub fn is_int(value: &OwnedValue) -> bool {
    matches!(
        value,
        OwnedValue::Static(StaticNode::I64(_) | StaticNode::U64(_))
    )
}

fn kind_ok(kind: Kind, value: &OwnedValue) -> bool {
    match kind {
        Kind::Any => true,
        Kind::Int => is_int(value),
        Kind::ArrayOrNull => value.is_array() || value.is_null(),
    }
}

/// Validates `body` against the schema; the error reads like Maelstrom's.
pub fn validate(
    body: &OwnedValue,
    expected_type: &str,
    fields: &[(&str, Kind)],
) -> Result<(), String> {
    let Some(map) = body.as_object() else {
        return Err(format!(
            "Malformed RPC response: body is not an object: {}",
            body.encode()
        ));
    };
    let mut problems = Vec::new();
    match map.get("type").and_then(|t| t.as_str()) {
        Some(t) if t == expected_type => {}
        _ => problems.push(format!("type should be {expected_type:?}")),
    }
    if !map.get("in_reply_to").is_some_and(is_int) {
        problems.push("in_reply_to: missing-required-key or not an integer".to_string());
    }
    if map.get("msg_id").is_some_and(|m| !is_int(m)) {
        problems.push("msg_id: not an integer".to_string());
    }
    for (name, kind) in fields {
        match map.get(*name) {
            None => problems.push(format!("{name}: missing-required-key")),
            Some(v) if !kind_ok(*kind, v) => problems.push(format!("{name}: expected {kind:?}")),
            Some(_) => {}
        }
    }
    for key in map.keys() {
        let known = ["type", "in_reply_to", "msg_id"].contains(&key.as_str())
            || fields.iter().any(|(f, _)| f == key);
        if !known {
            problems.push(format!("{key}: disallowed-key"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Malformed RPC response: {} in {}",
            problems.join(", "),
            body.encode()
        ))
    }
}
