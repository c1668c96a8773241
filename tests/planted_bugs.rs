//! The planted bugs (feature `planted-bugs`, docs/planted-bugs.md): each variant's first
//! failing seed of its documented sweep, run in-process exactly as `glomers sweep` ran it
//! (the node built from the strategy variable), is invalid with the documented checker
//! failure, and `glomers shrink` reduces it to at most 30 ops and 100 messages with the same
//! failure; and `glomers test --help` / `glomers sweep --help` list every variant.
//!
//! One test runs every variant in turn, because selecting a strategy writes the process
//! environment, which no other thread of this binary may read meanwhile.
#![cfg(feature = "planted-bugs")]

use std::process::Command;

use glomers::harness::checkers::Validity;
use glomers::harness::session::{Sinks, execute, test_config};
use glomers::harness::shrink::search::{Budget, shrink};
use glomers::workloads::planted::PLANTED;
use simd_json::OwnedValue;
use simd_json::prelude::*;

/// One row of docs/planted-bugs.md: the variant, its sweep's flags, its first failing
/// seed, and what the workload checker must say about it.
struct Case {
    value: &'static str,
    flags: &'static str,
    seed: u64,
    expect: fn(&OwnedValue) -> bool,
    class: &'static str,
}

/// A checker result's `valid?`, if it is a map with one.
fn valid(result: &OwnedValue) -> Option<bool> {
    result.get("valid?").and_then(|v| v.as_bool())
}

/// `result[key]` as a list of strings (keywords), empty when absent.
fn strings(result: &OwnedValue, key: &str) -> Vec<String> {
    result
        .get(key)
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

const CASES: &[Case] = &[
    Case {
        value: "planted-ack-all",
        flags: "-w broadcast --node-count 5 --time-limit 10 --rate 10 --nemesis partition --loss 0.1",
        seed: 1,
        expect: |w| {
            w.get("lost-count")
                .and_then(|l| l.as_u64())
                .is_some_and(|lost| lost > 0)
        },
        class: "lost-count > 0",
    },
    Case {
        value: "planted-overwrite",
        flags: "-w g-counter --node-count 5 --rate 100 --time-limit 10 --nemesis partition --reorder-ms 100",
        seed: 4,
        expect: |w| {
            w.get("errors")
                .and_then(|e| e.as_array())
                .is_some_and(|e| !e.is_empty())
        },
        class: "a final read outside :acceptable (:errors)",
    },
    Case {
        value: "planted-local-read",
        flags: "-w lin-kv --node-count 3 --concurrency 4n --time-limit 10 --rate 100 --nemesis partition --nemesis-interval 4",
        seed: 1,
        expect: |w| {
            w.get("failures")
                .and_then(|f| f.as_array())
                .is_some_and(|f| !f.is_empty())
        },
        class: "a key not linearizable (:failures)",
    },
    Case {
        value: "planted-takeover",
        flags: "-w kafka --node-count 2 --concurrency 2n --time-limit 10 --rate 300 --nemesis partition",
        seed: 2,
        expect: |w| strings(w, "bad-error-types").contains(&"inconsistent-offsets".to_string()),
        class: ":bad-error-types (:inconsistent-offsets)",
    },
    Case {
        value: "planted-every-write",
        flags: "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 10 --rate 100 --consistency-models read-committed --availability total --nemesis partition",
        seed: 1,
        expect: |w| strings(w, "anomaly-types").contains(&"G1b".to_string()),
        class: ":anomaly-types (:G1b)",
    },
];

#[test]
fn each_planted_bug_fails_its_first_seed_with_its_checker_failure() {
    assert_eq!(CASES.len(), PLANTED.len(), "a case per planted bug");
    for case in CASES {
        let bug = PLANTED
            .iter()
            .find(|bug| bug.value == case.value)
            .expect("a planted bug");
        let line = format!("{} --sim --seed {}", case.flags, case.seed);
        let flags: Vec<&str> = line.split_whitespace().collect();
        // SAFETY: this is the binary's only test that runs nodes or reads the
        // environment; nothing else reads it while it is set.
        unsafe { std::env::set_var(bug.variable, bug.value) };
        let config = test_config(&flags, 1).expect("config");
        let sinks = Sinks {
            journal: None,
            node_logs: std::path::Path::new(""),
        };
        let outcome = execute(&config, sinks);
        // Shrinking keeps the failure class and makes the run small (issue 25's target:
        // ≤ 30 ops, ≤ 100 messages); the budget is counted in runs, not seconds.
        let budget = Budget {
            max_seconds: 3600.0,
            max_tries: Some(600),
        };
        let shrunk = shrink(&config, budget, &mut |_| {});
        unsafe { std::env::remove_var(bug.variable) };
        let report = shrunk.unwrap_or_else(|e| panic!("{}: shrink: {e:?}", case.value));
        let (before, after) = (report.original, report.smallest.size);
        assert_eq!(report.primary.checker, "workload", "{}", case.value);
        assert!(
            after.weight() < before.weight(),
            "{}: {before} → {after}",
            case.value
        );
        assert!(
            after.ops <= 30 && after.messages <= 100,
            "{}: {before} → {after}",
            case.value
        );
        let smallest_workload = report.smallest.results.get("workload").expect("workload");
        assert!(
            (case.expect)(smallest_workload),
            "{}: the shrunk run still shows {}",
            case.value,
            case.class
        );
        let replay = format!("{}={} glomers test {line}", bug.variable, bug.value);
        let outcome = outcome.unwrap_or_else(|e| panic!("{replay}: crashed: {e}"));
        assert_eq!(outcome.validity, Validity::Invalid, "{replay}");
        let workload = outcome.results.get("workload").expect("a workload result");
        assert_eq!(valid(workload), Some(false), "{replay}");
        assert!((case.expect)(workload), "{replay}: expected {}", case.class);
        let others_invalid: Vec<&str> = outcome
            .results
            .as_object()
            .expect("a results map")
            .iter()
            .filter(|(key, value)| *key != "workload" && valid(value) == Some(false))
            .map(|(key, _)| key.as_str())
            .collect();
        assert!(
            others_invalid.is_empty(),
            "{replay}: only the workload checker should fail, also {others_invalid:?}"
        );
    }
}

#[test]
fn test_and_sweep_help_list_every_planted_bug() {
    for command in ["test", "sweep"] {
        let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
            .args([command, "--help"])
            .output()
            .expect("glomers --help");
        let help = String::from_utf8_lossy(&out.stdout);
        for bug in PLANTED {
            let selector = format!("{}={}", bug.variable, bug.value);
            assert!(
                help.contains(&selector),
                "{command} --help lacks {selector}"
            );
        }
    }
}
