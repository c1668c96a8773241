//! The shared transaction generator's key pool (MAELSTROM.md §3.8, Elle's `wr-txns`):
//! `--key-count` active keys chosen exponentially (later slots favoured), per-key write
//! values 1, 2, … up to `--max-writes-per-key`, and retirement of exhausted keys.

use std::collections::BTreeMap;

use crate::node::rng::Rng;

/// One micro-op drawn from the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicroOp {
    /// Read key `k`.
    Read(u64),
    /// Write (or append) value `v` to key `k`.
    Write(u64, u64),
}

/// The active keys and the next value of every key.
#[derive(Clone, Debug)]
pub struct KeyPool {
    active: Vec<u64>,
    /// Values written so far per key (the next write is this + 1).
    written: BTreeMap<u64, u64>,
    max_key: u64,
    max_writes_per_key: u64,
}

/// Bound on redraws of one micro-op (each redraw retires a key, so one suffices in practice).
const MAX_REDRAWS: usize = 1024;

impl KeyPool {
    /// Keys `0..key_count`, each written at most `max_writes_per_key` times.
    pub fn new(key_count: u64, max_writes_per_key: u64) -> KeyPool {
        let key_count = key_count.max(1);
        KeyPool {
            active: (0..key_count).collect(),
            written: BTreeMap::new(),
            max_key: key_count - 1,
            max_writes_per_key: max_writes_per_key.max(1),
        }
    }

    /// The pool slot to use: slot i with probability 2^i / (2^K − 1), drawn without
    /// overflow for any K as "the top slot, or with probability ½ the next one down, …",
    /// redrawing when it falls off the bottom.
    fn slot(&self, rng: &mut Rng) -> usize {
        let count = self.active.len();
        loop {
            let mut below_top = 0;
            while below_top < count && rng.coin() {
                below_top += 1;
            }
            if below_top < count {
                return count - 1 - below_top;
            }
        }
    }

    /// A fair coin between a read and a write of an exponentially chosen key; a write that
    /// would exceed the key's limit retires the key (a fresh key takes its slot) and the
    /// micro-op is redrawn.
    pub fn micro_op(&mut self, rng: &mut Rng) -> MicroOp {
        for _ in 0..MAX_REDRAWS {
            let slot = self.slot(rng);
            let key = self.active[slot];
            if rng.coin() {
                return MicroOp::Read(key);
            }
            let value = self.written.get(&key).copied().unwrap_or(0) + 1;
            if value <= self.max_writes_per_key {
                self.written.insert(key, value);
                return MicroOp::Write(key, value);
            }
            self.max_key += 1;
            self.active[slot] = self.max_key;
            self.written.remove(&key);
        }
        MicroOp::Read(self.active[self.active.len() - 1])
    }

    /// The active keys, in slot order.
    pub fn active(&self) -> &[u64] {
        &self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_slots_are_favoured_exponentially() {
        let pool = KeyPool::new(4, 16);
        let mut rng = Rng::new(3);
        let mut counts = [0u32; 4];
        for _ in 0..150_000 {
            counts[pool.slot(&mut rng)] += 1;
        }
        // 1 : 2 : 4 : 8 out of 15.
        for (slot, count) in counts.iter().enumerate() {
            let expected = 150_000.0 * f64::from(1u32 << slot) / 15.0;
            let error = (f64::from(*count) - expected).abs() / expected;
            assert!(error < 0.05, "slot {slot}: {count} vs {expected}");
        }
    }

    #[test]
    fn values_increase_per_key_and_exhausted_keys_retire() {
        let mut pool = KeyPool::new(2, 3);
        let mut rng = Rng::new(9);
        let mut last: BTreeMap<u64, u64> = BTreeMap::new();
        for _ in 0..2000 {
            if let MicroOp::Write(key, value) = pool.micro_op(&mut rng) {
                let previous = last.insert(key, value).unwrap_or(0);
                assert_eq!(value, previous + 1, "key {key}");
                assert!(value <= 3);
            }
        }
        assert!(pool.active().iter().all(|&k| k >= 2), "{:?}", pool.active());
        assert!(last.len() > 10, "keys retired and replaced: {}", last.len());
    }
}
