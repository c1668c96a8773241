//! The simulated network (MAELSTROM.md §5.1, §5.2, §5.4).
//!
//! Every message gets a global id at send time, is journaled, and goes into its
//! destination's queue ordered by deadline (`now + latency`; client traffic has none).
//!
//! Each destination has one emulated *writer*, like Maelstrom's stdin-writer thread: when
//! idle it dequeues the earliest-deadline message, drops it right then if the destination
//! holds a grudge against the source (the partition check happens at dequeue), otherwise
//! holds it until its deadline, delivers it (journaling the receive) and dequeues the next.
//! So a message sent to an idle writer is checked at send time, one queued behind another
//! is checked when the previous one is delivered, and delays that vary give no FIFO order.
//! By default there is no random loss and no duplication. [`Faults`] can add loss,
//! duplication and extra delay to inter-server messages (those latency applies to); their
//! draws come from a separate PRNG so that the default streams stay the same.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use ahash::AHashMap;
use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::checkers::{NetCounts, NetStats};
use crate::harness::hosts::{MS, Time};
pub use crate::harness::net::envelope::Packet;
use crate::harness::net::envelope::envelope;
use crate::harness::net::fates::Fates;
use crate::harness::net::faults::Faults;
use crate::harness::schedule::{MessageFate, Schedule};
use crate::node::rng::Rng;

/// Bound on messages queued in the network at once; beyond it the run fails loudly.
pub const MAX_IN_FLIGHT: usize = 1 << 20;

/// A participant registered in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Server node, by index into the node list.
    Node(usize),
    /// Built-in service, by index into `SERVICE_NAMES`.
    Service(usize),
    /// A harness client.
    Client(ClientRole),
}

/// Who a client id belongs to (MAELSTROM.md §1.3 order: init, setup, workers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientRole {
    /// The short-lived client that sends `init` to node i.
    Init(usize),
    /// The setup client bound to node i (topology for broadcast).
    Setup(usize),
    /// Worker thread t's current client.
    Worker(usize),
}

/// Inter-node latency distribution (`--latency-dist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LatencyDist {
    /// Exactly the mean.
    Constant,
    /// Integer uniform in [0, 2·mean).
    Uniform,
    /// Exponential with the given mean, truncated to whole ms.
    Exponential,
}

/// A message leaving the network.
pub struct Delivery {
    /// Where it goes.
    pub to: Endpoint,
    /// The message.
    pub message: Packet,
}

