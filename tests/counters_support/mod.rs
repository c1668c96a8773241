//! A tiny deterministic cluster for the counter and g-set tests: real [`NodeCore`]s, an
//! in-memory network delivering by virtual time (random per-message latency, so no FIFO),
//! partitions between nodes (checked at delivery, as Maelstrom does), the harness's own
//! services (seq-kv …) and closed-loop clients. Everything follows from one seed.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use glomers::harness::services::{SimulatedService, service};
use glomers::node::{NodeCore, Rng, Workload};
use serde_json::{Value, json};

/// A message in flight.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Flight {
    src: String,
    dest: String,
    body: String,
}

/// One outstanding client request.
#[derive(Clone, Debug)]
pub struct Outstanding {
    pub msg_id: u64,
    pub request: Value,
    pub invoked: u64,
}

/// A finished client op: the request, its reply (None = timed out), when.
#[derive(Clone, Debug)]
pub struct Completed {
    pub node: usize,
    pub request: Value,
    pub reply: Option<Value>,
    pub invoked: u64,
    pub completed: u64,
}

/// A closed-loop client bound to one node.
#[derive(Debug)]
pub struct Client {
    pub id: String,
    pub node: usize,
    next_msg_id: u64,
    pub outstanding: Option<Outstanding>,
}

/// The simulated cluster.
pub struct Cluster<W: Workload> {
    pub now: u64,
    pub nodes: Vec<NodeCore<W>>,
    pub ids: Vec<String>,
    services: Vec<(String, Box<dyn SimulatedService + Send>)>,
    queue: BinaryHeap<Reverse<(u64, u64, Flight)>>,
    sequence: u64,
    pub rng: Rng,
    /// Per-message latency is uniform in 0..=latency_max ms.
    pub latency_max: u64,
    /// Percent of node↔node and node↔service messages delivered twice (each copy with
    /// its own latency).
    pub duplicate_percent: u64,
    /// `group[i]`: nodes in different groups cannot talk; `None` = healed.
    group: Option<Vec<usize>>,
    /// Node↔node and node↔service messages sent (Maelstrom's `:servers`).
    pub server_messages: u64,
    pub clients: Vec<Client>,
    pub completed: Vec<Completed>,
    /// Client requests unanswered after this long are timed out (Maelstrom: 5 s).
    pub client_timeout: u64,
    /// Probability that a server message is lost (counted as sent, never delivered).
    pub loss: f64,
}

