//! The workload registry is the one list: the README's table, scripts/maelstrom.sh's
//! challenges, the node binaries and `glomers test --help` all agree with it.

use std::path::Path;

use glomers::harness::registry::{self, WORKLOADS};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).expect(path)
}

#[test]
fn registry_lists_every_maelstrom_workload_once() {
    let mut names: Vec<&str> = registry::names().collect();
    names.sort_unstable();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names, unique, "a workload is listed twice");
    let mut maelstrom = vec![
        "echo",
        "unique-ids",
        "broadcast",
        "g-set",
        "g-counter",
        "pn-counter",
        "lin-kv",
        "kafka",
        "txn-list-append",
        "txn-rw-register",
    ];
    maelstrom.sort_unstable();
    assert_eq!(names, maelstrom);
    for spec in WORKLOADS {
        assert!(
            spec.node.is_none() || spec.clients.is_some(),
            "{}: a node without clients cannot be tested",
            spec.name
        );
        for challenge in spec.challenges {
            assert!(
                challenge.preset.is_none() || spec.strategy_env.is_some(),
                "{}: preset without a strategy variable",
                challenge.id
            );
        }
    }
}

/// A binary per workload with a node, named after it, and no binary without a registry
/// entry (the registry builds the in-process node the way the binary does).
#[test]
fn node_binaries_match_the_registry() {
    let mut binaries: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("src/bin"))
        .expect("src/bin")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".rs")?.to_string())
        })
        .filter(|name| name != "glomers")
        .collect();
    binaries.sort_unstable();
    let mut with_node: Vec<String> = WORKLOADS
        .iter()
        .filter(|w| w.node.is_some())
        .map(|w| w.name.to_string())
        .collect();
    with_node.sort_unstable();
    assert_eq!(binaries, with_node);
    for name in &binaries {
        let source = read(&format!("src/bin/{name}.rs"));
        assert!(
            source.contains("::from_env()") || !source.contains("::new("),
            "src/bin/{name}.rs should build its node with the constructor the registry uses"
        );
    }
}

/// The rows between the README's workload-table markers.
fn readme_rows() -> Vec<Vec<String>> {
    let readme = read("README.md");
    let start = readme
        .find("<!-- workloads table")
        .expect("README workloads table");
    let end = readme
        .find("<!-- end of workloads table -->")
        .expect("end marker");
    readme[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

#[test]
fn readme_workload_table_matches_the_registry() {
    let rows = readme_rows();
    assert_eq!(rows.len(), WORKLOADS.len(), "one row per workload");
    for (row, spec) in rows.iter().zip(WORKLOADS) {
        let yes_no = |b: bool| if b { "yes" } else { "—" };
        let challenges: Vec<&str> = spec.challenges.iter().map(|c| c.id).collect();
        let binary = if spec.node.is_some() {
            spec.name
        } else {
            "—"
        };
        let expected = vec![
            spec.name.to_string(),
            challenges.join(" "),
            binary.to_string(),
            yes_no(spec.clients.is_some()).to_string(),
            yes_no(spec.clients.is_some() && spec.node.is_some()).to_string(),
        ];
        assert_eq!(row, &expected, "README row for {}", spec.name);
    }
}

/// Each `case` arm of scripts/maelstrom.sh: its challenge ids, binary and flags.
fn script_challenges() -> Vec<(String, String, String)> {
    let script = read("scripts/maelstrom.sh");
    let mut found = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        let Some((ids, rest)) = line.split_once(") bin=") else {
            continue;
        };
        let Some((bin, rest)) = rest.split_once("; flags=\"") else {
            continue;
        };
        let flags = rest.split('"').next().unwrap_or_default();
        for id in ids.split('|') {
            found.push((id.to_string(), bin.to_string(), flags.to_string()));
        }
    }
    found
}

#[test]
fn maelstrom_script_runs_the_registry_challenges() {
    let script = script_challenges();
    let expected: Vec<(String, String, String)> = WORKLOADS
        .iter()
        .flat_map(|spec| {
            spec.challenges.iter().map(move |c| {
                (
                    c.id.to_string(),
                    spec.name.to_string(),
                    format!("-w {} {}", spec.name, c.flags),
                )
            })
        })
        .collect();
    let mut sorted_script = script.clone();
    sorted_script.sort();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(sorted_script, sorted_expected);
    let usage = read("scripts/maelstrom.sh");
    let listed: Vec<&str> = usage
        .lines()
        .skip_while(|l| !l.contains("CHALLENGE: "))
        .take(2)
        .flat_map(|l| l.trim_start_matches('#').split_whitespace())
        .filter(|w| *w != "CHALLENGE:")
        .collect();
    for (id, _, _) in &expected {
        assert!(listed.contains(&id.as_str()), "usage lacks {id}");
    }
}

#[test]
fn test_help_lists_the_workloads_and_exit_statuses() {
    let help = glomers::harness::cli::test_after_help();
    for name in registry::names() {
        assert!(help.contains(name), "{name} missing from --help");
    }
    assert!(help.contains("254 bad arguments") && help.contains("255 crash"));
}

/// The planted bugs (docs/planted-bugs.md) exist only in a `planted-bugs` build: a default
/// build neither lists nor accepts them.
#[cfg(not(feature = "planted-bugs"))]
#[test]
fn a_default_build_lists_no_planted_bug() {
    for command in ["test", "sweep"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_glomers"))
            .args([command, "--help"])
            .output()
            .expect("glomers --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command} --help");
        assert!(!help.contains("planted"), "{command} --help:\n{help}");
    }
    use glomers::workloads::broadcast::Strategy;
    assert!(Strategy::parse("planted-ack-all").is_err());
}

#[test]
fn challenges_are_found_by_id() {
    let (spec, challenge) = registry::challenge_by_id("3d").expect("3d");
    assert_eq!((spec.name, challenge.preset), ("broadcast", Some("3d")));
    assert!(registry::challenge_by_id("9z").is_none());
}
