//! The node's peers during a throughput run (perf/workload_throughput.rs): answers to what
//! the node sends other nodes, fed back into its stdin, so that its links, sync schedules
//! and forwarded requests reach a steady state instead of piling up retries. Each answer
//! claims the peer now holds exactly what the node sent it and nothing the node lacks,
//! the cheapest honest answer (the node has nothing to absorb from it).
//!
//! Parsing uses serde_json: these run in the driver, whose CPU is not measured.

use serde_json::{Value, json};

/// The fake peers' answer (one input line) to `line`, an output line of the node addressed
/// to another node, if a real peer would answer it. `kind` is the case's `peers` field.
pub fn answer(kind: &str, line: &[u8]) -> Option<Vec<u8>> {
    let message: Value = serde_json::from_slice(line).ok()?;
    let peer = message["dest"].as_str()?;
    let body = &message["body"];
    let msg_id = &body["msg_id"];
    let reply = match (kind, body["type"].as_str()?) {
        // A lone ack, as a leaf with nothing to send answers a batch.
        ("broadcast", "gossip") if body["seq"].as_u64()? > 0 => {
            json!({"type": "gossip", "seq": 0, "ack": body["seq"], "values": []})
        }
        // We have what you have (`have`), and nothing more (`from` = your lengths).
        ("g-set", "set_sync") => {
            let empty: Vec<Value> = body["have"].as_array()?.iter().map(|_| json!([])).collect();
            json!({"type": "set_sync_ok", "in_reply_to": msg_id, "have": body["have"],
                   "from": body["have"], "elems": empty})
        }
        ("counter", "counter_sync") => {
            let mut reply =
                json!({"type": "counter_sync_ok", "in_reply_to": msg_id, "p": body["p"]});
            if !body["n"].is_null() {
                reply["n"] = body["n"].clone();
            }
            reply
        }
        // Applied every commit the request carried; offers none of our own past your count.
        ("txn", "txn_sync") => {
            let me: usize = peer.strip_prefix('n')?.parse().ok()?;
            let mut have = body["have"].as_array()?.clone();
            let carried = body["txns"].as_array()?.len() as u64;
            have[0] = json!(body["from"].as_u64()? + carried);
            json!({"type": "txn_sync_ok", "in_reply_to": msg_id, "have": have,
                   "from": body["have"][me], "txns": []})
        }
        // The leader answers each forwarded request at once.
        ("lin-kv", kind @ ("read" | "write" | "cas")) => {
            let mut reply = json!({"type": format!("{kind}_ok"), "in_reply_to": msg_id});
            if kind == "read" {
                reply["value"] = json!(0);
            }
            reply
        }
        _ => return None,
    };
    let mut line = serde_json::to_vec(&json!({"src": peer, "dest": "n0", "body": reply})).ok()?;
    line.push(b'\n');
    Some(line)
}
