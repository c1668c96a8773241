//! Workload op generators and their client halves (MAELSTROM.md §3).
//!
//! A [`Workload`] says which ops a worker invokes (main and final phase), how an op becomes
//! a request body, and how a reply becomes a history value (schema-checked, closed, per
//! Appendix A). The runner owns scheduling, msg_ids, timeouts and error mapping, so adding
//! kafka/txn/lin-kv later means one new file here: multi-RPC ops (kafka's poll then
//! commit) return [`Reply::Next`].

mod counter;
mod echo;
pub mod outcome;
pub mod schema;
mod sets;
mod unique_ids;

use simd_json::OwnedValue;

use crate::node::rng::Rng;

/// One operation a worker is about to invoke.
#[derive(Clone, Debug)]
pub struct OpSpec {
    /// Jepsen's `:f`.
    pub f: &'static str,
    /// Jepsen's `:value` at invocation.
    pub value: OwnedValue,
    /// `:final? true` (final-phase reads of broadcast and counters).
    pub is_final: bool,
}

impl OpSpec {
    /// A main-phase op.
    pub fn new(f: &'static str, value: OwnedValue) -> OpSpec {
        OpSpec {
            f,
            value,
            is_final: false,
        }
    }
}

/// What a reply of the expected type turned into.
pub enum Reply {
    /// The op is ok with this value.
    Ok(OwnedValue),
    /// The reply failed its schema: the op is `info` with this message.
    Malformed(String),
    /// Send this further request on the same client (multi-step ops).
    Next(OwnedValue),
}

/// A Maelstrom workload: generator plus client.
pub trait Workload: Send {
    /// `-w` name.
    fn name(&self) -> &'static str;
    /// The next main-phase op for worker `thread`.
    fn next_op(&mut self, rng: &mut Rng, thread: usize) -> OpSpec;
    /// The final-phase op of worker `thread`; `None` when the workload has no final phase.
    fn final_op(&mut self, thread: usize) -> Option<OpSpec>;
    /// Request body (without `msg_id`) for an op.
    fn request(&self, op: &OpSpec) -> OwnedValue;
    /// Turns a non-error reply into the op's outcome.
    fn reply(&self, op: &OpSpec, body: &OwnedValue) -> Reply;
    /// Whether `f` is idempotent (timeouts and errors become `fail`).
    fn idempotent(&self, _f: &str) -> bool {
        false
    }
    /// g-set and counters have no error wrapper: every error or timeout is `info`.
    fn error_wrapper(&self) -> bool {
        true
    }
    /// Whether a client survives an indeterminate op (MAELSTROM.md §2.3).
    fn reusable_client(&self) -> bool {
        false
    }
    /// RPC timeout in ms.
    fn timeout_ms(&self) -> u64 {
        5000
    }
}

/// Workload names Maelstrom knows (`-w`).
pub const WORKLOAD_NAMES: [&str; 10] = [
    "echo",
    "unique-ids",
    "broadcast",
    "g-set",
    "g-counter",
    "pn-counter",
    "lin-kv",
    "kafka",
    "txn-list-append",
    "txn-rw-register",
];

/// Test options a generator or client may need (the txn/kafka/lin-kv generators to come
/// use the key options; lin-kv's timeout is max(10 × latency, 1000) ms).
#[derive(Clone, Debug)]
pub struct WorkloadOptions {
    /// Number of server nodes n.
    pub node_count: usize,
    /// Worker count C.
    pub concurrency: usize,
    /// `--latency` in ms.
    pub latency_ms: u64,
    /// `--key-count`.
    pub key_count: u64,
    /// `--max-txn-length`.
    pub max_txn_length: u64,
    /// `--max-writes-per-key`.
    pub max_writes_per_key: u64,
}

impl Default for WorkloadOptions {
    /// Maelstrom's defaults for 5 nodes.
    fn default() -> Self {
        WorkloadOptions {
            node_count: 5,
            concurrency: 5,
            latency_ms: 0,
            key_count: 10,
            max_txn_length: 4,
            max_writes_per_key: 16,
        }
    }
}

/// The workload for `name` with default options, if this harness can run it.
pub fn workload(name: &str) -> Option<Box<dyn Workload>> {
    workload_with(name, &WorkloadOptions::default())
}

/// The workload for `name`, if this harness can run it.
pub fn workload_with(name: &str, _options: &WorkloadOptions) -> Option<Box<dyn Workload>> {
    Some(match name {
        "echo" => Box::new(echo::Echo),
        "unique-ids" => Box::new(unique_ids::UniqueIds),
        "broadcast" => Box::new(sets::SetWorkload::broadcast()),
        "g-set" => Box::new(sets::SetWorkload::g_set()),
        "g-counter" => Box::new(counter::Counter::new(false)),
        "pn-counter" => Box::new(counter::Counter::new(true)),
        _ => return None,
    })
}

/// Builds a JSON object from pairs.
pub fn object(pairs: Vec<(&str, OwnedValue)>) -> OwnedValue {
    let mut map = simd_json::owned::Object::with_capacity(pairs.len());
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    OwnedValue::Object(Box::new(map))
}
