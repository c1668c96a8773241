//! History ops from EDN: each form of a `history.edn` (a map, or a `#jepsen.history.Op{…}`
//! record) becomes an [`Op`].
//!
//! Why not the generic reader: it builds an [`Edn`] tree per op — a `String` for every
//! keyword key and a vector of pairs — only to look nine keys up in it; at a million ops
//! that was most of `glomers check`'s time. Here an op map's keyword keys are matched where
//! they lie in the text, and only the fields an [`Op`] keeps are parsed into values. Forms
//! of other shapes take the generic path, and both end in `op_from_fields`, so the ops
//! (and the errors) are the same either way.

use simd_json::OwnedValue;

use crate::harness::edn::{Edn, Reader, into_json};
use crate::harness::edn_stream::Stop;
use crate::harness::history::{History, Op, OpType, Process};

/// The keys an op is made of, in [`Fields`] order.
const KEYS: [&str; 9] = [
    "type",
    "process",
    "f",
    "index",
    "time",
    "value",
    "error",
    "exception",
    "final?",
];
const TYPE: usize = 0;
const PROCESS: usize = 1;
const F: usize = 2;
const INDEX: usize = 3;
const TIME: usize = 4;
const VALUE: usize = 5;
const ERROR: usize = 6;
const EXCEPTION: usize = 7;
const FINAL: usize = 8;

/// The value of each of [`KEYS`], from the first pair with that key: the value, error and
/// exception as JSON (what an [`Op`] keeps of them), the rest as EDN (their kind matters:
/// `:type` must be a keyword).
#[derive(Default)]
struct Fields {
    edn: [Option<Edn>; KEYS.len()],
    json: [Option<OwnedValue>; KEYS.len()],
}

/// Whether field number `slot` is kept as JSON.
fn is_json(slot: usize) -> bool {
    matches!(slot, VALUE | ERROR | EXCEPTION)
}

impl Fields {
    /// Whether keyword key number `slot` still wants its value (no earlier pair had it).
    fn wants(&self, slot: usize) -> bool {
        self.edn.get(slot).is_some_and(Option::is_none)
            && self.json.get(slot).is_some_and(Option::is_none)
    }

    /// Keeps `value` for keyword key number `slot`, unless an earlier pair had that key.
    fn offer(&mut self, slot: Option<usize>, value: Edn) {
        match slot {
            Some(i) if self.wants(i) && is_json(i) => self.json[i] = Some(into_json(value)),
            Some(i) if self.wants(i) => self.edn[i] = Some(value),
            _ => {}
        }
    }

    /// The fields of a parsed map's pairs.
    fn from_pairs(pairs: Vec<(Edn, Edn)>) -> Fields {
        let mut fields = Fields::default();
        for (key, value) in pairs {
            if let Edn::Keyword(name) = &key {
                fields.offer(slot(name), value);
            }
        }
        fields
    }
}

/// Which of [`KEYS`] `key` is.
fn slot(key: &str) -> Option<usize> {
    KEYS.iter().position(|k| *k == key)
}

/// Appends the ops of `text` (one or more whole forms) to `history`.
pub fn push_ops(text: &str, history: &mut History) -> Result<(), String> {
    let mut reader = Reader::new(text);
    loop {
        reader.skip_ws_and_discards(0)?;
        if reader.at_end() {
            return Ok(());
        }
        let position = history.ops.len();
        let op = reader.op(position)?;
        history.ops.push(op);
    }
}

/// Appends the ops of a block of `history.edn` (see edn_stream.rs) to `history`. A form
/// that fails because the block ended inside it is read again with the next block (at the
/// file's end, the stream reports it as such); any other failure is a malformed form.
pub fn push_block_ops(block: &[u8], history: &mut History) -> Result<(), Stop> {
    let mut reader = Reader::from_bytes(block);
    loop {
        let start = reader.pos;
        let position = history.ops.len();
        let result = reader
            .skip_ws_and_discards(0)
            .and_then(|()| match reader.at_end() {
                true => Ok(None),
                false => reader.op(position).map(Some),
            });
        match result {
            Ok(Some(op)) => history.ops.push(op),
            Ok(None) => return Ok(()),
            Err(_) if reader.ran_out => return Err(Stop::Cut(start)),
            Err(_) => return Err(Stop::Bad(start, form_error(&block[start..], position))),
        }
    }
}

