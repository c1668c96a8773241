//! How a `txn-rw-register` node replicates its commits: plain data, parsed from
//! `GLOMERS_TXN`. Maelstrom passes no arguments, so the knobs come from the environment.
//!
//! ```text
//! GLOMERS_TXN = [preset] [":" key "=" value ("," key "=" value)*]
//!
//! preset (default: `default`)
//!   default   batch commits for 50 ms, then one exchange per peer
//!   eager     replicate at once (flush=0): fresher replicas, one exchange per commit burst
//!   lazy      batch for 250 ms: fewer, larger messages, staler replicas
//!
//! keys (durations: `40`, `40ms` or `2s`)
//!   flush     = <ms>   delay between a commit and the exchange that carries it
//!   timeout   = <ms>   how long an exchange waits for the peer's reply
//!   retry-max = <ms>   longest wait between retries to an unreachable peer (backoff cap)
//!   batch     = <n>    most transactions in one message (1..=65536, default 1024)
//! ```
//!
//! Every preset gives the same guarantees (see the module doc of
//! [`super::TxnRwRegister`]); they trade replica freshness for messages. An unknown or
//! malformed value prints one line to stderr and falls back to `default`.

use crate::workloads::peer_sync::SyncConfig;
use crate::workloads::spec::parse_ms;

/// Name of the environment variable read by [`TxnStrategy::from_env`].
pub const ENV_VAR: &str = "GLOMERS_TXN";

/// Largest `batch` accepted.
pub const MAX_BATCH: usize = 1 << 16;

/// Replication knobs of a `txn-rw-register` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnStrategy {
    /// Batching window before an exchange.
    pub flush_ms: u64,
    /// Timeout of one exchange.
    pub timeout_ms: u64,
    /// Cap of the retry backoff towards an unreachable peer.
    pub retry_max_ms: u64,
    /// Most transactions per message.
    pub batch: usize,
    /// Planted bug `planted-every-write` (docs/planted-bugs.md): a commit replicates
    /// every write in op order instead of each key's final one.
    #[cfg(feature = "planted-bugs")]
    pub planted_every_write: bool,
}

impl Default for TxnStrategy {
    fn default() -> Self {
        TxnStrategy {
            flush_ms: 50,
            timeout_ms: 500,
            retry_max_ms: 2000,
            batch: 1024,
            #[cfg(feature = "planted-bugs")]
            planted_every_write: false,
        }
    }
}

impl TxnStrategy {
    /// The strategy named by `GLOMERS_TXN`, or the default (with a stderr line saying why)
    /// when it is unset, unknown or malformed.
    pub fn from_env() -> TxnStrategy {
        crate::workloads::spec::from_env("txn-rw-register", ENV_VAR, TxnStrategy::parse)
    }

    /// Parses the grammar in the module docs.
    pub fn parse(text: &str) -> Result<TxnStrategy, String> {
        let text = text.trim();
        let (preset, options) = match text.split_once(':') {
            Some((preset, options)) => (preset.trim(), options),
            None => (text, ""),
        };
        let mut strategy = TxnStrategy::preset(preset)?;
        for option in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| format!("option {option:?} is not key=value"))?;
            strategy.set(key.trim(), value.trim())?;
        }
        if !(1..=MAX_BATCH).contains(&strategy.batch) {
            return Err(format!("batch must be in 1..={MAX_BATCH}"));
        }
        Ok(strategy)
    }

    fn preset(name: &str) -> Result<TxnStrategy, String> {
        let flush_ms = match name {
            "" | "default" => return Ok(TxnStrategy::default()),
            "eager" => 0,
            "lazy" => 250,
            #[cfg(feature = "planted-bugs")]
            "planted-every-write" => {
                return Ok(TxnStrategy {
                    planted_every_write: true,
                    ..TxnStrategy::default()
                });
            }
            other => return Err(format!("unknown preset {other:?}")),
        };
        Ok(TxnStrategy {
            flush_ms,
            ..TxnStrategy::default()
        })
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "flush" => self.flush_ms = parse_ms(value)?,
            "timeout" => self.timeout_ms = parse_ms(value)?.max(1),
            "retry-max" => self.retry_max_ms = parse_ms(value)?,
            "batch" => {
                self.batch = value
                    .parse()
                    .map_err(|_| format!("batch={value:?} is not a count"))?
            }
            other => return Err(format!("unknown option {other:?}")),
        }
        Ok(())
    }

    /// The exchange schedule: every peer gets our commits directly (fanout = all).
    pub fn sync_config(&self) -> SyncConfig {
        SyncConfig {
            flush_delay_ms: self.flush_ms,
            rpc_timeout_ms: self.timeout_ms,
            retry_max_ms: self.retry_max_ms,
            fanout: usize::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_options_and_rejects_nonsense() {
        assert_eq!(TxnStrategy::parse(""), Ok(TxnStrategy::default()));
        assert_eq!(TxnStrategy::parse("eager").map(|s| s.flush_ms), Ok(0));
        let s = TxnStrategy::parse("lazy:timeout=1s,retry-max=3s,batch=8").expect("valid");
        assert_eq!(
            (s.flush_ms, s.timeout_ms, s.retry_max_ms, s.batch),
            (250, 1000, 3000, 8)
        );
        assert_eq!(
            TxnStrategy::parse(":flush=20ms").map(|s| s.flush_ms),
            Ok(20)
        );
        for bad in [
            "fast",
            "default:flush=soon",
            "default:batch=0",
            "default:batch=100000",
            "default:hub=n1",
            "flush=1",
        ] {
            assert!(TxnStrategy::parse(bad).is_err(), "{bad}");
        }
    }
}
