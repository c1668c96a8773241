//! Checks beyond Maelstrom's (`--extra-checks`): each deliberately broken node below passes
//! Maelstrom's own checkers and fails one extra check; by default the finding is reported
//! apart (results `extra`, a console section) and the verdict stays Maelstrom's, with
//! `=strict` it counts. `glomers check --extra-checks` finds the same in the run directory.

#[path = "common/e2e.rs"]
mod e2e;

use std::path::Path;
use std::process::Command;

use e2e::{Store, run};
use serde_json::Value;

fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

/// (name, test flags, the extra check that must fail, Maelstrom's exit status).
const BROKEN: &[(&str, &str, &str, i32)] = &[
    (
        "txn-zero",
        "-w txn-rw-register --bin tests/nodes/txn.py zero --node-count 1 --time-limit 3 --rate 30 \
         --seed 2",
        "unwritten-reads",
        0,
    ),
    (
        "broadcast-deaf",
        "-w broadcast --bin tests/nodes/broadcast.py deaf --node-count 3 --time-limit 3 --rate 10 \
         --seed 2",
        "final-reads",
        0,
    ),
    (
        "g-counter-replicas",
        "-w g-counter --bin tests/nodes/g_counter_replicas.py --node-count 1 --concurrency 4 \
         --time-limit 4 --rate 20 --seed 2",
        "monotonic-reads",
        0,
    ),
    (
        // Increments lost early in the run, before decrements could explain the drop.
        "pn-counter-replicas",
        "-w pn-counter --bin tests/nodes/g_counter_replicas.py --node-count 1 --concurrency 4 \
         --time-limit 4 --rate 20 --seed 5",
        "monotonic-reads",
        0,
    ),
    (
        "g-counter-invent",
        "-w g-counter --bin tests/nodes/g_counter_replicas.py invent --node-count 1 \
         --concurrency 4 --time-limit 3 --rate 20 --seed 2",
        "unwritten-reads",
        0,
    ),
    (
        "g-counter-split",
        "-w g-counter --bin tests/nodes/counter.py split --node-count 3 --time-limit 3 --rate 20 \
         --seed 2",
        "convergence",
        0,
    ),
    (
        // Each node keeps its own registers: read-uncommitted holds, replicas never agree.
        "txn-unreplicated",
        "-w txn-rw-register --bin tests/nodes/txn.py --node-count 2 --time-limit 3 --rate 30 \
         --consistency-models read-uncommitted --seed 2",
        "convergence",
        0,
    ),
    (
        "kafka-lag",
        "-w kafka --bin tests/nodes/kafka.py lag --node-count 1 --concurrency 2n --time-limit 5 \
         --rate 100 --seed 3",
        "monotonic-reads",
        0,
    ),
    (
        "kafka-blind",
        "-w kafka --bin tests/nodes/kafka_blind.py --node-count 2 --concurrency 2n --time-limit 3 \
         --rate 20 --seed 2",
        "convergence",
        0,
    ),
    (
        // Jepsen's checker throws on a message nobody sent: Maelstrom's verdict is unknown.
        "kafka-ghost",
        "-w kafka --bin tests/nodes/kafka.py ghost --node-count 1 --concurrency 2n --time-limit 3 \
         --rate 20 --seed 2",
        "unwritten-reads",
        2,
    ),
];