/// The error of the (malformed) form at the start of `text`, with byte and line counted
/// from there.
fn form_error(text: &[u8], position: usize) -> String {
    let mut reader = Reader::from_bytes(text);
    match reader
        .skip_ws_and_discards(0)
        .and_then(|()| reader.op(position))
    {
        Err(e) => e,
        Ok(_) => "malformed form".to_string(),
    }
}

/// One op from a parsed form: a map, or a tagged map.
pub fn op_from_form(form: Edn, position: usize) -> Result<Op, String> {
    let form = match form {
        Edn::Tagged(_, inner) => *inner,
        other => other,
    };
    let Edn::Map(pairs) = form else {
        return Err(format!("op {position} is not a map"));
    };
    op_from_fields(Fields::from_pairs(pairs), position)
}

impl Reader<'_> {
    /// The op at the reader's position (after whitespace): a map or a tagged map is read
    /// key by key; anything else is parsed whole and judged by [`op_from_form`].
    fn op(&mut self, position: usize) -> Result<Op, String> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                return self.op_map(0, position);
            }
            Some(b'#') if !matches!(self.peek_at(1), Some(b'{' | b'#' | b'_')) => {
                self.pos += 1;
                if !self.token().is_empty() {
                    self.skip_ws_and_discards(1)?;
                    if self.peek() == Some(b'{') {
                        self.pos += 1;
                        return self.op_map(1, position);
                    }
                }
            }
            _ => {}
        }
        self.pos = start;
        let form = self.value(0)?;
        op_from_form(form, position)
    }

    /// The rest of an op map after its `{`, as `Reader::map` reads it at `depth`, keeping
    /// only the fields.
    fn op_map(&mut self, depth: usize, position: usize) -> Result<Op, String> {
        let mut fields = Fields::default();
        loop {
            self.skip_ws_and_discards(depth)?;
            match self.peek() {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return op_from_fields(fields, position);
                }
                Some(_) => {}
            }
            // The key, matched in place: a keyword is never copied out of the text.
            let key_slot = if self.peek() == Some(b':') {
                self.pos += 1;
                let name = self.token();
                if name.is_empty() {
                    return Err(self.err("empty keyword"));
                }
                slot(name)
            } else {
                self.value(depth + 1)?;
                None
            };
            self.skip_ws_and_discards(depth)?;
            match self.peek() {
                None => return Err(self.end_err("unterminated collection")),
                Some(b'}') => {
                    self.pos += 1;
                    return Err(self.err("map with an odd number of forms"));
                }
                Some(_) => {}
            }
            match key_slot {
                // Straight into JSON: no EDN tree for the op's value.
                Some(i) if is_json(i) && fields.wants(i) => {
                    fields.json[i] = Some(self.json_value(depth + 1)?);
                }
                _ => {
                    let value = self.value(depth + 1)?;
                    fields.offer(key_slot, value);
                }
            }
        }
    }
}

/// The op from its fields, or why they do not make one.
fn op_from_fields(fields: Fields, position: usize) -> Result<Op, String> {
    let Fields {
        edn: mut fields,
        mut json,
    } = fields;
    let bad = |field: &str| format!("op {position}: missing or malformed :{field}");
    let op_type = match &fields[TYPE] {
        Some(Edn::Keyword(t)) => match t.as_str() {
            "invoke" => OpType::Invoke,
            "ok" => OpType::Ok,
            "fail" => OpType::Fail,
            "info" => OpType::Info,
            _ => return Err(bad("type")),
        },
        _ => return Err(bad("type")),
    };
    let process = match &fields[PROCESS] {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(Edn::Keyword(k)) if k == "nemesis" => Process::Nemesis,
        _ => return Err(bad("process")),
    };
    let f = match fields[F].take() {
        Some(Edn::Keyword(s) | Edn::Str(s) | Edn::Symbol(s)) => s,
        _ => return Err(bad("f")),
    };
    let int = |slot: usize, default: u64| match &fields[slot] {
        None => Ok(default),
        Some(Edn::Int(i)) if *i >= 0 => Ok(*i as u64),
        Some(_) => Err(bad(KEYS[slot])),
    };
    let index = int(INDEX, position as u64)?;
    let time_ns = int(TIME, 0)?;
    Ok(Op {
        index,
        time_ns,
        op_type,
        process,
        f,
        value: json[VALUE]
            .take()
            .unwrap_or(OwnedValue::Static(simd_json::StaticNode::Null)),
        error: json[ERROR].take(),
        exception: json[EXCEPTION].take(),
        is_final: matches!(fields[FINAL], Some(Edn::Bool(true))),
    })
}
