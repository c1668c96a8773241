//! The in-process, virtual-time node host: our own workloads run inside the harness, the
//! very same sans-IO core as the binaries, with no processes and no pipes (`--sim`).
//!
//! Time is virtual: a node handles its input at the instant it is delivered (processing
//! takes no simulated time) and the clock jumps straight to the next due event — a node
//! timer here, or whatever the runner asks for via `poll(until)`. Everything is driven by
//! the test's seed, so one seed and one set of flags give the same run, byte for byte.
//! A node that panics is reported as a crash, like a process that died.
//!
//! Input goes in as a pipe would deliver it: `send_line` queues, `flush` hands each node
//! its queued bytes in reads cut at seeded random positions ([`super::pipe`]), so several
//! lines reach one `handle_input` and lines are split across calls. Output comes back as
//! transmits ([`crate::node::Transmits`]): each message's src, dest and body located by the
//! node's writer, so only the body is parsed (into the value the network carries) — no
//! line splitting, no envelope re-parse. A message that does not parse that way goes to
//! the runner as a raw line, whose strict parser reports it exactly as in process mode.
//!
//! Each node sees its own clock ([`NodeClock`]): by default the host's milliseconds; with
//! `--clock-skew` a random offset plus a random rate, so its timers and RPC timeouts run
//! fast or slow against everyone else's.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::hosts::pipe::read_ends;
use crate::harness::hosts::{CrashReport, HostEvent, MS, NodeHost, Time};
use crate::harness::registry;
use crate::node::{DynNode, Millis, Rng, Transmit, Transmits};

/// Timer rounds at one instant before the clock is forced forward (a node that keeps
/// re-arming zero-delay timers must not hang the run).
const MAX_ROUNDS_PER_INSTANT: u32 = 1024;
/// Longest simulated offset of a skewed node clock, in ms.
const SKEW_OFFSET_MS_MAX: u64 = 60_000;
/// Input queued for one node within a loop turn before it is delivered right away (a
/// bound on the queue; a turn rarely brings more than a few KB).
const MAX_QUEUED_INPUT: usize = 1 << 20;

/// How a node's millisecond clock relates to host time: `offset + host_ms × rate`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeClock {
    /// The node's clock at host time 0, in ms.
    pub offset_ms: u64,
    /// Node ms per host ms (1 = no skew).
    pub rate: f64,
}

impl NodeClock {
    /// The host's own clock.
    pub const EXACT: NodeClock = NodeClock {
        offset_ms: 0,
        rate: 1.0,
    };

    /// A random clock within `skew` (see [`crate::harness::net::faults::Faults::clock_skew`]).
    pub fn skewed(skew: f64, rng: &mut Rng) -> NodeClock {
        let rate = 1.0 + skew * (2.0 * rng.unit_f64() - 1.0);
        NodeClock {
            offset_ms: rng.below(SKEW_OFFSET_MS_MAX),
            rate,
        }
    }

    /// The node's time at host time `now`.
    pub fn local(&self, now: Time) -> Millis {
        if self.rate == 1.0 {
            return self.offset_ms + now / MS;
        }
        self.offset_ms + (now as f64 * self.rate / MS as f64) as Millis
    }

    /// The earliest host time at which the node's clock reads at least `deadline`.
    pub fn host_time(&self, deadline: Millis) -> Time {
        let Some(ahead) = deadline.checked_sub(self.offset_ms) else {
            return 0;
        };
        if self.rate == 1.0 {
            return ahead.saturating_mul(MS);
        }
        let mut at = (ahead as f64 * MS as f64 / self.rate) as Time;
        // Float rounding may land a few ns early; step up (bounded) to the exact instant.
        for _ in 0..64 {
            if self.local(at) >= deadline {
                break;
            }
            at += 1 + at / (1 << 40);
        }
        at
    }
}

/// One simulated node.
struct SimNode {
    node: Box<dyn DynNode>,
    clock: NodeClock,
    /// Set when the node panicked; it gets no more input.
    crashed: Option<String>,
    /// Lines queued by `send_line` (each with its `\n`), delivered by `flush`.
    input: Vec<u8>,
    /// Its last non-empty output (the messages of one step), for the crash report.
    last_output: Transmits,
}

