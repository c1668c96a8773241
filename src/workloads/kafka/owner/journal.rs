//! The replication journal: what an owner appended (and committed) for the keys it owns,
//! in order, not yet acknowledged by every peer.
//!
//! Each entry has a position (0, 1, 2, … for the node's whole life); every peer's link
//! streams the journal from the position that peer acknowledged. Entries name a key and
//! an offset, never the message bytes: those are read from the store when a message is
//! written, so the journal costs one small entry per append in flight and nothing once
//! every peer has it (it is trimmed to the lowest acknowledged position).

use std::collections::VecDeque;

use super::super::store::KeyId;

/// One replicated event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The message at `offset` of `key` (offsets of a key are journaled in order).
    Append {
        /// The key.
        key: KeyId,
        /// Its offset.
        offset: u64,
        /// When the append came from a peer's forwarded send: that peer's node index and
        /// the forward's position in its stream, so that peer can answer its client.
        origin: Option<(u32, u64)>,
    },
    /// The key's committed offset rose to `offset`.
    Commit {
        /// The key.
        key: KeyId,
        /// The new committed offset.
        offset: u64,
    },
    /// A forwarded send this owner could not store (its store was full): the origin peer
    /// answers its client with a definite error. Other peers skip it.
    Reject {
        /// The forwarding peer's node index.
        peer: u32,
        /// The forward's position in that peer's stream.
        position: u64,
    },
}

/// The journal: entries from position `base` on.
#[derive(Debug)]
pub struct Journal {
    entries: VecDeque<Entry>,
    base: u64,
    capacity: usize,
}

impl Journal {
    /// An empty journal that holds at most `capacity` unacknowledged entries.
    pub fn new(capacity: usize) -> Self {
        Journal {
            entries: VecDeque::with_capacity(capacity.min(1 << 12)),
            base: 0,
            capacity: capacity.max(1),
        }
    }

    /// Position of the first entry kept.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Position the next entry gets.
    pub fn end(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Entries kept (not yet acknowledged by every peer).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when every peer has every entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many more entries fit.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.entries.len())
    }

    /// Appends `entry`; the caller checked [`Journal::room`].
    pub fn push(&mut self, entry: Entry) {
        assert!(self.room() > 0, "journal past its capacity");
        self.entries.push_back(entry);
    }

    /// The entry at `position`, if kept.
    pub fn get(&self, position: u64) -> Option<Entry> {
        let index = usize::try_from(position.checked_sub(self.base)?).ok()?;
        self.entries.get(index).copied()
    }

    /// Forgets the entries before `position` (every peer acknowledged them).
    pub fn trim(&mut self, position: u64) {
        let position = position.min(self.end());
        while self.base < position {
            self.entries.pop_front();
            self.base += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_trimming() {
        let mut journal = Journal::new(2);
        let commit = |offset| Entry::Commit { key: 0, offset };
        journal.push(commit(1));
        journal.push(commit(2));
        assert_eq!(journal.room(), 0);
        assert_eq!((journal.base(), journal.end()), (0, 2));
        journal.trim(1);
        assert_eq!(journal.get(0), None);
        assert_eq!(journal.get(1), Some(commit(2)));
        journal.push(commit(3));
        assert_eq!(journal.get(2), Some(commit(3)));
        journal.trim(10);
        assert!(journal.is_empty());
        assert_eq!((journal.base(), journal.end()), (3, 3));
    }
}
