//! The message store: per key, a log of raw JSON messages indexed by offset, plus the key's
//! committed offset.
//!
//! Offsets are dense: the message at offset `o` is the `o`-th appended to its key, so a log
//! is the messages' JSON text back to back plus where each one ends (`u32`: 4 bytes per
//! message, and the vector's spare capacity). No per-message hash entry, no per-message
//! allocation: appending copies the bytes onto the end. Replicas of another node's log
//! use the same structure, since they are always a prefix of it.
//!
//! The text lives in chunks that double from [`FIRST_CHUNK`] up to [`MAX_CHUNK`] bytes and
//! are never reallocated (a message that does not fit the last chunk starts the next one,
//! so none straddles two): a key's spare capacity is at most one chunk, whatever the
//! message sizes, where one doubling vector could hold as much spare as it has messages.
//! Each chunk is contiguous; a message is found by its end position and the chunk starts.
//!
//! Keys are interned once: a hash map from name to a dense [`KeyId`], and the names by id
//! for writing messages that mention them.

use ahash::AHashMap;

/// A key's index in the [`Store`].
pub type KeyId = u32;

/// Most keys a store holds; past it, requests that would add one get an error.
pub const MAX_KEYS: usize = 1 << 20;
/// Most bytes of messages one key's log holds (positions are `u32`).
pub const MAX_LOG_BYTES: usize = u32::MAX as usize;
/// Capacity of a key's first chunk of message text.
pub const FIRST_CHUNK: usize = 256;
/// Largest chunk (a larger message gets a chunk of its own size).
pub const MAX_CHUNK: usize = 64 << 10;

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
    /// The messages' JSON text in offset order, back to back within each chunk.
    chunks: Vec<Vec<u8>>,
    /// `chunk_starts[c]`: the position (in the key's text, chunks concatenated) of chunk
    /// `c`'s first byte.
    chunk_starts: Vec<u32>,
    /// `ends[o]`: the position where message `o` ends (it starts where `o − 1` ended).
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
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        let chunk = self
            .chunk_starts
            .partition_point(|&s| s <= start)
            .checked_sub(1)?;
        let base = self.chunk_starts[chunk];
        self.chunks[chunk].get((start - base) as usize..(end - base) as usize)
    }

    /// Appends `message` (JSON text) and returns its offset; refused, with nothing kept,
    /// if the log would pass [`MAX_LOG_BYTES`].
    pub fn append(&mut self, message: &[u8]) -> Result<u64, Full> {
        let start = self.ends.last().copied().unwrap_or(0);
        let end = u32::try_from(message.len())
            .ok()
            .and_then(|len| start.checked_add(len))
            .ok_or(Full::Log)?;
        let fits = self
            .chunks
            .last()
            .is_some_and(|chunk| chunk.capacity() - chunk.len() >= message.len());
        if !fits {
            let size = self
                .chunks
                .last()
                .map_or(FIRST_CHUNK, |chunk| (chunk.capacity() * 2).min(MAX_CHUNK));
            self.chunks
                .push(Vec::with_capacity(size.max(message.len())));
            self.chunk_starts.push(start);
        }
        let chunk = self.chunks.last_mut().ok_or(Full::Log)?;
        let capacity = chunk.capacity();
        chunk.extend_from_slice(message);
        assert_eq!(chunk.capacity(), capacity, "a chunk is never reallocated");
        let offset = self.len();
        self.ends.push(end);
        debug_assert_eq!(self.get(offset), Some(message));
        Ok(offset)
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
        let text: usize = self.chunks.iter().map(Vec::capacity).sum();
        text + self.chunks.capacity() * size_of::<Vec<u8>>()
            + (self.chunk_starts.capacity() + self.ends.capacity()) * size_of::<u32>()
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
            chunks: Vec::new(),
            chunk_starts: Vec::new(),
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

    #[test]
    fn messages_never_straddle_chunks_and_chunks_never_grow() {
        let mut log = KeyLog::default();
        let big = vec![b'7'; MAX_CHUNK + 10];
        let mut expected = Vec::new();
        for i in 0..3000u64 {
            let text = match i % 500 {
                499 => big.clone(),
                n => format!("\"{}\"", "x".repeat(n as usize % 97)).into_bytes(),
            };
            assert_eq!(log.append(&text), Ok(i));
            expected.push(text);
        }
        for (offset, text) in expected.iter().enumerate() {
            assert_eq!(log.get(offset as u64), Some(&text[..]), "offset {offset}");
        }
        let text: usize = expected.iter().map(Vec::len).sum();
        let spare = log.heap_bytes() - text;
        assert!(spare < 8 * MAX_CHUNK + 8 * 3000, "{spare} spare bytes");
    }
}
