//! Where a node keeps what it is waiting for: the workload's tag for every RPC awaiting a
//! reply, and the timer heap (workload timers and RPC timeouts). Tags are the workload's
//! own type ([`super::Workload::Tag`]), stored by value: nothing is packed into integers
//! and nothing is allocated per call beyond the two bounded tables.
//!
//! A node that runs one of several strategies (an enum of nodes) hands each strategy a
//! [`super::Ctx`] whose tags are wrapped into the outer tag type on the way in (see
//! [`super::Ctx::map_tags`]); [`Continuations`] is the one interface both the core's
//! table and that wrapping view implement.

use ahash::AHashMap;

use super::timers::{Deadline, Millis, Timers};

/// What is due: a workload timer, or the timeout of a call still awaiting its reply
/// (removed from the pending calls); each carries the workload's tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due<T> {
    /// A timer set with [`super::Ctx::set_timer`].
    Timer(T),
    /// An RPC's timeout: the call is no longer pending.
    RpcTimeout(T),
}

/// Upper bound on RPCs awaiting a reply or timeout, per node.
pub const MAX_PENDING_RPCS: usize = 1 << 16;

/// Recording continuations of tag type `T` (object-safe, so a [`super::Ctx`] can hold
/// either the core's table or a view that wraps tags for an inner strategy).
pub(crate) trait Continuations<T> {
    /// Remembers `tag` for the RPC `msg_id`, with its timeout at `deadline`. False (and
    /// nothing recorded) when a table is full.
    fn await_reply(&mut self, msg_id: u64, deadline: Millis, tag: T) -> bool;
    /// Schedules a timer with `tag` at `at`. False when the timer heap is full.
    fn schedule_timer(&mut self, at: Millis, tag: T) -> bool;
    /// Number of RPCs awaiting a reply.
    fn pending_rpcs(&self) -> usize;
}

/// The core's table of continuations.
#[derive(Debug)]
pub(crate) struct Calls<T> {
    /// msg_id → the workload's tag for that call.
    pending: AHashMap<u64, T>,
    timers: Timers<T>,
    /// Timeout entries in `timers` whose call was answered (no longer pending): dead
    /// weight until they fire, swept out once they are half the heap.
    answered_timeouts: usize,
}

impl<T: Copy> Calls<T> {
    pub fn new() -> Self {
        Calls {
            pending: AHashMap::with_capacity(1024),
            timers: Timers::default(),
            answered_timeouts: 0,
        }
    }

    /// The tag of the call `msg_id` answers, removed: `None` for a reply nobody awaits
    /// (its RPC timed out, or a duplicate).
    pub fn take_reply(&mut self, msg_id: u64) -> Option<T> {
        let tag = self.pending.remove(&msg_id)?;
        self.answered_timeouts += 1; // its timeout entry stays in the heap
        Some(tag)
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next_deadline()
    }

    /// Removes and returns the earliest entry due at or before `now`: a timer, or the
    /// timeout of a call still pending, which is taken off the pending calls (answered
    /// calls' timeouts are skipped here).
    pub fn pop_due(&mut self, now: Millis) -> Option<Due<T>> {
        loop {
            match self.timers.pop_due(now)? {
                Deadline::Timer(tag) => return Some(Due::Timer(tag)),
                Deadline::RpcTimeout(msg_id) => match self.pending.remove(&msg_id) {
                    Some(tag) => return Some(Due::RpcTimeout(tag)),
                    None => self.answered_timeouts -= 1,
                },
            }
        }
    }

    /// Sweeps answered calls' timeouts out of the heap once they are at least half of it,
    /// so that a node making many quick RPCs is not refused for a heap full of them.
    /// Amortised O(1) per call: a sweep of n entries follows at least n/2 answers.
    fn sweep_answered_timeouts(&mut self) {
        if self.answered_timeouts == 0 || self.answered_timeouts * 2 < self.timers.len() {
            return;
        }
        let pending = &self.pending;
        self.timers.retain(|due| match due {
            Deadline::RpcTimeout(msg_id) => pending.contains_key(msg_id),
            Deadline::Timer(_) => true,
        });
        self.answered_timeouts = 0;
    }
}

impl<T: Copy> Continuations<T> for Calls<T> {
    fn await_reply(&mut self, msg_id: u64, deadline: Millis, tag: T) -> bool {
        self.sweep_answered_timeouts();
        if self.pending.len() >= MAX_PENDING_RPCS
            || !self.timers.schedule(deadline, Deadline::RpcTimeout(msg_id))
        {
            return false;
        }
        let previous = self.pending.insert(msg_id, tag);
        assert!(previous.is_none(), "msg_id {msg_id} issued twice");
        true
    }

    fn schedule_timer(&mut self, at: Millis, tag: T) -> bool {
        self.sweep_answered_timeouts();
        self.timers.schedule(at, Deadline::Timer(tag))
    }

    fn pending_rpcs(&self) -> usize {
        self.pending.len()
    }
}

/// An inner strategy's view of its outer node's continuations: its tags go in wrapped.
pub(crate) struct Wrapped<'a, Outer, Inner> {
    pub outer: &'a mut dyn Continuations<Outer>,
    pub wrap: fn(Inner) -> Outer,
}

impl<Outer, Inner> Continuations<Inner> for Wrapped<'_, Outer, Inner> {
    fn await_reply(&mut self, msg_id: u64, deadline: Millis, tag: Inner) -> bool {
        self.outer.await_reply(msg_id, deadline, (self.wrap)(tag))
    }

    fn schedule_timer(&mut self, at: Millis, tag: Inner) -> bool {
        self.outer.schedule_timer(at, (self.wrap)(tag))
    }

    fn pending_rpcs(&self) -> usize {
        self.outer.pending_rpcs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::timers::MAX_TIMERS;

    #[test]
    fn answered_calls_do_not_fill_the_timer_heap() {
        let mut calls: Calls<u32> = Calls::new();
        assert!(calls.schedule_timer(5, 7), "a workload timer");
        // Far more quick RPCs than the heap holds, each answered before its timeout.
        for msg_id in 0..3 * MAX_TIMERS as u64 {
            assert!(calls.await_reply(msg_id, 1_000, 1), "call {msg_id} refused");
            assert_eq!(calls.take_reply(msg_id), Some(1));
            assert!(calls.timers.len() <= MAX_TIMERS);
        }
        // One call left unanswered still times out, after the timer, and nothing else fires.
        assert!(calls.await_reply(u64::MAX, 2_000, 9));
        assert_eq!(calls.pop_due(10), Some(Due::Timer(7)));
        assert_eq!(calls.pop_due(1_500), None, "answered timeouts are skipped");
        assert_eq!(calls.pop_due(2_000), Some(Due::RpcTimeout(9)));
        assert_eq!(
            calls.pending_rpcs(),
            0,
            "a timed-out call is no longer pending"
        );
        assert_eq!(calls.pop_due(u64::MAX), None);
        assert_eq!((calls.answered_timeouts, calls.timers.len()), (0, 0));
    }
}
