//! `kafka` (MAELSTROM.md §3.11; Jepsen's `jepsen.tests.kafka` with Maelstrom's wrapper).
//!
//! Generator: one-micro-op transactions over the shared key pool, a read becoming
//! `[["poll"]]` and an append `[["send", "k", v]]` (keys as strings); with probability 1/64
//! an `assign` of the op's key is inserted before the op, widened a third of the time with
//! every key that has acknowledged sends no `ok` poll has reached yet (tracked from every
//! worker's completions); `crash` ops are mixed in, staggered to one per 30/C s. Final
//! phase, per worker: `crash`, an `assign` of every key with a known offset with
//! `seek_to_beginning`, then polls U[0, 0.4) s apart until this worker's polls have reached
//! the highest offset known at the end of the main phase for every key, capped at 10 s.
//! That already reads every key from offset 0 on every node (at concurrency ≥ n), so
//! `--extra-checks` adds no phase; it only flags the final `assign` and polls `final?`, so
//! the convergence check can find them.
//!
//! Client (not reusable; I = {assign}): a local map of assigned key → next offset. `poll`
//! sends that map, raises it past what came back, and commits the highest offsets it got
//! (`commit_offsets`) before completing; `send` records `[offset msg]`; `crash` is `info`
//! without any RPC.

use std::collections::BTreeMap;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::key_pool::{KeyPool, MicroOp};
use super::outcome::Outcome;
use super::schema::{Kind, is_int, validate};
use super::{
    Client, ClientPolicy, ClientSide, FinalStep, Generator, OpSpec, Step, WorkerSlot,
    WorkloadOptions, object,
};
use crate::harness::history::OpType;
use crate::harness::hosts::{MS, SECOND, Time};
use crate::node::rng::Rng;

/// Probability that an `assign` is inserted before an op (Jepsen's `:sub-p`).
const ASSIGN_ODDS: u64 = 64;
/// Seconds between one worker's crashes, on average.
const CRASH_INTERVAL_S: f64 = 30.0;
/// Maelstrom clips the final phase to 10 s.
const FINAL_PHASE_LIMIT: Time = 10 * SECOND;
/// Final polls are staggered U[0, 2 × 200 ms).
const FINAL_POLL_STAGGER: Time = 200 * MS;

/// The kafka client side.
pub fn kafka(options: &WorkloadOptions) -> ClientSide {
    let crash_mean = (CRASH_INTERVAL_S / options.concurrency.max(1) as f64 * SECOND as f64) as Time;
    ClientSide {
        generator: Box::new(KafkaGenerator {
            pool: KeyPool::new(options.key_count, options.max_writes_per_key),
            crash_mean,
            next_crash_at: None,
            held_back: None,
            sent: BTreeMap::new(),
            polled: BTreeMap::new(),
            max_offsets: BTreeMap::new(),
            finals: Vec::new(),
            final_targets: None,
            flag_finals: options.extra,
        }),
        open_client: Box::new(|| Box::new(KafkaClient::default())),
        policy: ClientPolicy {
            idempotent: &["assign"],
            ..ClientPolicy::DEFAULT
        },
    }
}

/// A final-phase worker's progress.
#[derive(Clone, Debug)]
enum FinalProgress {
    Crash,
    Assign,
    /// Polling until these key → offset targets are reached.
    Polling {
        targets: BTreeMap<String, i64>,
        waited: bool,
    },
    Done,
}

struct KafkaGenerator {
    pool: KeyPool,
    /// Mean gap between crash ops across all workers.
    crash_mean: Time,
    /// Relative time of the next crash op; drawn at the first op.
    next_crash_at: Option<Time>,
    /// The op an inserted `assign` displaced: it comes next.
    held_back: Option<OpSpec>,
    /// Highest offset acknowledged by an `ok` send, per key not yet caught up by polls.
    sent: BTreeMap<String, i64>,
    /// Highest offset an `ok` poll returned, per key in `sent`.
    polled: BTreeMap<String, i64>,
    /// Highest offset any `ok` op saw, per key: the final polls' targets.
    max_offsets: BTreeMap<String, i64>,
    finals: Vec<FinalProgress>,
    /// `max_offsets` when the final phase began.
    final_targets: Option<BTreeMap<String, i64>>,
    /// `--extra-checks`: final assigns and polls are flagged `final?`.
    flag_finals: bool,
}

impl KafkaGenerator {
    fn stagger(rng: &mut Rng, mean: Time) -> Time {
        (rng.unit_f64() * 2.0 * mean as f64) as Time
    }

