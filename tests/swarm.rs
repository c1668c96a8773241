//! `glomers sweep --swarm` (issue 25): each seed draws its own node count, rate and fault
//! knobs; a failing seed is printed with what it drew and a replay command that carries
//! the drawn flags, so replaying it fails the same way.

#[path = "common/e2e.rs"]
mod e2e;

fn glomers(args: &[&str]) -> (i32, String, String) {
    let run = e2e::glomers(args);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn each_seed_draws_its_test_and_a_failing_seed_replays() {
    // Our txn-rw-register node is totally available: with the default (strict-serializable)
    // model, partitions or slow links make it fail, and a swarm finds such seeds.
    let (code, stdout, stderr) = glomers(&[
        "sweep",
        "--swarm",
        "--seeds",
        "12",
        "--jobs",
        "2",
        "--seed",
        "1",
        "-w",
        "txn-rw-register",
        "--node-count",
        "3",
        "--rate",
        "100",
        "--time-limit",
        "3",
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let failing: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" invalid ("))
        .collect();
    assert!(!failing.is_empty(), "{stdout}");
    let drawn: std::collections::BTreeSet<&str> = failing
        .iter()
        .filter_map(|l| {
            l.split_once(" invalid (")
                .and_then(|(_, rest)| rest.split_once("): "))
        })
        .map(|(draw, _)| draw)
        .collect();
    assert!(
        drawn.len() >= 2.min(failing.len()),
        "seeds draw different tests: {drawn:?}"
    );
    assert!(stdout.contains("First failure: seed"), "{stdout}");
    assert!(
        stdout.contains("Shrink it to its essence: glomers shrink"),
        "{stdout}"
    );

    // The first failing seed's replay command carries its draw and fails again.
    let command = failing[0]
        .split_once("): ")
        .map(|(_, c)| c)
        .expect("a command");
    let words: Vec<&str> = command.split_whitespace().collect();
    assert!(
        words.contains(&"--node-count") && words.contains(&"--rate"),
        "{command}"
    );
    assert!(!words.contains(&"--swarm"), "{command}");
    let (code, _, stderr) = glomers(&words[1..]);
    assert_eq!(code, 1, "{command}\n{stderr}");
}

#[test]
fn a_swarm_of_a_correct_node_passes() {
    let (code, stdout, stderr) = glomers(&[
        "sweep",
        "--swarm",
        "--seeds",
        "8",
        "--jobs",
        "2",
        "--seed",
        "1",
        "-w",
        "g-set",
        "--node-count",
        "3",
        "--rate",
        "20",
        "--time-limit",
        "3",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("8 seeds, 0 failed"), "{stdout}");
    assert!(stderr.contains("swarm: each seed draws"), "{stderr}");
}

#[test]
fn a_sweep_refuses_a_schedule() {
    let (code, _, stderr) = glomers(&[
        "sweep",
        "--seeds",
        "2",
        "-w",
        "echo",
        "--schedule",
        "schedule.jsonl",
    ]);
    assert_eq!(code, 254, "{stderr}");
    assert!(stderr.contains("replays one run"), "{stderr}");
}
