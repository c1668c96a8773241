//! `txn-list-append` and `txn-rw-register` (MAELSTROM.md §3.8–3.10): transactions of
//! 1..=`--max-txn-length` micro-ops over the shared key pool, sent as one `txn` RPC by a
//! reusable client; the history value is the completed transaction the node returns.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::key_pool::{KeyPool, MicroOp};
use super::schema::{Kind, validate};
use super::{
    ClientPolicy, ClientSide, Generator, OneRpcClient, OpSpec, Step, WorkerSlot, WorkloadOptions,
    object,
};
use crate::node::rng::Rng;

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
}

impl Generator for TxnGenerator {
    fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        let length = 1 + rng.below(self.max_length);
        let txn = (0..length)
            .map(|_| match self.pool.micro_op(rng) {
                MicroOp::Read(key) => micro_op("r", key, OwnedValue::null()),
                MicroOp::Write(key, value) => micro_op(self.write_f, key, value.into()),
            })
            .collect();
        OpSpec::new("txn", OwnedValue::Array(Box::new(txn)))
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
