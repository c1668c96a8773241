//! `--sim` delivers input as a pipe would: several lines in one `handle_input`, lines split
//! across calls (so the batch parser and the framer's partial-line path run under
//! simulation), the same cuts for the same seed.

use std::path::Path;
use std::sync::Arc;

use glomers::harness::checkers::Validity;
use glomers::harness::registry;
use glomers::harness::results::history_edn_line;
use glomers::harness::session::{Sinks, execute_with_nodes, test_config};
use glomers::node::{DynNode, Millis, Transmits};
use parking_lot::Mutex;

/// What the nodes' `handle_input` calls looked like.
#[derive(Clone, Debug, Default, PartialEq)]
struct Reads {
    calls: u64,
    /// Calls that held two or more whole lines.
    multi_line: u64,
    /// Calls that ended inside a line (the line's rest comes in a later call).
    ending_mid_line: u64,
    /// Calls of a single byte.
    single_byte: u64,
    /// Most line ends seen in one call.
    most_lines: usize,
}

/// A real broadcast node that counts how its input arrives.
struct Counting {
    inner: Box<dyn DynNode>,
    reads: Arc<Mutex<Reads>>,
}

impl DynNode for Counting {
    fn handle_input(&mut self, now: Millis, bytes: &[u8]) {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        {
            let mut reads = self.reads.lock();
            reads.calls += 1;
            reads.multi_line += u64::from(lines >= 2);
            reads.ending_mid_line += u64::from(bytes.last() != Some(&b'\n'));
            reads.single_byte += u64::from(bytes.len() == 1);
            reads.most_lines = reads.most_lines.max(lines);
        }
        self.inner.handle_input(now, bytes);
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.inner.handle_timeout(now);
    }

    fn next_deadline(&self) -> Option<Millis> {
        self.inner.next_deadline()
    }

    fn take_output(&mut self, into: &mut Vec<u8>) {
        self.inner.take_output(into);
    }

    fn record_transmits(&mut self) {
        self.inner.record_transmits();
    }

    fn take_transmits(&mut self, into: &mut Transmits) {
        self.inner.take_transmits(into);
    }

    fn input_held(&self) -> bool {
        self.inner.input_held()
    }

    fn resume_input(&mut self, now: Millis) {
        self.inner.resume_input(now);
    }
}

/// One `--sim` broadcast run: how input arrived, the history, and whether it was valid.
fn run(seed: &str) -> (Reads, String, bool) {
    let flags = format!(
        "-w broadcast --sim --node-count 10 --time-limit 5 --rate 100 --latency 100 --seed {seed}"
    );
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let config = test_config(&flags, 0).expect("config");
    let reads = Arc::new(Mutex::new(Reads::default()));
    let make = |_: usize, node_seed: u64| -> Box<dyn DynNode> {
        Box::new(Counting {
            inner: (registry::find("broadcast")
                .and_then(|w| w.node)
                .expect("broadcast node"))(node_seed),
            reads: reads.clone(),
        })
    };
    let sinks = Sinks {
        journal: None,
        node_logs: Path::new(""),
    };
    let outcome = execute_with_nodes(&config, sinks, &make).expect("run");
    let history = outcome.history.ops.iter().map(history_edn_line).collect();
    let reads = reads.lock().clone();
    (reads, history, outcome.validity == Validity::Valid)
}

#[test]
fn sim_input_comes_in_batches_and_split_lines_and_replays_by_seed() {
    let (reads, history, valid) = run("3");
    assert!(valid, "{reads:?}");
    assert!(reads.calls > 500, "{reads:?}");
    assert!(
        reads.multi_line > 50,
        "several lines in one call: {reads:?}"
    );
    assert!(reads.most_lines >= 4, "{reads:?}");
    assert!(
        reads.ending_mid_line > 100,
        "lines split across calls: {reads:?}"
    );
    assert!(reads.single_byte > 100, "sometimes byte by byte: {reads:?}");
    let again = run("3");
    assert_eq!(again.0, reads, "same seed, same reads");
    assert!(again.1 == history, "same seed, same history");
    let other = run("4");
    assert_ne!(other.0, reads, "another seed cuts differently");
}

/// A node whose output limit is one byte holds every input line after the first of a read
/// until its output is taken; the simulator then resumes it (as the runtime does once stdout
/// drains), so all of a turn's requests are answered in that turn, whatever the cuts.
#[test]
fn the_simulator_resumes_input_a_full_node_held_back() {
    use glomers::harness::hosts::sim::SimHost;
    use glomers::harness::hosts::{HostEvent, NodeHost};
    for seed in 0..20 {
        let node = glomers::node::NodeCore::new(glomers::workloads::Echo, 1).with_output_limit(1);
        let mut host = SimHost::from_nodes(vec![Box::new(node)], glomers::node::Rng::new(seed));
        let init = r#"{"id":0,"src":"c0","dest":"n0","body":{"type":"init","node_id":"n0","node_ids":["n0"],"msg_id":1}}"#;
        host.send_line(0, init.as_bytes()).expect("send");
        for i in 0..20 {
            let echo = format!(
                r#"{{"id":{i},"src":"c1","dest":"n0","body":{{"type":"echo","echo":{i},"msg_id":{i}}}}}"#
            );
            host.send_line(0, echo.as_bytes()).expect("send");
        }
        host.flush().expect("flush");
        let mut replies = 0;
        while let Some(event) = host.poll(0) {
            if matches!(event, HostEvent::Transmit { .. } | HostEvent::Line { .. }) {
                replies += 1;
            }
        }
        assert_eq!(
            replies, 21,
            "seed {seed}: init_ok and every echo_ok in the same turn"
        );
    }
}
