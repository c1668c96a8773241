//! Strict parsing of node stdout lines (MAELSTROM.md §1.2, §1.8): we fail the run on what
//! Maelstrom would only log.

use simd_json::OwnedValue;
use simd_json::prelude::*;

pub(super) fn describe(src: &str, dest: &str, body: &OwnedValue) -> String {
    format!(
        "{{\"src\":{src:?},\"dest\":{dest:?},\"body\":{}}}",
        body.encode()
    )
}

/// Checks a node's stdout line: JSON, only src/dest/body/id at the top level, src and dest
/// strings, body an object, id an integer if present.
pub fn parse_envelope(line: Vec<u8>) -> Result<(String, String, OwnedValue), String> {
    let text = String::from_utf8_lossy(&line).into_owned();
    let mut bytes = line;
    let value = simd_json::to_owned_value(&mut bytes)
        .map_err(|_| format!("printed a line to STDOUT which was not well-formed JSON: {text}"))?;
    let malformed = |why: &str| format!("printed a malformed network message ({why}): {text}");
    let OwnedValue::Object(mut map) = value else {
        return Err(malformed("not a JSON object"));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !["src", "dest", "body", "id"].contains(&k.as_str()))
    {
        return Err(malformed(&format!("extra top-level key {key:?}")));
    }
    if map
        .get("id")
        .is_some_and(|id| !super::generator::schema::is_int(id))
    {
        return Err(malformed("id is not an integer"));
    }
    let src = map
        .remove("src")
        .and_then(|s| s.as_str().map(String::from))
        .ok_or_else(|| malformed("src missing or not a string"))?;
    let dest = map
        .remove("dest")
        .and_then(|s| s.as_str().map(String::from))
        .ok_or_else(|| malformed("dest missing or not a string"))?;
    let body = map
        .remove("body")
        .ok_or_else(|| malformed("body missing"))?;
    if !body.is_object() {
        return Err(malformed("body is not an object"));
    }
    Ok((src, dest, body))
}
