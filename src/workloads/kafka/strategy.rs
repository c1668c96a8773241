//! How a kafka node keeps its logs: plain data, parsed from `GLOMERS_KAFKA`.
//!
//! ```text
//! GLOMERS_KAFKA = [base] [":" key "=" value ("," key "=" value)*]
//!
//! base (default: `default`)
//!   default | owner   each key owned by one node (by hash); sends forwarded to the owner
//!                     in batches, offsets allocated there, the log replicated to every
//!                     node in batches so polls are answered locally (see `owner`)
//!   lin-kv            the challenge's suggestion: each key's log is one value in
//!                     Maelstrom's lin-kv, appended to (offset allocated) by cas; committed
//!                     offsets there too (see `lin_kv`)
//!
//! keys of `default` (durations: `40`, `40ms` or `2s`)
//!   forward   = <ms>   batching delay of forwarded sends (default 10)
//!   replicate = <ms>   batching delay of replication and commits (default 100)
//!   ack       = <ms>   longest an owed acknowledgement waits for a ride (default 100)
//!   retry     = <ms>   first resend of unacknowledged entries; doubles (default 300)
//!   retry-max = <ms>   cap of that backoff (default 2000)
//!   give-up   = <ms>   a forwarded send not confirmed by then gets error 13 (default 1000,
//!                      at most 3000: the reply budget of `workloads::timely`)
//!   suspect   = <ms>   an owner silent that long with entries unacknowledged that long is
//!                      unreachable: sends for its keys get error 11 at once (default 500)
//!   batch     = <n>    most entries per stream in one message (1..=65536, default 1024)
//!   queue     = <n>    most unacknowledged entries per stream (1..=16777216, default 1048576)
//!   poll      = <n>    most messages per key in one poll_ok (1..=65536, default 1024)
//!
//! keys of `lin-kv`
//!   timeout   = <ms>   lin-kv request timeout (default 500)
//!   attempts  = <n>    cas attempts per batch of sends before error 11 (1..=1000, default 16)
//!   refresh   = <ms>   least time between two reads of one key's log for polls (default 50)
//!   poll      = <n>    as above
//! ```
//!
//! An unknown or malformed value prints one line to stderr and falls back to `default`.

use crate::node::Millis;
use crate::workloads::spec::{self, parse_count, parse_ms};
use crate::workloads::timely::REPLY_BUDGET_MS;

/// Name of the environment variable read by [`Strategy::from_env`].
pub const ENV_VAR: &str = "GLOMERS_KAFKA";

/// Knobs of the owner strategy (see [`super::owner`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerConfig {
    /// Batching delay of forwarded sends.
    pub forward_ms: Millis,
    /// Batching delay of replicated appends and commits.
    pub replicate_ms: Millis,
    /// Longest an owed acknowledgement waits to ride on data.
    pub ack_ms: Millis,
    /// First resend delay (doubles per attempt).
    pub retry_ms: Millis,
    /// Cap of the resend backoff.
    pub retry_max_ms: Millis,
    /// A waiting forwarded send is answered with error 13 after this long.
    pub give_up_ms: Millis,
    /// Silence after which an owner is deemed unreachable.
    pub suspect_ms: Millis,
    /// Most entries per stream in one message.
    pub batch: usize,
    /// Most unacknowledged entries per stream.
    pub queue: usize,
    /// Most messages per key in one `poll_ok`.
    pub poll_max: usize,
    /// Planted bug `planted-takeover` (docs/planted-bugs.md): sends for a suspected owner's
    /// keys are appended here, at offsets the owner also allocates.
    #[cfg(feature = "planted-bugs")]
    pub planted_takeover: bool,
}

impl Default for OwnerConfig {
    fn default() -> Self {
        OwnerConfig {
            forward_ms: 10,
            replicate_ms: 100,
            ack_ms: 100,
            retry_ms: 300,
            retry_max_ms: 2000,
            give_up_ms: 1000,
            suspect_ms: 500,
            batch: 1024,
            queue: 1 << 20,
            poll_max: 1024,
            #[cfg(feature = "planted-bugs")]
            planted_takeover: false,
        }
    }
}

/// Knobs of the lin-kv strategy (see [`super::lin_kv`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinKvConfig {
    /// Timeout of each lin-kv request.
    pub timeout_ms: Millis,
    /// Cas attempts for one batch of sends before they fail (definitely).
    pub attempts: u32,
    /// Least time between two polls' reads of one key's log.
    pub refresh_ms: Millis,
    /// Most messages per key in one `poll_ok`.
    pub poll_max: usize,
}

