//! Reply schemas (closed, Appendix A) and Maelstrom's error → fail/info mapping (§1.6).

use glomers::harness::clients::outcome::Outcome;
use glomers::harness::clients::outcome::{error_outcome, timeout_outcome};
use glomers::harness::clients::schema::{Kind, validate};
use glomers::harness::clients::{ClientSide, OpSpec, Step, WorkloadOptions};
use glomers::harness::history::OpType;
use glomers::harness::registry;
use simd_json::OwnedValue;
use simd_json::prelude::*;

/// The client side of a registered workload, as `glomers test` builds it.
fn workload(name: &str) -> Option<ClientSide> {
    let make = registry::find(name)?.clients?;
    make(&WorkloadOptions::default()).ok()
}

/// A fresh client's answer to one reply of `op`.
fn reply(side: &ClientSide, op: &OpSpec, body: &OwnedValue) -> Outcome {
    match (side.open_client)().on_reply(op, body) {
        Step::Done(outcome) => outcome,
        Step::Send(request) => panic!("one-RPC op asked for another request {request:?}"),
    }
}

/// The ok value, if the outcome is ok.
fn ok_value(outcome: Outcome) -> Option<OwnedValue> {
    (outcome.op_type == OpType::Ok).then_some(outcome.value)
}

/// The "indeterminate: Malformed RPC response…" text of a malformed reply, if it is one.
fn malformed(outcome: Outcome) -> Option<String> {
    let text = outcome.error?.as_str()?.to_string();
    (outcome.op_type == OpType::Info && text.contains("Malformed RPC response")).then_some(text)
}

fn json(text: &str) -> OwnedValue {
    let mut bytes = text.as_bytes().to_vec();
    simd_json::to_owned_value(&mut bytes).expect("json")
}

#[test]
fn schemas_are_closed_and_typed() {
    let fields = [("value", Kind::Int)];
    assert!(
        validate(
            &json(r#"{"type":"read_ok","value":3,"in_reply_to":1}"#),
            "read_ok",
            &fields
        )
        .is_ok()
    );
    assert!(
        validate(
            &json(r#"{"type":"read_ok","value":3,"in_reply_to":1,"msg_id":9}"#),
            "read_ok",
            &fields
        )
        .is_ok()
    );
    let bad = [
        r#"{"type":"read_ok","value":3.0,"in_reply_to":1}"#,
        r#"{"type":"read_ok","value":3,"in_reply_to":1,"extra":true}"#,
        r#"{"type":"read_ok","in_reply_to":1}"#,
        r#"{"type":"read_ok","value":3}"#,
        r#"{"type":"read_ok","value":3,"in_reply_to":1,"msg_id":"x"}"#,
        r#"{"type":"write_ok","value":3,"in_reply_to":1}"#,
    ];
    for text in bad {
        assert!(validate(&json(text), "read_ok", &fields).is_err(), "{text}");
    }
    let list = [("messages", Kind::ArrayOrNull)];
    assert!(
        validate(
            &json(r#"{"type":"read_ok","messages":null,"in_reply_to":1}"#),
            "read_ok",
            &list
        )
        .is_ok()
    );
    assert!(
        validate(
            &json(r#"{"type":"read_ok","messages":{},"in_reply_to":1}"#),
            "read_ok",
            &list
        )
        .is_err()
    );
}

#[test]
fn workload_replies_become_values_or_malformed() {
    let echo = workload("echo").expect("echo");
    let op = OpSpec::new("echo", "Please echo 5".into());
    let body = json(r#"{"type":"echo_ok","echo":"Please echo 5","in_reply_to":1}"#);
    assert!(
        ok_value(reply(&echo, &op, &body)) == Some(body),
        "ok value is the whole body"
    );
    let extra = json(r#"{"type":"echo_ok","echo":"x","in_reply_to":1,"note":1}"#);
    assert!(malformed(reply(&echo, &op, &extra)).is_some_and(|m| m.contains("disallowed-key")));
    let broadcast = workload("broadcast").expect("broadcast");
    let read = OpSpec::new("read", OwnedValue::null());
    let body = json(r#"{"type":"read_ok","messages":[1,2],"in_reply_to":1}"#);
    assert!(ok_value(reply(&broadcast, &read, &body)) == Some(json("[1,2]")));
    let gset = workload("g-set").expect("g-set");
    let body = json(r#"{"type":"read_ok","value":[3],"in_reply_to":1}"#);
    assert!(ok_value(reply(&gset, &read, &body)) == Some(json("[3]")));
    let counter = workload("g-counter").expect("g-counter");
    let float = json(r#"{"type":"read_ok","value":3.0,"in_reply_to":1}"#);
    assert!(malformed(reply(&counter, &read, &float)).is_some());
}

#[test]
fn errors_map_to_fail_or_info() {
    let broadcast = workload("broadcast").expect("broadcast");
    let add = OpSpec::new("broadcast", 3.into());
    let read = OpSpec::new("read", OwnedValue::null());
    let definite = json(r#"{"type":"error","code":11,"text":"not leader","in_reply_to":1}"#);
    let indefinite = json(r#"{"type":"error","code":13,"in_reply_to":1}"#);
    let custom = json(r#"{"type":"error","code":1000,"in_reply_to":1}"#);
    let out = error_outcome(&broadcast.policy, &add, &definite);
    assert_eq!(out.op_type, OpType::Fail);
    assert_eq!(
        out.error,
        Some(json(r#"["temporarily-unavailable","not leader"]"#))
    );
    assert_eq!(
        error_outcome(&broadcast.policy, &add, &indefinite).op_type,
        OpType::Info
    );
    let unknown = error_outcome(&broadcast.policy, &add, &custom);
    assert_eq!(unknown.op_type, OpType::Info);
    assert_eq!(unknown.error, Some(json(r#"["unknown",null]"#)));
    // read ∈ I: fail even when indefinite or timed out.
    assert_eq!(
        error_outcome(&broadcast.policy, &read, &indefinite).op_type,
        OpType::Fail
    );
    assert_eq!(
        timeout_outcome(&broadcast.policy, &read).op_type,
        OpType::Fail
    );
    let timeout = timeout_outcome(&broadcast.policy, &add);
    assert_eq!(
        (timeout.op_type, timeout.error),
        (OpType::Info, Some("net-timeout".into()))
    );
    // No wrapper for g-set and counters: always info, even for definite codes.
    for name in ["g-set", "g-counter", "pn-counter"] {
        let w = workload(name).expect(name);
        let op = OpSpec::new("add", 1.into());
        let out = error_outcome(&w.policy, &op, &definite);
        assert_eq!(out.op_type, OpType::Info, "{name}");
        assert!(
            out.error
                .as_ref()
                .and_then(|e| e.as_str())
                .is_some_and(|e| e.starts_with("indeterminate"))
        );
        assert_eq!(
            timeout_outcome(&w.policy, &read).op_type,
            OpType::Info,
            "{name}"
        );
    }
}
