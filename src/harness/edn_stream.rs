//! Reads a long EDN file one top-level form at a time, so a history of millions of ops is
//! never held as one string: Maelstrom's `history.edn` has one op per line, but a form may
//! also span lines (a pretty-printed op), so lines are gathered until every bracket opened
//! outside strings, characters and comments is closed again.

use std::io::BufRead;

/// Longest single form accepted (one op of a history is a few KB at most).
pub const FORM_BYTES_MAX: usize = 64 << 20;

/// Where a scan of one line left the bracket count.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    /// Brackets open (`(`, `[`, `{`, `#{`) outside strings.
    depth: usize,
    /// Inside a string literal at the end of the line.
    in_string: bool,
}

impl Scan {
    /// Scans `line` on from this state.
    fn feed(mut self, line: &[u8]) -> Scan {
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            if self.in_string {
                match b {
                    b'\\' => i += 1,
                    b'"' => self.in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b';' => break,
                    // A character literal such as `\(` or `\"`: skip the character.
                    b'\\' => i += 1,
                    b'(' | b'[' | b'{' => self.depth += 1,
                    b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
            }
            i += 1;
        }
        self
    }
}

/// Calls `form` with the text of each top-level chunk of `input` (one or more whole
/// forms, usually one op), in order, stopping at the first error it returns.
pub fn for_each_form(
    mut input: impl BufRead,
    mut form: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let mut chunk: Vec<u8> = Vec::new();
    let mut scan = Scan::default();
    let mut line = Vec::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("line {}: {e}", line_number + 1))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        scan = scan.feed(&line);
        chunk.extend_from_slice(&line);
        if chunk.len() > FORM_BYTES_MAX {
            return Err(format!(
                "line {line_number}: a form longer than {FORM_BYTES_MAX} bytes"
            ));
        }
        if scan.depth == 0 && !scan.in_string {
            emit(&chunk, line_number, &mut form)?;
            chunk.clear();
        }
    }
    if scan.depth > 0 || scan.in_string {
        return Err(format!("line {line_number}: the file ends inside a form"));
    }
    emit(&chunk, line_number, &mut form)
}

fn emit(
    chunk: &[u8],
    line_number: u64,
    form: &mut impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let text = std::str::from_utf8(chunk).map_err(|_| format!("line {line_number}: not UTF-8"))?;
    if text.trim().is_empty() {
        return Ok(());
    }
    form(text).map_err(|e| format!("line {line_number}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for_each_form(text.as_bytes(), |f| {
            out.push(f.trim().to_string());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn one_form_per_line_and_forms_across_lines() {
        let text = "{:a 1}\n{:b \"x } ]\" :c \\(}\n{:d [1\n 2]\n :e 3}\n\n{:f 4} ; a comment\n";
        let got = forms(text).expect("forms");
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[2], "{:d [1\n 2]\n :e 3}");
    }

    #[test]
    fn an_unclosed_form_is_an_error() {
        assert!(forms("{:a 1}\n{:b [1 2\n").is_err());
        assert!(forms("{:a \"open\n").is_err());
    }
}