impl<W: Workload> Cluster<W> {
    /// `workloads.len()` nodes n0…, initialised; services seq-kv, lin-kv, lww-kv.
    pub fn new(workloads: Vec<W>, seed: u64, latency_max: u64) -> Self {
        let mut rng = Rng::new(seed);
        let ids: Vec<String> = (0..workloads.len()).map(|i| format!("n{i}")).collect();
        let services = ["seq-kv", "lin-kv", "lww-kv"]
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    service(name, rng.fork()).expect("service"),
                )
            })
            .collect();
        let nodes = workloads
            .into_iter()
            .enumerate()
            .map(|(i, w)| NodeCore::new(w, seed + i as u64))
            .collect();
        let mut cluster = Cluster {
            now: 0,
            nodes,
            ids,
            services,
            queue: BinaryHeap::new(),
            sequence: 0,
            rng,
            latency_max,
            duplicate_percent: 0,
            group: None,
            server_messages: 0,
            clients: Vec::new(),
            completed: Vec::new(),
            client_timeout: 5000,
            loss: 0.0,
        };
        let all = json!(cluster.ids);
        for i in 0..cluster.nodes.len() {
            let init = json!({"src":"c0","dest":cluster.ids[i],"body":{"type":"init","node_id":cluster.ids[i],"node_ids":all,"msg_id":1}});
            cluster.nodes[i].handle_input(0, format!("{init}\n").as_bytes());
            cluster.collect(i);
        }
        cluster
    }

    /// Adds `count` clients, round-robin over the nodes.
    pub fn add_clients(&mut self, count: usize) {
        for i in 0..count {
            let id = format!("c{}", 100 + self.clients.len());
            self.clients.push(Client {
                id,
                node: i % self.nodes.len(),
                next_msg_id: 1,
                outstanding: None,
            });
        }
    }

    fn node_index(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|n| n == id)
    }

    /// Routes everything node `i` wrote.
    fn collect(&mut self, i: usize) {
        let mut out = Vec::new();
        self.nodes[i].take_output(&mut out);
        for line in String::from_utf8(out).expect("utf8").lines() {
            let message: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("bad output {line}: {e}"));
            let src = message["src"].as_str().expect("src").to_string();
            let dest = message["dest"].as_str().expect("dest").to_string();
            let body = message["body"].to_string();
            if dest.starts_with('c') {
                self.client_reply(&dest, serde_json::from_str(&body).expect("body"));
                continue;
            }
            self.server_messages += 1;
            self.transmit(Flight { src, dest, body });
        }
    }

    /// Queues `flight` with a random latency, and sometimes a second copy; or loses it.
    /// Fault draws only when a knob is on, so other tests' seeds are unchanged.
    fn transmit(&mut self, flight: Flight) {
        if self.loss > 0.0 && self.rng.unit_f64() < self.loss {
            return;
        }
        let copies = if self.duplicate_percent > 0 && self.rng.below(100) < self.duplicate_percent {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.below(self.latency_max + 1);
            self.sequence += 1;
            let copy = Flight {
                src: flight.src.clone(),
                dest: flight.dest.clone(),
                body: flight.body.clone(),
            };
            self.queue
                .push(Reverse((self.now + delay, self.sequence, copy)));
        }
    }

    fn client_reply(&mut self, client_id: &str, body: Value) {
        let Some(client) = self.clients.iter_mut().find(|c| c.id == client_id) else {
            return;
        };
        let Some(outstanding) = &client.outstanding else {
            return;
        };
        if body["in_reply_to"].as_u64() != Some(outstanding.msg_id) {
            return;
        }
        let outstanding = client.outstanding.take().expect("outstanding");
        self.completed.push(Completed {
            node: client.node,
            request: outstanding.request,
            reply: Some(body),
            invoked: outstanding.invoked,
            completed: self.now,
        });
    }

    /// Client `c` sends `body` (a msg_id is added) to its node, with no latency.
    pub fn invoke(&mut self, c: usize, mut body: Value) {
        let client = &mut self.clients[c];
        assert!(client.outstanding.is_none(), "closed-loop client");
        let msg_id = client.next_msg_id;
        client.next_msg_id += 1;
        body["msg_id"] = json!(msg_id);
        let (node, id) = (client.node, client.id.clone());
        client.outstanding = Some(Outstanding {
            msg_id,
            request: body.clone(),
            invoked: self.now,
        });
        let line = json!({"src": id, "dest": self.ids[node], "body": body});
        self.nodes[node].handle_input(self.now, format!("{line}\n").as_bytes());
        self.collect(node);
    }

    /// Splits the nodes into groups (`group[i]` for node i); messages between groups drop.
    pub fn partition(&mut self, group: Vec<usize>) {
        self.group = Some(group);
    }

    /// A random split like Maelstrom's: one node isolated, or a majority/minority halves.
    pub fn random_partition(&mut self) {
        let n = self.nodes.len();
        let mut order: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut order);
        let cut = if self.rng.coin() { 1 } else { n / 2 };
        let mut group = vec![0; n];
        for &i in &order[..cut] {
            group[i] = 1;
        }
        self.group = Some(group);
    }

    pub fn heal(&mut self) {
        self.group = None;
    }

    fn blocked(&self, src: usize, dest: usize) -> bool {
        self.group.as_ref().is_some_and(|g| g[src] != g[dest])
    }

    /// Processes every event up to and including `until`.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next_flight = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let next_timer = self.nodes.iter().filter_map(|n| n.next_deadline()).min();
            let Some(at) = [next_flight, next_timer].into_iter().flatten().min() else {
                break;
            };
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            while let Some(Reverse((at, _, _))) = self.queue.peek() {
                if *at > self.now {
                    break;
                }
                let Reverse((_, _, flight)) = self.queue.pop().expect("peeked");
                self.deliver(flight);
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].next_deadline().is_some_and(|d| d <= self.now) {
                    self.nodes[i].handle_timeout(self.now);
                    self.collect(i);
                }
            }
        }
        self.now = self.now.max(until);
        self.expire_clients();
    }

    fn deliver(&mut self, flight: Flight) {
        if let Some(s) = self
            .services
            .iter()
            .position(|(name, _)| *name == flight.dest)
        {
            let mut bytes = flight.body.into_bytes();
            let body = simd_json::to_owned_value(&mut bytes).expect("request body");
            let Some(reply) = self.services[s].1.handle(&flight.src, &body) else {
                return;
            };
            let reply = simd_json::to_string(&reply).expect("reply");
            self.server_messages += 1;
            self.transmit(Flight {
                src: flight.dest,
                dest: flight.src,
                body: reply,
            });
            return;
        }
        let Some(dest) = self.node_index(&flight.dest) else {
            panic!("message to unknown {}", flight.dest)
        };
        if let Some(src) = self.node_index(&flight.src)
            && self.blocked(src, dest)
        {
            return;
        }
        let line = format!(
            "{{\"src\":\"{}\",\"dest\":\"{}\",\"body\":{}}}\n",
            flight.src, flight.dest, flight.body
        );
        self.nodes[dest].handle_input(self.now, line.as_bytes());
        self.collect(dest);
    }

    fn expire_clients(&mut self) {
        for client in &mut self.clients {
            let expired = client
                .outstanding
                .as_ref()
                .is_some_and(|o| self.now - o.invoked >= self.client_timeout);
            if expired {
                let o = client.outstanding.take().expect("outstanding");
                self.completed.push(Completed {
                    node: client.node,
                    request: o.request,
                    reply: None,
                    invoked: o.invoked,
                    completed: self.now,
                });
            }
        }
    }

    /// True when nothing is in flight and no node has a timer.
    pub fn is_quiet(&self) -> bool {
        self.queue.is_empty() && self.nodes.iter().all(|n| n.next_deadline().is_none())
    }
}

