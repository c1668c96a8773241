//! `lin-kv` (MAELSTROM.md §3.7; Jepsen's `linearizable-register` under `independent`):
//! worker threads form groups of 2n, each group working one key at a time. A group's first
//! n threads read; the others write (⅓) or cas (⅔) values in 0..=4. A group moves to the
//! next unused key once more than 20 distinct processes would have taken part in its key.
//! Reusable clients, `read` idempotent, timeout max(10 × latency, 1000) ms, history values
//! `[k v]` (reads invoked as `[k nil]`).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{
    ClientPolicy, ClientSide, Generator, OneRpcClient, OpSpec, Step, WorkerSlot, WorkloadOptions,
    object,
};
use crate::node::rng::Rng;

/// Distinct processes one key may see (Jepsen's `process-limit`).
const PROCESSES_PER_KEY: usize = 20;

/// The lin-kv client side; an error when the concurrency is not a positive multiple of 2n.
pub fn lin_kv(options: &WorkloadOptions) -> Result<ClientSide, String> {
    let group_size = 2 * options.node_count.max(1);
    if options.concurrency == 0 || !options.concurrency.is_multiple_of(group_size) {
        return Err(format!(
            "lin-kv needs --concurrency to be a positive multiple of 2n = {group_size} (e.g. \
             --concurrency 2n or 4n), got {}",
            options.concurrency
        ));
    }
    let groups = options.concurrency / group_size;
    Ok(ClientSide {
        generator: Box::new(LinKvGenerator {
            node_count: options.node_count.max(1),
            groups: (0..groups as u64)
                .map(|key| Group {
                    key,
                    processes: Vec::new(),
                })
                .collect(),
            next_key: groups as u64,
        }),
        open_client: OneRpcClient::factory(request, reply),
        policy: ClientPolicy {
            reusable: true,
            idempotent: &["read"],
            timeout_ms: (10 * options.latency_ms).max(1000),
            ..ClientPolicy::DEFAULT
        },
    })
}

/// One group of 2n threads and the key it works on.
struct Group {
    key: u64,
    /// Distinct processes that took an op on `key`.
    processes: Vec<u64>,
}

struct LinKvGenerator {
    node_count: usize,
    groups: Vec<Group>,
    next_key: u64,
}

impl Generator for LinKvGenerator {
    fn next_op(&mut self, rng: &mut Rng, worker: WorkerSlot) -> OpSpec {
        let group_size = 2 * self.node_count;
        let reader = worker.thread % group_size < self.node_count;
        let Some(group) = self.groups.get_mut(worker.thread / group_size) else {
            return OpSpec::new("read", pair(0, OwnedValue::null()));
        };
        if !group.processes.contains(&worker.process) {
            if group.processes.len() >= PROCESSES_PER_KEY {
                group.key = self.next_key;
                self.next_key += 1;
                group.processes.clear();
            }
            group.processes.push(worker.process);
        }
        let key = group.key;
        if reader {
            return OpSpec::new("read", pair(key, OwnedValue::null()));
        }
        match rng.below(3) {
            0 => OpSpec::new("write", pair(key, rng.below(5).into())),
            _ => {
                let from_to = vec![rng.below(5).into(), rng.below(5).into()];
                OpSpec::new("cas", pair(key, OwnedValue::Array(Box::new(from_to))))
            }
        }
    }
}

/// `[k v]`.
fn pair(key: u64, value: OwnedValue) -> OwnedValue {
    OwnedValue::Array(Box::new(vec![key.into(), value]))
}

fn key_and_value(op: &OpSpec) -> (OwnedValue, OwnedValue) {
    let parts = op.value.as_array();
    let part = |i: usize| {
        parts
            .and_then(|p| p.get(i))
            .cloned()
            .unwrap_or_else(OwnedValue::null)
    };
    (part(0), part(1))
}

fn request(op: &OpSpec) -> OwnedValue {
    let (key, value) = key_and_value(op);
    match op.f {
        "read" => object(vec![("type", "read".into()), ("key", key)]),
        "write" => object(vec![
            ("type", "write".into()),
            ("key", key),
            ("value", value),
        ]),
        _ => {
            let from_to = value.as_array();
            let part = |i: usize| {
                from_to
                    .and_then(|p| p.get(i))
                    .cloned()
                    .unwrap_or_else(OwnedValue::null)
            };
            object(vec![
                ("type", "cas".into()),
                ("key", key),
                ("from", part(0)),
                ("to", part(1)),
            ])
        }
    }
}

fn reply(op: &OpSpec, body: &OwnedValue) -> Step {
    let checked = match op.f {
        "read" => validate(body, "read_ok", &[("value", Kind::Any)]),
        f => validate(body, &format!("{f}_ok"), &[]),
    };
    match checked {
        Err(e) => Step::malformed(op, &e),
        Ok(()) if op.f == "read" => {
            let (key, _) = key_and_value(op);
            let value = body.get("value").cloned().unwrap_or_else(OwnedValue::null);
            Step::ok(OwnedValue::Array(Box::new(vec![key, value])))
        }
        Ok(()) => Step::ok(op.value.clone()),
    }
}
