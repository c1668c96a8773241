//! A hand-written JSON writer for outgoing messages.
//!
//! Writes straight into the caller's reused `Vec<u8>`: no intermediate `Value`, no
//! allocation once the buffer has grown. Integers via `itoa` (exact for all of u64/i64),
//! floats via `ryu` (shortest round-trip form; non-finite floats become `null`, which is
//! all JSON can say), strings escaped per RFC 8259, and parsed values ([`Json`]) copied
//! through node by node so their content is passed on untouched.
//!
//! [`ObjectWriter`] and [`ArrayWriter`] close their bracket when dropped, so a handler
//! cannot emit unbalanced JSON, whatever path it returns by.

use simd_json::{Node, StaticNode};

use super::json::Json;

/// Appends `text` as a JSON string literal.
///
/// Inlined (as are the object writer's field methods) so that for a constant — a key, a
/// message type — the escape check folds away at compile time and the copy has a known
/// length: most strings in a reply are constants.
#[inline(always)]
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if needs_escape(bytes) {
        return write_escaped(out, bytes);
    }
    // The common case: nothing to escape.
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Slow path of [`write_str`]: some byte needs an escape.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let mut clean_from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if escapes(byte) {
            out.extend_from_slice(&bytes[clean_from..i]);
            write_escape(out, byte);
            clean_from = i + 1;
        }
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

/// True for a byte JSON requires escaping in a string: a quote, a backslash or a control byte.
fn escapes(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// True if some byte of `bytes` [`escapes`]. Eight bytes at a time (SWAR), the last
/// (partial) word read overlapping the one before it, so that the short strings of
/// message envelopes and keys cost one or two word checks and no byte loop.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let len = bytes.len();
    if len >= 8 {
        let (words, _) = bytes.as_chunks::<8>();
        let tail = len - 8;
        words
            .iter()
            .any(|word| word_escapes(u64::from_le_bytes(*word)))
            || word_escapes(u64::from_le_bytes(word_at(bytes, tail)))
    } else if len >= 4 {
        // Two (maybe overlapping) 4-byte halves make one word.
        let low = u32::from_le_bytes(half_at(bytes, 0));
        let high = u32::from_le_bytes(half_at(bytes, len - 4));
        word_escapes(u64::from(low) | u64::from(high) << 32)
    } else {
        bytes.iter().any(|&byte| escapes(byte))
    }
}

#[inline]
fn word_at(bytes: &[u8], at: usize) -> [u8; 8] {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    word
}

#[inline]
fn half_at(bytes: &[u8], at: usize) -> [u8; 4] {
    let mut half = [0; 4];
    half.copy_from_slice(&bytes[at..at + 4]);
    half
}

/// True if a byte of `word` [`escapes`] (exact: the borrows of the subtraction may only
/// misplace which byte is flagged, never whether one is).
#[inline]
fn word_escapes(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quote = has_zero_byte(word ^ (ONES * b'"' as u64));
    let backslash = has_zero_byte(word ^ (ONES * b'\\' as u64));
    control | quote | backslash != 0
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    let short: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0c => b"\\f",
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 0xf) as usize]);
            return;
        }
    };
    out.extend_from_slice(short);
}