/// Nodes of one workload, in process, on a virtual clock.
pub struct SimHost {
    now: Time,
    nodes: Vec<SimNode>,
    /// Messages the nodes sent, not yet taken by the runner, in send order.
    events: VecDeque<HostEvent>,
    /// Decides where queued input is cut into reads.
    input_rng: Rng,
    /// Nodes that may have queued input (flush visits only these, in node order: with a
    /// thousand nodes, visiting every node each loop turn dominated the run).
    with_input: Vec<usize>,
    /// Reused buffers: read ends, node output, a body copy for the in-place parser.
    read_ends: Vec<usize>,
    output: Transmits,
    body: Vec<u8>,
    parse_buffers: simd_json::Buffers,
}

impl SimHost {
    /// `count` nodes running `workload`, each seeded from `rng`; `input_rng` cuts their
    /// input into reads. `None` if we have no in-process implementation of that workload.
    pub fn new(workload: &str, count: usize, rng: &mut Rng, input_rng: Rng) -> Option<Self> {
        let make = registry::find(workload)?.node?;
        let nodes = (0..count).map(|_| make(rng.next_u64())).collect();
        Some(SimHost::from_nodes(nodes, input_rng))
    }

    /// A host over nodes built elsewhere (tests register their own, e.g. broken, nodes).
    pub fn from_nodes(nodes: Vec<Box<dyn DynNode>>, input_rng: Rng) -> Self {
        let nodes = nodes
            .into_iter()
            .map(|mut node| {
                node.record_transmits();
                SimNode {
                    node,
                    clock: NodeClock::EXACT,
                    crashed: None,
                    input: Vec::new(),
                    last_output: Transmits::new(),
                }
            })
            .collect();
        SimHost {
            now: 0,
            nodes,
            events: VecDeque::new(),
            input_rng,
            with_input: Vec::new(),
            read_ends: Vec::new(),
            output: Transmits::new(),
            body: Vec::new(),
            parse_buffers: simd_json::Buffers::default(),
        }
    }

    /// Gives every node a random clock within `skew` (0 keeps the exact clocks and draws
    /// nothing).
    pub fn skew_clocks(&mut self, skew: f64, rng: &mut Rng) {
        if skew <= 0.0 {
            return;
        }
        for sim in &mut self.nodes {
            sim.clock = NodeClock::skewed(skew, rng);
        }
    }

    /// Node `index`'s clock.
    pub fn clock(&self, index: usize) -> Option<NodeClock> {
        self.nodes.get(index).map(|sim| sim.clock)
    }

    /// Runs `step` on node `index` at its local time, catching a panic as a crash, then
    /// queues what it sent as events.
    fn step(&mut self, index: usize, step: impl FnOnce(&mut dyn DynNode, Millis)) {
        let now = self.now;
        let Some(sim) = self.nodes.get_mut(index) else {
            return;
        };
        if sim.crashed.is_some() {
            return;
        }
        let local = sim.clock.local(now);
        let result = catch_unwind(AssertUnwindSafe(|| {
            step(sim.node.as_mut(), local);
            sim.node.take_transmits(&mut self.output);
        }));
        if let Err(panic) = result {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            sim.crashed = Some(text);
            sim.input.clear();
            self.events.push_back(HostEvent::Exited { node: index });
            return;
        }
        if self.output.bytes().is_empty() {
            return;
        }
        for transmit in self.output.iter() {
            let event = match parse_transmit(transmit, &mut self.body, &mut self.parse_buffers) {
                Some((src, dest, body)) => HostEvent::Transmit {
                    node: index,
                    src,
                    dest,
                    body,
                },
                None => HostEvent::Line {
                    node: index,
                    line: transmit.line.to_vec(),
                },
            };
            self.events.push_back(event);
        }
        // Keep this output as the node's last; reuse the previous buffers.
        std::mem::swap(&mut self.output, &mut sim.last_output);
    }

    /// Hands node `index` its queued input, in reads cut where [`read_ends`] says.
    fn deliver_input(&mut self, index: usize) {
        let Some(sim) = self.nodes.get_mut(index) else {
            return;
        };
        let input = std::mem::take(&mut sim.input);
        let mut ends = std::mem::take(&mut self.read_ends);
        read_ends(&mut self.input_rng, input.len(), &mut ends);
        let mut start = 0;
        for &end in &ends {
            let read = &input[start..end];
            self.step(index, |node, local| node.handle_input(local, read));
            self.resume_held_input(index);
            start = end;
        }
        self.read_ends = ends;
        if let Some(sim) = self.nodes.get_mut(index) {
            // Give the buffer back (emptied) to keep its allocation.
            sim.input = input;
            sim.input.clear();
        }
    }

