//! Printing JSON values as EDN, the way Maelstrom's `results.edn`, `history.edn` and console
//! show them: keyword keys, `:keyword` values where Jepsen has keywords, and a
//! `clojure.pprint`-like layout (right margin 72, collections broken one item per line
//! when they do not fit).
//!
//! JSON cannot tell a keyword from a string, so context decides: result-map keys are
//! keywords (numeric keys such as quantile points print as numbers); `valid?` `"unknown"`,
//! `outcome`, and an op's `type`, `f` and `:nemesis` process are keywords; inside op values
//! only the value's own top-level map keys, micro-op names (`:r`, `:append`, …) and error
//! names are keywords, as in Maelstrom's histories. Likewise JSON has no sets: the lists in
//! a nemesis grudge map (`[:isolated {"n1" #{"n2" "n3"}}]`) print as EDN sets.

use std::fmt::Write as _;

use simd_json::{OwnedValue, StaticNode};

use super::order::ordered_keys;
use crate::harness::services::print_string;

/// `clojure.pprint`'s default right margin.
const WIDTH: usize = 72;

/// Names that are keywords when they head an array inside an op value (micro-ops,
/// partition descriptions).
const HEAD_KEYWORDS: &[&str] = &[
    "r", "w", "append", "send", "poll", "isolated", "cas", "read", "write",
];

/// How strings and map keys in a subtree are rendered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// A results map: keys are keywords.
    Results,
    /// An op's `:value` (keys of its top-level map are keywords, deeper maps keep strings).
    OpValue,
    /// Inside an op value, below the top level.
    Nested,
    /// An op's `:error` (`:net-timeout`, `[:abort "text"]`).
    Error,
    /// A nemesis op's value (`:majority`, `[:isolated {"n1" #{…}}]`).
    Nemesis,
    /// A list that is a set in Jepsen: the nodes a grudge map gives each node. Its items
    /// are plain data (strings stay strings).
    Set,
    /// Keys of a data map inside results (id → count): numbers stay numbers, the rest are
    /// strings. Only used for keys.
    DataKeys,
}

/// True for strings Clojure would read back as a simple keyword name.
pub fn keyword_safe(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || "*+!_?<>=".contains(c))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "*+!_?<>=-.'".contains(c))
}

/// A double as Clojure prints it (`1.0`, `2.0370371`, `1.0E16`, `##NaN`).
pub fn clj_double(x: f64) -> String {
    if x.is_nan() {
        return "##NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "##Inf" } else { "##-Inf" }.to_string();
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x);
    match s.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => format!("{mantissa}E{exp}"),
        Some((mantissa, exp)) => format!("{mantissa}.0E{exp}"),
        None => s.to_string(),
    }
}

fn key_text(key: &str, mode: Mode) -> String {
    let mut out = String::new();
    match mode {
        Mode::Results | Mode::DataKeys if key.parse::<f64>().is_ok() && !key.starts_with('+') => {
            out.push_str(key)
        }
        Mode::Results | Mode::OpValue if keyword_safe(key) => {
            out.push(':');
            out.push_str(key);
        }
        _ => print_string(key, &mut out),
    }
    out
}

/// The mode of a child value: `key` is its map key, `parent` the enclosing map.
fn child_mode(mode: Mode, key: Option<&str>, is_op: bool, nemesis: bool) -> Mode {
    match (mode, key) {
        (Mode::Results, Some("value")) if is_op && nemesis => Mode::Nemesis,
        (Mode::Results, Some("value")) if is_op => Mode::OpValue,
        (Mode::Results, Some("error")) if is_op => Mode::Error,
        (Mode::Results, _) => Mode::Results,
        // The values of a map inside a nemesis value: a grudge's sets of nodes.
        (Mode::Nemesis, Some(_)) => Mode::Set,
        (Mode::Error | Mode::Nemesis, _) => Mode::Nested,
        _ => Mode::Nested,
    }
}

