//! The in-process, virtual-time node host: our own workloads run inside the harness, the
//! very same sans-IO core as the binaries, with no processes and no pipes.
//!
//! Time is virtual: a node handles its input at the instant it is delivered (processing
//! takes no simulated time) and the clock jumps straight to the next due event — a node
//! timer here, or whatever the runner asks for via `poll(until)`. Everything is driven by
//! the test's seed, so one seed and one set of flags give the same run, byte for byte.
//! A node that panics is reported as a crash, like a process that died.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::host::{CrashReport, HostEvent, MS, NodeHost, Time};
use crate::node::{DynNode, Rng};
use crate::workloads::registry::in_process_node;

/// One simulated node.
struct SimNode {
    node: Box<dyn DynNode>,
    /// Set when the node panicked; it gets no more input.
    crashed: Option<String>,
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
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let node = in_process_node(workload, rng.next_u64())?;
            nodes.push(SimNode { node, crashed: None });
        }
        Some(SimHost { now: 0, nodes, events: VecDeque::new(), line: Vec::new(), output: Vec::new() })
    }

    fn now_ms(&self) -> u64 {
        self.now / MS
    }

    /// Runs `step` on node `index`, catching a panic as a crash, then queues its output.
    fn step(&mut self, index: usize, step: impl FnOnce(&mut dyn DynNode, &mut Vec<u8>)) {
        let Some(sim) = self.nodes.get_mut(index) else { return };
        if sim.crashed.is_some() {
            return;
        }
        let mut output = std::mem::take(&mut self.output);
        let result = catch_unwind(AssertUnwindSafe(|| step(sim.node.as_mut(), &mut output)));
        if let Err(panic) = result {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".to_string());
            sim.crashed = Some(text);
            self.events.push_back(HostEvent::Exited { node: index });
            self.output = output;
            return;
        }
        for line in output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            self.events.push_back(HostEvent::Line { node: index, line: line.to_vec() });
        }
        output.clear();
        self.output = output;
    }

    /// The earliest node timer, in host time.
    fn next_node_deadline(&self) -> Option<Time> {
        self.nodes
            .iter()
            .filter(|sim| sim.crashed.is_none())
            .filter_map(|sim| sim.node.next_deadline())
            .min()
            .map(|ms| ms.saturating_mul(MS))
    }

    /// Fires every node timer due at the current time.
    fn fire_due_timers(&mut self) {
        let now_ms = self.now_ms();
        for index in 0..self.nodes.len() {
            let due = self.nodes[index].node.next_deadline().is_some_and(|at| at <= now_ms);
            if due {
                self.step(index, |node, out| {
                    node.handle_timeout(now_ms);
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
        let now_ms = self.now_ms();
        let mut input = std::mem::take(&mut self.line);
        input.clear();
        input.extend_from_slice(line);
        input.push(b'\n');
        self.step(node, |sim, out| {
            sim.handle_input(now_ms, &input);
            sim.take_output(out);
        });
        self.line = input;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn poll(&mut self, until: Time) -> Option<HostEvent> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            match self.next_node_deadline() {
                Some(at) if at <= until => {
                    // Timers are millisecond-grained: a timer due "now" fires now.
                    self.now = self.now.max(at);
                    self.fire_due_timers();
                    if self.events.is_empty() && self.next_node_deadline().is_some_and(|t| t <= self.now) {
                        self.now += MS; // a node re-arming zero-delay timers: let time pass
                    }
                }
                _ => {
                    self.now = self.now.max(until);
                    return None;
                }
            }
        }
    }

    fn crash_report(&mut self, node: usize) -> CrashReport {
        let status = self
            .nodes
            .get(node)
            .and_then(|sim| sim.crashed.clone())
            .map(|panic| format!("a panic: {panic}"))
            .unwrap_or_else(|| "no crash".to_string());
        CrashReport { node, status, stdout_tail: Vec::new(), stderr_tail: Vec::new() }
    }

    fn shutdown(&mut self) -> Vec<CrashReport> {
        let crashed: Vec<usize> =
            (0..self.nodes.len()).filter(|&i| self.nodes[i].crashed.is_some()).collect();
        crashed.into_iter().map(|node| self.crash_report(node)).collect()
    }
}