/// A queued message, ordered by (deadline, send order).
struct Queued {
    deadline: Time,
    seq: u64,
    message: Box<Packet>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

type Queue = BinaryHeap<Reverse<Queued>>;

/// Participants, queues, grudges and counters.
pub struct Network {
    names: AHashMap<String, Endpoint>,
    /// Node ids, then service names (a schedule's participants).
    participants: Vec<String>,
    node_count: usize,
    queues: Vec<Queue>,
    /// Per destination: the message its writer dequeued and holds until the deadline.
    writers: Vec<Option<Queued>>,
    /// `(deadline, seq, writer)` of every message a writer holds, earliest first: the next
    /// delivery without scanning every writer (one entry per held message, removed when
    /// it is delivered).
    held: BinaryHeap<Reverse<(Time, u64, usize)>>,
    in_flight: usize,
    /// `grudge[dest * n + src]`: dest drops messages from src.
    grudge: Vec<bool>,
    latency_ms: u64,
    dist: LatencyDist,
    rng: Rng,
    faults: Faults,
    fault_rng: Rng,
    /// Per-link message numbers, recorded fates, and the schedule being replayed.
    fates: Fates,
    next_id: u64,
    /// Number of the next client id to open.
    next_client: u64,
    seq: u64,
    stats: NetStats,
    journal: Option<Box<dyn Write + Send>>,
    log_send: bool,
    log_recv: bool,
}

/// Options for [`Network::new`].
pub struct NetOptions {
    /// Mean latency in ms.
    pub latency_ms: u64,
    /// Its distribution.
    pub dist: LatencyDist,
    /// Print every send to stderr.
    pub log_send: bool,
    /// Print every receive to stderr.
    pub log_recv: bool,
    /// Loss, duplication and extra delay (none by default).
    pub faults: Faults,
    /// The stream fault draws come from.
    pub fault_rng: Rng,
}

impl Network {
    /// A network with the given server nodes and services registered.
    pub fn new(nodes: &[String], services: &[&str], options: NetOptions, rng: Rng) -> Network {
        let mut names = AHashMap::new();
        for (i, name) in nodes.iter().enumerate() {
            names.insert(name.clone(), Endpoint::Node(i));
        }
        for (i, name) in services.iter().enumerate() {
            names.insert(name.to_string(), Endpoint::Service(i));
        }
        let n = nodes.len();
        let participants: Vec<String> = nodes
            .iter()
            .cloned()
            .chain(services.iter().map(|s| s.to_string()))
            .collect();
        Network {
            names,
            fates: Fates::new(participants.len()),
            participants,
            node_count: n,
            queues: (0..n + services.len()).map(|_| Queue::new()).collect(),
            writers: (0..n + services.len()).map(|_| None).collect(),
            held: BinaryHeap::new(),
            in_flight: 0,
            grudge: vec![false; n * n],
            latency_ms: options.latency_ms,
            dist: options.dist,
            rng,
            faults: options.faults,
            fault_rng: options.fault_rng,
            next_id: 0,
            next_client: 0,
            seq: 0,
            stats: NetStats::default(),
            journal: None,
            log_send: options.log_send,
            log_recv: options.log_recv,
        }
    }

    /// Records the fate of every inter-server message (for the run's schedule).
    pub fn record_fates(&mut self) {
        self.fates.record();
    }

    /// Replays the message fates of `schedule` instead of drawing them.
    pub fn replay_fates(&mut self, schedule: &Schedule) {
        self.fates.replay(schedule, &self.participants);
    }

    /// The recorded fates, in send order.
    pub fn take_fates(&mut self) -> Vec<MessageFate> {
        self.fates.take()
    }

    /// Node ids, then service names.
    pub fn participants(&self) -> &[String] {
        &self.participants
    }

    /// Journals every send and receive as JSON lines into `sink`.
    pub fn set_journal(&mut self, sink: Box<dyn Write + Send>) {
        self.journal = Some(sink);
    }

    /// Opens a client: registers the next client id (c0, c1, … in opening order,
    /// MAELSTROM.md §1.3) for `role` and returns it.
    pub fn open_client(&mut self, role: ClientRole) -> String {
        let name = format!("c{}", self.next_client);
        self.next_client += 1;
        self.names.insert(name.clone(), Endpoint::Client(role));
        name
    }

    /// Removes a client id: later messages to it are invalid (MAELSTROM.md §1.8).
    pub fn unregister(&mut self, name: &str) {
        self.names.remove(name);
    }

    /// Who a name is, if registered.
    pub fn lookup(&self, name: &str) -> Option<Endpoint> {
        self.names.get(name).copied()
    }

    /// Counts so far.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Replaces the grudge: `drops[dest]` lists the node indices dest ignores. Empty heals.
    pub fn set_grudge(&mut self, drops: &[Vec<usize>]) {
        self.grudge.iter_mut().for_each(|g| *g = false);
        let n = self.node_count;
        for (dest, srcs) in drops.iter().enumerate().take(n) {
            for &src in srcs.iter().filter(|&&s| s < n) {
                self.grudge[dest * n + src] = true;
            }
        }
    }

    /// Drops every grudge.
    pub fn heal(&mut self) {
        self.grudge.iter_mut().for_each(|g| *g = false);
    }

    fn delay(&mut self) -> Time {
        draw_delay(self.dist, self.latency_ms, &mut self.rng)
    }

