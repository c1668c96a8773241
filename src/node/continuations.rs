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
}

impl<T: Copy> Calls<T> {
    pub fn new() -> Self {
        Calls {
            pending: AHashMap::with_capacity(1024),
            timers: Timers::default(),
        }
    }

    /// The tag of the call `msg_id` answers, removed: `None` for a reply nobody awaits
    /// (its RPC timed out, or a duplicate).
    pub fn take_reply(&mut self, msg_id: u64) -> Option<T> {
        self.pending.remove(&msg_id)
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next_deadline()
    }

    /// Removes and returns the earliest entry due at or before `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<Deadline<T>> {
        self.timers.pop_due(now)
    }
}

impl<T: Copy> Continuations<T> for Calls<T> {
    fn await_reply(&mut self, msg_id: u64, deadline: Millis, tag: T) -> bool {
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
