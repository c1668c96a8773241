//! Deadlines the core must act on: workload timers and RPC timeouts, in one min-heap.
//!
//! RPC timeout entries are not removed when the reply arrives; the core skips entries whose
//! call is no longer pending when they fire. The heap is bounded: a workload that tries to
//! schedule more than [`MAX_TIMERS`] deadlines gets `false` back instead of unbounded growth.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Milliseconds on the driver's clock (real or virtual); only differences matter.
pub type Millis = u64;

/// Upper bound on scheduled deadlines (timers plus RPC timeouts).
pub const MAX_TIMERS: usize = 1 << 17;

/// What fires at a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deadline {
    /// A workload timer with its tag.
    Timer(u64),
    /// The timeout of the RPC with this msg_id.
    RpcTimeout(u64),
}

/// Min-heap of `(when, sequence, what)`; the sequence keeps same-time entries FIFO.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Millis, u64, Deadline)>>,
    sequence: u64,
}

impl Timers {
    /// Schedules `what` at `at`. Returns false (and schedules nothing) when full.
    pub fn schedule(&mut self, at: Millis, what: Deadline) -> bool {
        if self.heap.len() >= MAX_TIMERS {
            return false;
        }
        self.sequence += 1;
        self.heap.push(Reverse((at, self.sequence, what)));
        true
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<Deadline> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse((_, _, w))| w),
            _ => None,
        }
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
