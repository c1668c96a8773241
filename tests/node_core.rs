//! The sans-IO core driven as a script: bytes in, bytes out, virtual time.

use glomers::node::{Ctx, Message, NodeCore, RequestError, RpcReply, Transmits, Workload};
use glomers::workloads::{Echo, UniqueIds};

const INIT: &str = r#"{"id":0,"src":"c0","dest":"n1","body":{"type":"init","node_id":"n1","node_ids":["n0","n1","n2"],"msg_id":1}}"#;

/// Feeds lines, returns every output line.
fn run<W: Workload>(core: &mut NodeCore<W>, now: u64, input: &str) -> Vec<String> {
    core.handle_input(now, input.as_bytes());
    let mut out = Vec::new();
    core.take_output(&mut out);
    String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn init_then_echo_passes_any_value_through() {
    let mut core = NodeCore::new(Echo, 1);
    let out = run(&mut core, 0, &format!("{INIT}\n"));
    assert_eq!(
        out,
        [r#"{"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1}}"#]
    );
    let out = run(
        &mut core,
        1,
        r#"{"src":"c3","dest":"n1","body":{"type":"echo","echo":{"a":[1,-2,3.5,null,"\u0001é"]},"msg_id":7}}"#,
    );
    assert!(out.is_empty(), "no output before the newline");
    let out = run(&mut core, 1, "\r\n");
    assert_eq!(
        out,
        [
            r#"{"src":"n1","dest":"c3","body":{"type":"echo_ok","in_reply_to":7,"echo":{"a":[1,-2,3.5,null,"\u0001é"]}}}"#
        ]
    );
}

#[test]
fn every_error_path_gets_a_clear_reply_or_is_skipped() {
    let mut core = NodeCore::new(Echo, 1);
    run(&mut core, 0, &format!("{INIT}\n"));
    let cases = [
        // unknown type → 10
        (
            r#"{"src":"c1","dest":"n1","body":{"type":"frobnicate","msg_id":2}}"#,
            Some((2, 10)),
        ),
        // missing field → 12
        (
            r#"{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":3}}"#,
            Some((3, 12)),
        ),
        // invalid JSON but sender recoverable → 12
        (
            r#"{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":4,"echo":}"#,
            Some((4, 12)),
        ),
        // body not an object, msg_id unrecoverable from a parsed value → skipped
        (r#"{"src":"c1","dest":"n1","body":[1]}"#, None),
        // body without type → 12
        (
            r#"{"src":"c1","dest":"n1","body":{"msg_id":5}}"#,
            Some((5, 12)),
        ),
        // not JSON at all → skipped (stderr only)
        ("hello there", None),
        // no src → skipped
        (r#"{"dest":"n1","body":{"type":"echo","msg_id":6}}"#, None),
    ];
    for (line, expected) in cases {
        let out = run(&mut core, 1, &format!("{line}\n"));
        match expected {
            Some((in_reply_to, code)) => {
                assert_eq!(out.len(), 1, "{line}");
                let reply: serde_json::Value = serde_json::from_str(&out[0]).expect("json");
                assert_eq!(reply["dest"], "c1");
                assert_eq!(reply["body"]["type"], "error");
                assert_eq!(reply["body"]["in_reply_to"], in_reply_to);
                assert_eq!(reply["body"]["code"], code);
                assert!(
                    reply["body"]["text"]
                        .as_str()
                        .is_some_and(|t| !t.is_empty())
                );
            }
            None => assert!(out.is_empty(), "{line} → {out:?}"),
        }
    }
    // The node still works afterwards.
    let out = run(
        &mut core,
        2,
        "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"echo\",\"echo\":1,\"msg_id\":9}}\n",
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn giant_line_is_dropped_and_the_stream_continues() {
    let mut core = NodeCore::new(Echo, 1);
    run(&mut core, 0, &format!("{INIT}\n"));
    let chunk = "x".repeat(1 << 20);
    for _ in 0..(glomers::node::core::MAX_LINE / chunk.len() + 2) {
        assert!(run(&mut core, 1, &chunk).is_empty());
    }
    let out = run(
        &mut core,
        1,
        "\n{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"echo\",\"echo\":2,\"msg_id\":3}}\n",
    );
    assert_eq!(out.len(), 1);
    assert!(out[0].contains("echo_ok"));
}

#[test]
fn bad_init_is_rejected_and_peer_messages_before_init_are_replayed() {
    let mut core = NodeCore::new(Echo, 1);
    let out = run(
        &mut core,
        0,
        "{\"src\":\"c0\",\"dest\":\"n1\",\"body\":{\"type\":\"init\",\"node_id\":\"n1\",\"node_ids\":\"n1\",\"msg_id\":1}}\n",
    );
    assert!(out[0].contains("\"code\":12"), "{out:?}");
    let early = "{\"src\":\"n0\",\"dest\":\"n1\",\"body\":{\"type\":\"echo\",\"echo\":\"early\",\"msg_id\":4}}\n";
    assert!(run(&mut core, 0, early).is_empty());
    let out = run(&mut core, 0, &format!("{INIT}\n"));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].contains("init_ok"));
    assert!(out[1].contains("\"echo\":\"early\"") && out[1].contains("\"dest\":\"n0\""));
}

#[test]
fn an_error_reply_before_init_is_a_whole_message_with_an_empty_src() {
    let mut core = NodeCore::new(Echo, 1);
    let out = run(
        &mut core,
        0,
        "{\"src\":\"c0\",\"dest\":\"n1\",\"body\":{\"type\":\"init\",\"msg_id\":1}}\n",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let reply: serde_json::Value = serde_json::from_str(&out[0]).expect("a JSON line");
    assert_eq!(reply["src"], "", "{out:?}");
    assert_eq!(reply["dest"], "c0");
    assert_eq!(reply["body"]["in_reply_to"], 1);
}

#[test]
fn unique_ids_interleave_by_node_index() {
    let mut core = NodeCore::new(UniqueIds::default(), 1);
    run(&mut core, 0, &format!("{INIT}\n"));
    let request =
        "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"generate\",\"msg_id\":2}}\n";
    let ids: Vec<u64> = run(&mut core, 0, &request.repeat(3))
        .iter()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["body"]["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    assert_eq!(ids, [1, 4, 7]); // node index 1 of 3
}

#[test]
fn a_second_init_gets_an_error_and_changes_nothing() {
    let mut core = NodeCore::new(UniqueIds::default(), 1);
    run(&mut core, 0, &format!("{INIT}\n"));
    let generate =
        "{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"generate\",\"msg_id\":2}}\n";
    let ids = |lines: Vec<String>| -> Vec<u64> {
        lines
            .iter()
            .map(|line| {
                let reply: serde_json::Value = serde_json::from_str(line).expect("json");
                assert_eq!(reply["src"], "n1", "{line}");
                reply["body"]["id"].as_u64().expect("id")
            })
            .collect()
    };
    assert_eq!(ids(run(&mut core, 0, &generate.repeat(2))), [1, 4]);
    // Another identity (index 0 of 2 would reissue 6, 8, …), and the same one again.
    let second = r#"{"src":"c9","dest":"n1","body":{"type":"init","node_id":"n0","node_ids":["n0","n1"],"msg_id":5}}"#;
    for (init, client, msg_id) in [(second, "c9", 5), (INIT, "c0", 1)] {
        let out = run(&mut core, 1, &format!("{init}\n"));
        assert_eq!(out.len(), 1, "{out:?}");
        let reply: serde_json::Value = serde_json::from_str(&out[0]).expect("json");
        assert_eq!(reply["src"], "n1");
        assert_eq!(reply["dest"], client);
        assert_eq!(reply["body"]["type"], "error", "{reply}");
        assert_eq!(reply["body"]["code"], 22);
        assert_eq!(reply["body"]["in_reply_to"], msg_id);
        let text = reply["body"]["text"].as_str().unwrap_or_default();
        assert!(text.contains("already initialised"), "{text}");
    }
    assert_eq!(core.node_id(), "n1");
    assert_eq!(ids(run(&mut core, 2, &generate.repeat(3))), [7, 10, 13]);
}

/// A workload that exercises rpc replies, rpc timeouts and timers.
#[derive(Default)]
struct Prober {
    events: Vec<String>,
}

impl Workload for Prober {
    type Tag = u64;

    fn on_init(&mut self, ctx: &mut Ctx<'_, u64>) {
        ctx.rpc("n0", "ping", 100, 1).expect("rpc").u64("n", 1);
        ctx.rpc("n2", "ping", 100, 2).expect("rpc").u64("n", 2);
        ctx.set_timer(50, 9);
    }

    fn on_message(
        &mut self,
        _ctx: &mut Ctx<'_, u64>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        Err(RequestError::not_supported(msg.kind))
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, u64>, tag: u64) {
        self.events.push(format!("timer {tag} at {}", ctx.now()));
    }

    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_, u64>, tag: u64, reply: RpcReply<'_>) {
        let what = match reply {
            RpcReply::Ok(msg) => format!("ok {}", msg.kind),
            RpcReply::Error(code, text) => format!("error {} {text}", code.name()),
            RpcReply::Timeout => "timeout".to_string(),
        };
        self.events
            .push(format!("rpc {tag} {what} at {}", ctx.now()));
    }
}

#[test]
fn rpc_replies_timeouts_and_timers_fire_exactly_once() {
    let mut core = NodeCore::new(Prober::default(), 1);
    let out = run(&mut core, 0, &format!("{INIT}\n"));
    assert_eq!(out.len(), 3);
    assert!(out[1].contains("\"msg_id\":1") && out[2].contains("\"msg_id\":2"));
    assert_eq!(core.next_deadline(), Some(50));
    run(
        &mut core,
        10,
        "{\"src\":\"n0\",\"dest\":\"n1\",\"body\":{\"type\":\"error\",\"code\":11,\"text\":\"busy\",\"in_reply_to\":1}}\n",
    );
    core.handle_timeout(60);
    core.handle_timeout(150);
    // A late reply to the timed-out call is dropped.
    run(
        &mut core,
        160,
        "{\"src\":\"n2\",\"dest\":\"n1\",\"body\":{\"type\":\"pong\",\"in_reply_to\":2}}\n",
    );
    assert_eq!(
        core.workload().events,
        [
            "rpc 1 error temporarily-unavailable busy at 10",
            "timer 9 at 60",
            "rpc 2 timeout at 150"
        ]
    );
    assert_eq!(core.next_deadline(), None);
}

#[test]
fn transmits_locate_each_message_in_the_unchanged_output() {
    let input = format!(
        "{INIT}\n{}\n{}\n{}\n",
        r#"{"src":"c\"1","dest":"n1","body":{"type":"echo","echo":{"x":"}}\n"},"msg_id":2}}"#,
        r#"{"src":"c2","dest":"n1","body":{"type":"echo","msg_id":3}}"#,
        r#"{"src":"c3","dest":"n1","body":{"type":"echo","echo":[],"msg_id":4}}"#,
    );
    let mut plain = NodeCore::new(Echo, 1);
    let lines = run(&mut plain, 0, &input);
    let mut core = NodeCore::new(Echo, 1);
    core.record_transmits();
    core.handle_input(0, input.as_bytes());
    let mut transmits = Transmits::new();
    core.take_transmits(&mut transmits);
    assert_eq!(
        transmits.bytes(),
        format!("{}\n", lines.join("\n")).as_bytes()
    );
    let parts: Vec<(String, String, String, String)> = transmits
        .iter()
        .map(|t| {
            let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("utf8");
            (text(t.src), text(t.dest), text(t.body), text(t.line))
        })
        .collect();
    assert_eq!(parts.len(), 4);
    for ((src, dest, body, line), expected) in parts.iter().zip(&lines) {
        assert_eq!(line, expected);
        assert_eq!(src, "n1");
        assert_eq!(
            *line,
            format!("{{\"src\":\"{src}\",\"dest\":\"{dest}\",\"body\":{body}}}")
        );
    }
    assert_eq!(parts[1].1, r#"c\"1"#, "dest stays escaped");
    assert!(parts[2].2.starts_with(r#"{"type":"error""#));
    core.take_transmits(&mut transmits);
    assert!(transmits.is_empty() && transmits.bytes().is_empty());
}
