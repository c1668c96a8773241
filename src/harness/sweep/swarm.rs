//! Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012) for `glomers sweep --swarm`:
//! instead of one configuration for every seed, each seed draws its own — node count, rate,
//! and every fault knob on or off independently, with its own strength. A bug that needs
//! one fault and is masked by another (loss hiding a reordering bug, partitions starving
//! the ops that would show it) is found by the seeds that drew the right mix.
//!
//! The draw depends only on the seed (its own stream), so a failing seed's replay command
//! carries the drawn flags and runs the same test.

use std::ffi::OsString;

use crate::harness::cli::{TestConfig, test_config};
use crate::harness::command_line::replay_words;
use crate::harness::flag_words::{with, with_node_count, without};
use crate::node::rng::Rng;

/// Mixed into the seed for the swarm's draws.
const SWARM_STREAM: u64 = 0x5357_4152_4d00_0001;

/// The fault flags a draw replaces (with whether each takes a value).
const FAULT_FLAGS: [(&str, bool); 7] = [
    ("--nemesis", true),
    ("--nemesis-interval", true),
    ("--asymmetric-partitions", false),
    ("--loss", true),
    ("--duplicate", true),
    ("--reorder-ms", true),
    ("--clock-skew", true),
];

/// One seed's drawn test.
pub struct Draw {
    /// `glomers test … --sim --seed S` with the drawn flags (`argv[0]` first).
    pub words: Vec<String>,
    /// What was drawn, in short (`2 nodes, rate 31.6, loss 0.12, partitions every 2.5 s`).
    pub summary: String,
}

/// The test seed `seed` draws, from the sweep's command `argv` (whose node count and rate
/// are the upper bounds) and its resolved `config`.
pub fn draw(argv: &[OsString], config: &TestConfig, seed: u64) -> Draw {
    let mut rng = Rng::new(seed ^ SWARM_STREAM);
    let mut words = replay_words(argv, seed);
    let mut summary = Vec::new();
    let nodes = 1 + rng.below(config.nodes.len().max(1) as u64) as usize;
    words = with_node_count(&words, nodes);
    summary.push(format!("{nodes} node{}", if nodes == 1 { "" } else { "s" }));
    if config.rate > 0.0 {
        let rate = round(config.rate * 10f64.powf(-rng.unit_f64()), 3).max(0.001);
        words = with(&words, "--rate", &rate.to_string());
        summary.push(format!("rate {rate}"));
    }
    for (flag, takes_value) in FAULT_FLAGS {
        words = without(&words, flag, takes_value);
    }
    if rng.coin() {
        let interval = round(0.5 + rng.unit_f64() * 4.5, 1);
        words = with(&words, "--nemesis", "partition");
        words = with(&words, "--nemesis-interval", &interval.to_string());
        summary.push(format!("partitions every {interval} s"));
        if nodes > 1 && rng.coin() {
            let at = words.iter().position(|w| w == "--").unwrap_or(words.len());
            words.insert(at, "--asymmetric-partitions".to_string());
            summary.push("one-way partitions".to_string());
        }
    }
    let knobs: [(&str, f64, f64, u32); 4] = [
        ("--loss", 0.01, 0.3, 2),
        ("--duplicate", 0.01, 0.3, 2),
        ("--reorder-ms", 1.0, 100.0, 0),
        ("--clock-skew", 0.05, 0.5, 2),
    ];
    for (flag, low, high, digits) in knobs {
        if rng.coin() {
            let value = round(low + rng.unit_f64() * (high - low), digits);
            words = with(&words, flag, &value.to_string());
            summary.push(format!("{} {value}", flag.trim_start_matches("--")));
        }
    }
    Draw {
        words,
        summary: summary.join(", "),
    }
}

/// The configuration of a draw (quiet, like every sweep run).
pub fn config_of(draw: &Draw, seed: u64) -> Result<TestConfig, String> {
    let flags: Vec<&str> = draw.words.iter().skip(2).map(String::as_str).collect();
    let mut config = test_config(&flags, seed)?;
    config.quiet = true;
    Ok(config)
}

fn round(value: f64, digits: u32) -> f64 {
    let scale = 10f64.powi(digits as i32);
    (value * scale).round() / scale
}
