//! `txn-list-append` (MAELSTROM.md §3.9; Maelstrom's "Datomic transactor" chapters):
//! strict-serializable transactions of reads and appends over integer keys.
//!
//! Two strategies, chosen at start-up from `GLOMERS_LIST_APPEND`:
//!
//! * [`sequencer`] (default): the first node holds the database and runs every
//!   transaction; the others forward theirs in batches, one batch in flight.
//! * [`datomic`]: the chapters' design — immutable commits in `lin-kv` under unique ids,
//!   one root pointer swapped by `cas`, commits cached on every node, transactions
//!   batched into one swap, new commits pushed to peers.
//!
//! **Why the sequencer is the default.** The default should send the fewest messages
//! while staying strict-serializable. Any design on `lin-kv` pays at least one swap per
//! round (2 messages), plus the commit write (2) for the swap to point at, plus a root
//! read (2) for rounds that only read: about 4–5 messages per transaction at Maelstrom's
//! default zero latency, where rounds hardly batch. A sequencer pays nothing for the
//! transactions that reach it and one request plus one reply for the others, shared by
//! every transaction in the batch: 2·(n−1)/n per transaction at most, 1 on two nodes. It
//! is strict-serializable for the simplest reason (one copy, executed serially, each
//! transaction between its arrival and its reply). What it gives up is availability: a
//! node cut off from the sequencer can only answer error 13 (and the database lives in
//! one process, which Maelstrom never kills); the datomic nodes stay available under
//! partitions, since services are never partitioned.
//!
//! ```text
//! GLOMERS_LIST_APPEND = [base] [":" key "=" value ("," key "=" value)*]
//!
//! base (default: `sequencer`)
//!   sequencer   the first node runs every transaction; others forward batches
//!   datomic     commits in lin-kv, one root pointer, speculative swaps, pushes
//!
//! keys (durations: `40`, `40ms` or `2s`)
//!   timeout = <ms>      forwarding timeout (sequencer, at most 1500 so that two fit
//!                       the reply budget) or lin-kv timeout (datomic); default 1000
//!   window  = <ms>      datomic: start a round only once its oldest transaction waited
//!                       this long, to batch more per swap (default 0)
//!   push    = on | off  datomic: send new commits to the peers (default on)
//! ```
//!
//! An unknown or malformed value prints one line to stderr and falls back to the default.

pub mod datomic;
pub mod sequencer;
pub mod txn;

pub use datomic::{Datomic, DatomicConfig};
pub use sequencer::{Sequencer, SequencerConfig};

use crate::workloads::spec::parse_ms;
use crate::workloads::timely::REPLY_BUDGET_MS;

/// Environment variable naming the strategy.
pub const STRATEGY_ENV: &str = "GLOMERS_LIST_APPEND";

/// A `txn-list-append` strategy with its knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One node runs every transaction.
    Sequencer(SequencerConfig),
    /// Immutable commits in lin-kv under one root pointer.
    Datomic(DatomicConfig),
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy::Sequencer(SequencerConfig::default())
    }
}

impl Strategy {
    /// The strategy named by [`STRATEGY_ENV`], or the default (with a stderr line saying
    /// why) when it is unknown or malformed.
    pub fn from_env() -> Self {
        let value = std::env::var(STRATEGY_ENV).unwrap_or_default();
        Strategy::parse(&value).unwrap_or_else(|error| {
            eprintln!("txn-list-append: {STRATEGY_ENV}={value:?}: {error}; using the default");
            Strategy::default()
        })
    }

    /// Parses the grammar in the module docs.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (base, options) = match text.trim().split_once(':') {
            Some((base, options)) => (base.trim(), options),
            None => (text.trim(), ""),
        };
        let mut strategy = match base {
            "" | "sequencer" => Strategy::default(),
            "datomic" => Strategy::Datomic(DatomicConfig::default()),
            other => return Err(format!("unknown strategy {other:?}")),
        };
        for option in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| format!("option {option:?} is not key=value"))?;
            strategy.set(key.trim(), value.trim())?;
        }
        Ok(strategy)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match (self, key) {
            // A transaction may wait for two forwards (the one in flight, then its own),
            // and must be answered within the reply budget (see `timely`).
            (Strategy::Sequencer(config), "timeout") => {
                config.forward_timeout_ms = parse_ms(value)?.clamp(1, REPLY_BUDGET_MS / 2)
            }
            (Strategy::Datomic(config), "timeout") => {
                config.kv_timeout_ms = parse_ms(value)?.max(1)
            }
            (Strategy::Datomic(config), "window") => config.window_ms = parse_ms(value)?,
            (Strategy::Datomic(config), "push") => {
                config.push = match value {
                    "on" | "true" | "yes" => true,
                    "off" | "false" | "no" => false,
                    other => return Err(format!("push={other:?}: expected on or off")),
                }
            }
            (strategy, key) => return Err(format!("{key:?} is not an option of {strategy:?}")),
        }
        Ok(())
    }
}

/// The `txn-list-append` node: one of the strategies.
#[derive(Debug)]
pub enum ListAppend {
    /// See [`sequencer`].
    Sequencer(Sequencer),
    /// See [`datomic`].
    Datomic(Datomic),
}

impl ListAppend {
    /// The node the `txn-list-append` binary runs: strategy from `GLOMERS_LIST_APPEND`.
    pub fn from_env() -> Self {
        ListAppend::new(Strategy::from_env())
    }

    /// A node using `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        match strategy {
            Strategy::Sequencer(config) => ListAppend::Sequencer(Sequencer::new(config)),
            Strategy::Datomic(config) => ListAppend::Datomic(Datomic::new(config)),
        }
    }
}

crate::forward_workload!(
    ListAppend,
    ListAppendTag {
        Sequencer(Sequencer),
        Datomic(Datomic),
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strategies_and_rejects_nonsense() {
        assert_eq!(Strategy::parse(""), Ok(Strategy::default()));
        assert_eq!(Strategy::parse("sequencer"), Ok(Strategy::default()));
        let Ok(Strategy::Datomic(config)) = Strategy::parse("datomic:window=20ms,push=off") else {
            panic!("datomic with options");
        };
        assert_eq!((config.window_ms, config.push), (20, false));
        let Ok(Strategy::Sequencer(config)) = Strategy::parse("sequencer:timeout=1200ms") else {
            panic!("sequencer with a timeout");
        };
        assert_eq!(config.forward_timeout_ms, 1200);
        // Two forwards must fit the reply budget.
        let Ok(Strategy::Sequencer(config)) = Strategy::parse("sequencer:timeout=9s") else {
            panic!("sequencer with a long timeout");
        };
        assert_eq!(config.forward_timeout_ms, REPLY_BUDGET_MS / 2);
        for bad in [
            "raft",
            "sequencer:window=1",
            "datomic:push=maybe",
            "datomic:window",
        ] {
            assert!(Strategy::parse(bad).is_err(), "{bad}");
        }
    }
}
