//! Line framing for Maelstrom's newline-delimited JSON.
//!
//! Input arrives in arbitrary chunks: half a message per read, many messages per read,
//! `\r\n` or `\n` line ends, blank lines. [`LineFramer`] buffers the bytes and hands out
//! whole lines. A line longer than the cap is not buffered: its bytes are dropped as they
//! arrive and one [`Frame::TooLong`] is reported when its newline comes, so a giant line
//! costs bounded memory and the stream stays in sync.
//!
//! [`LineFramer::take_whole_lines`] lends out every buffered whole line at once, with one
//! spare byte before them, so that a batch can turn them into one JSON array where they
//! lie (see [`super::batch`]) instead of copying them.

/// One framed input line (without its line end), or notice of a line that was too long.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete, non-blank line of `len` bytes at the start of `bytes`; `bytes` goes on
    /// for at least the framer's tail padding (later input or zeros), so a SIMD parser can
    /// read past the line's end and parse it in place, without a copy.
    Line {
        /// The line followed by the padding; only `bytes[..len]` is the line.
        bytes: &'a mut [u8],
        /// The line's length.
        len: usize,
    },
    /// A line of `len` bytes exceeded the cap and was dropped.
    TooLong {
        /// How many bytes the dropped line had (without its line end).
        len: usize,
    },
}

/// Every buffered whole line at once (see [`LineFramer::take_whole_lines`]).
#[derive(Debug)]
pub struct WholeLines<'a> {
    /// `bytes[0]` is a spare byte (consumed input or the buffer's head room), then come
    /// the lines with their line ends, then at least the framer's tail padding.
    pub bytes: &'a mut [u8],
    /// Length of the lines, line ends included: they are `bytes[1..=len]`.
    pub len: usize,
    /// The framer position of the first line (`bytes[1]`), for [`LineFramer::rewind`].
    pub position: usize,
}

/// Buffers input bytes and splits them into lines, with a hard cap on line length.
#[derive(Debug)]
pub struct LineFramer {
    /// Initialised storage; the unconsumed input is `buffer[start..end]`, and
    /// `buffer[..HEAD_ROOM]` is never input (see [`HEAD_ROOM`]).
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes after `start` already scanned without finding a newline.
    scanned: usize,
    /// One past the last `\n` committed (0 when none is): `buffer[start..newline_end]`
    /// holds only whole lines, the rest is a partial last line.
    newline_end: usize,
    max_line: usize,
    /// Bytes kept readable after the last buffered byte (see [`Frame::Line`]).
    tail_padding: usize,
    /// Bytes dropped so far of an over-long line still in progress.
    dropping: Option<usize>,
}

/// Free space [`LineFramer::write_space`] offers for one read.
pub const READ_CHUNK: usize = 64 * 1024;
/// Bytes kept free at the start of the buffer, so that even the first buffered line has
/// a byte before it for [`WholeLines`]' spare byte (where a batch writes its `[`).
const HEAD_ROOM: usize = 1;

impl LineFramer {
    /// A framer that rejects lines longer than `max_line` bytes and keeps `tail_padding`
    /// readable bytes after every line it returns.
    pub fn new(max_line: usize, tail_padding: usize) -> Self {
        LineFramer {
            buffer: vec![0; HEAD_ROOM + READ_CHUNK * 2 + tail_padding],
            start: HEAD_ROOM,
            end: HEAD_ROOM,
            scanned: 0,
            newline_end: 0,
            max_line,
            tail_padding,
            dropping: None,
        }
    }

    /// Bytes buffered but not yet returned as lines.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Bytes the buffered whole lines take (line ends included), without a partial last
    /// line: what a batch of the buffered lines needs, however much of a long line has
    /// arrived so far. Zero means [`LineFramer::next_line`] has no line to return.
    pub fn complete_bytes(&self) -> usize {
        self.newline_end.saturating_sub(self.start)
    }

    /// Where the next [`LineFramer::next_line`] starts; pass it to
    /// [`LineFramer::rewind`] to take back the lines returned after it.
    pub fn position(&self) -> usize {
        self.start
    }

    /// Puts back every line returned since [`LineFramer::position`] gave `position`, so
    /// that they are returned again. Valid until the next write ([`LineFramer::write_space`]
    /// moves the buffer), and only for lines whose bytes were not modified (copied, not
    /// parsed in place).
    pub fn rewind(&mut self, position: usize) {
        assert!(
            position <= self.start && self.dropping.is_none(),
            "rewind to {position} from {} (dropping {:?})",
            self.start,
            self.dropping
        );
        self.start = position;
        self.scanned = 0;
    }

