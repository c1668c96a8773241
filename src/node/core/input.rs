//! The input side of [`NodeCore`]: whole lines from the framer to the handlers, as one
//! simd-json batch parsed where the framer holds it once the node is initialised (line by
//! line before), handled in order until the output is full; lines not handled stay in
//! the framer, as they came, for the next call.

use super::{MAX_LINE, NodeCore};
use crate::node::timers::Millis;
use crate::node::workload::Workload;
use crate::wire::{Batch, Frame};

impl<W: Workload> NodeCore<W> {
    /// Handles the buffered whole lines in order until none is left or the output is full;
    /// the rest stay in the framer, untouched, for the next call.
    pub(super) fn process_lines(&mut self, now: Millis) {
        self.inner.advance_clock(now);
        self.input_held = false;
        while self.framer.complete_bytes() > 0 {
            if self.output_full() {
                self.input_held = true;
                break;
            }
            let position = self.framer.position();
            if self.inner.initialized {
                self.process_batch();
            } else {
                // Before `init`, line by line: the batch after `init` takes the rest.
                self.process_one_line();
            }
            // Each turn takes at least one line (or blank lines) off the framer; were the
            // framer's bytes ever left changed, this stops what would be an endless loop.
            assert!(
                self.framer.position() > position,
                "input lines made no progress at {position}"
            );
        }
        self.framer.drop_overlong();
        self.arena.reset();
    }

    fn process_one_line(&mut self) {
        match self.framer.next_line() {
            Some(Frame::Line { bytes, len }) => {
                self.inner
                    .handle_line(&mut self.parser, &self.arena, &bytes[..len])
            }
            Some(Frame::TooLong { len }) => report_too_long(len),
            None => {}
        }
    }

    /// Parses the buffered whole lines with one simd-json call, where the framer holds
    /// them (see [`crate::wire::batch`]), and handles them until the output is full; the
    /// lines not handled are restored and put back in the framer. If the lines are not
    /// one valid document each, they are handled one by one instead.
    fn process_batch(&mut self) {
        let Some(whole) = self.framer.take_whole_lines() else {
            // An over-long line's tail comes first: the framer reports it.
            return self.process_one_line();
        };
        let limit = self.output_limit;
        let arena = &self.arena;
        let mut batch = Batch::gather(whole, arena, MAX_LINE);
        let mut handled = 0;
        let parsed = batch.parse(&mut self.parser);
        let whole_batch = parsed.is_some();
        if let Some(array) = parsed {
            for value in array.items() {
                if self.inner.output_full(limit) {
                    break;
                }
                self.inner
                    .handle_parsed(&mut self.parser, arena, Ok(value), &[]);
                handled += 1;
            }
        }
        batch.restore();
        let (lines, resume) = (batch.len(), batch.resume_position(handled));
        drop(batch);
        self.framer.rewind(resume);
        if !whole_batch {
            // The first line over the cap (`lines` is 0) or malformed lines: one by one,
            // each with its own error.
            for _ in 0..lines.max(1) {
                if self.inner.output_full(limit) {
                    break;
                }
                self.process_one_line();
            }
        }
    }
}

fn report_too_long(len: usize) {
    eprintln!("glomers: dropped an input line of {len} bytes (limit {MAX_LINE})");
}
