//! How a broadcast node spreads values: plain data, parsed from `GLOMERS_BROADCAST`.
//!
//! Maelstrom passes no arguments, so the strategy comes from an environment variable.
//! The grammar (also the README text):
//!
//! ```text
//! GLOMERS_BROADCAST = [base] [":" key "=" value ("," key "=" value)*]
//!
//! base (default: `default`)
//!   default   star, leaves send at once, hub sends 80 ms after its first unsent value
//!   3d        the same with flush=40ms: lower latency for more messages (msgs-per-op ≤ 6,
//!             median ≤ 195 ms, max ≤ 280 ms at 25 nodes, 100 ms latency)
//!   3e        star tuned for msgs-per-op ≤ 1, max ≤ 700 ms: the hub sends on a 500 ms grid,
//!             leaves time their sends to land just before its ticks (ack=1500ms,
//!             retry=2000ms, since leaves talk to the hub only every period; once
//!             something was lost, resend=1000ms)
//!   flood     the `topology` message's neighbours, every value forwarded at once
//!   gossip    same as flood; meant to be used with options
//!   tree      a 4-ary spanning tree over the node list, forwarded at once
//!   star      every node talks only to a hub (the first node), forwarded at once
//!   total     every node sends straight to every other node, at once
//!
//! keys (durations: `40`, `40ms` or `2s`)
//!   topology = given | star | total | tree | tree<k>   peers to gossip with
//!   hub      = <node id>    centre of the star (default: first node; unknown → first)
//!   flush    = <ms>         send <ms> after the first unsent value (0 = at once)
//!   period   = <ms>         instead send on a fixed <ms> grid, only when something is unsent
//!   leaf     = <ms> | aligned   star leaves → hub: delay, or time sends so they reach the
//!                           hub just before its next `period` tick
//!   hop      = <ms>         expected one-way latency, for `leaf=aligned` (default 100)
//!   margin   = <ms>         how early an aligned leaf's batch should land (default 30)
//!   ack      = <ms>         longest an owed ack waits for a ride on gossip before it is sent
//!                           alone (default 500)
//!   retry    = <ms>         first retransmit of unacknowledged values; must outlast the
//!                           peer's `ack` plus a round trip (default 1000)
//!   resend   = <ms>         pace of the later ones until an ack shows progress, may be
//!                           below `retry` (default 1000; `retry-max` is an old name)
//!   batch    = <n>          most values in one gossip message (1..=65536, default 4096)
//!   queue    = <n>          most unacknowledged values queued per peer (1..=1048576,
//!                           default 262144); past it the link drops its queue and later
//!                           resends the whole value set from its log (lossless)
//!
//! examples: `star:hub=n3,flush=60ms`  `gossip:topology=tree3,flush=40ms`  `3e:period=400`
//! ```
//!
//! An unknown or malformed value prints one line to stderr and falls back to `default`;
//! the node never fails to start because of it.

use crate::workloads::spec::{self, parse_ms};

/// Name of the environment variable read by [`Strategy::from_env`].
pub const ENV_VAR: &str = "GLOMERS_BROADCAST";

/// Largest `batch` accepted, so one gossip message stays well under the line limit.
pub const MAX_BATCH: usize = 1 << 16;

/// Largest `queue` accepted: 8 MiB of values per peer link.
pub const MAX_QUEUE: usize = 1 << 20;

/// Which nodes a node gossips with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peers {
    /// The neighbours from the `topology` message.
    Given,
    /// A spanning tree over `node_ids` in order: node i's parent is (i−1)/fanout.
    Tree {
        /// Children per node (≥ 1).
        fanout: usize,
    },
    /// Leaves talk only to the hub; the hub talks to every leaf.
    Star {
        /// The hub's node id; `None` (or an unknown id) means the first node.
        hub: Option<String>,
    },
    /// Everyone talks to everyone.
    Total,
}

/// When a node sends what it has queued for its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// This many ms after the first unsent value was queued (0: at once, in the handler).
    Delay(u64),
    /// On the next multiple of this many ms of the node's clock, if anything is unsent.
    Period(u64),
    /// Star leaves only: so that the batch reaches the hub `margin` ms before the hub's next
    /// `Period` tick, inferred from when the hub's last batch arrived.
    Aligned,
}

/// A complete broadcast strategy: peers, batching and the reliability timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strategy {
    /// Who gossips with whom.
    pub peers: Peers,
    /// Batching for every node, except star leaves.
    pub flush: Flush,
    /// Batching for star leaves (their one link, to the hub).
    pub leaf_flush: Flush,
    /// Expected one-way node-to-node latency, for [`Flush::Aligned`].
    pub hop_ms: u64,
    /// How early an aligned batch should reach the hub.
    pub margin_ms: u64,
    /// Longest an owed acknowledgement waits for a gossip message to ride on.
    pub ack_ms: u64,
    /// First retransmit delay for unacknowledged values.
    pub retry_ms: u64,
    /// Delay between later retransmits, until an ack shows progress (may be below
    /// `retry_ms`; see [`super::gossip::retry_delay`]).
    pub resend_ms: u64,
    /// Most values per gossip message.
    pub batch: usize,
    /// Most values queued for one peer before its link switches to a resync from the log.
    pub queue_max: usize,
    /// Planted bug `planted-ack-all` (docs/planted-bugs.md): any ack is taken as
    /// acknowledging everything sent, so the values of a lost message are never resent.
    #[cfg(feature = "planted-bugs")]
    pub planted_ack_all: bool,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            peers: Peers::Star { hub: None },
            flush: Flush::Delay(80),
            leaf_flush: Flush::Delay(0),
            hop_ms: 100,
            margin_ms: 30,
            ack_ms: 500,
            retry_ms: 1000,
            resend_ms: 1000,
            batch: 4096,
            queue_max: 1 << 18,
            #[cfg(feature = "planted-bugs")]
            planted_ack_all: false,
        }
    }
}

