//! Synthetic input sessions for one node, `n0`, per workload: an `init` (and `topology`),
//! then client requests mixed with the messages its peers would send it (gossip batches,
//! sync requests, replicated commits, forwarded batches, Raft appends). Shared by
//! perf/make_load.rs (prints a session) and perf/workload_throughput.rs (pipes it through
//! the workload binary); the messages a node sends its peers and expects answers to are
//! answered by perf/fake_peers.rs during a throughput run, never in a printed session.
//!
//! Every session is deterministic, and the peer messages are consistent with what the node
//! holds at that point of the stream (a peer's `have` counts exactly what `n0` committed
//! before it, a Raft `append` continues the log), so the node takes the steady-state path,
//! not an error or a catch-up path.

// Each example that includes this file uses a different part of it.
#![allow(dead_code)]

use std::io::Write;

/// A session: the bytes of its lines, and per line whether it expects a client reply.
pub struct Session {
    pub bytes: Vec<u8>,
    /// Per line: its end offset in `bytes` (after the newline) and whether a client sent
    /// it with a `msg_id` (so one reply to a client is due).
    pub lines: Vec<(usize, bool)>,
    /// A request to send before the load, again until it is answered without an error
    /// (a single lin-kv node answers 11 until it elected itself).
    pub probe: Option<Vec<u8>>,
}

impl Session {
    /// Client requests in the session.
    pub fn client_requests(&self) -> usize {
        self.lines.iter().filter(|(_, client)| *client).count()
    }
}

/// One benchmark row: a workload binary, its strategy, and the load it gets.
pub struct Case {
    /// Row name (`lin-kv follower`); also what `--only` and make-load's `--workload` take.
    pub name: &'static str,
    /// The binary under target/release.
    pub binary: &'static str,
    /// Environment of the node (strategy variables).
    pub env: &'static [(&'static str, &'static str)],
    /// The cluster the node believes it is in and its role, for the table.
    pub cluster: &'static str,
    /// What the input holds, for the table.
    pub mix: &'static str,
    /// Most client requests awaiting a reply at once (`None`: no limit). A lin-kv node
    /// answers 11 once 8192 requests wait (its `max_pending`), and a leader answers only
    /// after its 20 ms batching window, so its load is a closed loop of 8000.
    pub window: Option<usize>,
    /// Input messages per run unless `--messages` says otherwise.
    pub messages: usize,
    /// Which simulated peers answer the node's requests (perf/fake_peers.rs).
    pub peers: &'static str,
}

