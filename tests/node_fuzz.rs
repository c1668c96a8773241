//! No input can make a node panic, and whatever a node prints is a well-formed Maelstrom
//! message. Arbitrary bytes, arbitrary JSON, plausible messages with arbitrary field values,
//! and mutations of the real messages each node received in a simulated run (every
//! peer-to-peer, service and client message type it handles, with their fields) are fed to
//! every in-process workload of the registry.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use glomers::harness::registry;
use glomers::harness::session::{Sinks, execute, test_config};
use glomers::node::DynNode;
use proptest::prelude::*;
use serde_json::{Value, json};

const TYPES: &[&str] = &[
    "init",
    "echo",
    "generate",
    "topology",
    "broadcast",
    "read",
    "add",
    "gossip",
    "error",
    "cas_ok",
    "read_ok",
    "write_ok",
    "nonsense",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 ]{0,6}".prop_map(Value::String),
        prop::sample::select(vec!["n0", "n1", "c1", "seq-kv", "lin-kv"]).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A message with a known type and fields drawn at random (names from the protocol).
fn plausible_message() -> impl Strategy<Value = Value> {
    let field_names = prop::sample::select(vec![
        "msg_id",
        "in_reply_to",
        "echo",
        "message",
        "messages",
        "element",
        "delta",
        "value",
        "key",
        "topology",
        "node_id",
        "node_ids",
        "code",
        "text",
        "values",
        "from",
        "to",
    ]);
    (
        prop::sample::select(TYPES.to_vec()),
        prop::sample::select(vec!["c1", "n1", "n2", "seq-kv", "lin-kv"]),
        prop::collection::vec((field_names, arbitrary_json()), 0..6),
    )
        .prop_map(|(kind, src, fields)| {
            let mut body = serde_json::Map::new();
            body.insert("type".into(), Value::from(kind));
            for (name, value) in fields {
                body.insert(name.into(), value);
            }
            json!({"src": src, "dest": "n0", "body": body})
        })
}

fn init() -> Vec<u8> {
    b"{\"src\":\"c0\",\"dest\":\"n0\",\"body\":{\"type\":\"init\",\"node_id\":\"n0\",\"node_ids\":[\"n0\",\"n1\",\"n2\"],\"msg_id\":1}}\n".to_vec()
}

/// Feeds `input` to a fresh node of every workload; checks every output line.
fn feed_everyone(input: &[u8]) -> Result<(), TestCaseError> {
    for spec in registry::WORKLOADS {
        let (workload, Some(make)) = (spec.name, spec.node) else {
            continue;
        };
        let mut node = make(7);
        node.handle_input(0, &init());
        node.handle_input(1, input);
        node.handle_timeout(10_000);
        node.handle_timeout(100_000);
        check_output(node.as_mut(), workload)?;
    }
    Ok(())
}

fn check_output(node: &mut dyn DynNode, workload: &str) -> Result<(), TestCaseError> {
    let mut out = Vec::new();
    node.take_output(&mut out);
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let message: Value = serde_json::from_slice(line).map_err(|e| {
            TestCaseError::fail(format!(
                "{workload} printed non-JSON {e}: {}",
                String::from_utf8_lossy(line)
            ))
        })?;
        let envelope = message
            .as_object()
            .ok_or_else(|| TestCaseError::fail("not an object"))?;
        prop_assert!(
            envelope
                .keys()
                .all(|k| k == "src" || k == "dest" || k == "body"),
            "{workload}: {message}"
        );
        prop_assert!(
            message["src"].is_string() && message["dest"].is_string(),
            "{workload}: {message}"
        );
        prop_assert!(message["body"]["type"].is_string(), "{workload}: {message}");
    }
    Ok(())
}

/// A journal sink the test can read back.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<parking_lot::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Per simulated workload, the envelopes its nodes received in a short 3-node `--sim` run
/// with partitions, in delivery order: at most 4 of each (source kind, body type), `init`
/// left out.
fn recorded_messages() -> &'static BTreeMap<&'static str, Vec<Value>> {
    static RECORDED: OnceLock<BTreeMap<&'static str, Vec<Value>>> = OnceLock::new();
    RECORDED.get_or_init(|| {
        let mut all = BTreeMap::new();
        for spec in registry::simulated() {
            // lin-kv's clients come in groups of 2n.
            let concurrency = if spec.name == "lin-kv" { "2n" } else { "1n" };
            let flags = format!(
                "-w {} --sim --node-count 3 --concurrency {concurrency} --time-limit 4 --rate 40 --nemesis partition --nemesis-interval 1 --recovery-time 1",
                spec.name
            );
            let flags: Vec<&str> = flags.split_whitespace().collect();
            let mut config = test_config(&flags, 5).expect("config");
            config.quiet = true;
            let journal = SharedBuffer::default();
            let sinks = Sinks {
                journal: Some(Box::new(journal.clone())),
                node_logs: std::path::Path::new("/nonexistent"),
            };
            execute(&config, sinks).expect("simulated run");
            let bytes = journal.0.lock().clone();
            let mut seen: BTreeMap<(bool, String), usize> = BTreeMap::new();
            let mut kept = Vec::new();
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let event: Value = serde_json::from_slice(line).expect("journal line");
                let message = &event["message"];
                let to_node = message["dest"].as_str().is_some_and(|d| d.starts_with('n'));
                if event["type"] != "recv" || !to_node {
                    continue;
                }
                let from_client = message["src"].as_str().is_some_and(|s| s.starts_with('c'));
                let kind = message["body"]["type"].as_str().unwrap_or("?").to_string();
                if kind == "init" {
                    continue;
                }
                let count = seen.entry((from_client, kind)).or_default();
                *count += 1;
                if *count <= 4 {
                    kept.push(json!({"src": message["src"], "dest": "n0", "body": message["body"]}));
                }
            }
            all.insert(spec.name, kept);
        }
        all
    })
}

