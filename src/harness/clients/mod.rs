//! Workload generators and clients, shaped as Maelstrom's (MAELSTROM.md §2.2–2.4, §3).
//!
//! Per workload there is one [`Generator`] for the whole test and one [`Client`] per worker
//! *process*:
//!
//! * the generator decides which op a free worker invokes next, in the main phase and in
//!   the final phase, and sees every completion of every worker. Generator-wide state lives
//!   there: the next value of broadcast's shared sequence, the transaction key pool (§3.8),
//!   kafka's "acknowledged but not yet polled" keys;
//! * a client is opened lazily when its worker starts an op, and replaced after an `info`
//!   completion unless the workload's clients are reusable (§2.3). It turns an op into zero,
//!   one or several RPCs ([`Step`]) and computes the op's history value, from the replies
//!   and from its own state (kafka's offset map).
//!
//! The runner (`run/workers.rs`) owns what is common: scheduling, client ids and msg_ids,
//! timeouts, and the mapping of `error` replies and timeouts to `fail`/`info`
//! ([`outcome`], driven by the workload's [`ClientPolicy`]).

mod counter;
mod echo;
mod kafka;
pub mod key_pool;
mod lin_kv;
pub mod outcome;
pub mod schema;
mod sets;
mod txn;
mod unique_ids;

pub use counter::counters;
pub use echo::echo;
pub use kafka::kafka;
pub use lin_kv::lin_kv;
pub use sets::{broadcast, g_set};
pub use txn::{list_append, micro_op, rw_register};
pub use unique_ids::unique_ids;

use simd_json::OwnedValue;

use crate::harness::hosts::Time;
use crate::node::rng::Rng;
use outcome::Outcome;

/// One operation a worker is about to invoke.
#[derive(Clone, Debug)]
pub struct OpSpec {
    /// Jepsen's `:f`.
    pub f: &'static str,
    /// Jepsen's `:value` at invocation.
    pub value: OwnedValue,
    /// `:final? true` (final-phase reads of broadcast and counters).
    pub is_final: bool,
    /// Jepsen's `:seek-to-beginning? true` (kafka's final-phase `assign`).
    pub seek_to_beginning: bool,
}

impl OpSpec {
    /// A main-phase op.
    pub fn new(f: &'static str, value: OwnedValue) -> OpSpec {
        OpSpec {
            f,
            value,
            is_final: false,
            seek_to_beginning: false,
        }
    }

    /// A final-phase op (`:final? true` in the history).
    pub fn final_op(f: &'static str, value: OwnedValue) -> OpSpec {
        OpSpec {
            f,
            value,
            is_final: true,
            seek_to_beginning: false,
        }
    }
}

/// Which worker asks the generator for an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerSlot {
    /// Worker thread 0..C-1.
    pub thread: usize,
    /// Its current process id (thread + k·C after k `info` completions).
    pub process: u64,
    /// Relative time (since the main phase began), in ns.
    pub time: Time,
}

/// What a generator tells a free worker in the final phase.
#[derive(Clone, Debug)]
pub enum FinalStep {
    /// Invoke this op now.
    Invoke(OpSpec),
    /// Ask again after this many nanoseconds (kafka's gaps between final polls).
    Wait(Time),
    /// This worker has no more final ops.
    Done,
}

/// Generator-wide state and op choice for one workload (Jepsen's `:generator` and
/// `:final-generator`).
pub trait Generator: Send {
    /// Which free worker takes the next main-phase op: an index into `free`, the free
    /// threads, longest-free first. The default, the longest-free worker, suits workloads
    /// whose threads all draw from one mix; a generator that gives threads different roles
    /// (lin-kv's readers) picks the thread the way Jepsen's generator tree would. An index
    /// out of range counts as 0.
    fn pick_worker(&mut self, _rng: &mut Rng, _free: &[usize]) -> usize {
        0
    }
    /// The next main-phase op for a free worker.
    fn next_op(&mut self, rng: &mut Rng, worker: WorkerSlot) -> OpSpec;
    /// Whether the workload has a final phase (broadcast, g-set, counters, kafka).
    fn has_final_phase(&self) -> bool {
        false
    }
    /// The next final-phase step of a free worker; `elapsed` is the time since the final
    /// ops began (kafka caps its final phase at 10 s).
    fn final_step(&mut self, _rng: &mut Rng, _worker: WorkerSlot, _elapsed: Time) -> FinalStep {
        FinalStep::Done
    }
    /// Sees the completion of every op, from every worker.
    fn on_complete(&mut self, _worker: WorkerSlot, _op: &OpSpec, _outcome: &Outcome) {}
}