/// Appends an unsigned integer.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a signed integer.
pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a float in shortest round-trip form (`null` if not finite).
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends a parsed value, re-serialised from its tape; a string (an echo's value, a
/// key) is written inline, anything else by the recursive writer.
#[inline(always)]
pub fn write_json(out: &mut Vec<u8>, value: Json<'_>) {
    match value.nodes()[0] {
        Node::String(text) => write_str(out, text),
        _ => {
            write_nodes(out, value.nodes());
        }
    }
}

/// Writes the value at `nodes[0]`; returns how many nodes it consumed.
fn write_nodes(out: &mut Vec<u8>, nodes: &[Node<'_>]) -> usize {
    match nodes[0] {
        Node::String(text) => {
            write_str(out, text);
            1
        }
        Node::Static(StaticNode::Null) => {
            out.extend_from_slice(b"null");
            1
        }
        Node::Static(StaticNode::Bool(b)) => {
            out.extend_from_slice(if b { b"true" } else { b"false" });
            1
        }
        Node::Static(StaticNode::I64(v)) => {
            write_i64(out, v);
            1
        }
        Node::Static(StaticNode::U64(v)) => {
            write_u64(out, v);
            1
        }
        Node::Static(StaticNode::F64(v)) => {
            write_f64(out, v);
            1
        }
        Node::Array { len, .. } => {
            out.push(b'[');
            let mut at = 1;
            for i in 0..len {
                if i > 0 {
                    out.push(b',');
                }
                at += write_nodes(out, &nodes[at..]);
            }
            out.push(b']');
            at
        }
        Node::Object { len, .. } => {
            out.push(b'{');
            let mut at = 1;
            for i in 0..len {
                if i > 0 {
                    out.push(b',');
                }
                at += write_nodes(out, &nodes[at..]);
                out.push(b':');
                at += write_nodes(out, &nodes[at..]);
            }
            out.push(b'}');
            at
        }
    }
}

/// Writes a JSON object field by field; the closing `}` is written on drop.
pub struct ObjectWriter<'b> {
    out: &'b mut Vec<u8>,
    empty: bool,
    /// Written on drop: `}`, or `}}\n` for a message body that also closes its envelope.
    close: &'static [u8],
}

impl<'b> ObjectWriter<'b> {
    /// Starts an object (writes `{`).
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter {
            out,
            empty: true,
            close: b"}",
        }
    }

    /// Continues an object whose opening (and some fields) the caller wrote; `close` is
    /// written on drop. The node core uses it to finish a message envelope and its line.
    #[inline]
    pub(crate) fn resume(out: &'b mut Vec<u8>, has_fields: bool, close: &'static [u8]) -> Self {
        ObjectWriter {
            out,
            empty: !has_fields,
            close,
        }
    }

    #[inline(always)]
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// `"key": "value"`
    #[inline]
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        let out = self.key(key);
        write_str(out, value);
        self
    }

    /// `"key": 123`
    #[inline]
    pub fn u64(&mut self, key: &str, value: u64) -> &mut Self {
        let out = self.key(key);
        write_u64(out, value);
        self
    }

    /// `"key": -123`
    pub fn i64(&mut self, key: &str, value: i64) -> &mut Self {
        let out = self.key(key);
        write_i64(out, value);
        self
    }

    /// `"key": 1.5`
    pub fn f64(&mut self, key: &str, value: f64) -> &mut Self {
        let out = self.key(key);
        write_f64(out, value);
        self
    }

    /// `"key": true`
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// `"key": null`
    pub fn null(&mut self, key: &str) -> &mut Self {
        self.key(key).extend_from_slice(b"null");
        self
    }

    /// `"key": <a parsed value, passed through>`
    #[inline]
    pub fn json(&mut self, key: &str, value: Json<'_>) -> &mut Self {
        let out = self.key(key);
        write_json(out, value);
        self
    }

    /// `"key": <fragment>` where `fragment` is already valid JSON (e.g. a cached array).
    pub fn raw(&mut self, key: &str, fragment: &[u8]) -> &mut Self {
        self.key(key).extend_from_slice(fragment);
        self
    }

    /// `"key": [1, 2, 3]`
    pub fn u64_array(&mut self, key: &str, values: impl IntoIterator<Item = u64>) -> &mut Self {
        let mut array = self.array(key);
        for value in values {
            array.u64(value);
        }
        drop(array);
        self
    }

    /// `"key": { … }`: a nested object, closed when the returned writer drops.
    pub fn object(&mut self, key: &str) -> ObjectWriter<'_> {
        let out = self.key(key);
        ObjectWriter::new(out)
    }

    /// `"key": [ … ]`: a nested array, closed when the returned writer drops.
    pub fn array(&mut self, key: &str) -> ArrayWriter<'_> {
        let out = self.key(key);
        ArrayWriter::new(out)
    }
}

impl Drop for ObjectWriter<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // The two closes in use, as constants: a fixed-size copy, not a `memcpy` call.
        match self.close {
            b"}" => self.out.push(b'}'),
            b"}}\n" => self.out.extend_from_slice(b"}}\n"),
            other => self.out.extend_from_slice(other),
        }
    }
}

/// Writes a JSON array element by element; the closing `]` is written on drop.
pub struct ArrayWriter<'b> {
    out: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> ArrayWriter<'b> {
    /// Starts an array (writes `[`).
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        out.push(b'[');
        ArrayWriter { out, empty: true }
    }

    fn slot(&mut self) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out
    }

    /// Appends an unsigned integer element.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        let out = self.slot();
        write_u64(out, value);
        self
    }

    /// Appends a signed integer element.
    pub fn i64(&mut self, value: i64) -> &mut Self {
        let out = self.slot();
        write_i64(out, value);
        self
    }

    /// Appends a string element.
    pub fn str(&mut self, value: &str) -> &mut Self {
        let out = self.slot();
        write_str(out, value);
        self
    }

    /// Appends a parsed value.
    pub fn json(&mut self, value: Json<'_>) -> &mut Self {
        let out = self.slot();
        write_json(out, value);
        self
    }

    /// Appends an element that is already valid JSON.
    pub fn raw(&mut self, fragment: &[u8]) -> &mut Self {
        self.slot().extend_from_slice(fragment);
        self
    }

    /// Appends a nested object.
    pub fn object(&mut self) -> ObjectWriter<'_> {
        ObjectWriter::new(self.slot())
    }

    /// Appends a nested array.
    pub fn array(&mut self) -> ArrayWriter<'_> {
        ArrayWriter::new(self.slot())
    }
}

impl Drop for ArrayWriter<'_> {
    fn drop(&mut self) {
        self.out.push(b']');
    }
}