    /// Sends a message whose src and dest are registered. Client-bound messages are
    /// delivered at once and returned; everything else is queued.
    pub fn send(
        &mut self,
        now: Time,
        src: String,
        dest: String,
        body: OwnedValue,
    ) -> io::Result<Option<Delivery>> {
        let Some(to) = self.lookup(&dest) else {
            return Err(io::Error::other(format!("unknown destination {dest:?}")));
        };
        let message = Packet {
            id: self.next_id,
            src,
            dest,
            body,
        };
        self.next_id += 1;
        let client = involves_client(&message);
        count(&mut self.stats, client, |c| {
            c.send_count += 1;
            c.msg_count += 1;
        });
        self.record("send", now, &message, self.log_send)?;
        let queue = match to {
            Endpoint::Client(_) => {
                self.received(now, &message)?;
                return Ok(Some(Delivery { to, message }));
            }
            Endpoint::Node(i) => i,
            Endpoint::Service(s) => self.node_count + s,
        };
        if client {
            self.enqueue(queue, now, message)?;
            return Ok(None);
        }
        let src = match self.names.get(&message.src) {
            Some(Endpoint::Node(i)) => *i,
            Some(Endpoint::Service(s)) => self.node_count + s,
            // Only clients are neither; their traffic was handled above.
            _ => {
                self.enqueue(queue, now, message)?;
                return Ok(None);
            }
        };
        let fate = self.fate(src, queue);
        if fate.lost {
            return Ok(None);
        }
        if let Some(copy_ms) = fate.copy_ms {
            self.enqueue(queue, now + copy_ms * MS, message.clone())?;
        }
        let deadline = now + (fate.latency_ms + fate.extra_ms) * MS;
        self.enqueue(queue, deadline, message)?;
        Ok(None)
    }

    /// The fate of the next inter-server message from participant `src` to `dest`: the
    /// schedule's when replaying one that lists it, else drawn (latency from the main
    /// stream; faults, in a fixed order, from the fault stream; none for a message a
    /// replayed schedule does not list).
    fn fate(&mut self, src: usize, dest: usize) -> MessageFate {
        let (nth, planned) = self.fates.next(src, dest);
        let mut fate = match planned {
            Some(fate) => fate,
            None => self.draw_fate(),
        };
        fate.src = src as u16;
        fate.dest = dest as u16;
        fate.nth = nth;
        self.fates.push(fate);
        fate
    }

    fn draw_fate(&mut self) -> MessageFate {
        let mut fate = MessageFate {
            latency_ms: self.delay() / MS,
            ..MessageFate::default()
        };
        if !self.faults.network() || self.fates.replaying() {
            return fate;
        }
        fate.lost = self.faults.loss > 0.0 && self.fault_rng.unit_f64() < self.faults.loss;
        let duplicate =
            self.faults.duplicate > 0.0 && self.fault_rng.unit_f64() < self.faults.duplicate;
        if fate.lost {
            return fate;
        }
        if duplicate {
            let copy_delay = draw_delay(self.dist, self.latency_ms, &mut self.fault_rng);
            fate.copy_ms = Some((copy_delay + self.extra_delay()) / MS);
        }
        fate.extra_ms = self.extra_delay() / MS;
        fate
    }

    /// Queues a message for destination queue `queue`; past [`MAX_IN_FLIGHT`] the run
    /// fails loudly.
    fn enqueue(&mut self, queue: usize, deadline: Time, message: Packet) -> io::Result<()> {
        if self.in_flight >= MAX_IN_FLIGHT {
            return Err(io::Error::other(
                "network overloaded: too many messages in flight",
            ));
        }
        self.seq += 1;
        self.in_flight += 1;
        if let Some(q) = self.queues.get_mut(queue) {
            q.push(Reverse(Queued {
                deadline,
                seq: self.seq,
                message: Box::new(message),
            }));
        }
        self.dequeue(queue);
        Ok(())
    }

    /// `--reorder-ms`: uniform extra delay in [0, reorder_ms] ms.
    fn extra_delay(&mut self) -> Time {
        match self.faults.reorder_ms {
            0 => 0,
            max => self.fault_rng.below(max + 1) * MS,
        }
    }

