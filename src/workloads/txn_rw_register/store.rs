//! [`Store`]: the registers a node's transactions read, each with the [`Version`] of the
//! write it holds, and the node's Lamport clock.
//!
//! Versions are Lamport timestamps made unique by the origin node: `(clock, origin)`,
//! ordered by clock, then origin. A node's clock is at least the clock of every version it
//! holds, so a local commit's version is newer than everything the committing
//! transaction could have seen; a remote write is installed only if its version is newer
//! than the register's (last writer wins). Every replica applying the same writes in any
//! order therefore ends with the same registers, and no register ever moves back to an
//! older version.

use ahash::AHashMap;

/// Registers preallocated for, so the map grows rarely during a test.
const INITIAL_KEYS: usize = 16 * 1024;

/// Largest clock accepted from a peer: far beyond any real run (a commit per nanosecond
/// for a century is below 2^62), and far enough from `u64::MAX` that the clock never
/// overflows.
pub const MAX_CLOCK: u64 = 1 << 62;

/// A write's timestamp: unique per transaction, totally ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Lamport clock of the committing node at commit.
    pub clock: u64,
    /// Index of the committing node in the cluster's node list (breaks clock ties).
    pub origin: u32,
}

/// One register: its value and the version of the write that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// The value written.
    pub value: i64,
    /// The writing transaction's version.
    pub version: Version,
}

/// The registers and the Lamport clock.
#[derive(Debug)]
pub struct Store {
    registers: AHashMap<i64, Register>,
    clock: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            registers: AHashMap::with_capacity(INITIAL_KEYS),
            clock: 0,
        }
    }
}

impl Store {
    /// The register at `key`, if it was ever written.
    pub fn get(&self, key: i64) -> Option<Register> {
        self.registers.get(&key).copied()
    }

    /// Every written register, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, Register)> + '_ {
        self.registers
            .iter()
            .map(|(&key, &register)| (key, register))
    }

    /// Number of written registers.
    pub fn len(&self) -> usize {
        self.registers.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.registers.is_empty()
    }

    /// The Lamport clock.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// Advances the clock for a local commit and returns its version: newer than every
    /// version this store holds.
    pub fn next_version(&mut self, origin: u32) -> Version {
        self.clock += 1;
        Version {
            clock: self.clock,
            origin,
        }
    }

    /// A local transaction writes `key`. Its version came from [`Store::next_version`] in
    /// the same handler, so it is at least the register's (equal when the transaction
    /// writes the key twice).
    pub fn write_local(&mut self, key: i64, value: i64, version: Version) {
        let register = Register { value, version };
        let previous = self.registers.insert(key, register);
        assert!(
            previous.is_none_or(|p| p.version <= version),
            "a local commit's version {version:?} is older than {previous:?}"
        );
    }

    /// A replicated write: installed only if newer than the register (last writer wins).
    /// Advances the clock past the version either way.
    pub fn apply(&mut self, key: i64, value: i64, version: Version) {
        self.clock = self.clock.max(version.clock);
        let register = Register { value, version };
        self.registers
            .entry(key)
            .and_modify(|current| {
                if version > current.version {
                    *current = register;
                }
            })
            .or_insert(register);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(clock: u64, origin: u32) -> Version {
        Version { clock, origin }
    }

    #[test]
    fn last_writer_wins_in_any_order_and_the_clock_follows() {
        let writes = [
            (1, 10, version(3, 1)),
            (1, 11, version(3, 0)),
            (1, 12, version(2, 2)),
        ];
        let mut forward = Store::default();
        let mut backward = Store::default();
        for &(key, value, v) in &writes {
            forward.apply(key, value, v);
        }
        for &(key, value, v) in writes.iter().rev() {
            backward.apply(key, value, v);
        }
        assert_eq!(forward.get(1), backward.get(1));
        assert_eq!(forward.get(1).map(|r| r.value), Some(10));
        assert_eq!(forward.clock(), 3);
        let local = forward.next_version(0);
        assert!(local > version(3, 1), "a commit is newer than all it saw");
        forward.write_local(2, 5, local);
        forward.write_local(2, 6, local);
        assert_eq!(forward.get(2).map(|r| r.value), Some(6));
        assert_eq!(forward.len(), 2);
    }
}
