//! A small EDN reader, enough for what Maelstrom writes: `history.edn` (one op per line, as
//! a plain map or a `#jepsen.history.Op{…}` record) and `results.edn` (pretty-printed, with
//! keywords, lists, vectors, sets, maps, tagged records, strings, integers, floats, nil).
//!
//! Values convert to JSON (`OwnedValue`) for the checkers: keywords and symbols become
//! strings without the colon, lists/vectors/sets become arrays, map keys become strings
//! (`{0.5 12}` → `{"0.5": 12}`), tags are dropped. Input is untrusted: errors are
//! returned, never panicked on, and nesting depth is bounded.

use std::path::Path;

use simd_json::OwnedValue;

use crate::harness::edn_ops::{push_block_ops, push_ops};
use crate::harness::history::History;

/// Deepest nesting accepted; deeper input is rejected instead of overflowing the stack.
const MAX_DEPTH: usize = 256;

/// A parsed EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A float (also ratios and `M` decimals, approximated).
    Float(f64),
    /// An integer too large for `i64` (or with an `N` suffix), as written.
    BigInt(String),
    /// A string.
    Str(String),
    /// A character literal such as `\a`.
    Char(char),
    /// `:name`, stored without the colon.
    Keyword(String),
    /// A bare symbol.
    Symbol(String),
    /// `( … )`.
    List(Vec<Edn>),
    /// `[ … ]`.
    Vector(Vec<Edn>),
    /// `#{ … }`.
    Set(Vec<Edn>),
    /// `{ … }`, in written order.
    Map(Vec<(Edn, Edn)>),
    /// `#tag value`, e.g. `#jepsen.history.Op{…}`.
    Tagged(String, Box<Edn>),
}

/// Parses exactly one EDN value (surrounding whitespace and comments allowed).
pub fn parse(text: &str) -> Result<Edn, String> {
    let mut values = parse_all(text)?;
    match values.len() {
        1 => Ok(values.remove(0)),
        n => Err(format!("expected one EDN value, found {n}")),
    }
}

/// Parses a sequence of EDN values, e.g. a whole `history.edn`.
pub fn parse_all(text: &str) -> Result<Vec<Edn>, String> {
    let mut r = Reader::new(text);
    let mut out = Vec::new();
    loop {
        r.skip_ws_and_discards(0)?;
        if r.pos >= r.s.len() {
            return Ok(out);
        }
        out.push(r.value(0)?);
    }
}

