//! Everything the README names exists (issue 27.5): every `glomers` subcommand, every flag,
//! every `-w` workload, every strategy setting `GLOMERS_*=value`, and every file under
//! perf/, scripts/, docs/, examples/, tests/ and src/ it points to. (tests/registry.rs checks
//! the workloads table row by row.) A rename that forgets the README fails here.

use std::collections::BTreeSet;
use std::path::Path;

use glomers::harness::{registry, session};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Flags of other tools the README shows (cargo, scripts/*.sh, perf/*.sh, examples).
const OTHER_TOOLS_FLAGS: &[&str] = &[
    "release",  // cargo build
    "features", // cargo build --features planted-bugs
    "path",     // cargo install
    "root",     // cargo install
    "example",  // cargo build
    "update",   // scripts/*.sh, perf/*.sh: write the table under perf/
    "harness",  // scripts/maelstrom.sh
    "runs",     // perf/txn-rw-register.sh, examples
];

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md")
}

/// The README's code, as lines: each line of a fenced block, and each inline code span
/// (backtick runs matched by length, as Markdown does) with its newlines made spaces.
fn code_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut prose = String::new();
    let mut in_block = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            if !in_block {
                inline_spans(&prose, &mut lines);
                prose.clear();
            }
            in_block = !in_block;
        } else if in_block {
            lines.push(line.to_string());
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    inline_spans(&prose, &mut lines);
    lines
}

fn inline_spans(prose: &str, out: &mut Vec<String>) {
    let bytes = prose.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|b| **b == b'`').count();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let start = i + open;
        let mut j = start;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_at(j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                out.push(prose[start..end].replace('\n', " "));
                i = end + open;
            }
            None => i = start,
        }
    }
}

/// Every long flag of every `glomers` subcommand.
fn glomers_flags() -> BTreeSet<String> {
    fn walk(command: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in command.get_arguments() {
            out.extend(arg.get_long().map(str::to_string));
        }
        for sub in command.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut flags = BTreeSet::from(["help".to_string(), "version".to_string()]);
    walk(&session::command(), &mut flags);
    flags
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .map(|w| w.trim_end_matches([',', ';', ')', '.', ':']))
        .collect()
}

#[test]
fn readme_subcommands_exist() {
    let command = session::command();
    let subcommands: BTreeSet<&str> = command.get_subcommands().map(|s| s.get_name()).collect();
    let mut named = BTreeSet::new();
    for line in code_lines(&readme()) {
        let words = words(&line);
        for pair in words.windows(2) {
            let (program, word) = (pair[0], pair[1]);
            let is_glomers = program == "glomers" || program.ends_with("/glomers");
            if is_glomers && word.starts_with(|c: char| c.is_ascii_lowercase()) {
                assert!(
                    subcommands.contains(word),
                    "README names `glomers {word}`, not a subcommand ({subcommands:?})"
                );
                named.insert(word.to_string());
            }
        }
    }
    for expected in [
        "test",
        "sweep",
        "report",
        "serve",
        "challenges",
        "completions",
    ] {
        assert!(
            named.contains(expected),
            "README never shows `glomers {expected}`"
        );
    }
}

#[test]
fn readme_flags_exist() {
    let ours = glomers_flags();
    let mut seen = 0;
    for line in code_lines(&readme()) {
        for word in words(&line) {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            let flag = flag.split('=').next().unwrap_or_default();
            if !flag.starts_with(|c: char| c.is_ascii_lowercase()) {
                continue;
            }
            seen += 1;
            assert!(
                ours.contains(flag) || OTHER_TOOLS_FLAGS.contains(&flag),
                "README names --{flag}, which no glomers subcommand takes (in `{line}`)"
            );
        }
    }
    assert!(seen > 50, "the README's flags were not found ({seen})");
}

#[test]
fn readme_workloads_exist() {
    for line in code_lines(&readme()) {
        for pair in words(&line).windows(2) {
            if pair[0] == "-w" && !pair[1].contains('…') {
                assert!(
                    registry::find(pair[1]).is_some(),
                    "README runs `-w {}`, not a workload (in `{line}`)",
                    pair[1]
                );
            }
        }
    }
}

/// Whether `value` is a strategy `variable` accepts: each workload's own parser (g-counter
/// reads a fixed list in `GCounterStrategy::from_name`).
fn strategy_accepts(variable: &str, value: &str) -> Result<(), String> {
    use glomers::workloads::{broadcast, kafka, list_append, txn_rw_register};
    match variable {
        "GLOMERS_BROADCAST" => broadcast::Strategy::parse(value).map(drop),
        "GLOMERS_KAFKA" => kafka::Strategy::parse(value).map(drop),
        "GLOMERS_TXN" => txn_rw_register::TxnStrategy::parse(value).map(drop),
        "GLOMERS_LIST_APPEND" => list_append::Strategy::parse(value).map(drop),
        "GLOMERS_G_COUNTER" => ["seq-kv", "seq-kv-fresh", "crdt"]
            .contains(&value)
            .then_some(())
            .ok_or_else(|| "not seq-kv, seq-kv-fresh or crdt".to_string()),
        other => Err(format!("{other} has no parser in this test")),
    }
}

#[test]
fn readme_strategy_settings_exist() {
    let variables: BTreeSet<&str> = registry::WORKLOADS
        .iter()
        .filter_map(|w| w.strategy_env)
        .collect();
    let readme = readme();
    let mut checked = 0;
    for (at, _) in readme.match_indices("GLOMERS_") {
        let rest = &readme[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(rest.len());
        let variable = &rest[..end];
        assert!(
            variables.contains(variable),
            "README names {variable}, which no workload reads ({variables:?})"
        );
        let Some(value) = rest[end..].strip_prefix('=') else {
            continue;
        };
        let value: String = value
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || ":=,.-_".contains(*c))
            .collect();
        if value.is_empty() {
            continue;
        }
        checked += 1;
        if let Err(e) = strategy_accepts(variable, &value) {
            panic!("README sets {variable}={value}, which its workload rejects: {e}");
        }
    }
    assert!(checked >= 4, "no GLOMERS_*=value found in the README");
}

#[test]
fn readme_files_exist() {
    let readme = readme();
    let mut checked = 0;
    for word in readme.split(|c: char| c.is_whitespace() || "`()[],;".contains(c)) {
        let word = word.split(['\'', '’']).next().unwrap_or_default();
        let word = word.trim_end_matches(['.', ':']);
        let named = ["perf/", "scripts/", "docs/", "examples/", "tests/", "src/"]
            .iter()
            .any(|dir| word.starts_with(dir));
        if !named || word.contains(['<', '*', '…']) {
            continue;
        }
        checked += 1;
        assert!(
            Path::new(ROOT).join(word).exists(),
            "README points to {word}, which does not exist"
        );
    }
    assert!(checked > 20, "no paths found in the README ({checked})");
}
