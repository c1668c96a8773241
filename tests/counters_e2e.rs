//! The real binaries under `glomers test` with the challenge command lines, shortened to a
//! 5 s main phase and a 4 s recovery (gossip retries back off to at most 2 s): g-counter
//! on seq-kv (challenge 4), g-counter as a CRDT, pn-counter and g-set on 5 nodes, all with
//! partitions. Each must exit 0 with a valid verdict. The four runs go in parallel (about
//! 17 s of wall time in all).

use std::path::PathBuf;
use std::process::Command;

fn run(name: &str, bin: &str, args: &str, strategy: Option<&str>) {
    let store: PathBuf =
        std::env::temp_dir().join(format!("glomers-counters-{}-{name}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_glomers"));
    command
        .arg("test")
        .args(args.split_whitespace())
        .args(["--bin", bin, "--recovery-time", "4", "--store"])
        .arg(&store);
    match strategy {
        Some(value) => command.env("GLOMERS_G_COUNTER", value),
        None => command.env_remove("GLOMERS_G_COUNTER"),
    };
    let out = command.output().expect("run glomers");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: {args}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("Everything looks good!"),
        "{name}: {stdout}"
    );
    let results =
        std::fs::read_to_string(store.join("latest").join("results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&results).expect("results json");
    assert_eq!(results["valid?"], true, "{name}");
    let per_op = &results["net"]["servers"]["msgs-per-op"];
    eprintln!("{name}: valid, {per_op} server msgs per op");
    let _ = std::fs::remove_dir_all(&store);
}

#[test]
fn g_counter_on_seq_kv_challenge_4() {
    let args = "-w g-counter --node-count 3 --rate 100 --time-limit 5 --nemesis partition";
    run(
        "g-counter-seq-kv",
        env!("CARGO_BIN_EXE_g-counter"),
        args,
        None,
    );
}

#[test]
fn g_counter_crdt() {
    let args = "-w g-counter --node-count 3 --rate 100 --time-limit 5 --nemesis partition";
    run(
        "g-counter-crdt",
        env!("CARGO_BIN_EXE_g-counter"),
        args,
        Some("crdt"),
    );
}

#[test]
fn pn_counter_five_nodes() {
    let args = "-w pn-counter --node-count 5 --rate 100 --time-limit 5 --nemesis partition";
    run("pn-counter", env!("CARGO_BIN_EXE_pn-counter"), args, None);
}

#[test]
fn g_set_five_nodes() {
    let args = "-w g-set --node-count 5 --rate 100 --time-limit 5 --nemesis partition";
    run("g-set", env!("CARGO_BIN_EXE_g-set"), args, None);
}
