//! The in-process, virtual-time node host: our own workloads run inside the harness, the
//! very same sans-IO core as the binaries, with no processes and no pipes (`--sim`).
//!
//! Time is virtual: a node handles its input at the instant it is delivered (processing
//! takes no simulated time) and the clock jumps straight to the next due event — a node
//! timer here, or whatever the runner asks for via `poll(until)`. Everything is driven by
//! the test's seed, so one seed and one set of flags give the same run, byte for byte.
//! A node that panics is reported as a crash, like a process that died.
//!
//! Each node sees its own clock ([`NodeClock`]): by default the host's milliseconds; with
//! `--clock-skew` a random offset plus a random rate, so its timers and RPC timeouts run
//! fast or slow against everyone else's.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::harness::hosts::{CrashReport, HostEvent, MS, NodeHost, Time};
use crate::harness::registry;
use crate::node::{DynNode, Millis, Rng};

/// Timer rounds at one instant before the clock is forced forward (a node that keeps
/// re-arming zero-delay timers must not hang the run).
const MAX_ROUNDS_PER_INSTANT: u32 = 1024;
/// Longest simulated offset of a skewed node clock, in ms.
const SKEW_OFFSET_MS_MAX: u64 = 60_000;

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
    /// Its last non-empty output (the lines of one step), for the crash report.
    last_output: Vec<u8>,
}

/// Nodes of one workload, in process, on a virtual clock.
pub struct SimHost {
    now: Time,
    nodes: Vec<SimNode>,
    /// Lines the nodes printed, not yet taken by the runner, in print order.
    events: VecDeque<HostEvent>,
    /// Reused buffers for input lines and node output.
    line: Vec<u8>,
    output: Vec<u8>,
}

impl SimHost {
    /// `count` nodes running `workload`, each seeded from `rng`. `None` if we have no
    /// in-process implementation of that workload.
    pub fn new(workload: &str, count: usize, rng: &mut Rng) -> Option<Self> {
        let make = registry::find(workload)?.node?;
        let nodes = (0..count).map(|_| make(rng.next_u64())).collect();
        Some(SimHost::from_nodes(nodes))
    }

    /// A host over nodes built elsewhere (tests register their own, e.g. broken, nodes).
    pub fn from_nodes(nodes: Vec<Box<dyn DynNode>>) -> Self {
        let nodes = nodes
            .into_iter()
            .map(|node| SimNode {
                node,
                clock: NodeClock::EXACT,
                crashed: None,
                last_output: Vec::new(),
            })
            .collect();
        SimHost {
            now: 0,
            nodes,
            events: VecDeque::new(),
            line: Vec::new(),
            output: Vec::new(),
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
    /// queues its output lines as events.
    fn step(&mut self, index: usize, step: impl FnOnce(&mut dyn DynNode, Millis, &mut Vec<u8>)) {
        let now = self.now;
        let Some(sim) = self.nodes.get_mut(index) else {
            return;
        };
        if sim.crashed.is_some() {
            return;
        }
        let local = sim.clock.local(now);
        let mut output = std::mem::take(&mut self.output);
        let result = catch_unwind(AssertUnwindSafe(|| {
            step(sim.node.as_mut(), local, &mut output)
        }));
        if let Err(panic) = result {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            sim.crashed = Some(text);
            self.events.push_back(HostEvent::Exited { node: index });
            output.clear();
            self.output = output;
            return;
        }
        for line in output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            self.events.push_back(HostEvent::Line {
                node: index,
                line: line.to_vec(),
            });
        }
        if !output.is_empty() {
            // Keep this output as the node's last; reuse the previous buffer.
            std::mem::swap(&mut output, &mut sim.last_output);
        }
        output.clear();
        self.output = output;
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
                self.step(index, |node, local, out| {
                    node.handle_timeout(local);
                    node.take_output(out);
                });
            }
        }
    }
}

impl NodeHost for SimHost {
    fn now(&self) -> Time {
        self.now
    }

    fn send_line(&mut self, node: usize, line: &[u8]) -> std::io::Result<()> {
        let mut input = std::mem::take(&mut self.line);
        input.clear();
        input.extend_from_slice(line);
        input.push(b'\n');
        self.step(node, |sim, local, out| {
            sim.handle_input(local, &input);
            sim.take_output(out);
        });
        self.line = input;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
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