/// Renders a string value under `mode`; `key` is its map key, `head` whether it is the
/// first element of an array.
fn string_text(s: &str, mode: Mode, key: Option<&str>, head: bool, is_op: bool) -> String {
    let keyword = match mode {
        Mode::Results => {
            matches!(key, Some("outcome"))
                || (key == Some("valid?") && s == "unknown")
                || (is_op && matches!(key, Some("type" | "f")))
                || (is_op && key == Some("process") && s == "nemesis")
        }
        Mode::Error | Mode::Nemesis => keyword_safe(s) && (key.is_some() || head),
        Mode::OpValue | Mode::Nested => head && HEAD_KEYWORDS.contains(&s),
        Mode::DataKeys | Mode::Set => false,
    };
    let mut out = String::new();
    if keyword {
        out.push(':');
        out.push_str(s);
    } else {
        print_string(s, &mut out);
    }
    out
}

/// Printer state: the value is rendered at column `col`, with `trail` characters
/// (closing brackets, a comma) still to follow on its last line.
struct Printer {
    pretty: bool,
}

impl Printer {
    fn write(&self, v: &OwnedValue, ctx: Ctx, col: usize, trail: usize, out: &mut String) {
        let flat = self.flat(v, ctx);
        if !self.pretty || col + flat.len() + trail <= WIDTH || !is_coll(v) {
            out.push_str(&flat);
            return;
        }
        match v {
            OwnedValue::Object(map) => {
                let is_op = map.contains_key("index") && map.contains_key("type");
                let nemesis = map.get("process").and_then(|p| p.as_str_opt()) == Some("nemesis");
                let keys = keys_for(map, ctx.mode);
                let tag = record_tag(ctx.mode, is_op);
                out.push_str(tag);
                out.push('{');
                let col = col + tag.len();
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n");
                        out.push_str(&" ".repeat(col + 1));
                    }
                    let key = key_text(k, ctx.key_mode());
                    out.push_str(&key);
                    out.push(' ');
                    let last = i + 1 == keys.len();
                    let child = ctx.child(Some(k), is_op, nemesis);
                    if let Some(item) = map.get(*k) {
                        let t = if last { trail + 1 } else { 1 };
                        self.write(item, child, col + 1 + key.len() + 1, t, out);
                    }
                }
                out.push('}');
            }
            OwnedValue::Array(items) => {
                let (open, close) = ctx.brackets();
                out.push_str(open);
                let col = col + open.len();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                        out.push_str(&" ".repeat(col));
                    }
                    let last = i + 1 == items.len();
                    let child = ctx.element(i == 0);
                    self.write(item, child, col, if last { trail + 1 } else { 0 }, out);
                }
                out.push_str(close);
            }
            _ => out.push_str(&flat),
        }
    }

    fn flat(&self, v: &OwnedValue, ctx: Ctx) -> String {
        match v {
            OwnedValue::Static(StaticNode::Null) => "nil".to_string(),
            OwnedValue::Static(StaticNode::Bool(b)) => b.to_string(),
            OwnedValue::Static(StaticNode::I64(i)) => i.to_string(),
            OwnedValue::Static(StaticNode::U64(u)) => u.to_string(),
            OwnedValue::Static(StaticNode::F64(x)) => clj_double(*x),
            OwnedValue::String(s) => string_text(s, ctx.mode, ctx.key, ctx.head, ctx.in_op),
            OwnedValue::Object(map) => {
                let is_op = map.contains_key("index") && map.contains_key("type");
                let nemesis = map.get("process").and_then(|p| p.as_str_opt()) == Some("nemesis");
                let mut out = format!("{}{{", record_tag(ctx.mode, is_op));
                for (i, k) in keys_for(map, ctx.mode).into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{} ", key_text(k, ctx.key_mode()));
                    if let Some(item) = map.get(k) {
                        out.push_str(&self.flat(item, ctx.child(Some(k), is_op, nemesis)));
                    }
                }
                out.push('}');
                out
            }
            OwnedValue::Array(items) => {
                let (open, close) = ctx.brackets();
                let parts: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.flat(item, ctx.element(i == 0)))
                    .collect();
                format!("{open}{}{close}", parts.join(" "))
            }
        }
    }
}

