//! End-to-end runs of `glomers test` against the Python nodes in tests/nodes: good nodes
//! pass, each deliberately broken node is caught. Runs are 2–3 s with a short recovery.

#[path = "common/e2e.rs"]
mod e2e;

use std::sync::atomic::{AtomicUsize, Ordering};

use e2e::{Run, Store, run_args};

/// One run in a store of its own, removed afterwards.
fn run(args: &[&str]) -> Run {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let store = Store::new(&format!("run{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    run_args(&store, args)
}

fn assert_valid(args: &[&str]) -> Run {
    let r = run(args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.contains("Everything looks good!"));
    r
}

fn assert_invalid(args: &[&str], needle: &str) {
    let r = run(args);
    assert_eq!(
        r.code, 1,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.contains("Analysis invalid!"));
    assert!(
        r.stdout.contains(needle),
        "{needle} missing in\n{}",
        r.stdout
    );
}

/// Splits a command line on whitespace (test arguments never contain spaces).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn echo_good_and_garbled() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = assert_valid(&words(
                "-w echo --bin tests/nodes/echo.py --node-count 2 --time-limit 1 --rate 50",
            ));
            assert!(r.stdout.contains(":msgs-per-op"));
        });
        s.spawn(|| {
            assert_invalid(
                &words("-w echo --bin tests/nodes/echo_garble.py --node-count 1 --time-limit 1 --rate 20"),
                "Expected a message with :echo",
            )
        });
    });
}

#[test]
fn unique_ids_good_and_colliding() {
    let base =
        "-w unique-ids --bin tests/nodes/unique_ids.py --node-count 3 --time-limit 1 --rate 100";
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_valid(&words(&format!(
                "{base} --availability total --nemesis partition"
            )));
        });
        s.spawn(|| assert_invalid(&words(&format!("{base} collide")), ":duplicated"));
    });
}

#[test]
fn broadcast_survives_partitions_and_lossy_broadcast_is_caught() {
    let options = "--node-count 5 --time-limit 2 --rate 40 --nemesis partition \
                   --nemesis-interval 0.5 --latency 5 --latency-dist uniform";
    std::thread::scope(|s| {
        s.spawn(|| {
            let good = format!("-w broadcast --bin tests/nodes/broadcast.py {options}");
            let r = assert_valid(&words(&good));
            assert!(r.stdout.contains(":lost-count 0"));
        });
        s.spawn(|| {
            let lossy =
                format!("-w broadcast --bin tests/nodes/broadcast.py lossy --seed 7 {options}");
            assert_invalid(&words(&lossy), ":lost (");
        });
    });
}

#[test]
fn g_set_and_counters() {
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_valid(&words(
                "-w g-set --bin tests/nodes/g_set.py --node-count 3 --time-limit 1 --rate 30 \
                 --nemesis partition",
            ));
        });
        s.spawn(|| {
            assert_valid(&words(
                "-w g-counter --bin tests/nodes/counter.py --node-count 3 --time-limit 1 \
                 --rate 30 --latency 2",
            ));
        });
        s.spawn(|| {
            assert_invalid(
                &words(
                    "-w pn-counter --bin tests/nodes/counter.py double --node-count 2 \
                     --time-limit 1 --rate 30 --seed 3",
                ),
                ":errors",
            )
        });
    });
}

