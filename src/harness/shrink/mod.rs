//! `glomers shrink`: from a failing `--sim` run (a run directory, or the replay command a
//! test or sweep printed) to the smallest run found that fails the same way, written as an
//! ordinary run directory with its schedule and the command that replays it.
//!
//! The search is in [`search`] (coarse flag steps, then delta debugging over the schedule
//! with [`reduce`]); "the same way" is [`class`]; the bar on stderr is `progress`.

pub mod class;
mod progress;
pub mod reduce;
pub mod search;

use std::path::Path;
use std::sync::Arc;

use crate::harness::cli::{ShrinkArgs, TestConfig, check_schedule_fits, test_config};
use crate::harness::command_line::{pinned_flags, quoted_command};
use crate::harness::results::lamport::DiagramMode;
use crate::harness::results::store::SHRINK_FILE;
use crate::harness::results::verdict::{EXIT_BAD_ARGS, EXIT_CRASH};
use crate::harness::run::store_run::run_to_store;
use crate::harness::schedule::{self, Replay};
use search::{Budget, Report, Stop};

/// Exit status when the run fails but no smaller failing run was found.
pub const EXIT_NOT_SHRUNK: i32 = 2;

/// Runs `glomers shrink`; returns the exit status.
pub fn main(args: &ShrinkArgs) -> i32 {
    if !(args.max_seconds > 0.0 && args.max_seconds <= 86_400.0) {
        eprintln!(
            "error: --max-seconds must be in (0, 86400], got {}",
            args.max_seconds
        );
        return EXIT_BAD_ARGS;
    }
    let start = match start_config(&args.run) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_BAD_ARGS;
        }
    };
    let budget = Budget {
        max_seconds: args.max_seconds,
        max_tries: args.max_tries,
    };
    eprintln!(
        "Shrinking {} (seed {}), at most {} s{}…",
        start.workload,
        start.seed,
        args.max_seconds,
        args.max_tries
            .map(|n| format!(" or {n} runs"))
            .unwrap_or_default()
    );
    let mut bar = progress::Bar::new(args.max_seconds);
    // A node that panics (a crash being shrunk) would print its panic at every try: the
    // crash is reported once, at the end, instead.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = search::shrink(&start, budget, &mut |status| bar.show(status));
    std::panic::set_hook(default_hook);
    bar.finish();
    match outcome {
        Err(Stop::NotFailing(why)) => {
            eprintln!("{why}");
            1
        }
        Err(Stop::Unshrinkable(why)) => {
            eprintln!("{why}\nglomers shrink cannot shrink this run.");
            EXIT_CRASH
        }
        Ok(report) => finish(&report),
    }
}

/// Writes the smallest run and says what was found.
fn finish(report: &Report) -> i32 {
    let shrank = report.smallest.size != report.original;
    let summary = format!(
        "{} in {:.2} s ({} runs): {} → {}; fails as: {}.",
        if shrank { "Shrunk" } else { "Not shrunk" },
        report.elapsed,
        report.tries,
        report.original,
        report.smallest.size,
        report.primary
    );
    let mut note = vec![summary];
    note.extend(report.steps.iter().map(|step| format!("  kept: {step}")));
    for line in &note {
        eprintln!("{line}");
    }
    let mut config = report.smallest.config.clone();
    config.quiet = true;
    config.test_count = 1;
    // The minimal failure's diagram: only the messages on the causal path of the ops its
    // explanation names, so it fits on one screen.
    config.diagram.mode = DiagramMode::Causal;
    config.journal = true;
    config.replay = Some(Replay {
        source: "glomers shrink".to_string(),
        schedule: Arc::new(report.smallest.schedule.clone()),
    });
    let (code, dir) = run_to_store(&config);
    if let Some(dir) = dir {
        let schedule = dir.join(schedule::file::FILE_NAME);
        let mut words = pinned_flags(&config.flags, config.seed);
        let at = words.iter().position(|w| w == "--").unwrap_or(words.len());
        words.insert(at, schedule.display().to_string());
        words.insert(at, "--schedule".to_string());
        words.insert(0, "test".to_string());
        words.insert(0, "glomers".to_string());
        let replay = format!("Replay: {}", quoted_command(&config, &words));
        eprintln!("Smallest failing run: {}", dir.display());
        eprintln!("{replay}");
        note.push(replay);
        let text = note.join("\n") + "\n";
        if let Err(e) = std::fs::write(dir.join(SHRINK_FILE), text) {
            eprintln!("warning: cannot write {SHRINK_FILE}: {e}");
        }
    }
    let expected = if report.primary.checker == "crash" {
        EXIT_CRASH
    } else {
        1
    };
    if code != expected {
        eprintln!(
            "warning: the smallest run replayed with exit status {code}, not {expected}; \
             report this as a glomers bug"
        );
    }
    if shrank { 0 } else { EXIT_NOT_SHRUNK }
}

