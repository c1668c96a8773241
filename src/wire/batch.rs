//! Batch parsing: all lines of one input batch parsed by a single simd-json call.
//!
//! simd-json pays a fixed set-up cost per document, which dominates for Maelstrom's
//! ~100-byte lines. [`Batch`] copies the batch's lines into the arena as one document,
//! `[line1,line2,…]`, and parses that once. The result is trusted only if every comma we
//! inserted is a structural character at nesting depth 1 (checked against simd-json's own
//! structural index) and the array has one element per line — i.e. the lines are exactly
//! the array's elements, so nothing can be split or merged differently than line by line.
//! Otherwise (some line is malformed), the caller falls back to parsing each line on its
//! own from an untouched copy, so every bad line still gets its own error.

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
use simd_json::INPUT_PADDING;

use super::json::Json;
use super::parse::Parser;

/// Lines of one batch, gathered into an arena document.
pub struct Batch<'b> {
    arena: &'b Bump,
    /// `[`, the lines joined by `,`, then room for `]` and simd-json's padding.
    document: &'b mut [u8],
    /// Bytes of `document` written so far.
    filled: usize,
    /// `(start, len)` of each line inside `document`.
    lines: ArenaVec<'b, (usize, usize)>,
}

/// How a batch parsed.
pub enum Parsed<'b> {
    /// Every line, in order, as one array view.
    Whole(Json<'b>),
    /// Some line is not valid JSON: here are the lines, untouched, to parse one by one.
    EachLine(ArenaVec<'b, &'b [u8]>),
}

impl<'b> Batch<'b> {
    /// An empty batch for lines totalling at most `max_bytes` (line ends included:
    /// each line end's byte becomes a separator).
    pub fn new_in(arena: &'b Bump, max_bytes: usize) -> Self {
        let document = arena.alloc_slice_fill_copy(max_bytes + 2 + INPUT_PADDING, 0u8);
        document[0] = b'[';
        let lines = ArenaVec::with_capacity_in(max_bytes / 64 + 1, arena);
        Batch {
            arena,
            document,
            filled: 1,
            lines,
        }
    }

    /// Number of lines gathered.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when no line was gathered.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds one line (without its line end). Returns false, adding nothing, if it does
    /// not fit in the `max_bytes` given to [`Batch::new_in`].
    pub fn push_line(&mut self, line: &[u8]) -> bool {
        let separator = usize::from(!self.lines.is_empty());
        let start = self.filled + separator;
        let end = start + line.len();
        if end + 1 + INPUT_PADDING > self.document.len() {
            return false;
        }
        if separator == 1 {
            self.document[self.filled] = b',';
        }
        self.document[start..end].copy_from_slice(line);
        self.filled = end;
        self.lines.push((start, line.len()));
        true
    }

    /// Parses the whole batch, or hands back the lines for one-by-one parsing.
    pub fn parse(self, parser: &mut Parser) -> Parsed<'b> {
        self.document[self.filled] = b']';
        let len = self.filled + 1;
        let pristine: &'b [u8] = self.arena.alloc_slice_copy(&self.document[..len]);
        if let Ok(array) = parser.parse_in_place(self.arena, self.document, len) {
            let aligned = array.len() == self.lines.len()
                && separators_at_top_level(pristine, parser.structural_indexes(), &self.lines);
            if aligned {
                return Parsed::Whole(array);
            }
        }
        let mut lines = ArenaVec::with_capacity_in(self.lines.len(), self.arena);
        lines.extend(
            self.lines
                .iter()
                .map(|&(start, len)| &pristine[start..start + len]),
        );
        Parsed::EachLine(lines)
    }
}

/// True if each inserted comma (the byte before every line but the first) is a
/// structural character at depth 1 of the array. One pass over simd-json's structural
/// index with a table-driven depth count: no branches but the separator match.
fn separators_at_top_level(document: &[u8], structural: &[u32], lines: &[(usize, usize)]) -> bool {
    const DEPTH_DELTA: [i32; 256] = {
        let mut table = [0i32; 256];
        table[b'[' as usize] = 1;
        table[b'{' as usize] = 1;
        table[b']' as usize] = -1;
        table[b'}' as usize] = -1;
        table
    };
    // `usize::MAX` once every separator was seen: no structural index is that large.
    let mut separators = lines.iter().skip(1).map(|&(start, _)| start - 1);
    let mut next_separator = separators.next().unwrap_or(usize::MAX);
    let mut depth = 0i32;
    for &index in structural {
        let index = index as usize;
        let Some(&byte) = document.get(index) else {
            return false;
        };
        depth += DEPTH_DELTA[byte as usize];
        if index == next_separator {
            if depth != 1 {
                return false;
            }
            next_separator = separators.next().unwrap_or(usize::MAX);
        }
    }
    next_separator == usize::MAX
}

#[cfg(test)]
mod tests {
    use bumpalo::Bump;

    use super::{Batch, Parsed};
    use crate::wire::Parser;

    fn parse_lines(lines: &[&str]) -> Result<usize, usize> {
        let arena = Bump::new();
        let mut parser = Parser::new();
        let mut batch = Batch::new_in(&arena, 256);
        for line in lines {
            assert!(batch.push_line(line.as_bytes()));
        }
        match batch.parse(&mut parser) {
            Parsed::Whole(array) => Ok(array.len()),
            Parsed::EachLine(lines) => Err(lines.len()),
        }
    }

    #[test]
    fn well_formed_lines_parse_as_one_document() {
        assert_eq!(
            parse_lines(&[r#"{"a":1}"#, r#" {"b":[1,{"c":","}]} "#, "2"]),
            Ok(3)
        );
    }

    #[test]
    fn lines_that_would_merge_or_split_fall_back_to_one_by_one() {
        // Invalid alone, valid together: must not be trusted.
        assert_eq!(
            parse_lines(&[r#"{"a":[1"#, r#"2]}"#, r#"{"c":3},{"d":4}"#]),
            Err(3)
        );
        assert_eq!(
            parse_lines(&[r#"{"a":"}"#, r#"{"b":1}"}"#, r#"{"c":3},{"d":4}"#]),
            Err(3)
        );
        assert_eq!(parse_lines(&["1,2", "[3", "4]"]), Err(3));
        assert_eq!(parse_lines(&[r#"{"a":1}"#, "garbage"]), Err(2));
    }
}
