//! [`RttEstimator`]: an RPC timeout that follows the measured round-trip time (RFC 6298's
//! smoothed RTT and variance, with its backoff), within fixed bounds.
//!
//! A fixed timeout must be long enough for the slowest network a node may meet, so on a
//! fast network every lost message stalls the caller for far longer than needed. An
//! adaptive one stalls it for a few round trips. A timeout that fires too early is never
//! a correctness problem for the callers here: the outcome is merely unknown, which they
//! must handle anyway.

use super::timers::Millis;

/// Smoothed round-trip time and variance, and the timeout they give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RttEstimator {
    /// Smoothed RTT in ms (`None` until the first sample).
    smoothed: Option<f64>,
    variance: f64,
    /// Extra factor after timeouts (doubles per timeout, reset by a sample).
    backoff: u32,
    min_ms: Millis,
    max_ms: Millis,
}

/// Most doublings after consecutive timeouts (the cap is `max_ms` anyway).
const MAX_BACKOFF: u32 = 6;

impl RttEstimator {
    /// An estimator whose timeout stays within `[min_ms, max_ms]`; until the first sample
    /// it is `max_ms`.
    pub fn new(min_ms: Millis, max_ms: Millis) -> Self {
        RttEstimator {
            smoothed: None,
            variance: 0.0,
            backoff: 0,
            min_ms: min_ms.min(max_ms),
            max_ms,
        }
    }

    /// Records a measured round trip.
    pub fn sample(&mut self, rtt_ms: Millis) {
        let rtt = rtt_ms as f64;
        match self.smoothed {
            None => {
                self.smoothed = Some(rtt);
                self.variance = rtt / 2.0;
            }
            Some(smoothed) => {
                self.variance = 0.75 * self.variance + 0.25 * (smoothed - rtt).abs();
                self.smoothed = Some(0.875 * smoothed + 0.125 * rtt);
            }
        }
        self.backoff = 0;
    }

    /// Records a timeout: the next timeouts are longer until a sample arrives.
    pub fn timed_out(&mut self) {
        self.backoff = (self.backoff + 1).min(MAX_BACKOFF);
    }

    /// The timeout for the next request: twice the smoothed RTT plus four variances
    /// (room for a constant-latency network, whose variance decays to 0), doubled per
    /// recent timeout, within the bounds.
    pub fn timeout(&self) -> Millis {
        let Some(smoothed) = self.smoothed else {
            return self.max_ms;
        };
        let base = 2.0 * smoothed + 4.0 * self.variance;
        let scaled = base * f64::from(1u32 << self.backoff);
        (scaled.ceil() as Millis).clamp(self.min_ms, self.max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_round_trip_and_backs_off_after_timeouts() {
        let mut rtt = RttEstimator::new(100, 1000);
        assert_eq!(rtt.timeout(), 1000, "no sample yet");
        rtt.sample(0);
        assert_eq!(rtt.timeout(), 100, "a fast network gets the floor");
        for _ in 0..50 {
            rtt.sample(200);
        }
        let steady = rtt.timeout();
        assert!((400..=450).contains(&steady), "{steady}");
        rtt.timed_out();
        assert!(rtt.timeout() >= 2 * steady - 1);
        for _ in 0..10 {
            rtt.timed_out();
        }
        assert_eq!(rtt.timeout(), 1000, "capped");
        rtt.sample(200);
        assert!(rtt.timeout() < 1000, "a sample ends the backoff");
    }
}