impl Strategy {
    /// The strategy named by `GLOMERS_BROADCAST`, or the default (with a stderr line
    /// saying why) when it is unset, unknown or malformed.
    pub fn from_env() -> Strategy {
        crate::workloads::spec::from_env("broadcast", ENV_VAR, Strategy::parse)
    }

    /// Parses the grammar in the module docs.
    pub fn parse(text: &str) -> Result<Strategy, String> {
        let (base, options) = spec::split(text)?;
        let mut strategy = Strategy::base(base)?;
        for (key, value) in options {
            strategy.set(key, value)?;
        }
        strategy.check()?;
        Ok(strategy)
    }

    fn base(name: &str) -> Result<Strategy, String> {
        let at_once = |peers| Strategy {
            peers,
            flush: Flush::Delay(0),
            ..Strategy::default()
        };
        Ok(match name {
            "" | "default" => Strategy::default(),
            "3d" => Strategy {
                flush: Flush::Delay(40),
                ..Strategy::default()
            },
            "3e" => Strategy {
                flush: Flush::Period(500),
                leaf_flush: Flush::Aligned,
                ack_ms: 1500,
                retry_ms: 2000,
                resend_ms: 1000,
                ..Strategy::default()
            },
            "flood" | "gossip" => at_once(Peers::Given),
            "tree" => at_once(Peers::Tree { fanout: 4 }),
            "star" => at_once(Peers::Star { hub: None }),
            "total" => at_once(Peers::Total),
            #[cfg(feature = "planted-bugs")]
            "planted-ack-all" => Strategy {
                planted_ack_all: true,
                ..Strategy::default()
            },
            other => return Err(format!("unknown strategy {other:?}")),
        })
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "topology" => self.peers = parse_peers(value, &self.peers)?,
            "hub" => match &mut self.peers {
                Peers::Star { hub } => *hub = Some(value.to_string()),
                _ => return Err("hub= needs a star topology".to_string()),
            },
            "flush" => self.flush = Flush::Delay(parse_ms(value)?),
            "period" => self.flush = Flush::Period(parse_ms(value)?.max(1)),
            "leaf" if value == "aligned" => self.leaf_flush = Flush::Aligned,
            "leaf" => self.leaf_flush = Flush::Delay(parse_ms(value)?),
            "hop" => self.hop_ms = parse_ms(value)?,
            "margin" => self.margin_ms = parse_ms(value)?,
            "ack" => self.ack_ms = parse_ms(value)?,
            "retry" => self.retry_ms = parse_ms(value)?.max(1),
            "resend" | "retry-max" => self.resend_ms = parse_ms(value)?.max(1),
            "batch" => {
                self.batch = value
                    .parse()
                    .map_err(|_| format!("batch={value:?} is not a count"))?
            }
            "queue" => {
                self.queue_max = value
                    .parse()
                    .map_err(|_| format!("queue={value:?} is not a count"))?
            }
            other => return Err(format!("unknown option {other:?}")),
        }
        Ok(())
    }

    fn check(&mut self) -> Result<(), String> {
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(format!("batch must be in 1..={MAX_BATCH}"));
        }
        if !(1..=MAX_QUEUE).contains(&self.queue_max) {
            return Err(format!("queue must be in 1..={MAX_QUEUE}"));
        }
        if self.leaf_flush == Flush::Aligned && !matches!(self.flush, Flush::Period(_)) {
            return Err("leaf=aligned needs the hub on a grid (period=…)".to_string());
        }
        Ok(())
    }
}

fn parse_peers(value: &str, current: &Peers) -> Result<Peers, String> {
    Ok(match value {
        "given" | "flood" => Peers::Given,
        "total" => Peers::Total,
        "star" => match current {
            Peers::Star { hub } => Peers::Star { hub: hub.clone() },
            _ => Peers::Star { hub: None },
        },
        "tree" => Peers::Tree { fanout: 4 },
        other => {
            let fanout = other
                .strip_prefix("tree")
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|&k| (1..=1024).contains(&k))
                .ok_or_else(|| format!("unknown topology {other:?}"))?;
            Peers::Tree { fanout }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bases_options_and_rejects_nonsense() {
        assert_eq!(Strategy::parse("").ok(), Some(Strategy::default()));
        let s = Strategy::parse("star:hub=n3,flush=60ms").expect("valid");
        assert_eq!(
            s.peers,
            Peers::Star {
                hub: Some("n3".into())
            }
        );
        assert_eq!(s.flush, Flush::Delay(60));
        let s = Strategy::parse("flood:queue=16,batch=8").expect("valid");
        assert_eq!((s.queue_max, s.batch), (16, 8));
        let s = Strategy::parse("gossip:topology=tree3,flush=2s").expect("valid");
        assert_eq!(
            (s.peers, s.flush),
            (Peers::Tree { fanout: 3 }, Flush::Delay(2000))
        );
        let s = Strategy::parse("3e:period=400").expect("valid");
        assert_eq!(
            (s.flush, s.leaf_flush),
            (Flush::Period(400), Flush::Aligned)
        );
        for bad in [
            "ring",
            "star:flush=fast",
            "flood:hub=n1",
            "star:leaf=aligned",
            "tree:batch=0",
            "star:queue=0",
            "star:queue=2000000",
            "star:queue=lots",
            "x=1",
        ] {
            assert!(Strategy::parse(bad).is_err(), "{bad}");
        }
    }
}
