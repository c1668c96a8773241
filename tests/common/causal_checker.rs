//! A checker for the guarantee `txn-rw-register` claims (src/workloads/txn_rw_register,
//! module doc): *every read returns a version at least as new as every causally preceding
//! write of that key*, where causal order is `(so ∪ wr)+`, `so` orders the transactions of
//! one node (the session: all of that node's clients) and `wr` links a writer to the
//! transactions that read its writes. It implies that a transaction's writes are seen
//! whole (reading one of T's writes puts T in the reader's past, so the reader's other
//! reads of T's keys are T's or newer) and that reads never go back on a node (every
//! earlier transaction of the node is in the past).
//!
//! It is called once per completed transaction, in completion order, with the version the
//! node gave the transaction's writes (read from the node right after it answered). Values
//! must be unique per key, so a read names its writer.
#![allow(dead_code)]

use std::collections::HashMap;

use glomers::workloads::txn_rw_register::Version;
use serde_json::Value;

/// A writer of one (key, value).
#[derive(Clone, Copy, Debug)]
struct Write {
    session: usize,
    position: usize,
    version: Version,
    /// The writer's last write of the key (a read of an earlier one is G1b).
    last: bool,
}

/// The history so far and the causal past of every transaction.
#[derive(Debug, Default)]
pub struct CausalChecker {
    /// Per session, per transaction: how many transactions of each session precede it
    /// causally (a prefix of each session, since `so` is in the order).
    pasts: Vec<Vec<Vec<usize>>>,
    /// Per session, the past of its next transaction.
    next_past: Vec<Vec<usize>>,
    writes: HashMap<(i64, i64), Write>,
    /// Per (session, key): the session's writes of the key, (position, version), in order.
    key_writes: HashMap<(usize, i64), Vec<(usize, Version)>>,
    /// Per session, the version of its last writing transaction.
    last_version: Vec<Option<Version>>,
    /// External reads checked so far.
    pub reads_checked: u64,
}

/// `[f, k, v]` of a completed transaction.
fn op(item: &Value) -> (&str, i64, Option<i64>) {
    let f = item[0].as_str().expect("f");
    (f, item[1].as_i64().expect("key"), item[2].as_i64())
}

impl CausalChecker {
    /// A checker for `sessions` sessions (nodes).
    pub fn new(sessions: usize) -> Self {
        CausalChecker {
            pasts: vec![Vec::new(); sessions],
            next_past: vec![vec![0; sessions]; sessions],
            last_version: vec![None; sessions],
            ..CausalChecker::default()
        }
    }

    /// Checks the completed transaction `txn` (the reply's micro-ops) of `session`, whose
    /// writes got `version` (`None` for a read-only one), then records it.
    pub fn observe(
        &mut self,
        session: usize,
        txn: &[Value],
        version: Option<Version>,
    ) -> Result<(), String> {
        let position = self.pasts[session].len();
        let external = self.external_reads(txn)?;
        let mut past = self.next_past[session].clone();
        for &(key, value) in &external {
            let Some(value) = value else { continue };
            let write = self.writer(key, value)?;
            for (mine, theirs) in past
                .iter_mut()
                .zip(&self.pasts[write.session][write.position])
            {
                *mine = (*mine).max(*theirs);
            }
            past[write.session] = past[write.session].max(write.position + 1);
        }
        for &(key, value) in &external {
            self.reads_checked += 1;
            let observed = value.map(|v| self.writes[&(key, v)].version);
            if let Some((s, p, newer)) = self.newest_preceding(&past, key)
                && observed.is_none_or(|o| o < newer)
            {
                return Err(format!(
                    "session {session} txn {position} {txn:?}: read key {key} = {value:?} \
                     (version {observed:?}), but the write by session {s} txn {p} (version \
                     {newer:?}) precedes it causally"
                ));
            }
        }
        self.record_writes(session, position, txn, version)?;
        past[session] = position + 1;
        self.pasts[session].push(past.clone());
        self.next_past[session] = past;
        Ok(())
    }

    /// The reads of keys the transaction had not written before, checking the others
    /// return the transaction's own write.
    fn external_reads(&self, txn: &[Value]) -> Result<Vec<(i64, Option<i64>)>, String> {
        let mut own: HashMap<i64, i64> = HashMap::new();
        let mut external = Vec::new();
        for item in txn {
            match op(item) {
                ("w", key, Some(value)) => {
                    own.insert(key, value);
                }
                ("r", key, value) => match own.get(&key) {
                    Some(&mine) if value != Some(mine) => {
                        return Err(format!(
                            "{txn:?}: read {key} = {value:?} after writing {mine}"
                        ));
                    }
                    Some(_) => {}
                    None => external.push((key, value)),
                },
                other => return Err(format!("bad micro-op {other:?}")),
            }
        }
        Ok(external)
    }

    /// The committed last write of (key, value).
    fn writer(&self, key: i64, value: i64) -> Result<Write, String> {
        let write = self
            .writes
            .get(&(key, value))
            .ok_or_else(|| format!("read {key} = {value}, which no completed txn wrote"))?;
        if !write.last {
            return Err(format!("read {key} = {value}, an intermediate write (G1b)"));
        }
        Ok(*write)
    }

    /// The newest write of `key` among the transactions `past` covers.
    fn newest_preceding(&self, past: &[usize], key: i64) -> Option<(usize, usize, Version)> {
        past.iter()
            .enumerate()
            .filter_map(|(session, &count)| {
                let writes = self.key_writes.get(&(session, key))?;
                let before = writes.partition_point(|&(position, _)| position < count);
                let &(position, version) = writes.get(before.checked_sub(1)?)?;
                Some((session, position, version))
            })
            .max_by_key(|&(_, _, version)| version)
    }

    fn record_writes(
        &mut self,
        session: usize,
        position: usize,
        txn: &[Value],
        version: Option<Version>,
    ) -> Result<(), String> {
        let writes: Vec<(i64, i64)> = txn
            .iter()
            .map(op)
            .filter(|(f, _, _)| *f == "w")
            .map(|(_, key, value)| (key, value.expect("write value")))
            .collect();
        let Some(version) = version else {
            return if writes.is_empty() {
                Ok(())
            } else {
                Err(format!("{txn:?} wrote without a version"))
            };
        };
        if self.last_version[session].is_some_and(|last| last >= version) {
            return Err(format!(
                "session {session}: versions must increase, got {version:?}"
            ));
        }
        self.last_version[session] = Some(version);
        for (index, &(key, value)) in writes.iter().enumerate() {
            let last = !writes[index + 1..].iter().any(|&(k, _)| k == key);
            let write = Write {
                session,
                position,
                version,
                last,
            };
            if self.writes.insert((key, value), write).is_some() {
                return Err(format!("value {value} written twice to key {key}"));
            }
            if last {
                let list = self.key_writes.entry((session, key)).or_default();
                list.push((position, version));
            }
        }
        Ok(())
    }
}