#[test]
fn broken_nodes_pass_maelstroms_checkers_and_fail_an_extra_check() {
    std::thread::scope(|s| {
        for &(name, flags, check, code) in BROKEN {
            s.spawn(move || {
                let store = Store::new(&format!("extra-{name}"));
                let r = run(&store, &format!("{flags} --extra-checks"));
                assert_eq!(
                    r.code, code,
                    "{name}: Maelstrom's verdict stands\n{}",
                    r.stdout
                );
                assert!(
                    r.stdout.contains("Checks beyond Maelstrom's: ")
                        && r.stdout.contains(" failed"),
                    "{name}: {}",
                    r.stdout
                );
                assert!(
                    r.stdout.contains(&format!("  {check}: ")),
                    "{name}: {}",
                    r.stdout
                );
                let dir = store.0.join("latest");
                let found = results(&dir);
                let maelstrom = if code == 0 {
                    Value::Bool(true)
                } else {
                    "unknown".into()
                };
                assert_eq!(found["valid?"], maelstrom, "{name}");
                assert_eq!(found["extra"]["valid?"], false, "{name}");
                assert_eq!(found["extra"][check]["valid?"], false, "{name}");
                let first = &found["extra"][check]["findings"][0];
                assert!(
                    first["what"].as_str().is_some_and(|w| w.contains(" at ")),
                    "{first}"
                );
                assert!(
                    first["ops"][0]["index"].is_u64(),
                    "findings name their ops: {first}"
                );

                // The same run, re-checked from its directory (options from jepsen.log).
                let checked = Command::new(env!("CARGO_BIN_EXE_glomers"))
                    .args(["check", "--extra-checks"])
                    .arg(&dir)
                    .output()
                    .expect("glomers check");
                let stdout = String::from_utf8_lossy(&checked.stdout);
                assert_eq!(checked.status.code(), Some(code), "{name}: {stdout}");
                assert!(stdout.contains(&format!("  {check}: ")), "{name}: {stdout}");
                let strict = Command::new(env!("CARGO_BIN_EXE_glomers"))
                    .args(["check", "--extra-checks=strict"])
                    .arg(&dir)
                    .output()
                    .expect("glomers check");
                assert_ne!(strict.status.code(), Some(0), "{name}: strict counts them");
            });
        }
    });
}

#[test]
fn strict_extra_checks_change_the_verdict_and_a_correct_node_has_no_findings() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let store = Store::new("extra-strict");
            let (_, flags, _, _) = BROKEN[0];
            let r = run(&store, &format!("{flags} --extra-checks=strict"));
            assert_eq!(r.code, 1, "{}", r.stdout);
            assert!(r.stdout.contains("unwritten-reads"), "{}", r.stdout);
        });
        s.spawn(|| {
            let store = Store::new("extra-correct");
            let r = run(
                &store,
                "-w broadcast --bin tests/nodes/broadcast.py --node-count 3 --time-limit 3 \
                 --rate 10 --extra-checks=strict --seed 2",
            );
            assert_eq!(r.code, 0, "{}", r.stdout);
            assert!(
                r.stdout.contains("Checks beyond Maelstrom's: no findings."),
                "{}",
                r.stdout
            );
            // Under --extra-checks some broadcasts repeat an earlier value; a set absorbs them.
            let history =
                std::fs::read_to_string(store.0.join("latest/history.edn")).expect("history.edn");
            let mut sent = std::collections::HashSet::new();
            let repeated = history
                .lines()
                .filter(|l| l.contains(":type :invoke") && l.contains(":f :broadcast"))
                .filter_map(|l| l.split(":value ").nth(1))
                .any(|v| !sent.insert(v.to_string()));
            assert!(repeated, "no broadcast value was sent twice");
        });
        s.spawn(|| {
            let store = Store::new("extra-none");
            let r = run(
                &store,
                "-w echo --bin tests/nodes/echo.py --node-count 1 --time-limit 1",
            );
            assert_eq!(r.code, 0);
            assert!(
                !r.stdout.contains("Checks beyond"),
                "off by default: {}",
                r.stdout
            );
            assert!(results(&store.0.join("latest")).get("extra").is_none());
        });
    });
}

/// Duplicate adds: Maelstrom's g-set generator never adds an element twice, so a node that
/// keeps a list instead of a set passes it; with `--extra-checks` the generator re-adds
/// some elements and set-full (which expects set semantics) sees them read twice.
#[test]
fn duplicate_adds_expose_a_g_set_that_keeps_a_list() {
    let flags = "-w g-set --bin tests/nodes/broadcast.py gset-list --node-count 1 \
                 --time-limit 3 --rate 20 --seed 2";
    std::thread::scope(|s| {
        s.spawn(|| {
            let store = Store::new("dup-plain");
            let r = run(&store, flags);
            assert_eq!(
                r.code, 0,
                "Maelstrom's generator never re-adds\n{}",
                r.stdout
            );
        });
        s.spawn(|| {
            let store = Store::new("dup-extra");
            let r = run(&store, &format!("{flags} --extra-checks"));
            assert_eq!(r.code, 1, "{}", r.stdout);
            let found = results(&store.0.join("latest"));
            assert!(
                found["workload"]["duplicated-count"].as_u64() > Some(0),
                "{found}"
            );
        });
    });
}
