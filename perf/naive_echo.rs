//! The baseline for `perf/echo_throughput.rs`: the obvious Maelstrom echo node — read a
//! line, parse it into a `serde_json::Value`, build a reply `Value`, print it with
//! `println!` (line-buffered, flushed each line as Maelstrom requires).
//! Kept deliberately idiomatic, not deliberately slow.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut node_id = String::new();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let body = &message["body"];
        let reply_body = match body["type"].as_str() {
            Some("init") => {
                node_id = body["node_id"].as_str().unwrap_or_default().to_string();
                json!({"type": "init_ok", "in_reply_to": body["msg_id"]})
            }
            Some("echo") => {
                json!({"type": "echo_ok", "in_reply_to": body["msg_id"], "echo": body["echo"]})
            }
            _ => continue,
        };
        let reply = json!({"src": node_id, "dest": message["src"], "body": reply_body});
        let _ = writeln!(stdout, "{reply}");
        let _ = stdout.flush();
    }
}