/// One change to a recorded message: replace or remove one body field (or one element of
/// an array or object field) with arbitrary JSON.
#[derive(Clone, Debug)]
enum Mutation {
    Keep,
    Replace {
        field: usize,
        value: Value,
    },
    Remove {
        field: usize,
    },
    ReplaceInside {
        field: usize,
        element: usize,
        value: Value,
    },
}

/// Values that break naive handlers: extreme and negative integers, floats, wrong types.
fn hostile_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => prop::sample::select(vec![
            json!(0),
            json!(1),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1u64 << 53),
            json!(1_000_000_000u64),
            json!(4.5),
            json!(null),
            json!(""),
            json!([]),
            json!({}),
        ]),
        1 => (0u64..1 << 40).prop_map(Value::from),
        2 => arbitrary_json(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => Just(Mutation::Keep),
        4 => (any::<usize>(), hostile_json()).prop_map(|(field, value)| Mutation::Replace { field, value }),
        1 => any::<usize>().prop_map(|field| Mutation::Remove { field }),
        2 => (any::<usize>(), any::<usize>(), hostile_json())
            .prop_map(|(field, element, value)| Mutation::ReplaceInside { field, element, value }),
    ]
}

fn mutate(mut message: Value, mutation: &Mutation) -> Value {
    let Some(body) = message["body"].as_object_mut() else {
        return message;
    };
    let keys: Vec<String> = body.keys().cloned().collect();
    if keys.is_empty() {
        return message;
    }
    match mutation {
        Mutation::Keep => {}
        Mutation::Replace { field, value } => {
            body.insert(keys[field % keys.len()].clone(), value.clone());
        }
        Mutation::Remove { field } => {
            body.remove(&keys[field % keys.len()]);
        }
        Mutation::ReplaceInside {
            field,
            element,
            value,
        } => match body.get_mut(&keys[field % keys.len()]) {
            Some(Value::Array(items)) if !items.is_empty() => {
                let at = element % items.len();
                items[at] = value.clone();
            }
            Some(Value::Object(map)) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(element % map.len())
                    .cloned()
                    .unwrap_or_default();
                map.insert(key, value.clone());
            }
            _ => {}
        },
    }
    message
}

/// The recordings hold every message type the workloads exchange: the peer sync and
/// gossip types and the seq-kv replies as well as client requests.
#[test]
fn recordings_cover_peer_and_service_traffic() {
    let expected: &[(&str, &[&str])] = &[
        ("broadcast", &["broadcast", "read", "topology", "gossip"]),
        ("echo", &["echo"]),
        (
            "g-counter",
            &["add", "read", "cas_ok", "read_ok", "write_ok", "error"],
        ),
        ("g-set", &["add", "read", "set_sync", "set_sync_ok"]),
        (
            "lin-kv",
            &[
                "read",
                "write",
                "cas",
                "pre_vote",
                "pre_vote_ok",
                "vote",
                "vote_ok",
                "append",
                "append_ok",
            ],
        ),
        (
            "pn-counter",
            &["add", "read", "counter_sync", "counter_sync_ok"],
        ),
        ("unique-ids", &["generate"]),
    ];
    for (workload, messages) in recorded_messages() {
        let kinds: Vec<&str> = messages
            .iter()
            .filter_map(|m| m["body"]["type"].as_str())
            .collect();
        let Some((_, wanted)) = expected.iter().find(|(name, _)| name == workload) else {
            assert!(
                !kinds.is_empty(),
                "{workload}: add its expected message types here"
            );
            continue;
        };
        for kind in *wanted {
            assert!(kinds.contains(kind), "{workload} lacks {kind}: {kinds:?}");
        }
    }
}

proptest! {
    // 200 cases per property in CI; `PROPTEST_CASES=20000 cargo test --release --test node_fuzz`
    // for a deeper local run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
    ))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        feed_everyone(&bytes)?;
    }

    #[test]
    fn arbitrary_json_lines_never_panic(values in prop::collection::vec(arbitrary_json(), 1..6)) {
        let mut input = Vec::new();
        for value in values {
            input.extend_from_slice(value.to_string().as_bytes());
            input.push(b'\n');
        }
        feed_everyone(&input)?;
    }

    #[test]
    fn plausible_messages_with_wrong_fields_never_panic(messages in prop::collection::vec(plausible_message(), 1..8)) {
        let mut input = Vec::new();
        for message in messages {
            input.extend_from_slice(message.to_string().as_bytes());
            input.extend_from_slice(b"\r\n");
        }
        feed_everyone(&input)?;
    }

    #[test]
    fn mutated_recorded_messages_never_panic(
        picks in prop::collection::vec((any::<usize>(), mutation()), 1..10),
    ) {
        for (workload, messages) in recorded_messages() {
            let Some(make) = registry::find(workload).and_then(|spec| spec.node) else {
                continue;
            };
            if messages.is_empty() {
                continue;
            }
            // The recording itself first, so that links, topologies and pending RPCs exist
            // when the mutated messages arrive.
            let mut input = Vec::new();
            for message in messages {
                input.extend_from_slice(message.to_string().as_bytes());
                input.push(b'\n');
            }
            for (pick, change) in &picks {
                let message = mutate(messages[pick % messages.len()].clone(), change);
                input.extend_from_slice(message.to_string().as_bytes());
                input.push(b'\n');
            }
            let mut node = make(7);
            node.handle_input(0, &init());
            node.handle_input(1, &input);
            node.handle_timeout(10_000);
            node.handle_timeout(100_000);
            check_output(node.as_mut(), workload)?;
        }
    }
}