/// What a workload test does: ops at random times from every client for `main_ms`, with
/// partitions toggled every 1–4 s, then heal, `recovery_ms` of quiet, and one final read
/// per node. Returns the final read replies (node, value).
pub fn run_workload<W: Workload>(
    cluster: &mut Cluster<W>,
    main_ms: u64,
    recovery_ms: u64,
    mut next_op: impl FnMut(&mut Rng) -> Value,
) -> Vec<(usize, Value)> {
    let mut next_nemesis = 0;
    let mut partitioned = false;
    let mut t = 0;
    while t < main_ms {
        t += 1;
        cluster.run_until(t);
        if t >= next_nemesis {
            if partitioned {
                cluster.heal()
            } else {
                cluster.random_partition()
            }
            partitioned = !partitioned;
            next_nemesis = t + 1000 + cluster.rng.below(3000);
        }
        for c in 0..cluster.clients.len() {
            // About one op per client every 30 ms.
            if cluster.clients[c].outstanding.is_none() && cluster.rng.below(30) == 0 {
                let op = next_op(&mut cluster.rng);
                cluster.invoke(c, op);
            }
        }
    }
    // Let in-flight ops finish or time out, then heal and wait.
    while cluster.clients.iter().any(|c| c.outstanding.is_some()) {
        t += 10;
        cluster.run_until(t);
    }
    cluster.heal();
    t += recovery_ms;
    cluster.run_until(t);
    let mut finals = Vec::new();
    for node in 0..cluster.nodes.len() {
        let c = cluster
            .clients
            .iter()
            .position(|c| c.node == node)
            .expect("a client per node");
        let before = cluster.completed.len();
        cluster.invoke(c, json!({"type": "read"}));
        while cluster.completed.len() == before {
            t += 1;
            cluster.run_until(t);
        }
        let done = cluster.completed.last().expect("completed");
        let reply = done
            .reply
            .clone()
            .unwrap_or_else(|| panic!("final read on n{node} timed out"));
        assert_eq!(reply["type"], "read_ok", "final read on n{node}: {reply}");
        finals.push((node, reply["value"].clone()));
    }
    finals
}

/// Maelstrom's counter checker: the sums reachable from the ok adds plus any subset of the
/// indeterminate ones.
pub fn acceptable_counter_values(completed: &[Completed]) -> std::collections::BTreeSet<i64> {
    let mut sums = std::collections::BTreeSet::from([0i64]);
    for op in completed.iter().filter(|op| op.request["type"] == "add") {
        let delta = op.request["delta"].as_i64().expect("delta");
        let ok = op.reply.as_ref().is_some_and(|r| r["type"] == "add_ok");
        sums = if ok {
            sums.iter().map(|s| s + delta).collect()
        } else {
            sums.iter().flat_map(|s| [*s, s + delta]).collect()
        };
        assert!(sums.len() < 100_000, "too many indeterminate adds");
    }
    sums
}

/// The seeds a sweep runs: `GLOMERS_SEED=s` replays one, `GLOMERS_SEEDS=n` runs 1..=n,
/// otherwise 1..=4. Failures name their seed; replay with
/// `GLOMERS_SEED=<seed> cargo test --test <file> <test>`.
pub fn seeds() -> Vec<u64> {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    match (number("GLOMERS_SEED"), number("GLOMERS_SEEDS")) {
        (Some(seed), _) => vec![seed],
        (None, Some(count)) => (1..=count).collect(),
        (None, None) => (1..=4).collect(),
    }
}
