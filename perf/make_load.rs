//! Prints a synthetic Maelstrom input session for one node (perf/load.rs): an `init`, then
//! client requests mixed with the messages its peers would send it, about `--requests`
//! lines in all. No fake peer answers the node here (the throughput benchmark,
//! perf/workload_throughput.rs, adds those), so links and syncs retry now and then.
//! `--env` prints instead the environment the workload's benchmark case runs the node
//! with (one `KEY=VALUE` per line; e.g. `GLOMERS_G_COUNTER=crdt`).
//!
//!     cargo run --release --example make-load -- --workload broadcast --requests 200000 > load.jsonl
//!
//! `--workload` takes a case name (`lin-kv follower`) or a binary name (its first case).

#[path = "load.rs"]
mod load;

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let workload = value("--workload").map(String::as_str).unwrap_or("echo");
    let requests: usize = value("--requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let case =
        load::case(workload).or_else(|| load::CASES.iter().find(|case| case.binary == workload));
    let Some(case) = case else {
        eprintln!("make-load: no load for workload {workload:?}");
        std::process::exit(2);
    };
    let mut stdout = std::io::stdout().lock();
    if args.iter().any(|a| a == "--env") {
        for (key, value) in case.env {
            let _ = writeln!(stdout, "{key}={value}");
        }
        return;
    }
    let session = load::session(case, requests);
    let _ = stdout.write_all(&session.bytes); // a reader that went away is not an error
}
