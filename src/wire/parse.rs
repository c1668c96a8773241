//! simd-json parsing of input lines into views backed by a per-batch bumpalo arena.
//!
//! Each line is copied once into the arena (with the padding simd-json's SIMD stage needs)
//! and parsed in place: strings are unescaped inside that copy, and the finished tape is
//! copied into the arena too. The resulting [`Json`] views therefore live as long as the
//! arena — the whole input batch — and the driver resets the arena after the batch, which
//! keeps its memory for the next one. The tape vector and simd-json's scratch buffers are
//! reused across lines, so steady-state parsing allocates nothing.

use bumpalo::Bump;
use simd_json::{Buffers, INPUT_PADDING, Tape};

use super::json::Json;

/// Reusable simd-json state.
pub struct Parser {
    buffers: Buffers,
    /// Kept empty between calls; only its allocation is reused.
    tape: Tape<'static>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with scratch space for typical Maelstrom lines.
    pub fn new() -> Self {
        Parser { buffers: Buffers::new(4096), tape: Tape(Vec::with_capacity(256)) }
    }

    /// Parses one JSON document. The view borrows `arena`; `line` itself is not modified.
    pub fn parse<'b>(&mut self, arena: &'b Bump, line: &[u8]) -> Result<Json<'b>, simd_json::Error> {
        let padded = arena.alloc_slice_fill_copy(line.len() + INPUT_PADDING, 0u8);
        padded[..line.len()].copy_from_slice(line);
        let mut tape: Tape<'b> = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let parsed = simd_json::fill_tape_padded(padded, line.len(), &mut self.buffers, &mut tape);
        let nodes = parsed.map(|()| &*arena.alloc_slice_copy(&tape.0));
        self.tape = tape.reset();
        let nodes = nodes?;
        Json::from_tape(nodes).ok_or_else(|| simd_json::Error::generic(simd_json::ErrorType::Eof))
    }
}

#[cfg(test)]
mod tests {
    use bumpalo::Bump;

    use super::Parser;
    use crate::wire::json::JsonKind;
    use crate::wire::writer::write_json;

    #[test]
    fn parses_views_and_writes_them_back() {
        let arena = Bump::new();
        let mut parser = Parser::new();
        let line = br#"{"src":"c1","body":{"type":"echo","msg_id":1,"echo":"a\"b\u00e9","n":-3,"big":18446744073709551615,"f":1.5,"nested":[{"x":null},true,[]]}}"#;
        let value = parser.parse(&arena, line).expect("valid json");
        let body = value.get("body").expect("body");
        assert_eq!(body.get("type").and_then(|v| v.as_str()), Some("echo"));
        assert_eq!(body.get("echo").and_then(|v| v.as_str()), Some("a\"bé"));
        assert_eq!(body.get("n").and_then(|v| v.as_i64()), Some(-3));
        assert_eq!(body.get("big").and_then(|v| v.as_u64()), Some(u64::MAX));
        assert_eq!(body.get("f").map(|v| v.kind()), Some(JsonKind::Float));
        assert_eq!(body.get("f").and_then(|v| v.as_u64()), None);
        let nested = body.get("nested").expect("nested");
        assert_eq!(nested.items().count(), 3);
        let mut out = Vec::new();
        write_json(&mut out, nested);
        assert_eq!(out, br#"[{"x":null},true,[]]"#);
        assert!(parser.parse(&arena, b"{\"src\":").is_err());
        assert!(parser.parse(&arena, b"[1,2]").is_ok());
    }
}
