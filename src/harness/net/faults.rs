//! Faults beyond Maelstrom's (which has only partitions, MAELSTROM.md §5.1–§5.3), in one
//! options struct TigerBeetle-style: every knob is off by default, so a default run is
//! Maelstrom's, and a run with any knob on names them all in `results.json` → `faults`.
//!
//! * `loss`, `duplicate`, `reorder_ms` act on the network, on the same messages latency
//!   applies to (node↔node and node↔service; client traffic is never touched), so they
//!   work in process mode too;
//! * `asymmetric_partitions` adds one-way grudge shapes to the partition nemesis;
//! * `clock_skew` runs each simulated node's timers at its own rate (only `--sim`: a real
//!   process reads its own clock).
//!
//! Fault draws come from their own PRNG stream ([`FAULT_STREAM`]), so turning a knob on
//! changes nothing else a seed decides (op schedule, latencies, partition shapes).

use simd_json::OwnedValue;

use crate::harness::checkers::value::obj;

/// Mixed into the seed for the fault stream, so it is independent of the others.
pub const FAULT_STREAM: u64 = 0x4641_554c_5453_0001;
/// Mixed into the seed for the simulated nodes' seeds and clocks.
pub const SIM_STREAM: u64 = 0x5349_4d4e_4f44_0001;
/// Mixed into the seed for where the simulated nodes' input is cut into reads.
pub const INPUT_STREAM: u64 = 0x5049_5045_5244_0001;
/// Largest accepted `--clock-skew`: a rate factor within [0.1, 1.9].
pub const CLOCK_SKEW_MAX: f64 = 0.9;
/// Largest accepted `--reorder-ms` (one minute): bounds how long a message can linger.
pub const REORDER_MS_MAX: u64 = 60_000;

/// Every fault knob. `Faults::default()` is Maelstrom: none.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability that an inter-server message is lost (journaled as sent, never received).
    pub loss: f64,
    /// Probability that an inter-server message is delivered a second time (one extra copy
    /// at most, with its own delay draw).
    pub duplicate: f64,
    /// Extra delay, uniform in [0, reorder_ms] ms, added to each inter-server message's
    /// latency: reordering beyond what the latency distribution gives.
    pub reorder_ms: u64,
    /// Each simulated node's clock runs at rate 1 ± up to this fraction, from a random
    /// offset.
    pub clock_skew: f64,
    /// The partition nemesis also draws one-way shapes (see [`crate::harness::net::nemesis::Shape`]).
    pub asymmetric_partitions: bool,
}

impl Faults {
    /// True when no knob is on (the run is Maelstrom-compatible).
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    /// True when a network-level knob (loss, duplicate, reorder) is on.
    pub fn network(&self) -> bool {
        self.loss > 0.0 || self.duplicate > 0.0 || self.reorder_ms > 0
    }

    /// Checks ranges and combinations; the text is the error printed before exit 254.
    pub fn validate(&self, sim: bool, nemesis: bool) -> Result<(), String> {
        let probability = |name: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("--{name} must be a probability in [0, 1], got {p}"))
            }
        };
        probability("loss", self.loss)?;
        probability("duplicate", self.duplicate)?;
        if self.reorder_ms > REORDER_MS_MAX {
            return Err(format!("--reorder-ms must be at most {REORDER_MS_MAX}"));
        }
        if !(0.0..=CLOCK_SKEW_MAX).contains(&self.clock_skew) {
            return Err(format!(
                "--clock-skew must be in [0, {CLOCK_SKEW_MAX}], got {}",
                self.clock_skew
            ));
        }
        if self.clock_skew > 0.0 && !sim {
            return Err(
                "--clock-skew needs --sim: a node process reads its own clock, which the \
                 harness cannot skew"
                    .to_string(),
            );
        }
        if self.asymmetric_partitions && !nemesis {
            return Err("--asymmetric-partitions needs --nemesis partition".to_string());
        }
        Ok(())
    }

    /// The `faults` map for results.json / results.edn.
    pub fn to_value(&self) -> OwnedValue {
        obj([
            ("loss", OwnedValue::from(self.loss)),
            ("duplicate", OwnedValue::from(self.duplicate)),
            ("reorder-ms", OwnedValue::from(self.reorder_ms)),
            ("clock-skew", OwnedValue::from(self.clock_skew)),
            (
                "asymmetric-partitions",
                OwnedValue::from(self.asymmetric_partitions),
            ),
        ])
    }
}
