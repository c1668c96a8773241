//! The writer and parser agree with serde_json on arbitrary values, and framing gives the
//! same replies wherever the input is split.

use bumpalo::Bump;
use glomers::node::NodeCore;
use glomers::wire::Parser;
use glomers::wire::writer::{write_f64, write_i64, write_json, write_str, write_u64};
use glomers::workloads::Echo;
use proptest::prelude::*;
use serde_json::Value;

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\/\u{80}-\u{10ffff}]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_then_write_round_trips_through_serde_json(value in arbitrary_json()) {
        let text = serde_json::to_string(&value).expect("serialize");
        let arena = Bump::new();
        let mut parser = Parser::new();
        let view = parser.parse(&arena, text.as_bytes()).expect("parse");
        let mut out = Vec::new();
        write_json(&mut out, view);
        let back: Value = serde_json::from_slice(&out).expect("our output is JSON");
        prop_assert_eq!(back, value);
    }

    #[test]
    fn scalars_are_exact(text in any::<String>(), u in any::<u64>(), i in any::<i64>(), f in any::<f64>()) {
        let mut out = Vec::new();
        write_str(&mut out, &text);
        prop_assert_eq!(serde_json::from_slice::<String>(&out).expect("string"), text);
        out.clear();
        write_u64(&mut out, u);
        prop_assert_eq!(serde_json::from_slice::<u64>(&out).expect("u64"), u);
        out.clear();
        write_i64(&mut out, i);
        prop_assert_eq!(serde_json::from_slice::<i64>(&out).expect("i64"), i);
        out.clear();
        write_f64(&mut out, f);
        let parsed: Value = serde_json::from_slice(&out).expect("f64");
        if f.is_finite() {
            prop_assert_eq!(parsed.as_f64(), Some(f));
        } else {
            prop_assert!(parsed.is_null());
        }
    }
}

/// A recorded session: init, echoes of awkward values, an unknown type, garbage, CRLF.
const SESSION: &str = concat!(
    r#"{"id":0,"src":"c0","dest":"n0","body":{"type":"init","node_id":"n0","node_ids":["n0"],"msg_id":1}}"#,
    "\n",
    r#"{"id":3,"src":"c1","dest":"n0","body":{"type":"echo","echo":"Please echo 35","msg_id":1}}"#,
    "\r\n",
    "\n",
    r#"{"id":4,"src":"c1","dest":"n0","body":{"echo":{"nested":["\n",1e3,-0]},"type":"echo","msg_id":2}}"#,
    "\n",
    r#"{"id":5,"src":"c1","dest":"n0","body":{"type":"read","msg_id":3}}"#,
    "\n",
    "not json\n",
    r#"{"id":6,"src":"c2","dest":"n0","body":{"type":"echo","echo":"é\u00e9\\","msg_id":1}}"#,
    "\n",
);

fn replies(chunks: &[&[u8]]) -> Vec<u8> {
    let mut core = NodeCore::new(Echo, 1);
    for chunk in chunks {
        core.handle_input(0, chunk);
    }
    let mut out = Vec::new();
    core.take_output(&mut out);
    out
}

#[test]
fn framing_gives_identical_replies_at_every_split_point() {
    let bytes = SESSION.as_bytes();
    let whole = replies(&[bytes]);
    assert_eq!(
        String::from_utf8_lossy(&whole).lines().count(),
        5,
        "init_ok, 3 echoes, 1 error"
    );
    for split in 0..=bytes.len() {
        assert_eq!(
            replies(&[&bytes[..split], &bytes[split..]]),
            whole,
            "split at {split}"
        );
    }
    let single_bytes: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(replies(&single_bytes), whole, "one byte at a time");
}