/// What a client wants after starting an op or reading a reply.
#[derive(Debug)]
pub enum Step {
    /// Send this request (without `msg_id`, which the runner assigns) to the worker's node
    /// and wait for its reply.
    Send(OwnedValue),
    /// The op is complete.
    Done(Outcome),
}

impl Step {
    /// The op completed `ok` with this history value.
    pub fn ok(value: OwnedValue) -> Step {
        Step::Done(Outcome::ok(value))
    }

    /// The reply failed its schema: `info`, with Maelstrom's "Malformed RPC response".
    pub fn malformed(op: &OpSpec, message: &str) -> Step {
        Step::Done(outcome::malformed_outcome(op, message))
    }
}

/// One worker process's client (Jepsen's `client/Client`), with its own state.
pub trait Client: Send {
    /// Starts `op`: its first request, or a completion that needs no RPC.
    fn invoke(&mut self, op: &OpSpec) -> Step;
    /// A reply that is not an `error` to the request this client sent last for `op`.
    fn on_reply(&mut self, op: &OpSpec, body: &OwnedValue) -> Step;
}

/// How the runner treats a workload's clients (MAELSTROM.md §1.6, §2.3).
#[derive(Clone, Copy, Debug)]
pub struct ClientPolicy {
    /// Whether a client survives an `info` completion.
    pub reusable: bool,
    /// Maelstrom's `with-errors` wrapper: definite error codes and idempotent ops become
    /// `fail`. g-set and counters lack it: every error or timeout is `info`.
    pub error_wrapper: bool,
    /// The idempotent `f`s (Jepsen's set I): their errors and timeouts are `fail`.
    pub idempotent: &'static [&'static str],
    /// RPC timeout in ms.
    pub timeout_ms: u64,
}

impl ClientPolicy {
    /// Non-reusable, with the error wrapper, nothing idempotent, 5 s timeout.
    pub const DEFAULT: ClientPolicy = ClientPolicy {
        reusable: false,
        error_wrapper: true,
        idempotent: &[],
        timeout_ms: 5000,
    };

    /// Whether `f` is idempotent.
    pub fn is_idempotent(&self, f: &str) -> bool {
        self.idempotent.contains(&f)
    }
}

/// The client side of one workload for one test: its generator, how to open a client,
/// and the policy the runner applies.
pub struct ClientSide {
    /// The test's generator.
    pub generator: Box<dyn Generator>,
    /// Opens a fresh client (a new worker process's).
    pub open_client: Box<dyn Fn() -> Box<dyn Client> + Send>,
    /// Reuse, error mapping and timeout.
    pub policy: ClientPolicy,
}

/// Test options a generator or client may need.
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
    /// `--extra-checks`: generators add what the extra checks need (duplicate adds, final
    /// reads of every key, flagged final ops). Off, every run is Maelstrom's.
    pub extra: bool,
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
            extra: false,
        }
    }
}

/// Builds a JSON object from pairs.
pub fn object(pairs: Vec<(&str, OwnedValue)>) -> OwnedValue {
    let mut map = simd_json::owned::Object::with_capacity(pairs.len());
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    OwnedValue::Object(Box::new(map))
}

/// A client for workloads whose ops are one request and one reply, described by two
/// functions: `request` builds the body, `reply` validates the reply and computes the
/// value. Stateless clients (all but kafka's) need nothing more.
pub struct OneRpcClient {
    request: fn(&OpSpec) -> OwnedValue,
    reply: fn(&OpSpec, &OwnedValue) -> Step,
}

impl OneRpcClient {
    /// A factory for [`ClientSide::open_client`].
    pub fn factory(
        request: fn(&OpSpec) -> OwnedValue,
        reply: fn(&OpSpec, &OwnedValue) -> Step,
    ) -> Box<dyn Fn() -> Box<dyn Client> + Send> {
        Box::new(move || Box::new(OneRpcClient { request, reply }))
    }
}

impl Client for OneRpcClient {
    fn invoke(&mut self, op: &OpSpec) -> Step {
        Step::Send((self.request)(op))
    }

    fn on_reply(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
        (self.reply)(op, body)
    }
}

/// Remembers which workers already had their one final op (broadcast, g-set, counters).
#[derive(Default)]
pub struct OnceEach {
    done: Vec<bool>,
}

impl OnceEach {
    /// `Invoke(op())` the first time worker `thread` asks, `Done` afterwards.
    pub fn step(&mut self, thread: usize, op: impl FnOnce() -> OpSpec) -> FinalStep {
        if self.done.len() <= thread {
            self.done.resize(thread + 1, false);
        }
        if std::mem::replace(&mut self.done[thread], true) {
            FinalStep::Done
        } else {
            FinalStep::Invoke(op())
        }
    }
}