/// The generic reader; edn_ops.rs adds a fast path for history ops to it.
pub(crate) struct Reader<'a> {
    pub(crate) s: &'a [u8],
    pub(crate) pos: usize,
    /// The items of the collections [`Reader::json_value`] is inside, innermost last: each
    /// collection's items are gathered here and then moved into an array of exactly their
    /// number (a history holds millions of small arrays).
    scratch: Vec<OwnedValue>,
    /// Set by an error at the end of the input (an open collection or string): given more
    /// input, the form might have been whole. edn_stream.rs reads such a form again.
    pub(crate) ran_out: bool,
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader::from_bytes(text.as_bytes())
    }

    /// A reader of bytes not checked as UTF-8 as a whole: tokens and strings are checked
    /// as they become text.
    pub(crate) fn from_bytes(s: &'a [u8]) -> Reader<'a> {
        Reader {
            s,
            pos: 0,
            scratch: Vec::new(),
            ran_out: false,
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.pos + ahead).copied()
    }

    pub(crate) fn err(&self, msg: &str) -> String {
        let line = self.s[..self.pos.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("EDN error at byte {} (line {line}): {msg}", self.pos)
    }

    /// [`Reader::err`] for input that ended too soon.
    pub(crate) fn end_err(&mut self, msg: &str) -> String {
        self.ran_out = true;
        self.err(msg)
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            if b.is_ascii_whitespace() || b == b',' {
                self.pos += 1;
            } else if b == b';' {
                while self.s.get(self.pos).is_some_and(|&c| c != b'\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Skips whitespace, comments and `#_ form` discards.
    pub(crate) fn skip_ws_and_discards(&mut self, depth: usize) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.s.get(self.pos..self.pos + 2) != Some(b"#_") {
                return Ok(());
            }
            self.pos += 2;
            self.value(depth + 1)?;
        }
    }

    pub(crate) fn token(&mut self) -> &str {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|&b| !is_delim(b)) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn seq(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_ws_and_discards(depth)?;
            match self.s.get(self.pos) {
                None => return Err(self.end_err("unterminated collection")),
                Some(&b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    pub(crate) fn value(&mut self, depth: usize) -> Result<Edn, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.skip_ws_and_discards(depth)?;
        let Some(&b) = self.s.get(self.pos) else {
            return Err(self.end_err("unexpected end"));
        };
        match b {
            b'(' => {
                self.pos += 1;
                Ok(Edn::List(self.seq(b')', depth)?))
            }
            b'[' => {
                self.pos += 1;
                Ok(Edn::Vector(self.seq(b']', depth)?))
            }
            b'{' => {
                self.pos += 1;
                self.map(depth)
            }
            b')' | b']' | b'}' => Err(self.err("unexpected closing delimiter")),
            b'"' => self.string(),
            b'#' => self.dispatch(depth),
            b'\\' => self.char_literal(),
            b':' => {
                self.pos += 1;
                let name = self.token().to_string();
                if name.is_empty() {
                    Err(self.err("empty keyword"))
                } else {
                    Ok(Edn::Keyword(name))
                }
            }
            _ => {
                // Borrowed from the text, not copied: a number per value of a set-full
                // read, millions of them in a long history.
                let text = self.s;
                let start = self.pos;
                self.token();
                let tok = std::str::from_utf8(&text[start..self.pos]).unwrap_or("");
                if tok.is_empty() {
                    return Err(self.err("unexpected character"));
                }
                Ok(atom(tok))
            }
        }
    }

    /// The value at the reader's position as JSON: exactly `into_json(self.value(depth)?)`,
    /// without building the [`Edn`] tree first for the forms op values are made of (lists,
    /// vectors, sets, keywords, strings, numbers: a tree per op, then a copy of it, was a
    /// third of reading a history), and maps (kafka's polls). Tags, characters and errors take
    /// [`Reader::value`].
    pub(crate) fn json_value(&mut self, depth: usize) -> Result<OwnedValue, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.skip_ws_and_discards(depth)?;
        let close = match (self.peek(), self.peek_at(1)) {
            (Some(b'{'), _) => {
                self.pos += 1;
                return self.json_map(depth);
            }
            (Some(b'('), _) => b')',
            (Some(b'['), _) => b']',
            (Some(b'#'), Some(b'{')) => {
                self.pos += 1;
                b'}'
            }
            (Some(b':'), _) => {
                self.pos += 1;
                let name = self.token();
                if name.is_empty() {
                    return Err(self.err("empty keyword"));
                }
                return Ok(OwnedValue::from(name.to_string()));
            }
            (Some(b'"'), _) => return self.string().map(into_json),
            (Some(b), _) if !matches!(b, b')' | b']' | b'}' | b'#' | b'\\') => {
                let text = self.s;
                let start = self.pos;
                self.token();
                let tok = std::str::from_utf8(&text[start..self.pos]).unwrap_or("");
                if tok.is_empty() {
                    return Err(self.err("unexpected character"));
                }
                return Ok(into_json(atom(tok)));
            }
            _ => return self.value(depth).map(into_json),
        };
        self.pos += 1;
        let mark = self.scratch.len();
        loop {
            if let Err(e) = self.skip_ws_and_discards(depth) {
                self.scratch.truncate(mark);
                return Err(e);
            }
            match self.peek() {
                None => {
                    self.scratch.truncate(mark);
                    return Err(self.end_err("unterminated collection"));
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    let items: Vec<OwnedValue> = self.scratch.drain(mark..).collect();
                    return Ok(OwnedValue::Array(Box::new(items)));
                }
                Some(_) => match self.json_value(depth + 1) {
                    Ok(item) => self.scratch.push(item),
                    Err(e) => {
                        self.scratch.truncate(mark);
                        return Err(e);
                    }
                },
            }
        }
    }

    /// The rest of a map after its `{` as JSON, as [`Reader::map`] reads it and
    /// [`into_json`] converts it: keys as EDN (their JSON name depends on their kind),
    /// values straight into JSON.
    fn json_map(&mut self, depth: usize) -> Result<OwnedValue, String> {
        let mut map = simd_json::owned::Object::default();
        loop {
            self.skip_ws_and_discards(depth)?;
            match self.s.get(self.pos) {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(OwnedValue::Object(Box::new(map)));
                }
                Some(_) => {}
            }
            let key = self.value(depth + 1)?;
            self.skip_ws_and_discards(depth)?;
            match self.s.get(self.pos) {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return Err(self.err("map with an odd number of forms"));
                }
                Some(_) => {
                    let value = self.json_value(depth + 1)?;
                    map.insert(key_string(key), value);
                }
            }
        }
    }

    /// The rest of a map after its `{`, read straight into pairs (every op of a history is
    /// a map: gathering its forms into one vector first, then pairing them into another,
    /// cost an allocation and a copy per op).
    fn map(&mut self, depth: usize) -> Result<Edn, String> {
        let mut pairs = Vec::new();
        loop {
            self.skip_ws_and_discards(depth)?;
            match self.s.get(self.pos) {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Edn::Map(pairs));
                }
                Some(_) => {}
            }
            let key = self.value(depth + 1)?;
            self.skip_ws_and_discards(depth)?;
            match self.s.get(self.pos) {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return Err(self.err("map with an odd number of forms"));
                }
                Some(_) => pairs.push((key, self.value(depth + 1)?)),
            }
        }
    }

    fn dispatch(&mut self, depth: usize) -> Result<Edn, String> {
        self.pos += 1;
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                Ok(Edn::Set(self.seq(b'}', depth)?))
            }
            Some(b'#') => {
                self.pos += 1;
                match self.token() {
                    "Inf" => Ok(Edn::Float(f64::INFINITY)),
                    "-Inf" => Ok(Edn::Float(f64::NEG_INFINITY)),
                    _ => Ok(Edn::Float(f64::NAN)),
                }
            }
            _ => {
                let tag = self.token().to_string();
                if tag.is_empty() {
                    return Err(self.err("bad dispatch"));
                }
                Ok(Edn::Tagged(tag, Box::new(self.value(depth + 1)?)))
            }
        }
    }

    fn string(&mut self) -> Result<Edn, String> {
        self.pos += 1;
        // Most strings (keys, node names) have no escapes: copied in one piece, at their size.
        let rest = &self.s[self.pos.min(self.s.len())..];
        if let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\')
            && rest[end] == b'"'
        {
            let text = std::str::from_utf8(&rest[..end])
                .map_err(|_| self.err("invalid UTF-8 in string"))?
                .to_string();
            self.pos += end + 1;
            return Ok(Edn::Str(text));
        }
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.end_err("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.end_err("bad escape"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let text = self.s;
                            let Some(hex) = text.get(self.pos..self.pos + 4) else {
                                return Err(self.end_err("bad \\u"));
                            };
                            self.pos += 4;
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            code.and_then(char::from_u32).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out)
            .map(Edn::Str)
            .map_err(|_| self.err("invalid UTF-8 in string"))
    }

    fn char_literal(&mut self) -> Result<Edn, String> {
        self.pos += 1;
        let start = self.pos;
        // A single delimiter character is itself a valid char literal (`\(`).
        if self.s.get(self.pos).is_some_and(|&b| is_delim(b)) {
            self.pos += 1;
        }
        let tok = if self.pos > start {
            std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
        } else {
            self.token()
        };
        let c = match tok {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            t => t.chars().next().ok_or_else(|| self.err("empty char"))?,
        };
        Ok(Edn::Char(c))
    }
}

