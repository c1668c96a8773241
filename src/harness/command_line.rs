//! Command lines as a user would type them again: the one that replays a run (its seed
//! pinned, a sweep turned into `test --sim`) and the one shown in headers, each with the
//! node's strategy variable in front when it is set.

use std::ffi::OsString;

use crate::harness::cli::TestConfig;

/// The command line that replays one run: `--seed` pinned, `--test-count` dropped, and a
/// sweep's command turned into `test --sim` without `--seeds`/`--jobs` (TigerBeetle style:
/// a failure says how to reproduce it). Words are shell-quoted where needed.
pub fn replay_command(argv: &[OsString], config: &TestConfig, seed: u64) -> String {
    with_strategy(config, &replay_words(argv, seed))
}

/// The words of [`replay_command`], unquoted, without the strategy variable.
pub fn replay_words(argv: &[OsString], seed: u64) -> Vec<String> {
    let mut words: Vec<String> = Vec::with_capacity(argv.len() + 2);
    let mut skip_value = false;
    let mut literal = false;
    let mut sweep = false;
    for (position, word) in argv
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .enumerate()
    {
        if skip_value {
            skip_value = false;
            continue;
        }
        if position == 1 && word == "sweep" {
            sweep = true;
            words.push("test".to_string());
            continue;
        }
        let dropped = ["--seed", "--test-count", "--seeds", "--jobs"];
        if !literal && dropped.contains(&word.as_str()) {
            skip_value = true;
            continue;
        }
        if !literal && dropped.iter().any(|d| word.starts_with(&format!("{d}="))) {
            continue;
        }
        if !literal && word == "--swarm" {
            continue;
        }
        literal |= word == "--";
        words.push(word);
    }
    let position = words.iter().position(|w| w == "--").unwrap_or(words.len());
    words.insert(position, seed.to_string());
    words.insert(position, "--seed".to_string());
    if sweep && !words.iter().any(|w| w == "--sim") {
        words.insert(position, "--sim".to_string());
    }
    words
}

/// The command as given, with the node's strategy variable in front when it is set, for
/// headers and records.
pub fn command_line(argv: &[OsString], config: &TestConfig) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    with_strategy(config, &words)
}

/// `glomers test` flags that replay one run of `flags`: `--seed` pinned to `seed`, without
/// `--test-count` and `--schedule` (a run's schedule header keeps these; `glomers shrink`
/// edits them).
pub fn pinned_flags(flags: &[String], seed: u64) -> Vec<String> {
    let dropped = ["--seed", "--test-count", "--schedule"];
    let mut words = Vec::with_capacity(flags.len() + 2);
    let mut skip_value = false;
    let mut literal = false;
    for word in flags {
        if skip_value {
            skip_value = false;
            continue;
        }
        if !literal && dropped.contains(&word.as_str()) {
            skip_value = true;
            continue;
        }
        if !literal && dropped.iter().any(|d| word.starts_with(&format!("{d}="))) {
            continue;
        }
        literal |= word == "--";
        words.push(word.clone());
    }
    let position = words.iter().position(|w| w == "--").unwrap_or(words.len());
    words.insert(position, seed.to_string());
    words.insert(position, "--seed".to_string());
    words
}

/// A command line of `words`, shell-quoted, with the strategy variable in front when the
/// config has one.
pub fn quoted_command(config: &TestConfig, words: &[String]) -> String {
    with_strategy(config, words)
}

/// `words`, shell-quoted, after `VAR=value` when the workload's strategy variable is set
/// (it changes what the nodes do, so a replay needs it).
fn with_strategy(config: &TestConfig, words: &[String]) -> String {
    let mut line = String::new();
    if let Some((variable, value)) = &config.strategy {
        line.push_str(&format!("{variable}={} ", shell_quote(value)));
    }
    let quoted: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    line.push_str(&quoted.join(" "));
    line
}

/// `word` as a POSIX shell word: unchanged when it is plain, else single-quoted.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
