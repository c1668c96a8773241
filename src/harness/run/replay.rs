//! The main phase of a replayed [schedule](crate::harness::schedule): ops come from the
//! schedule (each on its recorded worker thread, at its recorded time, or as soon as that
//! thread is free), partitions from its list, and the main phase ends at its `main-end`.
//! The phase machine ([`super::phases`]) asks this plan what is due; nothing here draws a
//! random number.

use std::collections::VecDeque;

use crate::harness::hosts::Time;
use crate::harness::schedule::{Partition, Schedule, ScheduledOp};

/// A nemesis event of the plan.
pub(super) enum NemesisEvent {
    /// Start partition `Partition` (its shape and grudge).
    Start(Partition),
    /// Heal.
    Stop,
}

/// What is left to replay.
pub(super) struct ReplayPlan {
    /// Per worker thread, its ops in order, each with its place in the schedule.
    ops: Vec<VecDeque<(usize, ScheduledOp)>>,
    /// Nemesis events, in time order.
    nemesis: VecDeque<(Time, NemesisEvent)>,
    /// Relative time at which the main phase ends.
    pub(super) main_end: Time,
}

impl ReplayPlan {
    /// The plan of `schedule` for `concurrency` workers. Ops of threads beyond the
    /// workers are an error (the schedule was recorded with more workers).
    pub(super) fn new(schedule: &Schedule, concurrency: usize) -> Result<ReplayPlan, String> {
        let mut ops: Vec<VecDeque<(usize, ScheduledOp)>> =
            (0..concurrency).map(|_| VecDeque::new()).collect();
        for (seq, op) in schedule.ops.iter().enumerate() {
            let Some(queue) = ops.get_mut(op.thread) else {
                return Err(format!(
                    "the schedule has an op on worker thread {} but this run has {concurrency} \
                     workers (replay it with the --concurrency it was recorded with)",
                    op.thread
                ));
            };
            queue.push_back((seq, op.clone()));
        }
        for queue in &mut ops {
            queue
                .make_contiguous()
                .sort_by_key(|(seq, op)| (op.at, *seq));
        }
        let mut events: Vec<(Time, usize, NemesisEvent)> = Vec::new();
        for partition in &schedule.partitions {
            let order = events.len();
            events.push((
                partition.start,
                order,
                NemesisEvent::Start(partition.clone()),
            ));
            if let Some(end) = partition.end {
                events.push((end, order + 1, NemesisEvent::Stop));
            }
        }
        events.sort_by_key(|(at, order, _)| (*at, *order));
        Ok(ReplayPlan {
            ops,
            nemesis: events.into_iter().map(|(at, _, e)| (at, e)).collect(),
            main_end: schedule.main_end,
        })
    }

    /// The next nemesis event due at or before `relative`.
    pub(super) fn next_nemesis(&mut self, relative: Time) -> Option<NemesisEvent> {
        match self.nemesis.front() {
            Some((at, _)) if *at <= relative => self.nemesis.pop_front().map(|(_, e)| e),
            _ => None,
        }
    }

    /// The earliest-scheduled op due at or before `relative` whose thread `is_free`, taken
    /// off the plan, with its thread.
    pub(super) fn next_op(
        &mut self,
        relative: Time,
        is_free: impl Fn(usize) -> bool,
    ) -> Option<ScheduledOp> {
        let thread = (0..self.ops.len())
            .filter(|&t| is_free(t))
            .filter_map(|t| {
                let (seq, op) = self.ops[t].front()?;
                (op.at <= relative).then_some((*seq, t))
            })
            .min()
            .map(|(_, t)| t)?;
        self.ops[thread].pop_front().map(|(_, op)| op)
    }

    /// The earliest time something is due: an op whose thread `is_free`, a nemesis event,
    /// or the end of the main phase.
    pub(super) fn due(&self, is_free: impl Fn(usize) -> bool) -> Time {
        let op = (0..self.ops.len())
            .filter(|&t| is_free(t))
            .filter_map(|t| self.ops[t].front().map(|(_, op)| op.at))
            .min();
        let nemesis = self.nemesis.front().map(|(at, _)| *at);
        [op, nemesis]
            .into_iter()
            .flatten()
            .fold(self.main_end, Time::min)
    }
}