    /// An idle writer takes the earliest queued message, dropping partitioned ones now.
    fn dequeue(&mut self, index: usize) {
        while matches!(self.writers.get(index), Some(None)) {
            let Some(Reverse(next)) = self.queues.get_mut(index).and_then(|q| q.pop()) else {
                return;
            };
            if self.partitioned(&next.message, index) {
                self.in_flight -= 1;
                continue;
            }
            self.held.push(Reverse((next.deadline, next.seq, index)));
            self.writers[index] = Some(next);
        }
    }

    /// The earliest deadline among messages the writers hold.
    pub fn next_due(&self) -> Option<Time> {
        self.held.peek().map(|Reverse((deadline, _, _))| *deadline)
    }

    /// Delivers the earliest held message due at `now`; its writer then dequeues the next.
    pub fn pop_due(&mut self, now: Time) -> io::Result<Option<Delivery>> {
        let (index, seq) = match self.held.peek() {
            Some(Reverse((deadline, seq, index))) if *deadline <= now => (*index, *seq),
            _ => return Ok(None),
        };
        self.held.pop();
        assert!(
            self.writers
                .get(index)
                .is_some_and(|w| w.as_ref().is_some_and(|m| m.seq == seq)),
            "a held entry names the message its writer holds"
        );
        let Some(Queued { message, .. }) = self.writers.get_mut(index).and_then(Option::take)
        else {
            return Ok(None);
        };
        self.in_flight -= 1;
        self.dequeue(index);
        let n = self.node_count;
        let to = if index < n {
            Endpoint::Node(index)
        } else {
            Endpoint::Service(index - n)
        };
        self.received(now, &message)?;
        Ok(Some(Delivery {
            to,
            message: *message,
        }))
    }

    fn partitioned(&self, message: &Packet, dest: usize) -> bool {
        let n = self.node_count;
        if dest >= n {
            return false;
        }
        match self.names.get(&message.src) {
            Some(Endpoint::Node(src)) => self.grudge.get(dest * n + src).copied().unwrap_or(false),
            _ => false,
        }
    }

    fn received(&mut self, now: Time, message: &Packet) -> io::Result<()> {
        count(&mut self.stats, involves_client(message), |c| {
            c.recv_count += 1
        });
        self.record("recv", now, message, self.log_recv)
    }

    fn record(&mut self, kind: &str, now: Time, message: &Packet, log: bool) -> io::Result<()> {
        if log {
            eprintln!(":{kind} {}", String::from_utf8_lossy(&envelope(message)));
        }
        if let Some(journal) = self.journal.as_mut() {
            write!(journal, "{{\"type\":\"{kind}\",\"time\":{now},\"message\":")?;
            journal.write_all(&envelope(message))?;
            journal.write_all(b"}\n")?;
        }
        Ok(())
    }

    /// Flushes the journal.
    pub fn flush_journal(&mut self) -> io::Result<()> {
        match self.journal.as_mut() {
            Some(j) => j.flush(),
            None => Ok(()),
        }
    }
}

/// One latency draw, in ns (MAELSTROM.md §5.1).
fn draw_delay(dist: LatencyDist, mean: u64, rng: &mut Rng) -> Time {
    let ms = match dist {
        LatencyDist::Constant => mean,
        LatencyDist::Uniform if mean == 0 => 0,
        LatencyDist::Uniform => rng.below(2 * mean),
        LatencyDist::Exponential => {
            let u = 1.0 - rng.unit_f64();
            (-(mean as f64) * u.ln()) as u64
        }
    };
    ms * MS
}

fn involves_client(message: &Packet) -> bool {
    message.src.starts_with('c') || message.dest.starts_with('c')
}

fn count(stats: &mut NetStats, client: bool, apply: impl Fn(&mut NetCounts)) {
    apply(&mut stats.all);
    apply(if client {
        &mut stats.clients
    } else {
        &mut stats.servers
    });
}
