//! `lin-kv` (MAELSTROM.md §3.7): Jepsen's `linearizable-register` under
//! `independent/concurrent-generator`, with Maelstrom passing only `:nodes`. Reusable
//! clients, `read` idempotent, timeout max(10 × latency, 1000) ms, history values `[k v]`
//! (reads invoked as `[k nil]`), write and cas values in 0..=4.
//!
//! # Who reads: as Jepsen runs it, not as its source reads
//!
//! `jepsen/tests/linearizable_register.clj` builds, per key k,
//! `(gen/process-limit 20 (gen/reserve n r (gen/mix [w cas cas])))` and runs those under
//! `(independent/concurrent-generator (* 2 n) (range) …)`: the C worker threads form
//! groups of 2n, each group working one key. Read naively, each group's first n threads
//! read. Measured under the real Maelstrom 0.2.4 the read share is n / C instead (3 nodes,
//! 10n: 10 / 30 / 60 % read / write / cas; 4n: 25 / 24 / 51 %), because of how the two
//! layers meet in Jepsen 0.3's `jepsen/generator.clj` and `generator/context.clj`:
//!
//! * `reserve` turns its counts into thread *sets* counted from zero:
//!   `(reduce (fn [[n gens] [thread-count gen]] … [(set (range n n')) gen]) [0 []])`, so
//!   the reader range is the literal set #{0 … n-1}, and its context filters are
//!   `(mapv context/make-thread-filter (concat ranges [(complement all-ranges)]))` (the
//!   source even carries a TODO: "an inner reserve might not understand that its threads
//!   don't start at 0");
//! * the concurrent generator hands each group a context *filtered* to its threads, not
//!   renumbered: `make-thread-filter` keeps the translation table and tests `pred` against
//!   `(tt/index->name tt i)`, the global thread name (Jepsen's own
//!   `independent-concurrent-test` shows group 1 as workers 2 and 3);
//! * so in group g ≥ 1 the reader filter #{0 … n-1} ∩ {2ng … 2ng+2n-1} is empty: `r`, a map
//!   generator, gets no free process from `fill-in-op` and stays `:pending`, and the
//!   default `(mix [w cas cas])` serves all 2n threads. Only group 0's threads 0 … n-1
//!   ever read.
//!
//! Which free thread takes an op follows the same tree ([`Generator::pick_worker`]): the
//! groups' ops tie at the context's time, and `soonest-op-map` breaks ties at random by
//! weight; a group with no free thread is `:pending` and loses. We pick a group uniformly
//! among those with a free thread (every group has 2n threads, so equal weights however
//! the group layer weighs them: the one step we could not read in the 0.3 source of
//! `independent.clj`, only its older, equivalent versions and its tests). Within a group,
//! `Reserve` weighs the reader range by its size n and the default by the thread count of
//! its filtered context (n in group 0), so group 0 reads half the time when it has a free
//! reader and a free writer, and takes whichever role has a free thread otherwise. Within
//! the role, `some-free-process` takes the first free thread at or after a cursor that
//! advances by one per invocation (`next-thread-index`). With every thread free, that
//! makes the read share exactly n / C; when requests hang (partitions), blocked threads
//! cannot be picked and the shares move with the node's latencies, as they did in the
//! real run (13 / 29 / 58 % with partitions every 3 s).
//!
//! # Key changes (`process-limit 20`)
//!
//! `ProcessLimit` unions, at every op it emits, `(all-processes ctx)`: the current process
//! of *every* thread in the group's context, whether or not it has touched the key. Once
//! that union would exceed 20 the generator is exhausted and the concurrent generator
//! moves the group to the next unused key, whose fresh limit starts from the group's 2n
//! current processes. Processes change only after `info` completions, so we track every
//! thread's process from the completions we see and do the same.
//!
//! # Discrepancies
//!
//! * Cursor: Jepsen's `next-thread-index` also advances on nemesis invocations and counts
//!   the nemesis as a thread (modulo C + 1); ours advances on client ops only. It changes
//!   which thread of a role (so which node) runs an op, never the mix.
//! * More than 10 nodes: a group's 2n > 20 processes exhaust every key before its first
//!   op, and Jepsen loops over fresh keys without ever producing one. We keep producing
//!   ops, one fresh key per op (MAELSTROM.md §3.7 advises n ≤ 10).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::outcome::Outcome;
use super::schema::{Kind, validate};
use super::{
    ClientPolicy, ClientSide, Generator, OneRpcClient, OpSpec, Step, WorkerSlot, WorkloadOptions,
    object,
};
use crate::harness::history::OpType;
use crate::node::rng::Rng;

