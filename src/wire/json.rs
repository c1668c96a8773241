//! Borrowed, read-only views of parsed JSON.
//!
//! [`Json`] wraps a slice of simd-json's tape: `nodes[0]` is the value itself and, for
//! arrays and objects, the nodes of its children follow. Nothing is copied or allocated:
//! strings point into the (arena-held) input line, which simd-json unescaped in place.
//! Views are `Copy` and live as long as the input batch they were parsed from.

use simd_json::{Node, StaticNode};

/// A JSON value inside a parsed message.
#[derive(Clone, Copy, Debug)]
pub struct Json<'a> {
    nodes: &'a [Node<'a>],
}

/// The JSON type of a value, for error messages and dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool,
    /// An integer that fits `i64` or `u64`.
    Integer,
    /// Any other number.
    Float,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// Number of tape nodes the value starting at `nodes[0]` occupies.
#[inline]
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

impl<'a> Json<'a> {
    /// A view of the value at the start of `nodes` (a simd-json tape or a suffix of one).
    /// Returns `None` for an empty or truncated tape.
    #[inline]
    pub fn from_tape(nodes: &'a [Node<'a>]) -> Option<Self> {
        let first = nodes.first()?;
        let nodes = nodes.get(..span(first))?;
        Some(Json { nodes })
    }

    #[inline]
    fn head(&self) -> &Node<'a> {
        &self.nodes[0]
    }

    /// The tape nodes of this value (for the writer, which copies values through).
    #[inline]
    pub(crate) fn nodes(&self) -> &'a [Node<'a>] {
        self.nodes
    }

    /// The value's JSON type.
    #[inline]
    pub fn kind(&self) -> JsonKind {
        match self.head() {
            Node::String(_) => JsonKind::String,
            Node::Object { .. } => JsonKind::Object,
            Node::Array { .. } => JsonKind::Array,
            Node::Static(StaticNode::Null) => JsonKind::Null,
            Node::Static(StaticNode::Bool(_)) => JsonKind::Bool,
            Node::Static(StaticNode::F64(_)) => JsonKind::Float,
            Node::Static(_) => JsonKind::Integer,
        }
    }

    /// The string, if this is a string.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        match self.head() {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as `u64`, if it is a non-negative JSON integer (not a float like `3.0`).
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match self.head() {
            Node::Static(StaticNode::U64(v)) => Some(*v),
            Node::Static(StaticNode::I64(v)) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value as `i64`, if it is a JSON integer in range.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self.head() {
            Node::Static(StaticNode::I64(v)) => Some(*v),
            Node::Static(StaticNode::U64(v)) => i64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value as `f64`, if it is any number.
    pub fn as_f64(&self) -> Option<f64> {
        match self.head() {
            Node::Static(StaticNode::F64(v)) => Some(*v),
            Node::Static(StaticNode::I64(v)) => Some(*v as f64),
            Node::Static(StaticNode::U64(v)) => Some(*v as f64),
            _ => None,
        }
    }

    /// The value as a bool, if it is one.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self.head() {
            Node::Static(StaticNode::Bool(v)) => Some(*v),
            _ => None,
        }
    }

    /// True for `null`.
    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self.head(), Node::Static(StaticNode::Null))
    }

    /// Number of elements (array) or entries (object); 0 for scalars.
    #[inline]
    pub fn len(&self) -> usize {
        match self.head() {
            Node::Object { len, .. } | Node::Array { len, .. } => *len,
            _ => 0,
        }
    }

    /// True when [`Json::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Looks up `key` in an object (linear scan: Maelstrom bodies have a handful of keys).
    #[inline]
    pub fn get(&self, key: &str) -> Option<Json<'a>> {
        self.entries()
            .find(|(k, _)| same_key(k.as_bytes(), key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The entries of an object in input order; empty for anything else.
    #[inline]
    pub fn entries(&self) -> Entries<'a> {
        let rest = match self.head() {
            Node::Object { .. } => &self.nodes[1..],
            _ => &[],
        };
        Entries { rest }
    }

    /// Deserialises this value into a serde type, borrowing strings from the input where
    /// the type allows (`&'a str`). For cold-path messages with structure (init, topology,
    /// transactions): it copies the value's tape nodes once, so keep it off hot paths.
    pub fn deserialize<T: serde::Deserialize<'a>>(&self) -> Result<T, simd_json::Error> {
        let tape = simd_json::tape::Tape(self.nodes.to_vec());
        T::deserialize(&mut simd_json::Deserializer::from_tape(tape))
    }

    /// The elements of an array in order; empty for anything else.
    #[inline]
    pub fn items(&self) -> Items<'a> {
        let rest = match self.head() {
            Node::Array { .. } => &self.nodes[1..],
            _ => &[],
        };
        Items { rest }
    }
}

/// `a == b` for the short keys of Maelstrom messages without a `memcmp` call: one or two
/// (maybe overlapping) word compares up to 16 bytes.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word = |bytes: &[u8], at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let half = |bytes: &[u8], at: usize| {
        let mut half = [0; 4];
        half.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(half)
    };
    match len {
        0..4 => a == b,
        4..8 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        _ => a == b,
    }
}

/// Iterator over an object's `(key, value)` pairs.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    rest: &'a [Node<'a>],
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, Json<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (key_node, after_key) = self.rest.split_first()?;
        let Node::String(key) = key_node else {
            self.rest = &[];
            return None;
        };
        let value = Json::from_tape(after_key)?;
        self.rest = &after_key[value.nodes.len()..];
        Some((key, value))
    }
}

/// Iterator over an array's elements.
#[derive(Clone, Debug)]
pub struct Items<'a> {
    rest: &'a [Node<'a>],
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let value = Json::from_tape(self.rest)?;
        self.rest = &self.rest[value.nodes.len()..];
        Some(value)
    }
}
