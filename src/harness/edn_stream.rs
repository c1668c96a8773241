//! Reads a long EDN file a block at a time, so a history of millions of ops is never held as
//! one string, and lets the caller parse its forms where they lie in the block.
//!
//! A block ends after its last newline, so no token is ever cut in two (a newline ends
//! every token). A form may still span lines (a pretty-printed op): when one is open at the
//! block's end, the caller says how far it got, and the form is read again once the next
//! block is appended. (This module used to gather lines and count brackets first, then hand
//! each form over as a checked `&str`: a second pass over every byte plus a copy and a UTF-8
//! check of each line, about a tenth of `glomers check`. The parser checks UTF-8 where it
//! makes text: tokens and strings.)

use std::io::Read;

/// Longest single form accepted (one op of a history is a few KB at most).
pub const FORM_BYTES_MAX: usize = 64 << 20;

/// Bytes read per block (more when a form is longer).
const BLOCK_BYTES: usize = 1 << 20;

/// Why the caller stopped reading a block before its end.
pub enum Stop {
    /// The form starting at this offset is cut off by the block's end: read it again with
    /// more of the file.
    Cut(usize),
    /// The form starting at this offset is malformed (the message says why).
    Bad(usize, String),
}

/// Calls `forms` with each block of `input`: it reads the block's forms and returns `Ok`
/// once it has read them all, else why it stopped. An error names the line the form it
/// stopped at starts on.
pub fn for_each_block(
    mut input: impl Read,
    mut forms: impl FnMut(&[u8]) -> Result<(), Stop>,
) -> Result<(), String> {
    let mut buffer: Vec<u8> = Vec::with_capacity(BLOCK_BYTES);
    // Lines in the bytes already dropped from the front of `buffer`.
    let mut lines_before = 0usize;
    let mut at_end = false;
    loop {
        // Fill the buffer's spare room (at least a block's worth) from the file.
        if !at_end {
            let filled = buffer.len();
            buffer.resize(filled.max(BLOCK_BYTES).max(2 * filled), 0);
            let mut total = filled;
            while total < buffer.len() {
                match input.read(&mut buffer[total..]) {
                    Ok(0) => {
                        at_end = true;
                        break;
                    }
                    Ok(n) => total += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("line {}: {e}", lines_before + 1)),
                }
            }
            buffer.truncate(total);
        }
        // The block: up to the last newline, or everything once the file is read.
        let end = if at_end {
            buffer.len()
        } else {
            buffer
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        let line_of = |offset: usize| {
            lines_before + buffer[..offset].iter().filter(|&&b| b == b'\n').count() + 1
        };
        let consumed = match forms(&buffer[..end]) {
            Ok(()) => end,
            Err(Stop::Cut(offset)) if at_end => {
                return Err(format!(
                    "line {}: the file ends inside a form",
                    line_of(offset)
                ));
            }
            Err(Stop::Cut(offset)) => offset,
            Err(Stop::Bad(offset, message)) => {
                return Err(format!("line {}: {message}", line_of(offset)));
            }
        };
        if at_end {
            return Ok(());
        }
        if buffer.len() - consumed > FORM_BYTES_MAX {
            return Err(format!(
                "line {}: a form longer than {FORM_BYTES_MAX} bytes",
                line_of(consumed)
            ));
        }
        lines_before += buffer[..consumed].iter().filter(|&&b| b == b'\n').count();
        buffer.drain(..consumed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits blocks into forms the simple way: a form is a line that is not blank, or
    /// lines up to one ending in `}` (enough to test the block handling).
    fn forms(text: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for_each_block(text.as_bytes(), |block| {
            let text = std::str::from_utf8(block).map_err(|_| Stop::Bad(0, "utf8".into()))?;
            let mut start = 0;
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                offset += line.len();
                if line.trim_end().ends_with('}') {
                    out.push(text[start..offset].trim().to_string());
                    start = offset;
                } else if line.contains('!') {
                    return Err(Stop::Bad(start, "bad".into()));
                }
            }
            if text[start..].trim().is_empty() {
                Ok(())
            } else {
                Err(Stop::Cut(start))
            }
        })?;
        Ok(out)
    }

    #[test]
    fn forms_across_lines_and_blocks() {
        let text = "{:a 1}\n{:d [1\n 2]\n :e 3}\n\n{:f 4}\n";
        let got = forms(text).expect("forms");
        assert_eq!(got, ["{:a 1}", "{:d [1\n 2]\n :e 3}", "{:f 4}"]);
        // Longer than a block: forms are read again as the buffer grows.
        let long: String = (0..200_000).map(|i| format!("{{:i {i}}}\n")).collect();
        assert_eq!(forms(&long).map(|f| f.len()), Ok(200_000));
    }

    #[test]
    fn a_history_read_in_blocks_is_the_history_parsed_whole() {
        use crate::harness::edn::{parse_history, read_history_edn};
        // Ops over two lines, strings with newlines and escapes, several blocks long.
        let text: String = (0..40_000)
            .map(|i| {
                format!(
                    "{{:index {i}, :type :ok, :process 0,\n :f :add, :value [{i} \"a\nb\\u00e9\" #{{:x}}]}}\n"
                )
            })
            .collect();
        let path = std::env::temp_dir().join(format!("glomers-stream-{}.edn", std::process::id()));
        std::fs::write(&path, &text).expect("write");
        let read = read_history_edn(&path);
        let _ = std::fs::remove_file(&path);
        let whole = parse_history(&text);
        assert_eq!(read.as_ref().map(|h| h.ops.len()), Ok(40_000));
        assert_eq!(read, whole);
    }

    #[test]
    fn an_unclosed_form_and_a_bad_one_are_errors() {
        let cut = forms("{:a 1}\n{:b [1 2\n").expect_err("cut");
        assert!(cut.contains("line 2: the file ends inside a form"), "{cut}");
        let bad = forms("{:a 1}\n\n{:b !\n").expect_err("bad");
        assert!(bad.starts_with("line 2"), "{bad}");
    }
}