/// Every case, in table order.
pub const CASES: &[Case] = &[
    Case {
        name: "echo",
        binary: "echo",
        env: &[],
        cluster: "1 node",
        mix: "echo",
        window: None,
        messages: 1_000_000,
        peers: "none",
    },
    Case {
        name: "unique-ids",
        binary: "unique-ids",
        env: &[],
        cluster: "1 node",
        mix: "generate",
        window: None,
        messages: 1_000_000,
        peers: "none",
    },
    Case {
        name: "broadcast",
        binary: "broadcast",
        env: &[("GLOMERS_BROADCAST", "default")],
        cluster: "5 nodes, n0 = star hub, strategy `default`",
        mix: "4 client `broadcast` (1 in 10⁵ a `read`) : 1 leaf `gossip` of 4 values; fake leaves ack the hub's gossip",
        window: None,
        messages: 500_000,
        peers: "broadcast",
    },
    Case {
        name: "g-set",
        binary: "g-set",
        env: &[],
        cluster: "5 nodes",
        mix: "4 client `add` (1 in 10⁵ a `read`) : 1 peer `set_sync` of 4 elements; fake peers answer the node's syncs",
        window: None,
        messages: 500_000,
        peers: "g-set",
    },
    Case {
        name: "pn-counter",
        binary: "pn-counter",
        env: &[],
        cluster: "5 nodes",
        mix: "4 client `add`/`read` (half each, deltas −2…2) : 1 peer `counter_sync`; fake peers answer the node's syncs",
        window: None,
        messages: 500_000,
        peers: "counter",
    },
    Case {
        name: "g-counter",
        binary: "g-counter",
        env: &[("GLOMERS_G_COUNTER", "crdt")],
        cluster: "5 nodes, strategy `crdt` (no seq-kv)",
        mix: "4 client `add`/`read` (half each, deltas 0…4) : 1 peer `counter_sync`; fake peers answer the node's syncs",
        window: None,
        messages: 500_000,
        peers: "counter",
    },
    Case {
        name: "kafka",
        binary: "kafka",
        env: &[("GLOMERS_KAFKA", "default")],
        cluster: "1 node (owns every key), strategy `default`",
        mix: "per 10: 5 `send`, 3 `poll` (last ≤ 4 messages of a key), 1 `commit_offsets`, 1 `list_committed_offsets`; 16 keys",
        window: None,
        messages: 500_000,
        peers: "none",
    },
    Case {
        name: "txn-rw-register",
        binary: "txn-rw-register",
        env: &[("GLOMERS_TXN", "default")],
        cluster: "3 nodes, strategy `default`",
        mix: "4 client `txn` (1–3 micro-ops, 3 in 4 write) : 1 peer `txn_sync` of 4 commits; fake peers answer the node's syncs",
        window: None,
        messages: 500_000,
        peers: "txn",
    },
    Case {
        name: "txn-list-append",
        binary: "txn-list-append",
        env: &[("GLOMERS_LIST_APPEND", "sequencer")],
        cluster: "3 nodes, n0 = the sequencer (strategy `sequencer`, no lin-kv)",
        mix: "4 client `txn` (1–3 micro-ops of `r`/`append`) : 1 follower `txn_batch` of 4 txns",
        window: None,
        messages: 500_000,
        peers: "none",
    },
    Case {
        name: "lin-kv leader",
        binary: "lin-kv",
        env: &[],
        cluster: "1 node (elects itself)",
        mix: "client `read` 2 : `write` 2 : `cas` 1 (cas always matches), 100 keys",
        window: Some(8000),
        messages: 300_000,
        peers: "none",
    },
    Case {
        name: "lin-kv follower",
        binary: "lin-kv",
        env: &[],
        cluster: "3 nodes, n1 leads (faked)",
        mix: "4 client requests as above : 1 leader `append` of 4 entries; the fake leader answers each forwarded request at once (those answers are input too)",
        window: Some(8000),
        messages: 300_000,
        peers: "lin-kv",
    },
];

/// The case named `name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|case| case.name == name)
}

/// The session of `case` with about `messages` input lines (whole groups).
pub fn session(case: &Case, messages: usize) -> Session {
    let mut s = Builder::default();
    match case.name {
        "echo" => {
            s.init(1);
            while s.len() < messages {
                let i = s.len();
                s.client(format_args!(
                    r#""type":"echo","echo":"Please echo {}""#,
                    i % 128
                ));
            }
        }
        "unique-ids" => {
            s.init(1);
            while s.len() < messages {
                s.client(format_args!(r#""type":"generate""#));
            }
        }
        "broadcast" => broadcast(&mut s, messages),
        "g-set" => g_set(&mut s, messages),
        "pn-counter" => counter(&mut s, messages, true),
        "g-counter" => counter(&mut s, messages, false),
        "kafka" => kafka(&mut s, messages),
        "txn-rw-register" => txn_rw_register(&mut s, messages),
        "txn-list-append" => txn_list_append(&mut s, messages),
        "lin-kv leader" => lin_kv(&mut s, messages, false),
        "lin-kv follower" => lin_kv(&mut s, messages, true),
        other => unreachable!("no session for {other}"),
    }
    s.session
}

/// Appends lines: `id`s count up, client requests rotate over 25 clients, each line's
/// `msg_id` is its line number (unique, increasing per sender as Raft and the sequencer
/// expect).
#[derive(Default)]
struct Builder {
    session: Session,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            bytes: Vec::with_capacity(64 << 20),
            lines: Vec::with_capacity(1 << 20),
            probe: None,
        }
    }
}