/// Distinct processes one key may see (Jepsen's `process-limit`).
const PROCESSES_PER_KEY: usize = 20;

/// The lin-kv client side; an error when the concurrency is not a positive multiple of 2n.
pub fn lin_kv(options: &WorkloadOptions) -> Result<ClientSide, String> {
    let node_count = options.node_count.max(1);
    let group_size = 2 * node_count;
    if options.concurrency == 0 || !options.concurrency.is_multiple_of(group_size) {
        return Err(format!(
            "lin-kv needs --concurrency to be a positive multiple of 2n = {group_size} (e.g. \
             --concurrency 2n or 4n), got {}",
            options.concurrency
        ));
    }
    Ok(ClientSide {
        generator: Box::new(LinKvGenerator::new(node_count, options.concurrency)),
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
    /// Jepsen's `ProcessLimit` `procs`: every process the group's threads had while it
    /// emitted an op on `key`.
    processes: Vec<u64>,
}

struct LinKvGenerator {
    /// n: the reader threads are 0..n (group 0's first half), a group has 2n threads.
    node_count: usize,
    /// C.
    concurrency: usize,
    groups: Vec<Group>,
    next_key: u64,
    /// Every thread's current process, as Jepsen's context knows it.
    thread_processes: Vec<u64>,
    /// Jepsen's `next-thread-index`: a role's first free thread at or after it runs the op.
    cursor: usize,
    /// Scratch for [`Generator::pick_worker`]: which groups have a free thread.
    group_has_free: Vec<bool>,
}

impl LinKvGenerator {
    fn new(node_count: usize, concurrency: usize) -> LinKvGenerator {
        let groups = concurrency / (2 * node_count);
        LinKvGenerator {
            node_count,
            concurrency,
            groups: (0..groups as u64)
                .map(|key| Group {
                    key,
                    processes: Vec::new(),
                })
                .collect(),
            next_key: groups as u64,
            thread_processes: (0..concurrency as u64).collect(),
            cursor: 0,
            group_has_free: vec![false; groups],
        }
    }

    fn group_size(&self) -> usize {
        2 * self.node_count
    }

    /// Thread `t` reads: its global id falls in `reserve`'s range #{0 … n-1}.
    fn reads(&self, thread: usize) -> bool {
        thread < self.node_count
    }

    /// The key `thread`'s group works on, after `process-limit` had its say.
    fn key_for(&mut self, thread: usize) -> u64 {
        let size = self.group_size();
        let index = thread / size;
        let members = index * size..((index + 1) * size).min(self.thread_processes.len());
        let current = &self.thread_processes[members];
        let Some(group) = self.groups.get_mut(index) else {
            return 0;
        };
        let fresh = current
            .iter()
            .filter(|p| !group.processes.contains(p))
            .count();
        if group.processes.len() + fresh > PROCESSES_PER_KEY {
            group.key = self.next_key;
            self.next_key += 1;
            group.processes.clear();
        }
        for &p in current {
            if !group.processes.contains(&p) {
                group.processes.push(p);
            }
        }
        group.key
    }
}

impl Generator for LinKvGenerator {
    fn pick_worker(&mut self, rng: &mut Rng, free: &[usize]) -> usize {
        let size = self.group_size();
        self.group_has_free.iter_mut().for_each(|f| *f = false);
        for &t in free {
            if let Some(f) = self.group_has_free.get_mut(t / size) {
                *f = true;
            }
        }
        let candidates = self.group_has_free.iter().filter(|&&f| f).count();
        if candidates == 0 {
            return 0;
        }
        let nth = rng.below(candidates as u64) as usize;
        let Some(group) = (0..self.group_has_free.len())
            .filter(|&g| self.group_has_free[g])
            .nth(nth)
        else {
            return 0;
        };
        let in_group = |t: &usize| *t / size == group;
        let free_readers = free
            .iter()
            .filter(|t| in_group(t) && self.reads(**t))
            .count();
        let free_writers = free
            .iter()
            .filter(|t| in_group(t) && !self.reads(**t))
            .count();
        let read = match (free_readers > 0, free_writers > 0) {
            (true, true) => {
                // Reserve's weights: the reader range's size, and the default's thread count.
                let writers = (group * size..(group + 1) * size)
                    .filter(|&t| !self.reads(t))
                    .count();
                rng.below((self.node_count + writers) as u64) < self.node_count as u64
            }
            (reader, _) => reader,
        };
        let role = |t: &usize| in_group(t) && self.reads(*t) == read;
        let after_cursor = free
            .iter()
            .enumerate()
            .filter(|(_, t)| role(t) && **t >= self.cursor)
            .min_by_key(|(_, t)| **t);
        let first = free
            .iter()
            .enumerate()
            .filter(|(_, t)| role(t))
            .min_by_key(|(_, t)| **t);
        self.cursor = (self.cursor + 1) % (self.concurrency + 1);
        after_cursor.or(first).map_or(0, |(i, _)| i)
    }

    fn next_op(&mut self, rng: &mut Rng, worker: WorkerSlot) -> OpSpec {
        debug_assert_eq!(
            self.thread_processes.get(worker.thread),
            Some(&worker.process),
            "the generator's view of thread {}'s process drifted",
            worker.thread
        );
        if let Some(p) = self.thread_processes.get_mut(worker.thread) {
            *p = worker.process;
        }
        let key = self.key_for(worker.thread);
        if self.reads(worker.thread) {
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

    fn on_complete(&mut self, worker: WorkerSlot, _op: &OpSpec, outcome: &Outcome) {
        // The runner moves a thread to process p + C after an `info`, as Jepsen does.
        if outcome.op_type == OpType::Info
            && let Some(p) = self.thread_processes.get_mut(worker.thread)
        {
            *p = worker.process + self.concurrency as u64;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(thread: usize, process: u64) -> WorkerSlot {
        WorkerSlot {
            thread,
            process,
            time: 0,
        }
    }

    /// With every thread free, only threads 0..n read, so reads are n / C of the ops.
    #[test]
    fn only_the_first_groups_readers_read() {
        let (n, c) = (3, 30);
        let mut generator = LinKvGenerator::new(n, c);
        let mut rng = Rng::new(5);
        let free: Vec<usize> = (0..c).collect();
        let mut reads = 0;
        for _ in 0..30_000 {
            let thread = free[generator.pick_worker(&mut rng, &free)];
            let op = generator.next_op(&mut rng, slot(thread, thread as u64));
            assert_eq!(op.f == "read", thread < n, "thread {thread}: {}", op.f);
            reads += usize::from(op.f == "read");
        }
        assert!((2_700..=3_300).contains(&reads), "{reads} reads of 30,000");
    }

    /// A group keeps its key until its threads' processes would number more than 20.
    #[test]
    fn a_group_moves_on_after_twenty_processes() {
        let (n, c) = (3, 12);
        let mut generator = LinKvGenerator::new(n, c);
        let mut rng = Rng::new(1);
        let key = |op: &OpSpec| op.value.as_array().and_then(|v| v[0].as_u64());
        assert_eq!(key(&generator.next_op(&mut rng, slot(0, 0))), Some(0));
        assert_eq!(key(&generator.next_op(&mut rng, slot(7, 7))), Some(1));
        // Group 0 (threads 0..6) starts with 6 processes; 14 more `info`s fit, the 15th not.
        let info = Outcome::info(OwnedValue::null(), None);
        let mut process = 0;
        for round in 1..=15 {
            let op = generator.next_op(&mut rng, slot(0, process));
            generator.on_complete(slot(0, process), &op, &info);
            process += c as u64;
            let expected = if round < 15 { 0 } else { 2 };
            let op = generator.next_op(&mut rng, slot(0, process));
            assert_eq!(key(&op), Some(expected), "after {round} infos");
        }
        // Group 1 is untouched.
        assert_eq!(key(&generator.next_op(&mut rng, slot(7, 7))), Some(1));
    }
}