    /// `[["poll"]]` or `[["send", "k", v]]` from the pool, and the key it touches.
    fn txn_op(&mut self, rng: &mut Rng) -> (OpSpec, String) {
        match self.pool.micro_op(rng) {
            MicroOp::Read(key) => {
                let poll = OwnedValue::Array(Box::new(vec!["poll".into()]));
                let value = OwnedValue::Array(Box::new(vec![poll]));
                (OpSpec::new("poll", value), key.to_string())
            }
            MicroOp::Write(key, value) => {
                let send = super::txn::micro_op("send", key.to_string(), value.into());
                let value = OwnedValue::Array(Box::new(vec![send]));
                (OpSpec::new("send", value), key.to_string())
            }
        }
    }

    /// An `assign` of `key`, a third of the time widened with every unseen key.
    fn assign(&mut self, rng: &mut Rng, key: String) -> OpSpec {
        let mut keys = vec![key];
        if rng.below(3) == 0 && !self.sent.is_empty() {
            for unseen in self.sent.keys() {
                if !keys.contains(unseen) {
                    keys.push(unseen.clone());
                }
            }
        }
        let keys = keys.into_iter().map(OwnedValue::from).collect();
        OpSpec::new("assign", OwnedValue::Array(Box::new(keys)))
    }

    /// Tracks acknowledged sends against polls, and every offset seen.
    fn track(&mut self, op: &OpSpec, value: &OwnedValue) {
        match op.f {
            "send" => {
                if let Some((key, offset)) = sent_offset(value) {
                    raise(&mut self.sent, &key, offset);
                    raise(&mut self.max_offsets, &key, offset);
                }
            }
            "poll" => {
                for (key, offset) in polled_offsets(value) {
                    raise(&mut self.polled, &key, offset);
                    raise(&mut self.max_offsets, &key, offset);
                }
            }
            _ => {}
        }
        // Keys whose polls reached their sends are caught up: forget both (as Jepsen's
        // poll-unseen does, so polled offsets are kept only for keys with unseen sends).
        let polled = std::mem::take(&mut self.polled);
        self.sent
            .retain(|key, sent| polled.get(key).copied().unwrap_or(-1) < *sent);
        self.polled = polled
            .into_iter()
            .filter(|(key, _)| self.sent.contains_key(key))
            .collect();
    }

    fn final_progress(&mut self, thread: usize) -> &mut FinalProgress {
        if self.finals.len() <= thread {
            self.finals.resize(thread + 1, FinalProgress::Crash);
        }
        &mut self.finals[thread]
    }
}

fn raise(map: &mut BTreeMap<String, i64>, key: &str, offset: i64) {
    let slot = map.entry(key.to_string()).or_insert(offset);
    *slot = (*slot).max(offset);
}

/// `[["send", k, [offset msg]]]` → (k, offset).
fn sent_offset(value: &OwnedValue) -> Option<(String, i64)> {
    let send = value.as_array()?.first()?.as_array()?;
    let key = send.get(1)?.as_str()?.to_string();
    let offset = send.get(2)?.as_array()?.first()?.as_i64()?;
    Some((key, offset))
}

/// `[["poll", {k [[offset msg] …]}]]` → the highest offset per key.
fn polled_offsets(value: &OwnedValue) -> Vec<(String, i64)> {
    let msgs = value
        .as_array()
        .and_then(|txn| txn.first())
        .and_then(|poll| poll.as_array())
        .and_then(|poll| poll.get(1))
        .and_then(|msgs| msgs.as_object());
    let Some(msgs) = msgs else {
        return Vec::new();
    };
    msgs.iter()
        .filter_map(|(key, pairs)| {
            let highest = pairs
                .as_array()?
                .iter()
                .filter_map(|pair| pair.as_array()?.first()?.as_i64())
                .max()?;
            Some((key.clone(), highest))
        })
        .collect()
}

impl Generator for KafkaGenerator {
    fn next_op(&mut self, rng: &mut Rng, worker: WorkerSlot) -> OpSpec {
        if let Some(op) = self.held_back.take() {
            return op;
        }
        let next_crash_at = *self
            .next_crash_at
            .get_or_insert_with(|| Self::stagger(rng, self.crash_mean));
        if worker.time >= next_crash_at {
            self.next_crash_at = Some(next_crash_at + Self::stagger(rng, self.crash_mean));
            return OpSpec::new("crash", OwnedValue::null());
        }
        let (op, key) = self.txn_op(rng);
        if rng.below(ASSIGN_ODDS) == 0 {
            self.held_back = Some(op);
            return self.assign(rng, key);
        }
        op
    }

