//! The immutable tree nodes of the datomic strategy ("commits") and the node-local cache
//! of them.
//!
//! A commit is stored in lin-kv under its own integer id, written once and never changed:
//!
//! ```text
//! {"height": h, "parent": <id> | null,
//!  "frontier": [s0, s1, …],             per node index, the sequence number of that
//!                                       node's newest commit in this one's history
//!  "index": [[key, holder id], …],      every key of the database, sorted
//!  "lists": [[key, [elements…]], …]}    the lists this commit changed, sorted
//! ```
//!
//! The root pointer names the newest commit. A key's current list lives in the commit its
//! `index` entry names (the newest commit that changed it), so the root commit plus one
//! holder per key read gives a whole consistent snapshot. `height` is the parent's + 1
//! (the first commit has height 1): every root swap goes from a commit to a child of it,
//! so heights along the root's history strictly increase.
//!
//! Commit ids are `sequence · node count + node index`, each node counting its own
//! sequence 1, 2, …. A node's commits enter the root's history in sequence order (a
//! node builds on the newest root it knows, and a swap from an older base can never
//! succeed once the root moved past it), so the `frontier` answers "is my commit s in the
//! history of commit C?" from C alone while s is my newest: exactly when
//! `C.frontier[me] == s` (see the strategy's docs for why that question arises).

use ahash::AHashMap;
use std::collections::VecDeque;

use crate::wire::{Json, ObjectWriter};

/// Most commits a node keeps cached (each holds the whole index: bounded memory).
pub const CACHE_CAPACITY: usize = 2048;

/// One immutable commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Distance from the empty database (1 for the first commit).
    pub height: u64,
    /// The commit this one was built on (`None` for the first).
    pub parent: Option<u64>,
    /// Per node index, the sequence number of its newest commit in this one's history
    /// (0: none).
    pub frontier: Vec<u64>,
    /// Key → id of the commit holding its current list, sorted by key.
    pub index: Vec<(u64, u64)>,
    /// The lists this commit changed, sorted by key.
    pub lists: Vec<(u64, Vec<u64>)>,
}

impl Commit {
    /// The id of the commit holding `key`'s list, if the key exists.
    pub fn holder(&self, key: u64) -> Option<u64> {
        let at = self.index.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        self.index.get(at).map(|&(_, id)| id)
    }

    /// `key`'s list, if this commit changed it.
    pub fn list(&self, key: u64) -> Option<&[u64]> {
        let at = self.lists.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        self.lists.get(at).map(|(_, list)| list.as_slice())
    }

    /// The sequence number of node `node_index`'s newest commit in this one's history.
    pub fn newest_of(&self, node_index: usize) -> u64 {
        self.frontier.get(node_index).copied().unwrap_or(0)
    }

    /// Writes the commit's JSON into `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut object = ObjectWriter::new(out);
        object.u64("height", self.height);
        match self.parent {
            Some(parent) => object.u64("parent", parent),
            None => object.null("parent"),
        };
        object.u64_array("frontier", self.frontier.iter().copied());
        let mut index = object.array("index");
        for &(key, holder) in &self.index {
            index.array().u64(key).u64(holder);
        }
        drop(index);
        let mut lists = object.array("lists");
        for (key, list) in &self.lists {
            let mut pair = lists.array();
            pair.u64(*key);
            let mut elements = pair.array();
            for &element in list {
                elements.u64(element);
            }
        }
    }

    /// Reads a commit written by [`Commit::encode`]; `None` for anything else.
    pub fn decode(value: Json<'_>) -> Option<Commit> {
        let height = value.get("height")?.as_u64().filter(|&h| h >= 1)?;
        let parent = value.get("parent")?;
        let parent = if parent.is_null() {
            None
        } else {
            Some(parent.as_u64()?)
        };
        if parent.is_none() != (height == 1) {
            return None;
        }
        let frontier = value.get("frontier")?;
        let frontier = frontier
            .items()
            .map(|s| s.as_u64())
            .collect::<Option<Vec<_>>>()?;
        let mut index = Vec::with_capacity(value.get("index")?.len());
        for pair in value.get("index")?.items() {
            let (key, holder) = two(pair)?;
            index.push((key.as_u64()?, holder.as_u64()?));
        }
        let mut lists = Vec::with_capacity(value.get("lists")?.len());
        for pair in value.get("lists")?.items() {
            let (key, list) = two(pair)?;
            let elements = list
                .items()
                .map(|e| e.as_u64())
                .collect::<Option<Vec<_>>>()?;
            lists.push((key.as_u64()?, elements));
        }
        let sorted =
            index.windows(2).all(|w| w[0].0 < w[1].0) && lists.windows(2).all(|w| w[0].0 < w[1].0);
        sorted.then_some(Commit {
            height,
            parent,
            frontier,
            index,
            lists,
        })
    }
}

