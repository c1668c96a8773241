//! `txn-list-append` and `txn-rw-register` (MAELSTROM.md §3.8–3.10): transactions of
//! 1..=`--max-txn-length` micro-ops over the shared key pool, sent as one `txn` RPC by a
//! reusable client; the history value is the completed transaction the node returns.
//!
//! With `--extra-checks` there is a final phase Maelstrom's txn workloads lack: after the
//! heal and the recovery sleep, every worker (so every node, at concurrency ≥ n) runs
//! read-only transactions of every key ever written, at most [`FINAL_READ_KEYS`] keys per
//! transaction, flagged `final?`. The convergence check compares them across nodes.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::key_pool::{KeyPool, MicroOp};
use super::schema::{Kind, validate};
use super::{
    ClientPolicy, ClientSide, FinalStep, Generator, OneRpcClient, OpSpec, Step, WorkerSlot,
    WorkloadOptions, object,
};
use crate::harness::hosts::Time;
use crate::node::rng::Rng;

/// Keys per final read-only transaction: a long run writes many keys, and one huge
/// transaction would be one huge message.
pub const FINAL_READ_KEYS: usize = 256;

/// `-w txn-list-append`: micro-ops `["r", k, null]` and `["append", k, v]`.
pub fn list_append(options: &WorkloadOptions) -> ClientSide {
    txn_workload(options, "append", reply_list_append)
}

/// `-w txn-rw-register`: micro-ops `["r", k, null]` and `["w", k, v]`.
pub fn rw_register(options: &WorkloadOptions) -> ClientSide {
    txn_workload(options, "w", reply_rw_register)
}

fn txn_workload(
    options: &WorkloadOptions,
    write_f: &'static str,
    reply: fn(&OpSpec, &OwnedValue) -> Step,
) -> ClientSide {
    ClientSide {
        generator: Box::new(TxnGenerator {
            pool: KeyPool::new(options.key_count, options.max_writes_per_key),
            max_length: options.max_txn_length.max(1),
            write_f,
            final_reads: options.extra,
            written: std::collections::BTreeSet::new(),
            final_cursor: Vec::new(),
        }),
        open_client: OneRpcClient::factory(request, reply),
        policy: ClientPolicy {
            reusable: true,
            ..ClientPolicy::DEFAULT
        },
    }
}

/// Elle's `wr-txns` over the key pool.
struct TxnGenerator {
    pool: KeyPool,
    max_length: u64,
    write_f: &'static str,
    /// `--extra-checks`: a final phase of reads of every written key.
    final_reads: bool,
    /// Every key a write was invoked on (tracked only with `final_reads`).
    written: std::collections::BTreeSet<u64>,
    /// Per worker thread, how many written keys its final reads have covered.
    final_cursor: Vec<usize>,
}

impl Generator for TxnGenerator {
    fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        let length = 1 + rng.below(self.max_length);
        let txn = (0..length)
            .map(|_| match self.pool.micro_op(rng) {
                MicroOp::Read(key) => micro_op("r", key, OwnedValue::null()),
                MicroOp::Write(key, value) => {
                    if self.final_reads {
                        self.written.insert(key);
                    }
                    micro_op(self.write_f, key, value.into())
                }
            })
            .collect();
        OpSpec::new("txn", OwnedValue::Array(Box::new(txn)))
    }

    fn has_final_phase(&self) -> bool {
        self.final_reads
    }

    fn final_step(&mut self, _rng: &mut Rng, worker: WorkerSlot, _elapsed: Time) -> FinalStep {
        if self.final_cursor.len() <= worker.thread {
            self.final_cursor.resize(worker.thread + 1, 0);
        }
        let done = self.final_cursor[worker.thread];
        let reads: Vec<OwnedValue> = self
            .written
            .iter()
            .skip(done)
            .take(FINAL_READ_KEYS)
            .map(|&key| micro_op("r", key, OwnedValue::null()))
            .collect();
        if reads.is_empty() {
            return FinalStep::Done;
        }
        self.final_cursor[worker.thread] = done + reads.len();
        FinalStep::Invoke(OpSpec::final_op("txn", OwnedValue::Array(Box::new(reads))))
    }
}

/// `[f k v]`.
pub fn micro_op(f: &str, key: impl Into<OwnedValue>, value: OwnedValue) -> OwnedValue {
    OwnedValue::Array(Box::new(vec![f.into(), key.into(), value]))
}

fn request(op: &OpSpec) -> OwnedValue {
    object(vec![("type", "txn".into()), ("txn", op.value.clone())])
}

fn reply_list_append(op: &OpSpec, body: &OwnedValue) -> Step {
    reply_txn(op, body, |f, value| match f {
        "r" => value.is_null() || value.is_array(),
        "append" => true,
        _ => false,
    })
}

fn reply_rw_register(op: &OpSpec, body: &OwnedValue) -> Step {
    reply_txn(op, body, |f, _| f == "r" || f == "w")
}

/// Validates a `txn_ok` against Maelstrom's schema: `txn` is a list of micro-ops, each
/// exactly `[f k v]` with a string `f` and a value that `micro_op_ok(f, v)` accepts (for
/// list-append, a read's value is a list or null). The completed transaction is the value.
fn reply_txn(op: &OpSpec, body: &OwnedValue, micro_op_ok: fn(&str, &OwnedValue) -> bool) -> Step {
    if let Err(e) = validate(body, "txn_ok", &[("txn", Kind::ArrayOrNull)]) {
        return Step::malformed(op, &e);
    }
    let done = body.get("txn").and_then(|t| t.as_array());
    let bad = done.into_iter().flatten().find(|m| {
        let Some(m) = m.as_array() else {
            return true;
        };
        let f = m.first().and_then(|f| f.as_str());
        m.len() != 3 || !f.is_some_and(|f| micro_op_ok(f, &m[2]))
    });
    match (done, bad) {
        (Some(done), None) => Step::ok(OwnedValue::Array(Box::new(done.clone()))),
        (_, bad) => {
            let what = bad.map_or_else(|| "null".to_string(), |m| m.encode());
            let message = format!(
                "Malformed RPC response: txn: micro-op {what} fails its schema in {}",
                body.encode()
            );
            Step::malformed(op, &message)
        }
    }
}