    fn has_final_phase(&self) -> bool {
        true
    }

    fn final_step(&mut self, rng: &mut Rng, worker: WorkerSlot, elapsed: Time) -> FinalStep {
        let targets = self
            .final_targets
            .get_or_insert_with(|| self.max_offsets.clone())
            .clone();
        if targets.is_empty() || elapsed >= FINAL_PHASE_LIMIT {
            return FinalStep::Done;
        }
        let progress = self.final_progress(worker.thread);
        match progress {
            FinalProgress::Crash => {
                *progress = FinalProgress::Assign;
                FinalStep::Invoke(OpSpec::new("crash", OwnedValue::null()))
            }
            FinalProgress::Assign => {
                *progress = FinalProgress::Polling {
                    targets: targets.clone(),
                    waited: false,
                };
                let keys = targets
                    .keys()
                    .map(|k| OwnedValue::from(k.as_str()))
                    .collect();
                FinalStep::Invoke(OpSpec {
                    seek_to_beginning: true,
                    is_final: self.flag_finals,
                    ..OpSpec::new("assign", OwnedValue::Array(Box::new(keys)))
                })
            }
            FinalProgress::Polling { targets, .. } if targets.is_empty() => {
                *progress = FinalProgress::Done;
                FinalStep::Done
            }
            FinalProgress::Polling { waited, .. } if !*waited => {
                *waited = true;
                FinalStep::Wait(Self::stagger(rng, FINAL_POLL_STAGGER))
            }
            FinalProgress::Polling { waited, .. } => {
                *waited = false;
                let poll = OwnedValue::Array(Box::new(vec!["poll".into()]));
                FinalStep::Invoke(OpSpec {
                    is_final: self.flag_finals,
                    ..OpSpec::new("poll", OwnedValue::Array(Box::new(vec![poll])))
                })
            }
            FinalProgress::Done => FinalStep::Done,
        }
    }

    fn on_complete(&mut self, worker: WorkerSlot, op: &OpSpec, outcome: &Outcome) {
        if outcome.op_type != OpType::Ok {
            return;
        }
        self.track(op, &outcome.value);
        if op.f != "poll" {
            return;
        }
        if let Some(FinalProgress::Polling { targets, .. }) = self.finals.get_mut(worker.thread) {
            for (key, offset) in polled_offsets(&outcome.value) {
                if targets.get(&key).is_some_and(|target| *target <= offset) {
                    targets.remove(&key);
                }
            }
        }
    }
}

/// One worker process's consumer state.
#[derive(Default)]
struct KafkaClient {
    /// Assigned key → next offset to poll.
    offsets: BTreeMap<String, i64>,
    /// A poll's completed value while its `commit_offsets` is in flight.
    committing: Option<OwnedValue>,
}

impl Client for KafkaClient {
    fn invoke(&mut self, op: &OpSpec) -> Step {
        match op.f {
            "crash" => Step::Done(Outcome::info(OwnedValue::null(), None)),
            "assign" if op.seek_to_beginning => {
                self.offsets = keys_of(op).map(|k| (k, 0)).collect();
                Step::ok(op.value.clone())
            }
            "assign" => Step::Send(object(vec![
                ("type", "list_committed_offsets".into()),
                ("keys", op.value.clone()),
            ])),
            "send" => {
                let (key, msg) = send_of(op);
                Step::Send(object(vec![
                    ("type", "send".into()),
                    ("key", key),
                    ("msg", msg),
                ]))
            }
            _ => {
                self.committing = None;
                let offsets = self
                    .offsets
                    .iter()
                    .map(|(k, o)| (k.clone(), OwnedValue::from(*o)))
                    .collect::<simd_json::owned::Object>();
                Step::Send(object(vec![
                    ("type", "poll".into()),
                    ("offsets", OwnedValue::Object(Box::new(offsets))),
                ]))
            }
        }
    }

    fn on_reply(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
        match op.f {
            "assign" => self.on_committed_offsets(op, body),
            "send" => on_send_ok(op, body),
            _ if self.committing.is_some() => match validate(body, "commit_offsets_ok", &[]) {
                Ok(()) => Step::ok(self.committing.take().unwrap_or_else(OwnedValue::null)),
                Err(e) => Step::malformed(op, &e),
            },
            _ => self.on_poll_ok(op, body),
        }
    }
}

fn keys_of(op: &OpSpec) -> impl Iterator<Item = String> + '_ {
    op.value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(String::from))
}

