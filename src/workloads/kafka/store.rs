//! The message store: per key, a log of raw JSON messages indexed by offset, plus the key's
//! committed offset.
//!
//! Offsets are dense: the message at offset `o` is the `o`-th appended to its key, so a log
//! is two contiguous vectors — the messages' bytes back to back, and where each one ends
//! (`u32`, so 4 bytes per message plus the vectors' spare capacity). No per-message hash
//! entry, no per-message allocation: appending copies the bytes onto the end. Replicas of
//! another node's log use the same structure, since they are always a prefix of it.
//!
//! Keys are interned once: a hash map from name to a dense [`KeyId`], and the names by id
//! for writing messages that mention them.

use ahash::AHashMap;

/// A key's index in the [`Store`].
pub type KeyId = u32;

/// Most keys a store holds; past it, requests that would add one get error 11.
pub const MAX_KEYS: usize = 1 << 20;
/// Most bytes of messages one key's log holds (its `ends` are `u32`).
pub const MAX_LOG_BYTES: usize = u32::MAX as usize;

/// Why an append or a new key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// [`MAX_KEYS`] keys exist.
    Keys,
    /// The key's log would pass [`MAX_LOG_BYTES`].
    Log,
}

/// One key's messages, offset-indexed.
#[derive(Debug, Default)]
pub struct KeyLog {
    /// Every message's JSON text, back to back, in offset order.
    bytes: Vec<u8>,
    /// `ends[o]`: where message `o` ends in `bytes` (it starts where `o − 1` ended).
    ends: Vec<u32>,
}

impl KeyLog {
    /// Number of messages, which is also the next offset.
    pub fn len(&self) -> u64 {
        self.ends.len() as u64
    }

    /// True before the first message.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The JSON text of the message at `offset`.
    pub fn get(&self, offset: u64) -> Option<&[u8]> {
        let index = usize::try_from(offset).ok()?;
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        self.bytes.get(start..end)
    }

    /// Appends the message `write` writes (one JSON value) and returns its offset; refused,
    /// with nothing kept, if the log would pass [`MAX_LOG_BYTES`].
    pub fn append_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<u64, Full> {
        let start = self.bytes.len();
        write(&mut self.bytes);
        let Ok(end) = u32::try_from(self.bytes.len()) else {
            self.bytes.truncate(start);
            return Err(Full::Log);
        };
        let offset = self.len();
        self.ends.push(end);
        debug_assert_eq!(
            self.get(offset).map(<[u8]>::len),
            Some(end as usize - start)
        );
        Ok(offset)
    }

    /// Appends `message` (JSON text) and returns its offset.
    pub fn append(&mut self, message: &[u8]) -> Result<u64, Full> {
        self.append_with(|bytes| bytes.extend_from_slice(message))
    }

    /// Writes `[m0,m1,…]`: the whole log as one JSON array.
    pub fn write_array(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for offset in 0..self.len() {
            if offset > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.get(offset).unwrap_or(b"null"));
        }
        out.push(b']');
    }

    /// Heap bytes held (capacities, not lengths).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * size_of::<u32>()
    }
}

/// Every key's log and committed offset.
#[derive(Debug, Default)]
pub struct Store {
    index: AHashMap<Box<str>, KeyId>,
    names: Vec<Box<str>>,
    logs: Vec<KeyLog>,
    committed: Vec<Option<u64>>,
}

impl Store {
    /// The id of `name`, if the key exists.
    pub fn find(&self, name: &str) -> Option<KeyId> {
        self.index.get(name).copied()
    }

    /// The id of `name`, adding the key if it is new.
    pub fn intern(&mut self, name: &str) -> Result<KeyId, Full> {
        if let Some(&key) = self.index.get(name) {
            return Ok(key);
        }
        if self.names.len() >= MAX_KEYS {
            return Err(Full::Keys);
        }
        let key = self.names.len() as KeyId;
        self.index.insert(name.into(), key);
        self.names.push(name.into());
        self.logs.push(KeyLog::default());
        self.committed.push(None);
        Ok(key)
    }

    /// Number of keys.
    pub fn keys(&self) -> usize {
        self.names.len()
    }

    /// The key's name (empty for an unknown id).
    pub fn name(&self, key: KeyId) -> &str {
        self.names.get(key as usize).map_or("", |name| name)
    }

    /// The key's log (an empty one for an unknown id).
    pub fn log(&self, key: KeyId) -> &KeyLog {
        static EMPTY: KeyLog = KeyLog {
            bytes: Vec::new(),
            ends: Vec::new(),
        };
        self.logs.get(key as usize).unwrap_or(&EMPTY)
    }

    /// The key's log, to append to.
    pub fn log_mut(&mut self, key: KeyId) -> Option<&mut KeyLog> {
        self.logs.get_mut(key as usize)
    }

    /// The key's committed offset, if any was committed.
    pub fn committed(&self, key: KeyId) -> Option<u64> {
        self.committed.get(key as usize).copied().flatten()
    }

    /// Raises the key's committed offset to `offset` (committed offsets never go back).
    /// Returns true if it rose.
    pub fn commit(&mut self, key: KeyId, offset: u64) -> bool {
        let Some(slot) = self.committed.get_mut(key as usize) else {
            return false;
        };
        if slot.is_some_and(|current| current >= offset) {
            return false;
        }
        *slot = Some(offset);
        true
    }

    /// Heap bytes held by the logs (capacities), the rest of the store left out.
    pub fn log_heap_bytes(&self) -> usize {
        self.logs.iter().map(KeyLog::heap_bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_offset_indexed_and_commits_only_rise() {
        let mut store = Store::default();
        let a = store.intern("a").expect("room");
        let b = store.intern("b").expect("room");
        assert_eq!(store.intern("a"), Ok(a));
        assert_eq!((store.find("b"), store.find("c")), (Some(b), None));
        let log = store.log_mut(a).expect("exists");
        assert_eq!(log.append(b"1"), Ok(0));
        assert_eq!(log.append(b"{\"x\":[2]}"), Ok(1));
        assert_eq!(log.append(b"\"three\""), Ok(2));
        let log = store.log(a);
        assert_eq!(log.get(1), Some(&b"{\"x\":[2]}"[..]));
        assert_eq!((log.get(2), log.get(3)), (Some(&b"\"three\""[..]), None));
        let mut array = Vec::new();
        log.write_array(&mut array);
        assert_eq!(array, b"[1,{\"x\":[2]},\"three\"]");
        assert!(store.log(b).is_empty() && store.log(99).is_empty());
        assert_eq!(store.name(b), "b");
        assert_eq!(store.committed(a), None);
        assert!(store.commit(a, 3) && !store.commit(a, 2) && !store.commit(a, 3));
        assert_eq!(store.committed(a), Some(3));
        assert!(!store.commit(99, 1));
    }
}
