//! The replicated log and the key-value state machine it drives.
//!
//! Entries are plain data (`Copy`, five integers on the wire), so appending and
//! replicating them allocates nothing beyond the log's own vector. Index 0 is a sentinel of
//! term 0, so `prev_index = 0` always matches and the first real entry has index 1.

use ahash::AHashMap;

use crate::wire::{ArrayWriter, Json};

/// Integers per entry in an `append` message: `term, kind, key, a, b`.
pub const ENTRY_FIELDS: usize = 5;

/// A state-machine command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The entry a new leader appends to commit something from its own term (Raft §5.4.2),
    /// which also makes its commit index current for read-index reads (§6.4).
    Noop,
    /// `write {key, value}`.
    Write {
        /// The key.
        key: i64,
        /// The new value.
        value: i64,
    },
    /// `cas {key, from, to}`.
    Cas {
        /// The key.
        key: i64,
        /// The value the key must hold.
        from: i64,
        /// The value it gets.
        to: i64,
    },
}

/// One log entry: the leader's term when it was appended, and the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Term of the leader that created the entry.
    pub term: u64,
    /// The command.
    pub op: Op,
}

impl Entry {
    /// Writes the entry's five integers into a flat array.
    pub fn write(&self, array: &mut ArrayWriter<'_>) {
        let (kind, key, a, b) = match self.op {
            Op::Noop => (0, 0, 0, 0),
            Op::Write { key, value } => (1, key, value, 0),
            Op::Cas { key, from, to } => (2, key, from, to),
        };
        array.u64(self.term).u64(kind).i64(key).i64(a).i64(b);
    }

    /// Reads the entries of a flat array written by [`Entry::write`], calling `each` on
    /// every one; `None` if the array is malformed (nothing is reported then).
    pub fn read_all(array: Json<'_>, mut each: impl FnMut(Entry)) -> Option<()> {
        let mut items = array.items();
        loop {
            let Some(first) = items.next() else {
                return Some(());
            };
            let term = first.as_u64()?;
            let kind = items.next()?.as_u64()?;
            let key = items.next()?.as_i64()?;
            let a = items.next()?.as_i64()?;
            let b = items.next()?.as_i64()?;
            let op = match kind {
                0 => Op::Noop,
                1 => Op::Write { key, value: a },
                2 => Op::Cas {
                    key,
                    from: a,
                    to: b,
                },
                _ => return None,
            };
            each(Entry { term, op });
        }
    }
}

/// The log: entries `1..=last_index()`, with a term-0 sentinel at 0.
#[derive(Debug)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Default for Log {
    fn default() -> Self {
        let mut entries = Vec::with_capacity(1 << 14);
        entries.push(Entry {
            term: 0,
            op: Op::Noop,
        });
        Log { entries }
    }
}

impl Log {
    /// Index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64 - 1
    }

    /// Term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// Term of the entry at `index`, if present (0 for index 0).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        self.get(index).map(|e| e.term)
    }

    /// The entry at `index` (the sentinel at 0).
    pub fn get(&self, index: u64) -> Option<&Entry> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// Entries `from..=to` (clamped to the log).
    pub fn slice(&self, from: u64, to: u64) -> &[Entry] {
        let len = self.entries.len();
        let from = (from as usize).clamp(1, len);
        let to = (to as usize).saturating_add(1).clamp(from, len);
        &self.entries[from..to]
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: Entry) -> u64 {
        self.entries.push(entry);
        self.last_index()
    }

    /// Removes entries after `index` (a follower dropping a conflicting suffix).
    pub fn truncate_after(&mut self, index: u64) {
        self.entries.truncate(index as usize + 1);
    }

    /// All entries, sentinel included (for the safety checks in tests).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// True when the candidate's log (`last_term`, `last_index`) is at least as up to date
    /// as ours (Raft §5.4.1).
    pub fn candidate_up_to_date(&self, last_term: u64, last_index: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }
}

/// What applying an entry did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A noop or a write, or a cas that matched.
    Done,
    /// A cas on a missing key (error 20).
    KeyMissing,
    /// A cas whose `from` did not match the current value (error 22).
    Mismatch(i64),
}

/// The key-value map the committed log builds.
#[derive(Debug, Default)]
pub struct Store {
    values: AHashMap<i64, i64>,
}

impl Store {
    /// The value of `key`, if it exists.
    pub fn read(&self, key: i64) -> Option<i64> {
        self.values.get(&key).copied()
    }

    /// Applies one committed command.
    pub fn apply(&mut self, op: Op) -> Applied {
        match op {
            Op::Noop => Applied::Done,
            Op::Write { key, value } => {
                self.values.insert(key, value);
                Applied::Done
            }
            Op::Cas { key, from, to } => match self.values.get_mut(&key) {
                None => Applied::KeyMissing,
                Some(current) if *current != from => Applied::Mismatch(*current),
                Some(current) => {
                    *current = to;
                    Applied::Done
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_needs_the_key_and_the_value() {
        let mut store = Store::default();
        let cas = Op::Cas {
            key: 1,
            from: 2,
            to: 3,
        };
        assert_eq!(store.apply(cas), Applied::KeyMissing);
        store.apply(Op::Write { key: 1, value: 4 });
        assert_eq!(store.apply(cas), Applied::Mismatch(4));
        store.apply(Op::Write { key: 1, value: 2 });
        assert_eq!(store.apply(cas), Applied::Done);
        assert_eq!(store.read(1), Some(3));
    }

    #[test]
    fn log_slices_clamp_and_compare_up_to_date() {
        let mut log = Log::default();
        for term in [1, 1, 2] {
            log.push(Entry { term, op: Op::Noop });
        }
        assert_eq!(log.slice(2, 10).len(), 2);
        assert_eq!(log.slice(0, 1).len(), 1);
        assert!(log.slice(5, 9).is_empty());
        assert!(log.candidate_up_to_date(2, 3) && log.candidate_up_to_date(3, 1));
        assert!(!log.candidate_up_to_date(2, 2) && !log.candidate_up_to_date(1, 9));
        log.truncate_after(1);
        assert_eq!((log.last_index(), log.last_term()), (1, 1));
    }
}
