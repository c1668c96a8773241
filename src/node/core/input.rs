//! The input side of [`NodeCore`]: whole lines from the framer to the handlers, as one
//! simd-json batch once the node is initialised (line by line before), handled in order
//! until the output is full; lines not handled stay in the framer for the next call.

use bumpalo::Bump;
use bumpalo::collections::Vec as ArenaVec;

use super::{MAX_LINE, NodeCore};
use crate::node::timers::Millis;
use crate::node::workload::Workload;
use crate::wire::{Batch, Frame, LineFramer, Parsed};

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
            if self.inner.initialized {
                self.process_batch();
            } else {
                // Before `init`, line by line: the batch after `init` takes the rest.
                self.process_one_line();
            }
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

    /// Parses the buffered whole lines with one simd-json call (see [`crate::wire::batch`])
    /// and handles them until the output is full; the lines not handled are put back in
    /// the framer, untouched (the batch parses its own copy).
    fn process_batch(&mut self) {
        let arena = &self.arena;
        let (batch, starts) = gather_batch(&mut self.framer, arena);
        if batch.is_empty() {
            return;
        }
        let limit = self.output_limit;
        let mut handled = 0;
        match batch.parse(&mut self.parser) {
            Parsed::Whole(array) => {
                for value in array.items() {
                    if self.inner.output_full(limit) {
                        break;
                    }
                    self.inner
                        .handle_parsed(&mut self.parser, arena, Ok(value), &[]);
                    handled += 1;
                }
            }
            Parsed::EachLine(lines) => {
                for line in lines {
                    if self.inner.output_full(limit) {
                        break;
                    }
                    self.inner.handle_line(&mut self.parser, arena, line);
                    handled += 1;
                }
            }
        }
        if let Some(&position) = starts.get(handled) {
            self.framer.rewind(position);
        }
    }
}

/// Takes the framer's whole lines into a batch sized by them (not by a partial line that
/// may be megabytes long), with where each line started in the framer. A too-long line
/// is reported when it comes first, and otherwise ends the batch (it comes first in the
/// next one), so that putting back lines never reports one twice.
fn gather_batch<'b>(framer: &mut LineFramer, arena: &'b Bump) -> (Batch<'b>, ArenaVec<'b, usize>) {
    let complete = framer.complete_bytes();
    let mut batch = Batch::new_in(arena, complete);
    let mut starts = ArenaVec::with_capacity_in(complete / 64 + 1, arena);
    while framer.complete_bytes() > 0 {
        let position = framer.position();
        match framer.next_line() {
            Some(Frame::Line { bytes, len }) => {
                let fits = batch.push_line(&bytes[..len]);
                assert!(fits, "batch sized from the framer's whole lines");
                starts.push(position);
            }
            Some(Frame::TooLong { len }) if batch.is_empty() => report_too_long(len),
            Some(Frame::TooLong { .. }) => {
                framer.rewind(position);
                break;
            }
            None => break,
        }
    }
    (batch, starts)
}

fn report_too_long(len: usize) {
    eprintln!("glomers: dropped an input line of {len} bytes (limit {MAX_LINE})");
}
