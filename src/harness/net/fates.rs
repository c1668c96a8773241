//! The network's side of a [schedule](crate::harness::schedule): it names each
//! inter-server message by its link and its number on that link, records the fate the
//! network drew for it, and, when replaying, looks the fate up instead of drawing it.
//!
//! A message's name (`n0 → n1`, 17th) does not depend on message ids or on client traffic,
//! so an edited schedule still finds the fates of the messages before the first change.

use ahash::AHashMap;

use crate::harness::schedule::{MessageFate, Schedule};

/// Link counters, the recorded fates, and the plan being replayed.
pub struct Fates {
    /// Participants (nodes, then services).
    width: usize,
    /// `sent[src * width + dest]`: messages sent on that link so far.
    sent: Vec<u64>,
    recorded: Option<Vec<MessageFate>>,
    plan: Option<AHashMap<(u16, u16, u64), MessageFate>>,
}

impl Fates {
    /// For `width` participants; records nothing and replays nothing yet.
    pub fn new(width: usize) -> Fates {
        Fates {
            width,
            sent: vec![0; width * width],
            recorded: None,
            plan: None,
        }
    }

    /// Starts recording every fate.
    pub fn record(&mut self) {
        self.recorded.get_or_insert_with(Vec::new);
    }

    /// Replays `schedule`'s fates; `participants` are this network's (nodes, then
    /// services), matched to the schedule's by name.
    pub fn replay(&mut self, schedule: &Schedule, participants: &[String]) {
        let ours = |index: u16| -> Option<u16> {
            let name = schedule.participants.get(usize::from(index))?;
            participants
                .iter()
                .position(|p| p == name)
                .map(|i| i as u16)
        };
        let plan = schedule
            .messages
            .iter()
            .filter_map(|fate| {
                let (src, dest) = (ours(fate.src)?, ours(fate.dest)?);
                Some(((src, dest, fate.nth), MessageFate { src, dest, ..*fate }))
            })
            .collect();
        self.plan = Some(plan);
    }

    /// Whether a plan is being replayed.
    pub fn replaying(&self) -> bool {
        self.plan.is_some()
    }

    /// Numbers the next message on `src → dest` and returns its planned fate, if any.
    pub fn next(&mut self, src: usize, dest: usize) -> (u64, Option<MessageFate>) {
        assert!(
            src < self.width && dest < self.width,
            "participants are in range"
        );
        let counter = &mut self.sent[src * self.width + dest];
        let nth = *counter;
        *counter += 1;
        let planned = self
            .plan
            .as_ref()
            .and_then(|plan| plan.get(&(src as u16, dest as u16, nth)).copied());
        (nth, planned)
    }

    /// Records a fate (when recording).
    pub fn push(&mut self, fate: MessageFate) {
        if let Some(recorded) = self.recorded.as_mut() {
            recorded.push(fate);
        }
    }

    /// The recorded fates, in send order.
    pub fn take(&mut self) -> Vec<MessageFate> {
        self.recorded.take().unwrap_or_default()
    }
}