impl Default for LinKvConfig {
    fn default() -> Self {
        LinKvConfig {
            timeout_ms: 500,
            attempts: 16,
            refresh_ms: 50,
            poll_max: 1024,
        }
    }
}

/// A kafka node's strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Keys owned by nodes, logs replicated between them.
    Owner(OwnerConfig),
    /// Logs in lin-kv.
    LinKv(LinKvConfig),
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy::Owner(OwnerConfig::default())
    }
}

impl Strategy {
    /// The strategy named by `GLOMERS_KAFKA`, or the default (with a stderr line saying
    /// why) when it is unset, unknown or malformed.
    pub fn from_env() -> Strategy {
        crate::workloads::spec::from_env("kafka", ENV_VAR, Strategy::parse)
    }

    /// Parses the grammar in the module docs.
    pub fn parse(text: &str) -> Result<Strategy, String> {
        let (base, options) = spec::split(text)?;
        let mut strategy = match base {
            "" | "default" | "owner" => Strategy::Owner(OwnerConfig::default()),
            "lin-kv" => Strategy::LinKv(LinKvConfig::default()),
            #[cfg(feature = "planted-bugs")]
            "planted-takeover" => Strategy::Owner(OwnerConfig {
                planted_takeover: true,
                ..OwnerConfig::default()
            }),
            other => return Err(format!("unknown strategy {other:?}")),
        };
        for (key, value) in options {
            match &mut strategy {
                Strategy::Owner(config) => set_owner(config, key, value)?,
                Strategy::LinKv(config) => set_lin_kv(config, key, value)?,
            }
        }
        if let Strategy::Owner(config) = &mut strategy {
            config.retry_max_ms = config.retry_max_ms.max(config.retry_ms);
        }
        Ok(strategy)
    }
}

fn set_owner(config: &mut OwnerConfig, key: &str, value: &str) -> Result<(), String> {
    match key {
        "forward" => config.forward_ms = parse_ms(value)?,
        "replicate" => config.replicate_ms = parse_ms(value)?,
        "ack" => config.ack_ms = parse_ms(value)?,
        "retry" => config.retry_ms = parse_ms(value)?.max(1),
        "retry-max" => config.retry_max_ms = parse_ms(value)?,
        // Clients give up at 5 s of real time: the node must answer before (see timely).
        "give-up" => config.give_up_ms = parse_ms(value)?.min(REPLY_BUDGET_MS),
        "suspect" => config.suspect_ms = parse_ms(value)?,
        "batch" => config.batch = parse_count(key, value, 1, 1 << 16)?,
        "queue" => config.queue = parse_count(key, value, 1, 1 << 24)?,
        "poll" => config.poll_max = parse_count(key, value, 1, 1 << 16)?,
        other => return Err(format!("unknown option {other:?} for the owner strategy")),
    }
    Ok(())
}

fn set_lin_kv(config: &mut LinKvConfig, key: &str, value: &str) -> Result<(), String> {
    match key {
        "timeout" => config.timeout_ms = parse_ms(value)?.max(1),
        "attempts" => config.attempts = parse_count(key, value, 1, 1000)? as u32,
        "refresh" => config.refresh_ms = parse_ms(value)?,
        "poll" => config.poll_max = parse_count(key, value, 1, 1 << 16)?,
        other => return Err(format!("unknown option {other:?} for the lin-kv strategy")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bases_and_options_and_rejects_nonsense() {
        assert_eq!(Strategy::parse("").ok(), Some(Strategy::default()));
        assert_eq!(Strategy::parse("owner").ok(), Some(Strategy::default()));
        let Ok(Strategy::Owner(config)) = Strategy::parse("default:forward=0,retry=5s,batch=8")
        else {
            panic!("valid owner strategy");
        };
        assert_eq!((config.forward_ms, config.retry_ms), (0, 5000));
        assert_eq!((config.batch, config.retry_max_ms), (8, 5000));
        let Ok(Strategy::LinKv(config)) = Strategy::parse("lin-kv:attempts=3,refresh=0") else {
            panic!("valid lin-kv strategy");
        };
        assert_eq!((config.attempts, config.refresh_ms), (3, 0));
        for bad in [
            "raft",
            "default:refresh=1",
            "lin-kv:forward=1",
            "default:batch=0",
            "default:queue=lots",
            "lin-kv:attempts=0",
            "default:forward",
        ] {
            assert!(Strategy::parse(bad).is_err(), "{bad}");
        }
    }
}