#[test]
fn non_json_output_is_a_clear_failure() {
    let r = run(&[
        "-w",
        "echo",
        "--bin",
        "tests/nodes/echo_junk.py",
        "--node-count",
        "1",
        "--time-limit",
        "3",
        "--rate",
        "20",
    ]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(r.stderr.contains("Node n0 printed a line to STDOUT which was not well-formed JSON: DEBUG: handling echo number three"), "{}", r.stderr);
}

#[test]
fn a_node_that_exits_is_a_crash() {
    let r = run(&[
        "-w",
        "echo",
        "--bin",
        "tests/nodes/echo_exit.py",
        "--node-count",
        "1",
        "--time-limit",
        "3",
        "--rate",
        "20",
    ]);
    assert_eq!(r.code, 255, "{}", r.stderr);
    assert!(
        r.stderr.contains("Node n0 crashed with exit status 3"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("giving up after five echoes"),
        "stderr tail missing: {}",
        r.stderr
    );
}

#[test]
fn results_directory_layout() {
    let store = Store::new("layout");
    let r = run_args(
        &store,
        &[
            "-w",
            "echo",
            "--bin",
            "tests/nodes/echo.py",
            "--node-count",
            "1",
            "--time-limit",
            "1",
            "--rate",
            "10",
            "--seed",
            "42",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Seed 42"));
    assert!(store.0.join("latest").join("results.json").exists());
    let latest = store.0.join("echo").join("latest");
    for file in [
        "results.json",
        "history.edn",
        "history.txt",
        "net-journal.jsonl",
        "node-logs/n0.log",
        "jepsen.log",
    ] {
        assert!(latest.join(file).exists(), "{file} missing");
    }
    let journal = std::fs::read_to_string(latest.join("net-journal.jsonl")).expect("journal");
    assert!(
        journal
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("{\"type\":\"send\""))
    );
}

#[test]
fn malformed_envelopes_name_the_node_and_the_line() {
    // A message to an unknown node mutes the sender (as the real Maelstrom does) unless
    // --strict; a malformed envelope always fails the run.
    let cases = [
        ("extra-key", "", 255, "extra top-level key \"trace\""),
        ("bad-dest", "--strict", 255, "invalid dest \"n9\""),
        // Muted at its first echo, the node never answers: Maelstrom's stats checker
        // calls a run with no ok op invalid.
        (
            "bad-dest",
            "",
            1,
            "WARN: node n0 sent a message with an invalid dest \"n9\"",
        ),
        ("body", "", 255, "body is not an object"),
    ];
    std::thread::scope(|s| {
        for (mode, flag, code, needle) in cases {
            s.spawn(move || {
                let line = format!(
                    "-w echo --bin tests/nodes/bad_envelope.py {mode} --node-count 1 \
                     --time-limit 2 --rate 10 {flag}"
                );
                let r = run(&words(&line));
                assert_eq!(r.code, code, "{mode} {flag}: {}", r.stderr);
                let named = r.stderr.contains("n0") && r.stderr.contains(needle);
                assert!(named, "{mode} {flag}: {}", r.stderr);
            });
        }
    });
}

/// Both runs mostly wait (10 s init timeout, 5 s client timeouts), so they share a test
/// and run side by side.
#[test]
fn stuck_nodes_fail_cleanly() {
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = run(&words(
                "-w echo --bin tests/nodes/silent.py --node-count 2 --time-limit 2",
            ));
            assert_eq!(r.code, 255, "{}", r.stderr);
            let expected = "Expected node n0 to respond to an init message";
            assert!(r.stderr.contains(expected), "{}", r.stderr);
            let hint = "Does it flush stdout after each message?";
            assert!(r.stderr.contains(hint), "{}", r.stderr);
        });
        s.spawn(|| {
            // 1000 concurrent echoes (~100 KB) overflow the node's 64 KB pipe; the harness
            // keeps running, times the requests out after 5 s and reports them as info.
            let started = std::time::Instant::now();
            let r = run(&words(
                "-w echo --bin tests/nodes/deaf.py --node-count 1 --concurrency 1000 \
                 --time-limit 1 --rate 100000",
            ));
            assert_eq!(r.code, 1, "{}", r.stderr);
            assert!(r.stdout.contains(":info-count 1000"), "{}", r.stdout);
            assert!(started.elapsed().as_secs() < 20);
        });
    });
}

/// Runs `line` in a store of its own, removed afterwards.
fn run_alone(line: &str) -> Run {
    run(&words(line))
}

/// A node that prints an endless stdout line fails the run once the line passes the 64 MiB
/// bound, with a short message; the harness stops reading there (it used to read the whole
/// line, then cut it, and quote all 64 MiB of it in the error).
#[test]
fn an_endless_stdout_line_fails_the_run_at_the_bound() {
    let r = run_alone(
        "-w echo --bin tests/nodes/flood_stdout.py 200 --node-count 1 --time-limit 5 --rate 10",
    );
    assert_eq!(r.code, 255, "{}", &r.stderr[..r.stderr.len().min(4096)]);
    let expected = "Node n0 printed a line to STDOUT longer than 67108864 bytes";
    assert!(
        r.stderr.contains(expected),
        "{}",
        &r.stderr[..r.stderr.len().min(4096)]
    );
    assert!(
        r.stderr.len() < 64 << 10,
        "{} bytes of stderr",
        r.stderr.len()
    );
}

/// A node that floods stderr without a newline: the node log keeps every byte, but the
/// crash report's tail and the `--log-stderr` copy keep 4 KiB of the line and say how much
/// was cut (both used to hold and print the whole line).
#[test]
fn a_stderr_flood_is_cut_in_reports_and_console() {
    let flood = 100 << 20;
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = run_alone(
                "-w echo --bin tests/nodes/flood_stderr.py 100 crash --node-count 1 \
                 --time-limit 2 --rate 10",
            );
            let head = &r.stderr[..r.stderr.len().min(4096)];
            assert_eq!(r.code, 255, "{head}");
            assert!(
                r.stderr.contains("Node n0 crashed with exit status 3"),
                "{head}"
            );
            let cut = format!("… ({} more bytes)", flood - 4096);
            assert!(r.stderr.contains(&cut), "{head}");
            assert!(r.stderr.contains("last words after the flood"), "{head}");
            assert!(
                r.stderr.len() < 64 << 10,
                "{} bytes of stderr",
                r.stderr.len()
            );
        });
        s.spawn(|| {
            let store = Store::new("flood-stderr-log");
            let line = "-w echo --bin tests/nodes/flood_stderr.py 100 --log-stderr --node-count 1 \
                        --time-limit 1 --rate 10 --seed 5";
            let r = run_args(&store, &words(line));
            let log = store.0.join("echo/latest/node-logs/n0.log");
            let logged = std::fs::metadata(&log).map(|m| m.len());
            drop(store);
            let head = &r.stderr[..r.stderr.len().min(4096)];
            assert_eq!(r.code, 0, "{head}");
            let copied = format!("n0: {}… ({} more bytes)\n", "x".repeat(4096), flood - 4096);
            assert!(r.stderr.contains(&copied), "{head}");
            assert!(
                r.stderr.contains("n0: last words after the flood"),
                "{head}"
            );
            assert!(
                r.stderr.len() < 64 << 10,
                "{} bytes of stderr",
                r.stderr.len()
            );
            let whole = flood as u64 + "\nlast words after the flood\n".len() as u64;
            assert_eq!(logged.ok(), Some(whole));
        });
    });
}
