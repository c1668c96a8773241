//! [`CommitLog`]: this node's own committed transactions that some peer may still lack.
//!
//! Commits are numbered 0, 1, 2, … in commit order (with the node's index, that is the
//! transaction's unique id). Each entry keeps what a replica needs to apply it: its
//! version's clock, its dependencies (how many commits of each node this node had applied
//! when it committed) and its write set (the final write of each key). Once every peer has
//! confirmed an entry it is dropped from the front ([`CommitLog::trim`]); the buffers keep
//! their capacity, so a steady stream of commits allocates nothing. A peer confirms with
//! its next message, so what is kept is what was committed since the slowest peer last
//! spoke: a flush period's worth under load, at most one reply's batch once idle, and
//! everything committed during a partition until it heals (like the registers themselves,
//! that grows with the data written).

/// One commit's place in the buffers.
#[derive(Clone, Copy, Debug)]
struct Entry {
    clock: u64,
    /// Absolute position of its first write in the write stream.
    writes_start: u64,
    writes_len: u32,
}

/// A commit as read back from the log.
#[derive(Clone, Copy, Debug)]
pub struct Commit<'l> {
    /// Its version's clock (the origin is this node).
    pub clock: u64,
    /// Commits of each node applied here when it committed (one per node).
    pub deps: &'l [u64],
    /// `(key, value)`: the last write of each key the transaction wrote.
    pub writes: &'l [(i64, i64)],
}

/// The unconfirmed suffix of this node's commits.
#[derive(Debug)]
pub struct CommitLog {
    /// Number of the first kept entry (every earlier one was trimmed).
    first: u64,
    entries: Vec<Entry>,
    /// Absolute position of `writes[0]` in the write stream.
    writes_first: u64,
    writes: Vec<(i64, i64)>,
    /// `nodes` dependency counts per kept entry, in entry order.
    deps: Vec<u64>,
    nodes: usize,
}

impl CommitLog {
    /// An empty log for a cluster of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        CommitLog {
            first: 0,
            entries: Vec::with_capacity(4096),
            writes_first: 0,
            writes: Vec::with_capacity(16 * 1024),
            deps: Vec::with_capacity(4096 * nodes),
            nodes,
        }
    }

    /// Number of the next commit: every commit ever made, trimmed or not.
    pub fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Number of the first commit still kept.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// Number of commits kept (not yet confirmed by every peer).
    pub fn kept(&self) -> usize {
        self.entries.len()
    }

    /// Appends a commit; returns its number.
    pub fn push(&mut self, clock: u64, deps: &[u64], writes: &[(i64, i64)]) -> u64 {
        assert_eq!(deps.len(), self.nodes, "one dependency count per node");
        assert!(
            self.entries.last().is_none_or(|last| last.clock < clock),
            "commit clocks increase"
        );
        self.entries.push(Entry {
            clock,
            writes_start: self.writes_first + self.writes.len() as u64,
            writes_len: writes.len() as u32,
        });
        self.writes.extend_from_slice(writes);
        self.deps.extend_from_slice(deps);
        self.end() - 1
    }

    /// Commit number `number`, if it is kept.
    pub fn get(&self, number: u64) -> Option<Commit<'_>> {
        let index = usize::try_from(number.checked_sub(self.first)?).ok()?;
        let entry = self.entries.get(index)?;
        let start = usize::try_from(entry.writes_start - self.writes_first).ok()?;
        let writes = self.writes.get(start..start + entry.writes_len as usize)?;
        let deps = self
            .deps
            .get(index * self.nodes..(index + 1) * self.nodes)?;
        Some(Commit {
            clock: entry.clock,
            deps,
            writes,
        })
    }

    /// Drops the commits numbered below `number` (every peer has them).
    pub fn trim(&mut self, number: u64) {
        let count = number
            .saturating_sub(self.first)
            .min(self.entries.len() as u64) as usize;
        if count == 0 {
            return;
        }
        let writes_end = self
            .entries
            .get(count)
            .map_or(self.writes_first + self.writes.len() as u64, |e| {
                e.writes_start
            });
        let write_count = (writes_end - self.writes_first) as usize;
        self.entries.drain(..count);
        self.writes.drain(..write_count);
        self.deps.drain(..count * self.nodes);
        self.first += count as u64;
        self.writes_first = writes_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_unconfirmed_suffix_and_reads_it_back() {
        let mut log = CommitLog::new(2);
        assert_eq!(log.push(1, &[0, 0], &[(1, 10), (2, 20)]), 0);
        assert_eq!(log.push(2, &[1, 3], &[(1, 11)]), 1);
        assert_eq!(log.push(5, &[2, 3], &[]), 2);
        log.trim(1);
        assert_eq!((log.first(), log.end(), log.kept()), (1, 3, 2));
        assert!(log.get(0).is_none());
        let commit = log.get(1).expect("kept");
        assert_eq!(
            (commit.clock, commit.deps, commit.writes),
            (2, &[1, 3][..], &[(1, 11)][..])
        );
        assert!(log.get(2).expect("kept").writes.is_empty());
        log.trim(9);
        assert_eq!((log.first(), log.end(), log.kept()), (3, 3, 0));
        assert_eq!(log.push(6, &[3, 4], &[(3, 1)]), 3);
        assert_eq!(log.get(3).expect("kept").writes, &[(3, 1)]);
        log.trim(2);
        assert_eq!(log.kept(), 1, "trimming below the first entry does nothing");
    }
}