/// The configuration of the run to shrink, from a run directory or a replay command.
fn start_config(run: &[String]) -> Result<TestConfig, String> {
    if let [only] = run
        && Path::new(only).is_dir()
    {
        return from_run_dir(Path::new(only));
    }
    from_command(run)
}

/// A run directory: its schedule.jsonl names the flags, seed and strategy; the shrink
/// starts from that exact run (its schedule replayed).
fn from_run_dir(dir: &Path) -> Result<TestConfig, String> {
    let path = dir.join(schedule::file::FILE_NAME);
    if !path.exists() {
        return Err(format!(
            "{} has no {}: glomers shrink takes a --sim run made by glomers {} or later",
            dir.display(),
            schedule::file::FILE_NAME,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let schedule = schedule::file::read_file(&path)?;
    if let Some((variable, value)) = &schedule.strategy {
        set_strategy(variable, value)?;
    }
    let words: Vec<&str> = schedule.flags.iter().map(String::as_str).collect();
    let config = test_config(&words, 0)?;
    if !config.sim {
        return Err("the run was not a --sim run".to_string());
    }
    check_schedule_fits(&config, &schedule)?;
    Ok(TestConfig {
        replay: Some(Replay {
            source: path.display().to_string(),
            schedule: Arc::new(schedule),
        }),
        ..config
    })
}

/// A replay command: `[VAR=value…] [glomers] [test] FLAGS`, with `--sim` and `--seed`.
fn from_command(words: &[String]) -> Result<TestConfig, String> {
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        let Some((variable, value)) = first.split_once('=') else {
            break;
        };
        if variable.is_empty() || variable.starts_with('-') {
            break;
        }
        set_strategy(variable, value)?;
        rest = tail;
    }
    if rest
        .first()
        .is_some_and(|w| w == "glomers" || w.ends_with("/glomers"))
    {
        rest = &rest[1..];
    }
    match rest.first().map(String::as_str) {
        Some("test") => rest = &rest[1..],
        Some("sweep") => {
            return Err(
                "give one failing seed's replay command (the `glomers test … --seed N` a \
                 sweep prints), not the sweep"
                    .to_string(),
            );
        }
        _ => {}
    }
    let flags: Vec<&str> = rest.iter().map(String::as_str).collect();
    if !flags.contains(&"--sim") {
        return Err("glomers shrink needs a --sim run (add --sim to the command)".to_string());
    }
    if !flags
        .iter()
        .any(|f| *f == "--seed" || f.starts_with("--seed="))
    {
        return Err("the command needs its --seed (the replay command has one)".to_string());
    }
    let config = test_config(&flags, 0)?;
    if let Some(replay) = &config.replay {
        let schedule = replay.schedule.clone();
        check_schedule_fits(&config, &schedule)?;
    }
    Ok(config)
}

/// Makes the in-process nodes see `variable=value` (they read their strategy from the
/// environment, as a node process would).
fn set_strategy(variable: &str, value: &str) -> Result<(), String> {
    if !variable
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "{variable}={value}: not an environment variable assignment"
        ));
    }
    if std::env::var(variable).ok().as_deref() != Some(value) {
        // SAFETY: called from `glomers shrink`'s main thread before any run starts; no
        // other thread reads or writes the environment yet.
        unsafe { std::env::set_var(variable, value) };
    }
    Ok(())
}
