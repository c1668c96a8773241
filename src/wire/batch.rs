//! Batch parsing: all whole lines of one input batch parsed by a single simd-json call,
//! where the framer holds them.
//!
//! simd-json pays a fixed set-up cost per document, which dominates for Maelstrom's
//! ~100-byte lines. [`Batch`] turns the framer's buffered lines into one document,
//! `[line1,line2,…]`, in place: the spare byte before the first line becomes `[`, the
//! line end after each line `,`, the last one `]` (blank lines stay whitespace). It is
//! parsed once, and the result is trusted only if the array has one element per line and
//! each element is followed by exactly the separator written after its line (checked
//! against simd-json's structural index) — i.e. the lines are exactly the array's
//! elements, nothing split or merged differently than line by line. Otherwise (some line
//! is malformed), the caller puts the lines back and handles them one by one, so every
//! bad line still gets its own error.
//!
//! Lines not handled go back to the framer, so they must be left as they came:
//! [`Batch::restore`] puts the line ends back. That is all parsing changes, except for
//! strings with escapes, which simd-json unescapes in place; a batch with a backslash
//! anywhere is therefore parsed from an arena copy instead (one `memcpy`).

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;
use simd_json::{INPUT_PADDING, Node};

use super::framing::WholeLines;
use super::json::Json;
use super::parse::Parser;

/// The whole lines of one batch, made into one JSON array document.
pub struct Batch<'b> {
    /// The spare byte, the lines, then at least [`INPUT_PADDING`] bytes: the framer's own
    /// bytes, or an arena copy of them (see `in_place`).
    document: &'b mut [u8],
    /// False when `document` is a copy (a line has a backslash): nothing to restore.
    in_place: bool,
    /// What `document[0]` held before it became `[`.
    head: u8,
    /// `(start, end)` in `document` of each non-blank line, its line end excluded.
    lines: ArenaVec<'b, (usize, usize)>,
    /// Index in `document` of each line's separator (its `\n`, now `,` or the final `]`).
    separators: ArenaVec<'b, usize>,
    /// Framer position of `document[1]`.
    position: usize,
    /// Framer position of the input not in this batch (an over-long line, or the end).
    rest: usize,
    /// Holds the copy (if any) and the parsed tape.
    arena: &'b Bump,
}

impl<'b> Batch<'b> {
    /// Gathers the whole lines up to the first longer than `max_line` bytes (which is
    /// left out, for the framer to report) into a document, in place unless a line has a
    /// backslash.
    pub fn gather(whole: WholeLines<'b>, arena: &'b Bump, max_line: usize) -> Self {
        let WholeLines {
            bytes,
            len,
            position,
        } = whole;
        let mut lines = ArenaVec::with_capacity_in(len / 64 + 1, arena);
        let mut separators = ArenaVec::with_capacity_in(len / 64 + 1, arena);
        let mut line_start = 1;
        let mut stop = 1;
        let mut backslash = false;
        // One pass finds the line ends and whether any line has a backslash.
        for found in memchr::memchr2_iter(b'\n', b'\\', &bytes[1..=len]).map(|at| at + 1) {
            if bytes[found] == b'\\' {
                backslash = true;
                continue;
            }
            let newline = found;
            let mut line_end = newline;
            if line_end > line_start && bytes[line_end - 1] == b'\r' {
                line_end -= 1;
            }
            if line_end - line_start > max_line {
                break;
            }
            if bytes[line_start..line_end]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
            {
                lines.push((line_start, line_end));
                separators.push(newline);
            }
            line_start = newline + 1;
            stop = line_start;
        }
        let rest = position + stop - 1;
        let in_place = !backslash;
        let document = if in_place {
            bytes
        } else {
            let end = (stop + INPUT_PADDING).min(bytes.len());
            arena.alloc_slice_copy(&bytes[..end])
        };
        let head = document[0];
        document[0] = b'[';
        if let Some((&last, others)) = separators.split_last() {
            for &separator in others {
                document[separator] = b',';
            }
            document[last] = b']';
        }
        Batch {
            document,
            in_place,
            head,
            lines,
            separators,
            position,
            rest,
            arena,
        }
    }

    /// Number of lines gathered.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when no line was gathered (all blank, or the first is over the cap).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The framer position to [`super::LineFramer::rewind`] to once the first `handled`
    /// lines are handled: the start of the next line, or the input after the batch.
    pub fn resume_position(&self, handled: usize) -> usize {
        match self.lines.get(handled) {
            Some(&(start, _)) => self.position + start - 1,
            None => self.rest,
        }
    }

    /// Line `index` as it came, once [`Batch::restore`]d (for tests and diagnostics).
    pub fn line(&self, index: usize) -> Option<&[u8]> {
        let &(start, end) = self.lines.get(index)?;
        Some(&self.document[start..end])
    }

    /// Parses the batch into a view of the array; `Some` only if its lines are exactly
    /// the array's elements (see the module doc).
    pub fn parse(&mut self, parser: &mut Parser) -> Option<Json<'_>> {
        let arena = self.arena;
        let &last = self.separators.last()?;
        let array = parser.parse_in_place(arena, self.document, last + 1).ok()?;
        let aligned = array.len() == self.separators.len()
            && elements_end_at(array, parser.structural_indexes(), &self.separators);
        aligned.then_some(array)
    }

    /// Puts back every byte the batch changed, so that its lines can be parsed again one
    /// by one, or returned to the framer.
    pub fn restore(&mut self) {
        if !self.in_place {
            return;
        }
        self.document[0] = self.head;
        for &separator in &self.separators {
            self.document[separator] = b'\n';
        }
    }
}

