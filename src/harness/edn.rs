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

use crate::harness::history::{History, Op, OpType, Process};

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
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        r.skip_ws_and_discards(0)?;
        if r.pos >= r.s.len() {
            return Ok(out);
        }
        out.push(r.value(0)?);
    }
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl Reader<'_> {
    fn err(&self, msg: &str) -> String {
        let line = self.s[..self.pos.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("EDN error at byte {} (line {line}): {msg}", self.pos)
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
    fn skip_ws_and_discards(&mut self, depth: usize) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.s.get(self.pos..self.pos + 2) != Some(b"#_") {
                return Ok(());
            }
            self.pos += 2;
            self.value(depth + 1)?;
        }
    }

    fn token(&mut self) -> &str {
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
                None => return Err(self.err("unterminated collection")),
                Some(&b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Edn, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.skip_ws_and_discards(depth)?;
        let Some(&b) = self.s.get(self.pos) else {
            return Err(self.err("unexpected end"));
        };
        match b {
            b'(' | b'[' | b'{' => {
                self.pos += 1;
                let close = match b {
                    b'(' => b')',
                    b'[' => b']',
                    _ => b'}',
                };
                let items = self.seq(close, depth)?;
                Ok(match b {
                    b'(' => Edn::List(items),
                    b'[' => Edn::Vector(items),
                    _ => self.map(items)?,
                })
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
                let tok = self.token().to_string();
                if tok.is_empty() {
                    return Err(self.err("unexpected character"));
                }
                Ok(atom(&tok))
            }
        }
    }

    fn map(&self, items: Vec<Edn>) -> Result<Edn, String> {
        if !items.len().is_multiple_of(2) {
            return Err(self.err("map with an odd number of forms"));
        }
        let mut pairs = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        Ok(Edn::Map(pairs))
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
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.err("bad escape"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.pos..self.pos + 4)
                                .ok_or_else(|| self.err("bad \\u"))?;
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
    match edn {
        Edn::Nil => OwnedValue::Static(simd_json::StaticNode::Null),
        Edn::Bool(b) => OwnedValue::from(*b),
        Edn::Int(i) => OwnedValue::from(*i),
        Edn::Float(f) if f.is_finite() => OwnedValue::from(*f),
        Edn::Float(_) => OwnedValue::Static(simd_json::StaticNode::Null),
        Edn::BigInt(s) => s
            .parse::<u64>()
            .map_or_else(|_| OwnedValue::from(s.as_str()), OwnedValue::from),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => OwnedValue::from(s.as_str()),
        Edn::Char(c) => OwnedValue::from(c.to_string()),
        Edn::List(items) | Edn::Vector(items) | Edn::Set(items) => {
            OwnedValue::Array(Box::new(items.iter().map(to_json).collect()))
        }
        Edn::Map(pairs) => {
            let mut map = simd_json::owned::Object::default();
            for (k, v) in pairs {
                map.insert(key_string(k), to_json(v));
            }
            OwnedValue::Object(Box::new(map))
        }
        Edn::Tagged(_, inner) => to_json(inner),
    }
}

/// A map key as a JSON object key: names without colons, numbers as written by Clojure.
fn key_string(k: &Edn) -> String {
    match k {
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) | Edn::BigInt(s) => s.clone(),
        Edn::Int(i) => i.to_string(),
        Edn::Float(f) => format!("{f:?}"),
        Edn::Nil => "nil".to_string(),
        Edn::Bool(b) => b.to_string(),
        other => simd_json::to_string(&to_json(other)).unwrap_or_default(),
    }
}

/// Reads a Maelstrom `results.edn` into JSON (for `glomers report DIR`).
pub fn read_results_edn(path: &Path) -> Result<OwnedValue, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
        .map(|edn| to_json(&edn))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a Maelstrom `history.edn` into a [`History`], streaming it form by form (a
/// history of millions of ops is never one string).
pub fn read_history_edn(path: &Path) -> Result<History, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut history = History::default();
    crate::harness::edn_stream::for_each_form(reader, |text| {
        for form in parse_all(text)? {
            let position = history.ops.len();
            history.ops.push(op_from_form(&form, position)?);
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(history)
}

/// Parses the text of a `history.edn`: a sequence of op maps or `#…Op{…}` records.
pub fn parse_history(text: &str) -> Result<History, String> {
    let mut history = History::default();
    for (position, form) in parse_all(text)?.iter().enumerate() {
        history.ops.push(op_from_form(form, position)?);
    }
    Ok(history)
}

/// One op from its form: a map, or a `#jepsen.history.Op{…}` record.
fn op_from_form(form: &Edn, position: usize) -> Result<Op, String> {
    let form = match form {
        Edn::Tagged(_, inner) => inner.as_ref(),
        other => other,
    };
    let Edn::Map(pairs) = form else {
        return Err(format!("op {position} is not a map"));
    };
    op_from_pairs(pairs, position)
}

fn op_from_pairs(pairs: &[(Edn, Edn)], position: usize) -> Result<Op, String> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == Edn::Keyword(name.to_string()))
            .map(|(_, v)| v)
    };
    let bad = |field: &str| format!("op {position}: missing or malformed :{field}");
    let op_type = match get("type") {
        Some(Edn::Keyword(t)) => match t.as_str() {
            "invoke" => OpType::Invoke,
            "ok" => OpType::Ok,
            "fail" => OpType::Fail,
            "info" => OpType::Info,
            _ => return Err(bad("type")),
        },
        _ => return Err(bad("type")),
    };
    let process = match get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(Edn::Keyword(k)) if k == "nemesis" => Process::Nemesis,
        _ => return Err(bad("process")),
    };
    let f = match get("f") {
        Some(Edn::Keyword(s) | Edn::Str(s) | Edn::Symbol(s)) => s.clone(),
        _ => return Err(bad("f")),
    };
    let int = |name: &str, default: u64| match get(name) {
        None => Ok(default),
        Some(Edn::Int(i)) if *i >= 0 => Ok(*i as u64),
        Some(_) => Err(bad(name)),
    };
    Ok(Op {
        index: int("index", position as u64)?,
        time_ns: int("time", 0)?,
        op_type,
        process,
        f,
        value: get("value").map_or(OwnedValue::Static(simd_json::StaticNode::Null), to_json),
        error: get("error").map(to_json),
        exception: get("exception").map(to_json),
        is_final: matches!(get("final?"), Some(Edn::Bool(true))),
    })
}
