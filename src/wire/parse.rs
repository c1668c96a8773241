//! simd-json parsing of input lines into views backed by a per-batch bumpalo arena.
//!
//! The hot path, [`Parser::parse_in_place`], parses a padded buffer where it lies (a
//! batch's lines where the framer holds them, see [`super::batch`]; the framer keeps
//! simd-json's padding readable after every line): strings are unescaped inside the
//! buffer, and the finished tape is copied into the arena. [`Parser::parse`] first copies
//! the line into the arena, for callers holding `&[u8]`. The driver resets the arena
//! after each input batch, which keeps its memory for the next one; the tape vector and
//! simd-json's scratch buffers are reused across lines, so steady-state parsing allocates
//! nothing.
//!
//! Why copy the tape rather than lend it out: simd-json's stage 2 gets each string from
//! its `parse_str` (called through a function pointer: runtime CPU detection) as a
//! `Result` in memory. Inlined here, with the copy after it, rustc 1.95 reloads the
//! string's pointer and length as two 8-byte words, which the CPU forwards from the two
//! stores that wrote them. In every no-copy arrangement tried (the tape lent out to the
//! caller, a closure over it, `fill_tape_padded` not inlined) it reloads them as one
//! 16-byte word, which cannot be forwarded and stalls on every string: stage 2 took twice
//! as long, far more than the copy costs (echo, 1M requests: 186 ms CPU with the tape
//! lent out, 166 ms with it copied). So `fill_tape_padded` is called from this one place,
//! to stay inlined here; `perf/stage2-reloads.sh` checks the machine code.

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
        Parser {
            buffers: Buffers::new(4096),
            tape: Tape(Vec::with_capacity(256)),
        }
    }

    /// Byte offsets of the structural characters (outside strings) found by the last parse.
    pub fn structural_indexes(&self) -> &[u32] {
        self.buffers.structural_indexes()
    }

    /// Parses one JSON document, copying it into `arena` first; `line` is not modified.
    pub fn parse<'b>(
        &mut self,
        arena: &'b Bump,
        line: &[u8],
    ) -> Result<Json<'b>, simd_json::Error> {
        let padded = arena.alloc_slice_fill_copy(line.len() + INPUT_PADDING, 0u8);
        padded[..line.len()].copy_from_slice(line);
        self.parse_in_place(arena, padded, line.len())
    }

    /// Parses the document `bytes[..len]` in place (strings are unescaped inside it);
    /// `bytes` must extend at least [`INPUT_PADDING`] bytes past `len`, and those bytes
    /// are left unchanged. The tape is copied into `arena`.
    pub fn parse_in_place<'b>(
        &mut self,
        arena: &'b Bump,
        bytes: &'b mut [u8],
        len: usize,
    ) -> Result<Json<'b>, simd_json::Error> {
        let mut tape: Tape<'b> = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let parsed = simd_json::fill_tape_padded(bytes, len, &mut self.buffers, &mut tape);
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
