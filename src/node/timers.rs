//! Deadlines the core must act on: workload timers and RPC timeouts, in one min-heap.
//!
//! RPC timeout entries are not removed when the reply arrives; the core skips entries whose
//! call is no longer pending when they fire, and sweeps them out with [`Timers::retain`]
//! once they are most of the heap. The heap is bounded: a workload that tries to schedule
//! more than [`MAX_TIMERS`] deadlines gets `false` back instead of unbounded growth.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Milliseconds on the driver's clock (real or virtual); only differences matter.
pub type Millis = u64;

/// Upper bound on scheduled deadlines (timers plus RPC timeouts).
pub const MAX_TIMERS: usize = 1 << 17;

/// What fires at a deadline; `T` is the workload's tag type ([`super::Workload::Tag`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline<T> {
    /// A workload timer with its tag.
    Timer(T),
    /// The timeout of the RPC with this msg_id.
    RpcTimeout(u64),
}

/// One heap entry, ordered by `(at, sequence)` only: tags need no ordering of their own,
/// and the sequence keeps same-time entries FIFO.
#[derive(Debug)]
struct Entry<T> {
    at: Millis,
    sequence: u64,
    what: Deadline<T>,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.sequence) == (other.at, other.sequence)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

/// Min-heap of deadlines, FIFO among equal times.
#[derive(Debug)]
pub struct Timers<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    sequence: u64,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            heap: BinaryHeap::new(),
            sequence: 0,
        }
    }
}

impl<T: Copy> Timers<T> {
    /// Schedules `what` at `at`. Returns false (and schedules nothing) when full.
    pub fn schedule(&mut self, at: Millis, what: Deadline<T>) -> bool {
        if self.heap.len() >= MAX_TIMERS {
            return false;
        }
        self.sequence += 1;
        self.heap.push(Reverse(Entry {
            at,
            sequence: self.sequence,
            what,
        }));
        true
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.heap.peek().map(|Reverse(entry)| entry.at)
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<Deadline<T>> {
        match self.heap.peek() {
            Some(Reverse(entry)) if entry.at <= now => {
                self.heap.pop().map(|Reverse(entry)| entry.what)
            }
            _ => None,
        }
    }

    /// Keeps only the entries for which `keep` is true (O(n); order is preserved).
    pub fn retain(&mut self, mut keep: impl FnMut(&Deadline<T>) -> bool) {
        self.heap.retain(|Reverse(entry)| keep(&entry.what));
    }

    /// Number of scheduled entries.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_entries_come_out_in_time_order_and_fifo_among_equals() {
        let mut timers = Timers::default();
        assert!(timers.schedule(20, Deadline::Timer('b')));
        assert!(timers.schedule(10, Deadline::Timer('a')));
        assert!(timers.schedule(20, Deadline::RpcTimeout(7)));
        assert_eq!(timers.next_deadline(), Some(10));
        assert_eq!(timers.pop_due(9), None);
        assert_eq!(timers.pop_due(10), Some(Deadline::Timer('a')));
        assert_eq!(timers.pop_due(30), Some(Deadline::Timer('b')));
        assert_eq!(timers.pop_due(30), Some(Deadline::RpcTimeout(7)));
        assert!(timers.is_empty());
    }
}
