//! The forward queue: what a node sends to one key owner — client sends for the owner's
//! keys (with the message's JSON text) and raised committed offsets — until the owner
//! acknowledges them.
//!
//! Entries have positions 0, 1, 2, … per owner; the owner applies each position once, in
//! order, so a retransmitted or duplicated forward is never appended twice. Message bytes
//! live back to back in one buffer (no allocation per message), compacted as the front is
//! acknowledged.

use std::collections::VecDeque;

use super::super::store::KeyId;

/// One forwarded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// A client's send: the message is `bytes[start..end]` (absolute byte positions).
    Send {
        /// The key.
        key: KeyId,
        /// Where its JSON text starts.
        start: u64,
        /// Where it ends.
        end: u64,
    },
    /// A client committed `offset` for `key` here.
    Commit {
        /// The key.
        key: KeyId,
        /// The committed offset.
        offset: u64,
    },
}

/// Forwards from position `base` on, with their message bytes.
#[derive(Debug)]
pub struct ForwardQueue {
    entries: VecDeque<Forward>,
    base: u64,
    /// Message bytes; `bytes[0]` is absolute byte position `bytes_base`.
    bytes: Vec<u8>,
    bytes_base: u64,
    capacity: usize,
    /// Most message bytes kept.
    byte_capacity: usize,
}

impl ForwardQueue {
    /// An empty queue holding at most `capacity` entries and `byte_capacity` message bytes.
    pub fn new(capacity: usize, byte_capacity: usize) -> Self {
        ForwardQueue {
            entries: VecDeque::new(),
            base: 0,
            bytes: Vec::new(),
            bytes_base: 0,
            capacity: capacity.max(1),
            byte_capacity,
        }
    }

    /// Position of the first unacknowledged entry.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Position the next entry gets.
    pub fn end(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// How many more entries fit.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.entries.len())
    }

    /// True when no more sends fit (entries or message bytes).
    pub fn sends_full(&self) -> bool {
        self.room() == 0 || self.bytes.len() >= self.byte_capacity
    }

    /// Queues a send whose message `write` writes; returns its position. The caller
    /// checked [`ForwardQueue::sends_full`].
    pub fn push_send(&mut self, key: KeyId, write: impl FnOnce(&mut Vec<u8>)) -> u64 {
        assert!(!self.sends_full(), "forward queue past its capacity");
        if self.entries.is_empty() {
            // Nothing unacknowledged refers to the old bytes.
            self.bytes_base += self.bytes.len() as u64;
            self.bytes.clear();
        }
        let start = self.bytes_base + self.bytes.len() as u64;
        write(&mut self.bytes);
        let end = self.bytes_base + self.bytes.len() as u64;
        self.entries.push_back(Forward::Send { key, start, end });
        self.end() - 1
    }

    /// Queues a commit; returns its position. The caller checked [`ForwardQueue::room`].
    pub fn push_commit(&mut self, key: KeyId, offset: u64) -> u64 {
        assert!(self.room() > 0, "forward queue past its capacity");
        self.entries.push_back(Forward::Commit { key, offset });
        self.end() - 1
    }

    /// The entry at `position`, if not yet acknowledged.
    pub fn get(&self, position: u64) -> Option<Forward> {
        let index = usize::try_from(position.checked_sub(self.base)?).ok()?;
        self.entries.get(index).copied()
    }

    /// The JSON text of a [`Forward::Send`] entry.
    pub fn message(&self, start: u64, end: u64) -> &[u8] {
        let from = start.saturating_sub(self.bytes_base) as usize;
        let to = end.saturating_sub(self.bytes_base) as usize;
        self.bytes.get(from..to).unwrap_or_default()
    }

    /// The owner applied every entry before `position`: drop them (and, once they are
    /// most of the buffer, their bytes).
    pub fn acknowledge(&mut self, position: u64) {
        let position = position.min(self.end());
        while self.base < position {
            self.entries.pop_front();
            self.base += 1;
        }
        let first_byte = self.entries.iter().find_map(|entry| match entry {
            Forward::Send { start, .. } => Some(*start),
            Forward::Commit { .. } => None,
        });
        let used_from = first_byte.unwrap_or(self.bytes_base + self.bytes.len() as u64);
        let dead = (used_from - self.bytes_base) as usize;
        if dead >= 4096 && dead * 2 >= self.bytes.len() {
            self.bytes.drain(..dead);
            self.bytes_base = used_from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_bytes_survive_acknowledgement() {
        let mut queue = ForwardQueue::new(3, 1 << 20);
        let first = queue.push_send(7, |b| b.extend_from_slice(b"\"a\""));
        let second = queue.push_commit(7, 4);
        let third = queue.push_send(8, |b| b.extend_from_slice(&[b'1'; 5000]));
        assert_eq!((first, second, third), (0, 1, 2));
        assert!(queue.sends_full() && queue.room() == 0);
        let Some(Forward::Send { start, end, .. }) = queue.get(0) else {
            panic!("a send at 0");
        };
        assert_eq!(queue.message(start, end), b"\"a\"");
        queue.acknowledge(2);
        assert_eq!(queue.get(1), None);
        let Some(Forward::Send { key, start, end }) = queue.get(2) else {
            panic!("a send at 2");
        };
        assert_eq!((key, queue.message(start, end).len()), (8, 5000));
        queue.acknowledge(3);
        assert_eq!(queue.end(), 3);
        let fourth = queue.push_send(9, |b| b.extend_from_slice(b"null"));
        let Some(Forward::Send { start, end, .. }) = queue.get(fourth) else {
            panic!("a send at 3");
        };
        assert_eq!(queue.message(start, end), b"null");
    }
}