fn atom(tok: &str) -> Edn {
    // The common case first: a plain integer of at most 18 digits always fits an i64.
    let digits = tok.strip_prefix('-').unwrap_or(tok);
    if !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = tok.parse::<i64>()
    {
        return Edn::Int(i);
    }
    match tok {
        "nil" => return Edn::Nil,
        "true" => return Edn::Bool(true),
        "false" => return Edn::Bool(false),
        _ => {}
    }
    let first = tok.as_bytes()[0];
    let numeric = first.is_ascii_digit()
        || ((first == b'-' || first == b'+')
            && tok.as_bytes().get(1).is_some_and(u8::is_ascii_digit));
    if !numeric {
        return Edn::Symbol(tok.to_string());
    }
    if let Some(digits) = tok.strip_suffix('N') {
        return digits
            .parse::<i64>()
            .map_or_else(|_| Edn::BigInt(digits.to_string()), Edn::Int);
    }
    if let Some((n, d)) = tok.split_once('/')
        && let (Ok(n), Ok(d)) = (n.parse::<f64>(), d.parse::<f64>())
    {
        return Edn::Float(n / d);
    }
    let plain = tok.strip_suffix('M').unwrap_or(tok);
    if let Ok(i) = plain.parse::<i64>() {
        return Edn::Int(i);
    }
    match plain.parse::<f64>() {
        Ok(f) if plain.contains(['.', 'e', 'E']) || tok.ends_with('M') => Edn::Float(f),
        _ if plain.bytes().skip(1).all(|b| b.is_ascii_digit()) => Edn::BigInt(plain.to_string()),
        _ => Edn::Symbol(tok.to_string()),
    }
}