    /// Free space to read into (at least [`READ_CHUNK`] bytes); report the count read with
    /// [`LineFramer::commit`]. Lets the reactor read stdin straight into the framer.
    pub fn write_space(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = HEAD_ROOM;
            self.end = HEAD_ROOM;
            self.newline_end = 0;
        } else if self.buffer.len() - self.end < READ_CHUNK && self.start > HEAD_ROOM {
            self.buffer.copy_within(self.start..self.end, HEAD_ROOM);
            self.end = self.end - self.start + HEAD_ROOM;
            self.newline_end = match self.newline_end.checked_sub(self.start) {
                Some(whole) if whole > 0 => whole + HEAD_ROOM,
                _ => 0,
            };
            self.start = HEAD_ROOM;
        }
        let wanted = self.end + READ_CHUNK + self.tail_padding;
        if self.buffer.len() < wanted {
            self.buffer.resize(wanted, 0);
        }
        let usable = self.buffer.len() - self.tail_padding;
        &mut self.buffer[self.end..usable]
    }

    /// Marks `count` bytes of the last [`LineFramer::write_space`] as filled.
    pub fn commit(&mut self, count: usize) {
        let end = (self.end + count).min(self.buffer.len() - self.tail_padding);
        // Lines are short, so this search from the back stops after a few bytes.
        if let Some(offset) = memchr::memrchr(b'\n', &self.buffer[self.end..end]) {
            self.newline_end = self.end + offset + 1;
        }
        self.end = end;
    }

    /// Appends input bytes (for drivers that already hold them in memory).
    pub fn extend(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let space = self.write_space();
            let count = space.len().min(bytes.len());
            space[..count].copy_from_slice(&bytes[..count]);
            self.commit(count);
            bytes = &bytes[count..];
        }
    }

    /// Every buffered whole line at once, to be parsed where it lies; `None` when there is
    /// none, or while the tail of an over-long line is still to be reported (by
    /// [`LineFramer::next_line`]). The lines count as returned: put back those not handled
    /// with [`LineFramer::rewind`], once every byte changed in them is restored. Lines
    /// are not checked against the cap, nor are blank lines skipped: the caller does both.
    pub fn take_whole_lines(&mut self) -> Option<WholeLines<'_>> {
        if self.dropping.is_some() || self.complete_bytes() == 0 {
            return None;
        }
        let position = self.start;
        self.start = self.newline_end;
        self.scanned = 0;
        Some(WholeLines {
            bytes: &mut self.buffer[position - 1..],
            len: self.newline_end - position,
            position,
        })
    }

    /// The next complete line, if one is buffered. Call until it returns `None`.
    pub fn next_line(&mut self) -> Option<Frame<'_>> {
        let (line_start, line_end) = loop {
            let from = self.start + self.scanned;
            let Some(offset) = memchr::memchr(b'\n', &self.buffer[from..self.end]) else {
                self.drop_overlong();
                return None;
            };
            let line_start = self.start;
            let mut line_end = from + offset;
            self.start = line_end + 1;
            self.scanned = 0;
            if let Some(dropped) = self.dropping.take() {
                return Some(Frame::TooLong {
                    len: dropped + (line_end - line_start),
                });
            }
            if line_end > line_start && self.buffer[line_end - 1] == b'\r' {
                line_end -= 1;
            }
            if line_end - line_start > self.max_line {
                return Some(Frame::TooLong {
                    len: line_end - line_start,
                });
            }
            if self.buffer[line_start..line_end]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
            {
                break (line_start, line_end);
            }
        };
        Some(Frame::Line {
            bytes: &mut self.buffer[line_start..],
            len: line_end - line_start,
        })
    }

    /// When no whole line is buffered: drops what has arrived of a line already longer
    /// than the cap instead of buffering it (its [`Frame::TooLong`] comes with its line
    /// end). [`LineFramer::next_line`] does this when it runs out of lines; a caller that
    /// stops at the last whole line calls it instead.
    pub fn drop_overlong(&mut self) {
        if self.complete_bytes() > 0 {
            return;
        }
        self.scanned = self.end - self.start;
        if self.dropping.is_some() || self.scanned > self.max_line {
            *self.dropping.get_or_insert(0) += self.scanned;
            self.start = self.end;
            self.scanned = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Frame, LineFramer};

    fn lines(framer: &mut LineFramer) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(frame) = framer.next_line() {
            out.push(match frame {
                Frame::Line { bytes, len } => String::from_utf8_lossy(&bytes[..len]).into_owned(),
                Frame::TooLong { len } => format!("<too long: {len}>"),
            });
        }
        out
    }

    #[test]
    fn splits_crlf_blank_lines_and_partial_input() {
        let mut framer = LineFramer::new(100, 64);
        framer.extend(b"{\"a\":1}\r\n\n  \n{\"b\"");
        assert_eq!(lines(&mut framer), vec!["{\"a\":1}"]);
        framer.extend(b":2}\n");
        assert_eq!(lines(&mut framer), vec!["{\"b\":2}"]);
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn giant_line_is_dropped_with_bounded_memory_and_stream_resyncs() {
        let mut framer = LineFramer::new(10, 64);
        framer.extend(b"ok\n");
        assert_eq!(lines(&mut framer), vec!["ok"]);
        for _ in 0..1000 {
            framer.extend(&[b'x'; 1000]);
            assert!(lines(&mut framer).is_empty());
            assert!(framer.buffered() <= 10);
        }
        framer.extend(b"xx\nnext\n");
        assert_eq!(lines(&mut framer), vec!["<too long: 1000002>", "next"]);
        framer.extend(b"0123456789ABC\nz\n");
        assert_eq!(lines(&mut framer), vec!["<too long: 13>", "z"]);
    }

    #[test]
    fn complete_bytes_cover_whole_lines_only_and_rewind_gives_lines_back() {
        let mut framer = LineFramer::new(100, 64);
        framer.extend(b"partial");
        assert_eq!(framer.complete_bytes(), 0);
        framer.extend(b" line\r\n\nsecond\nthird, partial");
        assert_eq!(framer.complete_bytes(), "partial line\r\n\nsecond\n".len());
        let start = framer.position();
        assert!(matches!(
            framer.next_line(),
            Some(Frame::Line { len: 12, .. })
        ));
        let second = framer.position();
        assert!(matches!(
            framer.next_line(),
            Some(Frame::Line { len: 6, .. })
        ));
        assert_eq!(framer.complete_bytes(), 0);
        framer.rewind(second);
        assert_eq!(framer.complete_bytes(), "\nsecond\n".len());
        framer.rewind(start);
        assert_eq!(lines(&mut framer), vec!["partial line", "second"]);
        // Across the buffer's compaction (many reads), the count stays exact.
        for _ in 0..5000 {
            framer.extend(b"0123456789abcdef\n");
            assert!(matches!(framer.next_line(), Some(Frame::Line { .. })));
            assert_eq!(framer.complete_bytes(), 0);
            framer.extend(b"partial");
        }
        framer.extend(b"\nx\n");
        assert_eq!(framer.complete_bytes(), "partial\nx\n".len());
    }

    #[test]
    fn whole_lines_come_with_a_spare_byte_before_them_and_can_be_put_back() {
        let mut framer = LineFramer::new(100, 64);
        assert!(framer.take_whole_lines().is_none(), "nothing buffered");
        framer.extend(b"thr");
        for round in 0..5000 {
            // A partial line always stays behind, so the buffer is compacted now and then.
            framer.extend(b"ee\none\r\n\ntwo\nthr");
            let whole = framer.take_whole_lines().expect("whole lines");
            assert_eq!(
                &whole.bytes[1..=whole.len],
                b"three\none\r\n\ntwo\n",
                "round {round}"
            );
            assert!(
                whole.bytes.len() > whole.len + 64,
                "padding after the lines"
            );
            whole.bytes[0] = b'[';
            let position = whole.position;
            assert_eq!(framer.complete_bytes(), 0);
            framer.rewind(position);
            assert_eq!(lines(&mut framer), vec!["three", "one", "two"]);
        }
        // While an over-long line's tail is being dropped, it must be reported first.
        let mut framer = LineFramer::new(4, 64);
        framer.extend(b"0123456789");
        assert!(lines(&mut framer).is_empty());
        framer.extend(b"\nok\n");
        assert!(framer.take_whole_lines().is_none());
        assert_eq!(lines(&mut framer), vec!["<too long: 10>", "ok"]);
    }
}
