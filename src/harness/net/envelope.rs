//! The node-facing wire format: the envelope we write to a node's stdin, and strict parsing
//! of its stdout lines (MAELSTROM.md §1.2, §1.8), where we fail the run on what Maelstrom
//! would only log.

use std::io::Write;

use simd_json::OwnedValue;
use simd_json::prelude::*;

/// One message in flight.
#[derive(Clone, Debug)]
pub struct Packet {
    /// Global id stamped by the network.
    pub id: u64,
    /// Sender id.
    pub src: String,
    /// Destination id.
    pub dest: String,
    /// The body (a JSON object).
    pub body: OwnedValue,
}

pub(crate) fn describe(src: &str, dest: &str, body: &OwnedValue) -> String {
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
        .is_some_and(|id| !crate::harness::clients::schema::is_int(id))
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

/// The message as a node sees it on stdin: `{"id":…,"src":…,"dest":…,"body":…}`.
pub fn envelope(message: &Packet) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(itoa::Buffer::new().format(message.id).as_bytes());
    out.extend_from_slice(b",\"src\":");
    push_json_str(&mut out, &message.src);
    out.extend_from_slice(b",\"dest\":");
    push_json_str(&mut out, &message.dest);
    out.extend_from_slice(b",\"body\":");
    let _ = message.body.write(&mut out);
    out.push(b'}');
    out
}

/// Appends `s` as a JSON string literal.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}
