//! Prints a synthetic Maelstrom input session for one node, for profiling and throughput
//! runs: `init` (5-node cluster, so gossiping workloads have peers), a `topology` where
//! the workload takes one, then `--requests` client requests of the workload's kinds.
//!
//!     cargo run --release --example make-load -- --workload broadcast --requests 200000 > load.jsonl

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
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = |text: String| {
        if writeln!(out, "{text}").is_err() {
            std::process::exit(0); // reader went away
        }
    };
    line(r#"{"id":0,"src":"c0","dest":"n0","body":{"type":"init","node_id":"n0","node_ids":["n0","n1","n2","n3","n4"],"msg_id":1}}"#.to_string());
    if workload == "broadcast" {
        line(r#"{"id":1,"src":"c5","dest":"n0","body":{"type":"topology","topology":{"n0":["n1","n2"],"n1":["n0","n3"],"n2":["n0","n4"],"n3":["n1"],"n4":["n2"]},"msg_id":1}}"#.to_string());
    }
    for i in 0..requests {
        let client = 10 + i % 25;
        let msg_id = i + 2;
        let body = match workload {
            "echo" => format!(
                r#"{{"type":"echo","echo":"Please echo {}","msg_id":{msg_id}}}"#,
                i % 128
            ),
            "unique-ids" => format!(r#"{{"type":"generate","msg_id":{msg_id}}}"#),
            // Reads return the whole set, so keep them rare (1%) or output grows quadratically.
            "broadcast" | "g-set" if i % 100 != 99 => {
                let key = if workload == "broadcast" {
                    "message"
                } else {
                    "element"
                };
                let kind = if workload == "broadcast" {
                    "broadcast"
                } else {
                    "add"
                };
                format!(r#"{{"type":"{kind}","{key}":{i},"msg_id":{msg_id}}}"#)
            }
            "broadcast" | "g-set" => format!(r#"{{"type":"read","msg_id":{msg_id}}}"#),
            "pn-counter" | "g-counter" if i % 2 == 0 => {
                format!(r#"{{"type":"add","delta":{},"msg_id":{msg_id}}}"#, i % 5)
            }
            "pn-counter" | "g-counter" => format!(r#"{{"type":"read","msg_id":{msg_id}}}"#),
            other => {
                eprintln!("make-load: no load for workload {other:?}");
                std::process::exit(2);
            }
        };
        line(format!(
            r#"{{"id":{},"src":"c{client}","dest":"n0","body":{body}}}"#,
            i + 2
        ));
    }
}
