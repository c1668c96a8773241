//! Raft's four safety properties (Raft paper, Figure 3), asserted after every simulated
//! step of in-process lin-kv clusters: election safety, log matching, leader completeness,
//! state-machine safety. Each cluster runs with random latency, loss, duplication and
//! partitions while closed-loop clients write, cas and read. A deliberately broken node
//! (granting two votes in one term) must be caught. A second run sends most requests to
//! one node, with a short placement window, so leadership transfers (`timeout_now`,
//! votes that bypass leader stickiness) happen under the same faults.
//!
//! 100 seeds by default (`GLOMERS_SEEDS=n` for more).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use glomers::node::{NodeCore, Rng};
use glomers::workloads::LinKv;
use glomers::workloads::lin_kv::{Config, Entry, Role};

/// In flight: delivery time, sequence, destination, line.
type Flight = Reverse<(u64, u64, usize, Vec<u8>)>;

struct Cluster {
    nodes: Vec<NodeCore<LinKv>>,
    names: Vec<String>,
    now: u64,
    rng: Rng,
    flights: BinaryHeap<Flight>,
    sequence: u64,
    /// `group[i]`; nodes in different groups cannot talk.
    group: Vec<usize>,
    /// Per client: the time its next request goes out.
    clients: Vec<u64>,
    /// Sends 80 % of the requests to this node (else uniformly).
    favourite: Option<usize>,
    out: Vec<u8>,
}

impl Cluster {
    fn new(n: usize, config: &Config, seed: u64, favourite: Option<usize>) -> Cluster {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let nodes = (0..n)
            .map(|i| NodeCore::new(LinKv::new(config.clone()), seed * 31 + i as u64))
            .collect();
        let mut cluster = Cluster {
            nodes,
            names,
            now: 0,
            rng: Rng::new(seed),
            flights: BinaryHeap::new(),
            sequence: 0,
            group: vec![0; n],
            clients: vec![0; 2 * n],
            favourite,
            out: Vec::new(),
        };
        let ids = serde_json::to_string(&cluster.names).expect("json");
        for i in 0..n {
            let init = format!(
                r#"{{"src":"c0","dest":"n{i}","body":{{"type":"init","node_id":"n{i}","node_ids":{ids},"msg_id":1}}}}"#
            );
            cluster.nodes[i].handle_input(0, format!("{init}\n").as_bytes());
            cluster.collect(i);
        }
        cluster
    }