/// The key and message of a `[["send", k, msg]]` op.
fn send_of(op: &OpSpec) -> (OwnedValue, OwnedValue) {
    let send = op
        .value
        .as_array()
        .and_then(|t| t.first())
        .and_then(|m| m.as_array());
    let part = |i: usize| {
        send.and_then(|m| m.get(i))
            .cloned()
            .unwrap_or_else(OwnedValue::null)
    };
    (part(1), part(2))
}

fn on_send_ok(op: &OpSpec, body: &OwnedValue) -> Step {
    if let Err(e) = validate(body, "send_ok", &[("offset", Kind::Int)]) {
        return Step::malformed(op, &e);
    }
    let offset = body.get("offset").cloned().unwrap_or_else(OwnedValue::null);
    let (key, msg) = send_of(op);
    let pair = OwnedValue::Array(Box::new(vec![offset, msg]));
    let done = super::txn::micro_op("send", key, pair);
    Step::ok(OwnedValue::Array(Box::new(vec![done])))
}

impl KafkaClient {
    /// `list_committed_offsets_ok`: the new assignment keeps each key's local offset, else
    /// 0 — Maelstrom's client looks the committed offset up in the wrong map, so it never
    /// uses it (MAELSTROM.md §3.11), but the reply must be schema-valid.
    fn on_committed_offsets(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
        let valid = validate(body, "list_committed_offsets_ok", &[("offsets", Kind::Any)])
            .and_then(|()| offsets_map_ok(body.get("offsets")));
        if let Err(e) = valid {
            return Step::malformed(op, &e);
        }
        let old = std::mem::take(&mut self.offsets);
        self.offsets = keys_of(op)
            .map(|k| {
                let offset = old.get(&k).copied().unwrap_or(0);
                (k, offset)
            })
            .collect();
        Step::ok(op.value.clone())
    }

    /// `poll_ok`: raise local offsets past what came back, then commit the highest offsets
    /// received (if any) before the op completes.
    fn on_poll_ok(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
        let valid = validate(body, "poll_ok", &[("msgs", Kind::Any)])
            .and_then(|()| msgs_ok(body.get("msgs")));
        if let Err(e) = valid {
            return Step::malformed(op, &e);
        }
        let msgs = body.get("msgs").cloned().unwrap_or_else(OwnedValue::null);
        let poll = OwnedValue::Array(Box::new(vec!["poll".into(), msgs]));
        let value = OwnedValue::Array(Box::new(vec![poll]));
        let highest = polled_offsets(&value);
        for key in body
            .get("msgs")
            .and_then(|m| m.as_object())
            .into_iter()
            .flat_map(|m| m.keys())
        {
            let next = highest
                .iter()
                .find(|(k, _)| k == key)
                .map_or(0, |(_, o)| o + 1);
            let slot = self.offsets.entry(key.clone()).or_insert(0);
            *slot = (*slot).max(next);
        }
        if highest.is_empty() {
            return Step::ok(value);
        }
        let commit: simd_json::owned::Object = highest
            .into_iter()
            .map(|(key, offset)| (key, OwnedValue::from(offset.max(0))))
            .collect();
        self.committing = Some(value);
        Step::Send(object(vec![
            ("type", "commit_offsets".into()),
            ("offsets", OwnedValue::Object(Box::new(commit))),
        ]))
    }
}

/// `{Key Offset}`.
fn offsets_map_ok(offsets: Option<&OwnedValue>) -> Result<(), String> {
    match offsets.and_then(|o| o.as_object()) {
        Some(map) if map.values().all(is_int) => Ok(()),
        _ => Err(format!(
            "Malformed RPC response: offsets should be a map of key to integer offset, got {}",
            offsets.map_or_else(|| "nothing".to_string(), |o| o.encode())
        )),
    }
}

/// `{Key [[Offset Message] …]}`.
fn msgs_ok(msgs: Option<&OwnedValue>) -> Result<(), String> {
    let pair_ok = |pair: &OwnedValue| {
        pair.as_array()
            .is_some_and(|p| p.len() == 2 && p.first().is_some_and(is_int))
    };
    match msgs.and_then(|m| m.as_object()) {
        Some(map)
            if map
                .values()
                .all(|pairs| pairs.as_array().is_some_and(|p| p.iter().all(pair_ok))) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "Malformed RPC response: msgs should be a map of key to [offset, msg] pairs, got {}",
            msgs.map_or_else(|| "nothing".to_string(), |m| m.encode())
        )),
    }
}
