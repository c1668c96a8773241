//! [`EarlyCommits`]: commits received before their dependencies, held per origin until
//! those arrive from the other nodes.
//!
//! Without it a commit that comes early is dropped and resent, and a node catching up
//! after a partition advances one dependency step per exchange: while cut off, its peers
//! committed in lockstep, each commit depending on the other's latest, so it would need
//! as many round trips as they had exchanges. Held commits are applied as soon as their
//! dependencies are, so one batch from each peer goes a whole batch further.
//!
//! Per origin the held commits are a run of consecutive numbers starting at the next one
//! the node will apply from that origin (the first is blocked on a dependency). A run
//! holds at most `max_commits` commits and [`MAX_HELD_WRITES`] writes; past that, commits
//! are not held (they come again). The receiver's `have` never counts held commits, so a
//! sender keeps resending them until they are applied: holding is only a shortcut.

/// Most writes held per origin.
pub const MAX_HELD_WRITES: usize = 1 << 16;

/// One origin's run of held commits.
#[derive(Debug, Default)]
struct Run {
    /// Index of the first commit not yet taken (commits before it were applied).
    head: usize,
    clocks: Vec<u64>,
    /// `nodes` counts per commit.
    deps: Vec<u64>,
    /// Where each commit's writes end in `writes`.
    write_ends: Vec<usize>,
    writes: Vec<(i64, i64)>,
}

impl Run {
    fn len(&self) -> usize {
        self.clocks.len() - self.head
    }

    fn clear(&mut self) {
        self.head = 0;
        self.clocks.clear();
        self.deps.clear();
        self.write_ends.clear();
        self.writes.clear();
    }
}

/// A held commit, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Held<'h> {
    /// Its version's clock.
    pub clock: u64,
    /// Its dependency counts, one per node.
    pub deps: &'h [u64],
    /// Its writes.
    pub writes: &'h [(i64, i64)],
}

/// The held commits of every origin.
#[derive(Debug)]
pub struct EarlyCommits {
    runs: Vec<Run>,
    nodes: usize,
    max_commits: usize,
}

impl EarlyCommits {
    /// Room for `max_commits` held commits per origin in a cluster of `nodes`.
    pub fn new(nodes: usize, max_commits: usize) -> Self {
        EarlyCommits {
            runs: (0..nodes).map(|_| Run::default()).collect(),
            nodes,
            max_commits,
        }
    }

    /// Number of commits held for `origin`.
    pub fn held(&self, origin: usize) -> usize {
        self.runs.get(origin).map_or(0, Run::len)
    }

    /// Holds the next commit of `origin` (number: next applied + [`EarlyCommits::held`]).
    /// Returns false, holding nothing, when the run is full.
    pub fn hold(&mut self, origin: usize, clock: u64, deps: &[u64], writes: &[(i64, i64)]) -> bool {
        assert_eq!(deps.len(), self.nodes, "one dependency count per node");
        let Some(run) = self.runs.get_mut(origin) else {
            return false;
        };
        let held_writes =
            run.writes.len() - run.head.checked_sub(1).map_or(0, |i| run.write_ends[i]);
        if run.len() >= self.max_commits || held_writes + writes.len() > MAX_HELD_WRITES {
            return false;
        }
        run.clocks.push(clock);
        run.deps.extend_from_slice(deps);
        run.writes.extend_from_slice(writes);
        run.write_ends.push(run.writes.len());
        true
    }

    /// The first held commit of `origin`.
    pub fn first(&self, origin: usize) -> Option<Held<'_>> {
        let run = self.runs.get(origin)?;
        let index = run.head;
        let clock = *run.clocks.get(index)?;
        let start = index.checked_sub(1).map_or(0, |i| run.write_ends[i]);
        Some(Held {
            clock,
            deps: run.deps.get(index * self.nodes..(index + 1) * self.nodes)?,
            writes: run.writes.get(start..*run.write_ends.get(index)?)?,
        })
    }

    /// Drops the first held commit of `origin` (it was applied).
    pub fn pop(&mut self, origin: usize) {
        if let Some(run) = self.runs.get_mut(origin) {
            run.head += 1;
            if run.head >= run.clocks.len() {
                run.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_a_bounded_run_per_origin_and_gives_it_back_in_order() {
        let mut early = EarlyCommits::new(2, 2);
        assert!(early.hold(1, 5, &[3, 0], &[(1, 10), (2, 20)]));
        assert!(early.hold(1, 6, &[3, 1], &[(1, 11)]));
        assert!(!early.hold(1, 7, &[3, 2], &[]), "at most 2 per origin");
        assert_eq!(early.held(1), 2);
        assert_eq!(early.held(0), 0);
        let first = early.first(1).expect("held");
        assert_eq!(
            (first.clock, first.deps, first.writes),
            (5, &[3, 0][..], &[(1, 10), (2, 20)][..])
        );
        early.pop(1);
        let second = early.first(1).expect("held");
        assert_eq!((second.clock, second.writes), (6, &[(1, 11)][..]));
        assert!(early.hold(1, 7, &[3, 2], &[(3, 1)]));
        early.pop(1);
        assert_eq!(early.first(1).map(|h| h.writes), Some(&[(3, 1)][..]));
        early.pop(1);
        assert!(early.first(1).is_none() && early.held(1) == 0);
        assert!(early.first(5).is_none());
    }
}