    /// Routes node `i`'s output: peer messages after 0–10 ms, 5% lost, 5% doubled.
    fn collect(&mut self, i: usize) {
        self.nodes[i].take_output(&mut self.out);
        let out = std::mem::take(&mut self.out);
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let message: serde_json::Value = serde_json::from_slice(line).expect("json output");
            let dest = message["dest"].as_str().expect("dest");
            let Some(j) = self.names.iter().position(|name| name == dest) else {
                continue; // a client reply: safety does not look at it
            };
            let copies = match self.rng.below(20) {
                0 => 0,
                1 => 2,
                _ => 1,
            };
            let mut bytes = line.to_vec();
            bytes.push(b'\n');
            for _ in 0..copies {
                self.sequence += 1;
                let at = self.now + self.rng.below(11);
                if self.group[i] == self.group[j] {
                    self.flights
                        .push(Reverse((at, self.sequence, j, bytes.clone())));
                }
            }
        }
        self.out = out;
    }

    /// One step: the earliest message delivery, node timer, or client request.
    fn step(&mut self) {
        let flight = self.flights.peek().map(|Reverse(f)| f.0);
        let timer = (0..self.nodes.len())
            .filter_map(|i| self.nodes[i].next_deadline().map(|d| (d, i)))
            .min();
        let client = (0..self.clients.len()).map(|c| (self.clients[c], c)).min();
        let next = [flight, timer.map(|t| t.0), client.map(|c| c.0)];
        let at = next
            .into_iter()
            .flatten()
            .min()
            .expect("clients always have a next op");
        self.now = self.now.max(at);
        if flight == Some(at) {
            let Some(Reverse((_, _, dest, line))) = self.flights.pop() else {
                return;
            };
            self.nodes[dest].handle_input(self.now, &line);
            self.collect(dest);
        } else if let Some((_, i)) = timer.filter(|t| t.0 == at) {
            self.nodes[i].handle_timeout(self.now);
            self.collect(i);
        } else if let Some((_, c)) = client {
            self.request(c);
        }
    }

    /// Client `c` sends a random write, cas or read to a random (or the favourite) node.
    fn request(&mut self, c: usize) {
        self.clients[c] = self.now + 20 + self.rng.below(80);
        let node = match self.favourite {
            Some(node) if self.rng.below(5) > 0 => node,
            _ => self.rng.below(self.nodes.len() as u64) as usize,
        };
        let key = self.rng.below(3);
        let (a, b) = (self.rng.below(5), self.rng.below(5));
        let body = match self.rng.below(3) {
            0 => format!(
                r#"{{"type":"write","key":{key},"value":{a},"msg_id":{}}}"#,
                self.now
            ),
            1 => format!(
                r#"{{"type":"cas","key":{key},"from":{a},"to":{b},"msg_id":{}}}"#,
                self.now
            ),
            _ => format!(r#"{{"type":"read","key":{key},"msg_id":{}}}"#, self.now),
        };
        let line = format!("{{\"src\":\"c{c}\",\"dest\":\"n{node}\",\"body\":{body}}}\n");
        self.nodes[node].handle_input(self.now, line.as_bytes());
        self.collect(node);
    }

    /// Cuts the cluster in two random groups (or heals it).
    fn repartition(&mut self) {
        let n = self.nodes.len();
        let heal = self.rng.coin();
        for i in 0..n {
            self.group[i] = if heal { 0 } else { self.rng.below(2) as usize };
        }
    }
}

/// What the checks remember across steps.
#[derive(Default)]
struct Safety {
    /// Term → the node that led it.
    leaders: HashMap<u64, usize>,
    /// Committed entries by index (index 0 unused), with the term they were committed in.
    committed: Vec<(Entry, u64)>,
}