/// The two elements of a two-element array.
fn two(pair: Json<'_>) -> Option<(Json<'_>, Json<'_>)> {
    let mut items = pair.items();
    match (items.next(), items.next(), items.next()) {
        (Some(a), Some(b), None) => Some((a, b)),
        _ => None,
    }
}

/// Commits by id. Commits never change, so a cached one is always right; the cache only
/// forgets (oldest first) to bound memory, and a forgotten commit is fetched again.
#[derive(Debug, Default)]
pub struct Cache {
    commits: AHashMap<u64, Commit>,
    order: VecDeque<u64>,
}

impl Cache {
    /// The cached commit `id`.
    pub fn get(&self, id: u64) -> Option<&Commit> {
        self.commits.get(&id)
    }

    /// Caches `commit` under `id` (a no-op if present), forgetting the oldest past
    /// [`CACHE_CAPACITY`].
    pub fn insert(&mut self, id: u64, commit: Commit) {
        if self.commits.contains_key(&id) {
            return;
        }
        while self.order.len() >= CACHE_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.commits.remove(&oldest);
            }
        }
        self.commits.insert(id, commit);
        self.order.push_back(id);
    }

    /// Number of cached commits.
    pub fn len(&self) -> usize {
        self.commits.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Parser;

    #[test]
    fn commits_round_trip_and_bad_ones_are_refused() {
        let commit = Commit {
            height: 2,
            parent: Some(7),
            frontier: vec![3, 0],
            index: vec![(1, 7), (4, 9)],
            lists: vec![(4, vec![1, 2])],
        };
        let mut out = Vec::new();
        commit.encode(&mut out);
        let text = String::from_utf8(out.clone()).expect("utf8");
        assert_eq!(
            text,
            r#"{"height":2,"parent":7,"frontier":[3,0],"index":[[1,7],[4,9]],"lists":[[4,[1,2]]]}"#
        );
        let arena = bumpalo::Bump::new();
        let mut parser = Parser::new();
        let value = parser.parse(&arena, &out).expect("json");
        assert_eq!(Commit::decode(value), Some(commit.clone()));
        assert_eq!(commit.holder(4), Some(9));
        assert_eq!(commit.holder(2), None);
        assert_eq!(commit.list(4), Some(&[1, 2][..]));
        assert_eq!(
            (
                commit.newest_of(0),
                commit.newest_of(1),
                commit.newest_of(5)
            ),
            (3, 0, 0)
        );
        for bad in [
            r#"{"height":1,"parent":7,"frontier":[],"index":[],"lists":[]}"#,
            r#"{"height":2,"parent":null,"frontier":[],"index":[],"lists":[]}"#,
            r#"{"height":2,"parent":1,"index":[],"lists":[]}"#,
            r#"{"height":2,"parent":1,"frontier":[-1],"index":[],"lists":[]}"#,
            r#"{"height":2,"parent":1,"frontier":[],"index":[[2,1],[1,1]],"lists":[]}"#,
            r#"{"height":2,"parent":1,"frontier":[],"index":[[1]],"lists":[]}"#,
            r#"{"height":2,"parent":1,"frontier":[],"index":[],"lists":[[1,[-1]]]}"#,
            r#"[]"#,
        ] {
            let value = parser.parse(&arena, bad.as_bytes()).expect("json");
            assert_eq!(Commit::decode(value), None, "{bad}");
        }
    }

    #[test]
    fn the_cache_forgets_oldest_first() {
        let mut cache = Cache::default();
        let commit = |height| Commit {
            height,
            parent: Some(0),
            frontier: Vec::new(),
            index: Vec::new(),
            lists: Vec::new(),
        };
        for id in 0..CACHE_CAPACITY as u64 + 2 {
            cache.insert(id, commit(id + 2));
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        assert!(cache.get(0).is_none() && cache.get(1).is_none());
        assert!(cache.get(2).is_some());
    }
}
