//! Transactions of `txn-list-append` (MAELSTROM.md §3.9), shared by both strategies:
//! parsing a client's `txn` into [`MicroOp`]s, writing micro-ops back out (forwarding),
//! and executing a transaction against a map of lists, which yields the completed
//! transaction as JSON.
//!
//! Keys and appended values are non-negative integers (Maelstrom's generator, §3.8);
//! anything else is a malformed request (code 12, definite: nothing was executed).

use ahash::AHashMap;

use crate::node::RequestError;
use crate::wire::{ArrayWriter, Json};

/// Most micro-ops in one transaction (Maelstrom's `--max-txn-length` stops at 1000).
pub const MAX_MICRO_OPS: usize = 1024;

/// One step of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicroOp {
    /// `["r", key, null]`: read the key's list.
    Read(u64),
    /// `["append", key, value]`: append `value` to the key's list.
    Append(u64, u64),
}

impl MicroOp {
    /// The key the micro-op touches.
    pub fn key(self) -> u64 {
        match self {
            MicroOp::Read(key) | MicroOp::Append(key, _) => key,
        }
    }
}

/// The lists of a database state (or of a working copy of one): key → elements.
pub type Lists = AHashMap<u64, Vec<u64>>;

/// Parses a `txn` array (`[["r",1,null],["append",2,3]]`) into `into` (cleared first).
pub fn parse(txn: Json<'_>, into: &mut Vec<MicroOp>) -> Result<(), RequestError> {
    into.clear();
    if txn.kind() != crate::wire::JsonKind::Array {
        return Err(RequestError::malformed("txn must be an array of micro-ops"));
    }
    if txn.len() > MAX_MICRO_OPS {
        return Err(RequestError::malformed(format!(
            "a txn has at most {MAX_MICRO_OPS} micro-ops"
        )));
    }
    for micro_op in txn.items() {
        into.push(parse_micro_op(micro_op)?);
    }
    Ok(())
}

fn parse_micro_op(micro_op: Json<'_>) -> Result<MicroOp, RequestError> {
    let mut items = micro_op.items();
    let (Some(f), Some(key), Some(value), None) =
        (items.next(), items.next(), items.next(), items.next())
    else {
        return Err(RequestError::malformed("a micro-op is [f, key, value]"));
    };
    let key = key
        .as_u64()
        .ok_or_else(|| RequestError::malformed("keys must be non-negative integers"))?;
    match f.as_str() {
        Some("r") => Ok(MicroOp::Read(key)),
        Some("append") => value
            .as_u64()
            .map(|value| MicroOp::Append(key, value))
            .ok_or_else(|| RequestError::malformed("appended values must be integers ≥ 0")),
        _ => Err(RequestError::malformed(
            "a micro-op's f is \"r\" or \"append\"",
        )),
    }
}

/// Writes `ops` as a request `txn` array (reads with `null`), for forwarding.
pub fn write_request(out: &mut ArrayWriter<'_>, ops: &[MicroOp]) {
    let mut txn = out.array();
    for op in ops {
        let mut micro_op = txn.array();
        match *op {
            MicroOp::Read(key) => micro_op.str("r").u64(key).raw(b"null"),
            MicroOp::Append(key, value) => micro_op.str("append").u64(key).u64(value),
        };
    }
}

/// Executes `ops` in order against `lists` (appends go straight in, so later reads see
/// them) and writes the completed transaction, `[["r",k,[…]|null],["append",k,v],…]`,
/// to `out`. A key with no list reads as `null`.
pub fn execute(lists: &mut Lists, ops: &[MicroOp], out: &mut Vec<u8>) {
    let mut done = ArrayWriter::new(out);
    for op in ops {
        let mut micro_op = done.array();
        match *op {
            MicroOp::Read(key) => {
                micro_op.str("r").u64(key);
                match lists.get(&key) {
                    Some(list) => {
                        let mut elements = micro_op.array();
                        for &element in list {
                            elements.u64(element);
                        }
                    }
                    None => {
                        micro_op.raw(b"null");
                    }
                }
            }
            MicroOp::Append(key, value) => {
                lists.entry(key).or_default().push(value);
                micro_op.str("append").u64(key).u64(value);
            }
        }
    }
}

/// True when any micro-op appends.
pub fn writes(ops: &[MicroOp]) -> bool {
    ops.iter().any(|op| matches!(op, MicroOp::Append(..)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse::Parser;

    fn parsed(text: &str) -> Result<Vec<MicroOp>, RequestError> {
        let arena = bumpalo::Bump::new();
        let mut parser = Parser::new();
        let json = parser.parse(&arena, text.as_bytes()).expect("json");
        let mut ops = Vec::new();
        parse(json, &mut ops).map(|()| ops)
    }

    #[test]
    fn parses_micro_ops_and_rejects_anything_else() {
        let ops = parsed(r#"[["r",1,null],["append",2,3]]"#).expect("ok");
        assert_eq!(ops, vec![MicroOp::Read(1), MicroOp::Append(2, 3)]);
        for bad in [
            r#"{"a":1}"#,
            r#"[["r",1]]"#,
            r#"[["r",1,null,4]]"#,
            r#"[["w",1,2]]"#,
            r#"[["r","k",null]]"#,
            r#"[["append",1,-2]]"#,
            r#"[["append",1,1.5]]"#,
        ] {
            assert!(parsed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_see_earlier_appends_of_their_own_transaction() {
        let mut lists = Lists::default();
        lists.insert(1, vec![7]);
        let ops = [
            MicroOp::Read(2),
            MicroOp::Append(2, 5),
            MicroOp::Read(2),
            MicroOp::Append(1, 8),
            MicroOp::Read(1),
        ];
        let mut out = Vec::new();
        execute(&mut lists, &ops, &mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"[["r",2,null],["append",2,5],["r",2,[5]],["append",1,8],["r",1,[7,8]]]"#
        );
        assert_eq!(lists[&1], vec![7, 8]);
        assert!(writes(&ops) && !writes(&ops[..1]));
    }
}