/// True if the `i`-th element of `array` is followed, in simd-json's structural index, by
/// a character at `separators[i]`. Counting from the tape how many structural characters
/// each element has (see [`structural_count`]) gives where it ends without reading the
/// document, which the parsed strings borrow.
fn elements_end_at(array: Json<'_>, structural: &[u32], separators: &[usize]) -> bool {
    // Index 0 is the opening `[`.
    let mut index = 1;
    for (element, &separator) in array.items().zip(separators) {
        index += structural_count(element.nodes());
        if structural.get(index).map(|&at| at as usize) != Some(separator) {
            return false;
        }
        index += 1;
    }
    true
}

/// Number of structural characters simd-json's stage 1 marks for a value (its tape
/// nodes): one per node (a string's opening quote, a number's or literal's first byte,
/// a container's opening bracket), plus for each container its closing bracket and the
/// commas between its items and, for an object, one `:` per key. Written with one
/// predictable branch per node (most are not containers) rather than a `match`, which
/// compiles to a jump table whose indirect jump mispredicts.
fn structural_count(nodes: &[Node<'_>]) -> usize {
    let mut count = nodes.len();
    for node in nodes {
        if let Node::Object { len, .. } = *node {
            count += (2 * len).max(1);
        } else if let Node::Array { len, .. } = *node {
            count += len.max(1);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use bumpalo::Bump;

    use super::Batch;
    use crate::wire::{Frame, LineFramer, Parser};

    /// Feeds `input` to a framer and gathers one batch: `Ok(elements)` when it parses as
    /// one document, `Err(lines)` when it falls back to one by one. Then checks that
    /// restoring gives back every line as it came.
    fn parse_batch(input: &str) -> Result<usize, usize> {
        let mut framer = LineFramer::new(64, simd_json::INPUT_PADDING);
        framer.extend(input.as_bytes());
        let arena = Bump::new();
        let mut parser = Parser::new();
        let whole = framer.take_whole_lines().expect("whole lines");
        let mut batch = Batch::gather(whole, &arena, 64);
        let result = match batch.parse(&mut parser) {
            Some(array) => Ok(array.len()),
            None => Err(batch.len()),
        };
        batch.restore();
        let position = batch.resume_position(0);
        drop(batch);
        framer.rewind(position);
        let mut again = String::new();
        while let Some(frame) = framer.next_line() {
            let Frame::Line { bytes, len } = frame else {
                panic!("no line is too long here")
            };
            again.push_str(std::str::from_utf8(&bytes[..len]).expect("utf-8"));
            again.push('\n');
        }
        let expected: String = input
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(again, expected, "restored lines");
        result
    }

    #[test]
    fn well_formed_lines_parse_as_one_document() {
        assert_eq!(
            parse_batch("{\"a\":1}\n {\"b\":[1,{\"c\":\",\"},-2.5e3,true]} \r\n\n  \n2\n"),
            Ok(3)
        );
        assert_eq!(parse_batch("{}\n[]\n\"\"\n[[],{}]\nnull\n"), Ok(5));
    }

    #[test]
    fn escapes_are_parsed_from_a_copy_and_the_framer_keeps_the_lines() {
        let input = "{\"e\":\"a\\\"b\\u00e9\\n\"}\n{\"e\":\"\\ud83d\\ude00\"}\n";
        let mut framer = LineFramer::new(64, simd_json::INPUT_PADDING);
        framer.extend(input.as_bytes());
        let arena = Bump::new();
        let mut parser = Parser::new();
        let mut batch = Batch::gather(framer.take_whole_lines().expect("lines"), &arena, 64);
        let array = batch.parse(&mut parser).expect("one document");
        let values: Vec<&str> = array
            .items()
            .filter_map(|item| item.get("e")?.as_str())
            .collect();
        assert_eq!(values, ["a\"bé\n", "😀"]);
        batch.restore();
        drop(batch);
        assert_eq!(parse_batch(input), Ok(2));
    }

    #[test]
    fn lines_that_would_merge_or_split_fall_back_to_one_by_one() {
        // Invalid alone, valid together: must not be trusted.
        assert_eq!(parse_batch("{\"a\":[1\n2]}\n{\"c\":3},{\"d\":4}\n"), Err(3));
        assert_eq!(
            parse_batch("{\"a\":\"}\n{\"b\":1}\"}\n{\"c\":3},{\"d\":4}\n"),
            Err(3)
        );
        // The right number of elements, split differently.
        assert_eq!(parse_batch("1,2\n[3\n4]\n"), Err(3));
        assert_eq!(parse_batch("[1,2\n],[3]\n"), Err(2));
        assert_eq!(parse_batch("{\"a\":1}\ngarbage\n"), Err(2));
        assert_eq!(parse_batch("{\"a\":1}\n{\"b\":\"x\\q\"}\n"), Err(2));
    }

    #[test]
    fn an_over_long_line_ends_the_batch() {
        let long = "x".repeat(65);
        let input = format!("1\n\n2\n{long}\n3\n");
        let mut framer = LineFramer::new(64, simd_json::INPUT_PADDING);
        framer.extend(input.as_bytes());
        let arena = Bump::new();
        let mut parser = Parser::new();
        let mut batch = Batch::gather(framer.take_whole_lines().expect("lines"), &arena, 64);
        assert_eq!(batch.len(), 2);
        assert!(batch.parse(&mut parser).is_some(), "1 and 2");
        batch.restore();
        let rest = batch.resume_position(2);
        drop(batch);
        framer.rewind(rest);
        assert_eq!(framer.next_line(), Some(Frame::TooLong { len: 65 }));
        let mut batch = Batch::gather(framer.take_whole_lines().expect("lines"), &arena, 64);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.line(0), Some(&b"3"[..]));
        batch.restore();
    }
}