impl Safety {
    fn check(&mut self, nodes: &[NodeCore<LinKv>]) -> Result<(), String> {
        let rafts: Vec<&LinKv> = nodes.iter().map(|n| n.workload()).collect();
        for (i, raft) in rafts.iter().enumerate() {
            if raft.role() == Role::Leader {
                let leader = *self.leaders.entry(raft.term()).or_insert(i);
                if leader != i {
                    return Err(format!(
                        "election safety: n{leader} and n{i} lead term {}",
                        raft.term()
                    ));
                }
            }
        }
        for (a, first) in rafts.iter().enumerate() {
            for (b, second) in rafts.iter().enumerate().skip(a + 1) {
                log_matching(first.log().entries(), second.log().entries())
                    .map_err(|e| format!("log matching n{a} n{b}: {e}"))?;
            }
        }
        for (i, raft) in rafts.iter().enumerate() {
            let entries = raft.log().entries();
            let commit = raft.commit_index() as usize;
            for index in 1..=commit {
                match self.committed.get(index) {
                    Some((entry, _)) if *entry != entries[index] => {
                        return Err(format!(
                            "state machine safety: n{i} applied {:?} at {index}, others {entry:?}",
                            entries[index]
                        ));
                    }
                    Some(_) => {}
                    None => {
                        if self.committed.is_empty() {
                            self.committed.push((entries[0], 0));
                        }
                        self.committed.push((entries[index], raft.term()));
                    }
                }
            }
        }
        for (i, raft) in rafts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.role() == Role::Leader)
        {
            let entries = raft.log().entries();
            for (index, (entry, term)) in self.committed.iter().enumerate().skip(1) {
                if *term < raft.term() && entries.get(index) != Some(entry) {
                    return Err(format!(
                        "leader completeness: n{i} (term {}) lacks committed {entry:?} at {index}",
                        raft.term()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// If two logs hold an entry with the same index and term, they agree up to it.
fn log_matching(a: &[Entry], b: &[Entry]) -> Result<(), String> {
    let common = a.len().min(b.len());
    let Some(top) = (0..common).rev().find(|&i| a[i].term == b[i].term) else {
        return Ok(());
    };
    match (0..=top).find(|&i| a[i] != b[i]) {
        Some(i) => Err(format!(
            "same term at {top} but {:?} vs {:?} at {i}",
            a[i], b[i]
        )),
        None => Ok(()),
    }
}

/// Runs one seed for `ms` of virtual time, checking after every step; returns the
/// leadership transfers started.
fn run(n: usize, config: &Config, seed: u64, ms: u64) -> Result<u64, String> {
    run_with(n, config, seed, ms, None)
}

fn run_with(
    n: usize,
    config: &Config,
    seed: u64,
    ms: u64,
    favourite: Option<usize>,
) -> Result<u64, String> {
    let mut cluster = Cluster::new(n, config, seed, favourite);
    let mut safety = Safety::default();
    let mut next_partition = 300;
    while cluster.now < ms {
        if cluster.now >= next_partition {
            cluster.repartition();
            next_partition = cluster.now + 200 + cluster.rng.below(1000);
        }
        cluster.step();
        safety
            .check(&cluster.nodes)
            .map_err(|e| format!("seed {seed} at {} ms: {e}", cluster.now))?;
    }
    if safety.committed.len() < 10 {
        return Err(format!(
            "seed {seed}: only {} entries committed",
            safety.committed.len()
        ));
    }
    Ok(cluster.nodes.iter().map(|n| n.workload().transfers()).sum())
}

fn seed_count() -> u64 {
    std::env::var("GLOMERS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Timeouts that make split elections common, so a broken vote has a chance to matter.
fn contentious() -> Config {
    Config {
        election_min_ms: 100,
        election_spread_ms: 30,
        heartbeat_ms: 30,
        ..Config::default()
    }
}

#[test]
fn raft_safety_holds_after_every_step() {
    for seed in 1..=seed_count() {
        let n = if seed % 4 == 0 { 5 } else { 3 };
        let config = if seed % 2 == 0 {
            contentious()
        } else {
            Config::default()
        };
        if let Err(e) = run(n, &config, seed, 3000) {
            panic!("{e}");
        }
    }
}

/// Most requests enter at one node and the placement window is short, so leaders keep
/// handing leadership over while partitions, loss and duplication go on.
#[test]
fn raft_safety_holds_with_leadership_transfers() {
    let mut transfers = 0;
    for seed in 1..=seed_count() {
        let n = if seed % 4 == 0 { 5 } else { 3 };
        let base = if seed % 2 == 0 {
            contentious()
        } else {
            Config::default()
        };
        let config = Config {
            placement_window_ms: 300,
            placement_min_requests: 5,
            ..base
        };
        let favourite = (seed % n as u64) as usize;
        match run_with(n, &config, seed, 3000, Some(favourite)) {
            Ok(count) => transfers += count,
            Err(e) => panic!("{e}"),
        }
    }
    eprintln!("{transfers} leadership transfers");
    assert!(
        transfers >= seed_count() / 2,
        "too few transfers: {transfers}"
    );
}

#[test]
fn the_assertions_catch_a_node_that_votes_twice() {
    let broken = Config {
        broken_double_vote: true,
        ..contentious()
    };
    let caught = (1..=seed_count()).find_map(|seed| run(3, &broken, seed, 3000).err());
    let caught = caught.expect("double voting went unnoticed in every seed");
    eprintln!("caught: {caught}");
    assert!(caught.contains("election safety"), "{caught}");
}
