//! Answering every client request in time (issue 23).
//!
//! Maelstrom's client waits 5 s of real time for a reply (lin-kv: max(10 × latency, 1000)
//! ms), then records the op as timed out and, for most workloads, closes its connection.
//! A reply that comes after that is worse than none: the real Maelstrom stops reading the
//! node's output for the rest of the run (MAELSTROM.md §1.8, §2.3). So a node that waits
//! on anything (a service, a peer, a retry loop) gives each client request a local budget
//! of [`REPLY_BUDGET_MS`] and, when it runs out with no result, answers with an error
//! itself — definite (e.g. 11) only when the op surely did not and will not happen,
//! indefinite (13) otherwise — and never answers that request again.
//!
//! Budget: a node's clock may run 30 % slow (`--clock-skew 0.3`), so 3 s of local time
//! is at most 4.3 s of real time; checking every [`CHECK_EVERY_MS`] adds at most 0.14 s,
//! which leaves room for delivery before the 5 s are up.

use crate::node::{Ctx, Millis};

/// Local ms a node may take to answer a client request.
pub const REPLY_BUDGET_MS: Millis = 3000;
/// How often a node with requests in progress looks for spent budgets.
pub const CHECK_EVERY_MS: Millis = 100;
/// The latest local age at which a reply may still go out: a completion that finds its
/// request older than this stays silent (the deadline check should have answered it
/// already; this is the last line of defence against a reply to a closed client).
pub const REPLY_LAST_MS: Millis = REPLY_BUDGET_MS + 2 * CHECK_EVERY_MS;

/// True when a request that arrived at `arrived` has spent its budget at `now`.
pub fn spent(now: Millis, arrived: Millis) -> bool {
    now.saturating_sub(arrived) >= REPLY_BUDGET_MS
}

/// True when a reply to a request that arrived at `arrived` may still go out at `now`.
pub fn in_time(now: Millis, arrived: Millis) -> bool {
    now.saturating_sub(arrived) <= REPLY_LAST_MS
}

/// One periodic deadline check per node: armed when a request starts waiting, re-armed by
/// its handler while any request still waits, so an idle node sets no timers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ticker {
    armed: bool,
}

impl Ticker {
    /// Schedules the next check with `tag`, unless one is already scheduled.
    pub fn arm<T>(&mut self, ctx: &mut Ctx<'_, T>, tag: T) {
        if !self.armed {
            self.armed = ctx.set_timer(CHECK_EVERY_MS, tag);
        }
    }

    /// Call first in the check's timer handler.
    pub fn fired(&mut self) {
        self.armed = false;
    }
}

/// Removes from `ops` every one whose budget is spent at `now` (`arrived` tells when each
/// came), handing it to `answer`, which must answer it; returns how many there were.
pub fn expire<T>(
    ops: &mut Vec<T>,
    now: Millis,
    arrived: impl Fn(&T) -> Millis,
    mut answer: impl FnMut(&T),
) -> usize {
    let before = ops.len();
    ops.retain(|op| {
        let spent = spent(now, arrived(op));
        if spent {
            answer(op);
        }
        !spent
    });
    before - ops.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_fits_a_slow_clock_and_the_client_timeout() {
        // 30 % slow clock: local ms × 1/0.7 real ms, plus one check period.
        let worst_real = (REPLY_LAST_MS as f64) / 0.7;
        assert!(worst_real < 4700.0, "{worst_real}");
        assert!(spent(REPLY_BUDGET_MS, 0) && !spent(REPLY_BUDGET_MS - 1, 0));
        assert!(in_time(REPLY_LAST_MS, 0) && !in_time(REPLY_LAST_MS + 1, 0));
    }

    #[test]
    fn expire_answers_and_removes_only_spent_ops() {
        let mut ops = vec![0, 500, 2000, 100];
        let mut answered = Vec::new();
        let count = expire(&mut ops, 3100, |&at| at, |&at| answered.push(at));
        assert_eq!((count, ops, answered), (2, vec![500, 2000], vec![0, 100]));
    }
}