    /// Lets node `index` handle the input lines it held back while its output was full
    /// (its output was just taken), as a real driver does once stdout drains.
    fn resume_held_input(&mut self, index: usize) {
        for _ in 0..MAX_ROUNDS_PER_INSTANT {
            let held = self
                .nodes
                .get(index)
                .is_some_and(|sim| sim.crashed.is_none() && sim.node.input_held());
            if !held {
                return;
            }
            self.step(index, |node, local| node.resume_input(local));
        }
    }

    /// The earliest node timer, in host time.
    fn next_node_deadline(&self) -> Option<Time> {
        self.nodes
            .iter()
            .filter(|sim| sim.crashed.is_none())
            .filter_map(|sim| sim.node.next_deadline().map(|at| sim.clock.host_time(at)))
            .min()
    }

    /// Fires every node timer due at the current time, in node order.
    fn fire_due_timers(&mut self) {
        for index in 0..self.nodes.len() {
            let due = self.nodes.get(index).is_some_and(|sim| {
                sim.crashed.is_none()
                    && sim
                        .node
                        .next_deadline()
                        .is_some_and(|at| sim.clock.host_time(at) <= self.now)
            });
            if due {
                self.step(index, |node, local| node.handle_timeout(local));
            }
        }
    }
}

impl NodeHost for SimHost {
    fn now(&self) -> Time {
        self.now
    }

    /// Queues the line for `flush` (a crashed node's input is dropped).
    fn send_line(&mut self, node: usize, line: &[u8]) -> std::io::Result<()> {
        let Some(sim) = self.nodes.get_mut(node) else {
            return Ok(());
        };
        if sim.crashed.is_some() {
            return Ok(());
        }
        if sim.input.is_empty() {
            self.with_input.push(node);
        }
        sim.input.extend_from_slice(line);
        sim.input.push(b'\n');
        if sim.input.len() >= MAX_QUEUED_INPUT {
            self.deliver_input(node);
        }
        Ok(())
    }

    /// Delivers every node's queued input, in node order.
    fn flush(&mut self) -> std::io::Result<()> {
        let mut nodes = std::mem::take(&mut self.with_input);
        nodes.sort_unstable();
        nodes.dedup();
        for &index in &nodes {
            self.deliver_input(index);
        }
        nodes.clear();
        self.with_input = nodes;
        Ok(())
    }

    /// Returns queued output first; otherwise fires node timers up to `until` (jumping the
    /// clock from one to the next) until one produces output, else jumps to `until`.
    fn poll(&mut self, until: Time) -> Option<HostEvent> {
        let mut rounds_here = 0;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            let next = self.next_node_deadline().filter(|&at| at <= until);
            let Some(at) = next else {
                self.now = self.now.max(until);
                return None;
            };
            if at > self.now {
                self.now = at;
                rounds_here = 0;
            }
            self.fire_due_timers();
            rounds_here += 1;
            if rounds_here >= MAX_ROUNDS_PER_INSTANT && self.events.is_empty() {
                // A node keeps re-arming timers due now without saying anything: let the
                // runner's next event happen instead of spinning here.
                self.now = self.now.max(until);
                return None;
            }
        }
    }

    fn crash_report(&mut self, node: usize) -> CrashReport {
        let sim = self.nodes.get(node);
        let status = sim
            .and_then(|sim| sim.crashed.clone())
            .map(|panic| format!("a panic: {panic}"))
            .unwrap_or_else(|| "no crash".to_string());
        let stdout_tail = sim
            .map(|sim| {
                sim.last_output
                    .bytes()
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        CrashReport {
            node,
            status,
            stdout_tail,
            stderr_tail: Vec::new(),
        }
    }

    fn shutdown(&mut self) -> Vec<CrashReport> {
        let crashed: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].crashed.is_some())
            .collect();
        crashed
            .into_iter()
            .map(|node| self.crash_report(node))
            .collect()
    }
}

/// src, dest and body of a message, the body parsed into the value the network carries;
/// `None` if any needs the runner's full parse (an escaped id, a body that does not parse
/// as an object), which then reports it as in process mode.
fn parse_transmit(
    transmit: Transmit<'_>,
    scratch: &mut Vec<u8>,
    buffers: &mut simd_json::Buffers,
) -> Option<(String, String, OwnedValue)> {
    let plain_id = |literal: &[u8]| {
        if literal.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(literal).ok().map(str::to_string)
    };
    let src = plain_id(transmit.src)?;
    let dest = plain_id(transmit.dest)?;
    scratch.clear();
    scratch.extend_from_slice(transmit.body);
    let body = simd_json::to_owned_value_with_buffers(scratch, buffers).ok()?;
    body.is_object().then_some((src, dest, body))
}