/// Converts to JSON as described in the module docs.
pub fn to_json(edn: &Edn) -> OwnedValue {
    into_json(edn.clone())
}

/// [`to_json`], consuming the value: strings move instead of being copied (a history's op
/// values are converted once, and copying them was a tenth of `glomers check`'s time).
pub fn into_json(edn: Edn) -> OwnedValue {
    match edn {
        Edn::Nil => OwnedValue::Static(simd_json::StaticNode::Null),
        Edn::Bool(b) => OwnedValue::from(b),
        Edn::Int(i) => OwnedValue::from(i),
        Edn::Float(f) if f.is_finite() => OwnedValue::from(f),
        Edn::Float(_) => OwnedValue::Static(simd_json::StaticNode::Null),
        Edn::BigInt(s) => s
            .parse::<u64>()
            .map_or_else(|_| OwnedValue::from(s), OwnedValue::from),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => OwnedValue::from(s),
        Edn::Char(c) => OwnedValue::from(c.to_string()),
        Edn::List(items) | Edn::Vector(items) | Edn::Set(items) => {
            // Into a vector of exactly its length: `collect` would reuse the parser's vector,
            // spare capacity and all, and a history holds millions of these.
            let mut array = Vec::with_capacity(items.len());
            array.extend(items.into_iter().map(into_json));
            OwnedValue::Array(Box::new(array))
        }
        Edn::Map(pairs) => {
            let mut map = simd_json::owned::Object::default();
            for (k, v) in pairs {
                map.insert(key_string(k), into_json(v));
            }
            OwnedValue::Object(Box::new(map))
        }
        Edn::Tagged(_, inner) => into_json(*inner),
    }
}

/// A map key as a JSON object key: names without colons, numbers as written by Clojure.
fn key_string(k: Edn) -> String {
    match k {
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) | Edn::BigInt(s) => s,
        Edn::Int(i) => i.to_string(),
        Edn::Float(f) => format!("{f:?}"),
        Edn::Nil => "nil".to_string(),
        Edn::Bool(b) => b.to_string(),
        other => simd_json::to_string(&into_json(other)).unwrap_or_default(),
    }
}

/// Reads a Maelstrom `results.edn` into JSON (for `glomers report DIR`).
pub fn read_results_edn(path: &Path) -> Result<OwnedValue, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
        .map(|edn| to_json(&edn))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a Maelstrom `history.edn` into a [`History`], a block at a time (a history of
/// millions of ops is never one string).
pub fn read_history_edn(path: &Path) -> Result<History, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut history = History::default();
    crate::harness::edn_stream::for_each_block(file, |block| push_block_ops(block, &mut history))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(history)
}

/// Parses the text of a `history.edn`: a sequence of op maps or `#…Op{…}` records.
pub fn parse_history(text: &str) -> Result<History, String> {
    let mut history = History::default();
    push_ops(text, &mut history)?;
    Ok(history)
}