impl Builder {
    fn len(&self) -> usize {
        self.session.lines.len()
    }

    fn line(&mut self, src: std::fmt::Arguments, body: std::fmt::Arguments, client: bool) {
        let id = self.len();
        let bytes = &mut self.session.bytes;
        let _ = write!(
            bytes,
            r#"{{"id":{id},"src":"{src}","dest":"n0","body":{{{body}"#
        );
        if client {
            let _ = write!(bytes, r#","msg_id":{id}"#);
        }
        bytes.extend_from_slice(b"}}\n");
        self.session.lines.push((bytes.len(), client));
    }

    /// `init` of an `nodes`-node cluster in which we are n0.
    fn init(&mut self, nodes: usize) {
        let ids: Vec<String> = (0..nodes).map(|i| format!("\"n{i}\"")).collect();
        let body = format_args!(
            r#""type":"init","node_id":"n0","node_ids":[{}]"#,
            ids.join(",")
        );
        self.line(format_args!("c0"), body, true);
    }

    /// A client request (clients c10…c34).
    fn client(&mut self, body: std::fmt::Arguments) {
        let client = 10 + self.len() % 25;
        self.line(format_args!("c{client}"), body, true);
    }

    /// A message from node `peer` (it carries a `msg_id` only if `request`).
    fn peer(&mut self, peer: usize, body: std::fmt::Arguments, request: bool) {
        let id = self.len();
        if request {
            self.line(
                format_args!("n{peer}"),
                format_args!(r#"{body},"msg_id":{id}"#),
                false,
            );
        } else {
            self.line(format_args!("n{peer}"), body, false);
        }
    }
}

/// Comma-separated numbers.
fn list(values: impl IntoIterator<Item = u64>) -> String {
    let texts: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    texts.join(",")
}

/// Whether client op `j` of a set workload reads the whole set: rarely, since a read
/// returns every value so far (its cost grows with the run, not with the message).
fn rare_read(j: usize) -> bool {
    j % 100_000 == 99_999
}

/// The star hub n0 of 5 nodes: client broadcasts, and each leaf's gossip batches of values
/// its own clients broadcast (`seq` counting up per leaf; acks come from fake_peers).
fn broadcast(s: &mut Builder, messages: usize) {
    s.init(5);
    let topology = r#""n0":["n1","n2"],"n1":["n0","n3"],"n2":["n0","n4"],"n3":["n1"],"n4":["n2"]"#;
    s.line(
        format_args!("c5"),
        format_args!(r#""type":"topology","topology":{{{topology}}}"#),
        true,
    );
    let (mut value, mut j, mut seq) = (0u64, 0usize, [0u64; 5]);
    while s.len() < messages {
        for _ in 0..4 {
            if rare_read(j) {
                s.client(format_args!(r#""type":"read""#));
            } else {
                s.client(format_args!(r#""type":"broadcast","message":{value}"#));
                value += 1;
            }
            j += 1;
        }
        let leaf = 1 + (j / 4) % 4;
        seq[leaf] += 1;
        let values = list(value..value + 4);
        value += 4;
        let body = format_args!(
            r#""type":"gossip","seq":{},"ack":0,"values":[{values}]"#,
            seq[leaf]
        );
        s.peer(leaf, body, false);
    }
}

/// n0 of 5 g-set nodes: client adds, and each peer's `set_sync` carrying 4 new elements of
/// its own log, with `have` equal to what n0 holds (so n0's reply carries nothing back).
fn g_set(s: &mut Builder, messages: usize) {
    s.init(5);
    let (mut element, mut j, mut lengths) = (0u64, 0usize, [0u64; 5]);
    while s.len() < messages {
        for _ in 0..4 {
            if rare_read(j) {
                s.client(format_args!(r#""type":"read""#));
            } else {
                s.client(format_args!(r#""type":"add","element":{element}"#));
                element += 1;
                lengths[0] += 1;
            }
            j += 1;
        }
        let peer = 1 + (j / 4) % 4;
        let from = list(lengths);
        let elems: Vec<String> = (0..5)
            .map(|o| match o == peer {
                true => format!("[{}]", list(element..element + 4)),
                false => "[]".to_string(),
            })
            .collect();
        element += 4;
        lengths[peer] += 4;
        let body = format_args!(
            r#""type":"set_sync","have":[{}],"from":[{from}],"elems":[{}]"#,
            list(lengths),
            elems.join(",")
        );
        s.peer(peer, body, true);
    }
}

/// n0 of 5 counter nodes: client adds and reads, and each peer's `counter_sync` with its
/// own slots grown and n0's slots as n0 has them.
fn counter(s: &mut Builder, messages: usize, negative: bool) {
    s.init(5);
    let (mut j, mut p, mut n) = (0usize, [0u64; 5], [0u64; 5]);
    while s.len() < messages {
        for _ in 0..4 {
            if j % 2 == 0 {
                let delta = if negative {
                    (j / 2 % 5) as i64 - 2
                } else {
                    (j / 2 % 5) as i64
                };
                s.client(format_args!(r#""type":"add","delta":{delta}"#));
                if delta >= 0 {
                    p[0] += delta as u64;
                } else {
                    n[0] += delta.unsigned_abs();
                }
            } else {
                s.client(format_args!(r#""type":"read""#));
            }
            j += 1;
        }
        let peer = 1 + (j / 4) % 4;
        p[peer] += 3;
        let body = if negative {
            n[peer] += 1;
            format!(
                r#""type":"counter_sync","p":[{}],"n":[{}]"#,
                list(p),
                list(n)
            )
        } else {
            format!(r#""type":"counter_sync","p":[{}]"#, list(p))
        };
        s.peer(peer, format_args!("{body}"), true);
    }
}

/// A single kafka node (owner of every key): sends, polls of each key's newest messages,
/// commits and lists.
fn kafka(s: &mut Builder, messages: usize) {
    s.init(1);
    let mut sent = [0u64; 16];
    let mut j = 0usize;
    while s.len() < messages {
        let key = j % 16;
        let other = (j + 1) % 16;
        match j % 10 {
            0..=4 => {
                s.client(format_args!(r#""type":"send","key":"k{key}","msg":{j}"#));
                sent[key] += 1;
            }
            5..=7 => {
                let from = sent[key].saturating_sub(4);
                s.client(format_args!(
                    r#""type":"poll","offsets":{{"k{key}":{from},"k{other}":{}}}"#,
                    sent[other].saturating_sub(4)
                ));
            }
            8 => {
                let at = sent[key].saturating_sub(1);
                s.client(format_args!(
                    r#""type":"commit_offsets","offsets":{{"k{key}":{at}}}"#
                ));
            }
            _ => s.client(format_args!(
                r#""type":"list_committed_offsets","keys":["k{key}","k{other}"]"#
            )),
        }
        j += 1;
    }
}

/// n0 of 3 txn-rw-register nodes: client transactions, and each peer's `txn_sync` with 4
/// commits of its own (dependencies: what n0 already applied), `have` counting exactly the
/// commits n0 made so far.
fn txn_rw_register(s: &mut Builder, messages: usize) {
    s.init(3);
    let (mut j, mut commits, mut clock) = (0usize, [0u64; 3], 0u64);
    while s.len() < messages {
        for _ in 0..4 {
            let (k1, k2, v) = (j % 64, (j * 7 + 3) % 64, j);
            let (txn, writes) = match j % 4 {
                0 => (format!(r#"["r",{k1},null]"#), false),
                1 => (format!(r#"["w",{k1},{v}]"#), true),
                2 => (format!(r#"["r",{k1},null],["w",{k2},{v}]"#), true),
                _ => (
                    format!(r#"["w",{k1},{v}],["r",{k2},null],["w",{k2},{v}]"#),
                    true,
                ),
            };
            s.client(format_args!(r#""type":"txn","txn":[{txn}]"#));
            commits[0] += u64::from(writes);
            j += 1;
        }
        let peer = 1 + (j / 4) % 2;
        let from = commits[peer];
        let deps = list(commits);
        let entries: Vec<String> = (0..4u64)
            .map(|e| {
                clock += 1;
                let key = (j as u64 + e * 13) % 64;
                format!("[{clock},[{deps}],[{key},{}]]", 1_000_000 + clock)
            })
            .collect();
        commits[peer] += 4;
        let body = format_args!(
            r#""type":"txn_sync","have":[{}],"from":{from},"txns":[{}]"#,
            list(commits),
            entries.join(",")
        );
        s.peer(peer, body, true);
    }
}

/// A list-append transaction over a sliding window of keys (each key gets a few dozen
/// appends, so reads stay short, as under Maelstrom's key rotation).
fn list_append_txn(j: usize) -> String {
    let base = j / 32;
    let (k1, k2) = (base + j % 4, base + (j + 1) % 4);
    match j % 4 {
        0 => format!(r#"["r",{k1},null]"#),
        1 => format!(r#"["append",{k1},{j}]"#),
        2 => format!(r#"["r",{k1},null],["append",{k2},{j}]"#),
        _ => format!(
            r#"["append",{k1},{j}],["r",{k2},null],["append",{k2},{}]"#,
            j + 1
        ),
    }
}

/// The sequencer n0 of 3 txn-list-append nodes: client transactions, and the followers'
/// `txn_batch` requests of 4 transactions each.
fn txn_list_append(s: &mut Builder, messages: usize) {
    s.init(3);
    let mut j = 0usize;
    while s.len() < messages {
        for _ in 0..4 {
            s.client(format_args!(
                r#""type":"txn","txn":[{}]"#,
                list_append_txn(j)
            ));
            j += 1;
        }
        let peer = 1 + (j / 4) % 2;
        let txns: Vec<String> = (0..4)
            .map(|e| format!("[{}]", list_append_txn(1_000_000 + j + e)))
            .collect();
        s.peer(
            peer,
            format_args!(r#""type":"txn_batch","txns":[{}]"#, txns.join(",")),
            true,
        );
    }
}

/// lin-kv: a single node (after its election: the probe) or the follower n0 of 3 nodes
/// whose leader n1 sends `append`s continuing the log. Client reads only keys written
/// before, and each cas names the key's current value, so nothing fails.
fn lin_kv(s: &mut Builder, messages: usize, follower: bool) {
    if follower {
        s.init(3);
        let body = r#""type":"append","term":1,"prev_index":0,"prev_term":0,"commit":0,"round":1,"entries":[1,0,0,0,0]"#;
        s.peer(1, format_args!("{body}"), false);
    } else {
        s.init(1);
        let probe = r#"{"id":0,"src":"c1","dest":"n0","body":{"type":"write","key":1000,"value":0,"msg_id":1}}"#;
        s.session.probe = Some(format!("{probe}\n").into_bytes());
    }
    let mut values: [Option<usize>; 100] = [None; 100];
    let (mut j, mut log, mut round) = (0usize, 1u64, 1u64);
    while s.len() < messages {
        for _ in 0..4 {
            let key = (j * 37) % 100;
            match (j % 5, values[key]) {
                (0 | 1, Some(_)) => s.client(format_args!(r#""type":"read","key":{key}"#)),
                (4, Some(from)) => {
                    s.client(format_args!(
                        r#""type":"cas","key":{key},"from":{from},"to":{j}"#
                    ));
                    values[key] = Some(j);
                }
                _ => {
                    s.client(format_args!(r#""type":"write","key":{key},"value":{j}"#));
                    values[key] = Some(j);
                }
            }
            j += 1;
        }
        if follower {
            round += 1;
            let entries: Vec<String> = (0..4)
                .map(|e| format!("1,1,{},{},0", (j + e) % 100, j + e))
                .collect();
            let body = format_args!(
                r#""type":"append","term":1,"prev_index":{log},"prev_term":1,"commit":{log},"round":{round},"entries":[{}]"#,
                entries.join(",")
            );
            s.peer(1, body, false);
            log += 4;
        }
    }
}