/// Ops inside results print as Jepsen's records, `#jepsen.history.Op{…}`.
fn record_tag(mode: Mode, is_op: bool) -> &'static str {
    if mode == Mode::Results && is_op {
        "#jepsen.history.Op"
    } else {
        ""
    }
}

/// Small maps inside op values keep their own (wire) order, as Maelstrom prints reply
/// bodies; `simd_json` objects of up to 32 keys are vector-backed and iterate in insertion
/// order. Larger maps are hash-backed, so they are sorted for determinism.
fn keys_for(map: &simd_json::owned::Object, mode: Mode) -> Vec<&String> {
    if mode != Mode::Results && map.len() <= 32 {
        map.keys().collect()
    } else {
        ordered_keys(map)
    }
}

fn is_coll(v: &OwnedValue) -> bool {
    matches!(v, OwnedValue::Object(_) | OwnedValue::Array(_))
}

trait AsStrOpt {
    fn as_str_opt(&self) -> Option<&str>;
}

impl AsStrOpt for OwnedValue {
    fn as_str_opt(&self) -> Option<&str> {
        match self {
            OwnedValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Where a value sits: its mode, its map key, whether it heads an array, whether its
/// parent map is an op.
#[derive(Clone, Copy)]
struct Ctx<'k> {
    mode: Mode,
    key: Option<&'k str>,
    head: bool,
    in_op: bool,
}

impl<'k> Ctx<'k> {
    /// How this map's keys print. Maps of data (unique-ids' `duplicated`: id → count) keep
    /// string keys; other result maps use keywords.
    fn key_mode(&self) -> Mode {
        if self.mode == Mode::Results && self.key == Some("duplicated") {
            Mode::DataKeys
        } else {
            self.mode
        }
    }

    fn child(&self, key: Option<&'k str>, is_op: bool, nemesis: bool) -> Ctx<'k> {
        Ctx {
            mode: child_mode(self.mode, key, is_op, nemesis),
            key,
            head: false,
            in_op: is_op,
        }
    }

    fn element(&self, head: bool) -> Ctx<'k> {
        let (mode, head) = match self.mode {
            Mode::Results => (Mode::Results, head),
            Mode::Error | Mode::Nemesis => (self.mode, head),
            // A set's items have no position: none of them heads anything.
            Mode::Set => (Mode::Set, false),
            _ => (Mode::Nested, head),
        };
        Ctx {
            mode,
            key: None,
            head,
            in_op: false,
        }
    }

    /// Sequences that are map values in results print as lists (Jepsen's lazy seqs), except
    /// `range`; sequences inside sequences (pairs, error tuples) and op values are vectors;
    /// a grudge's node lists are sets.
    fn brackets(&self) -> (&'static str, &'static str) {
        match self.mode {
            Mode::Set if self.key.is_some() => ("#{", "}"),
            Mode::Results if self.key.is_some() && self.key != Some("range") => ("(", ")"),
            _ => ("[", "]"),
        }
    }
}

/// Pretty-prints a results map (or any value in results mode) starting at column 0.
pub fn pretty(v: &OwnedValue) -> String {
    let mut out = String::new();
    let ctx = Ctx {
        mode: Mode::Results,
        key: None,
        head: false,
        in_op: false,
    };
    Printer { pretty: true }.write(v, ctx, 0, 0, &mut out);
    out
}

/// One line of EDN for an op's field rendered under `mode` (history files).
pub fn single_line(v: &OwnedValue, mode: Mode) -> String {
    let ctx = Ctx {
        mode,
        key: Some("value"),
        head: false,
        in_op: false,
    };
    Printer { pretty: false }.flat(v, ctx)
}
