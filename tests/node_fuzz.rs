//! No input can make a node panic, and whatever a node prints is a well-formed Maelstrom
//! message. Arbitrary bytes, arbitrary JSON, and plausible messages with arbitrary field
//! values are fed to every in-process workload.

use glomers::harness::registry;
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
}
