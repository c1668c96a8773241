//! Input batches parsed where the framer holds them (src/wire/batch.rs), checked against
//! replies predicted line by line: escaped and unicode-escaped echo values, lines split
//! across reads anywhere, malformed lines mixed with good ones in one batch, a one-byte
//! output limit that puts parsed lines back into the framer, and huge lines.

use glomers::node::NodeCore;
use glomers::node::core::MAX_LINE;
use glomers::workloads::Echo;
use proptest::prelude::*;
use serde_json::{Value, json};

const INIT: &str = r#"{"src":"c0","dest":"n0","body":{"type":"init","node_id":"n0","node_ids":["n0"],"msg_id":1}}"#;

/// One input line and what the node must answer to it.
#[derive(Clone, Debug)]
struct Line {
    text: String,
    /// `(src, in_reply_to, type, echo value or error code)`; `None`: no reply at all.
    reply: Option<(String, u64, &'static str, Value)>,
}

/// Echo values as they appear in the input (JSON text) and as they must come back.
const VALUES: &[(&str, &str)] = &[
    (r#""Please echo 7""#, "Please echo 7"),
    (r#""a\"b\\c\/d""#, "a\"b\\c/d"),
    (r#""line\nbreak\ttab\r\u0001""#, "line\nbreak\ttab\r\u{1}"),
    (r#""\u00e9t\u00E9 \u4e2d""#, "été 中"),
    (r#""\ud83d\ude00 and \u2028""#, "😀 and \u{2028}"),
    (r#""raw é 中 😀""#, "raw é 中 😀"),
    (r#""""#, ""),
    (r#""}],[{\",\"""#, "}],[{\",\""),
];

/// A line of kind `kind` (0..10) with `msg_id` `id`.
fn line(kind: u8, id: u64) -> Line {
    let src = format!("c{}", id % 7);
    let echo = |value: &str| {
        format!(
            r#"{{"src":"{src}","dest":"n0","body":{{"type":"echo","echo":{value},"msg_id":{id}}}}}"#
        )
    };
    let answer = |value: Value| Some((src.clone(), id, "echo_ok", value));
    match kind {
        0..=3 => {
            let (text, value) = VALUES[(id as usize + kind as usize) % VALUES.len()];
            Line {
                text: echo(text),
                reply: answer(json!(value)),
            }
        }
        4 => Line {
            text: echo(r#"{"a":[1,-2,3.5,null,true,{"b":"\u0041"}],"c":18446744073709551615}"#),
            reply: answer(json!({"a":[1,-2,3.5,null,true,{"b":"A"}],"c":18446744073709551615_u64})),
        },
        // Invalid JSON whose sender and msg_id can be read: error 12.
        5 => Line {
            text: format!(
                r#"{{"src":"{src}","dest":"n0","body":{{"type":"echo","msg_id":{id},"echo":}}"#
            ),
            reply: Some((src.clone(), id, "error", json!(12))),
        },
        // Halves of a value that are valid together, and a line of two values.
        6 => Line {
            text: r#"{"a":[1"#.to_string(),
            reply: None,
        },
        7 => Line {
            text: r#"2]}"#.to_string(),
            reply: None,
        },
        8 => Line {
            text: r#"{"c":3},{"d":4}"#.to_string(),
            reply: None,
        },
        // Valid JSON, not a message, no msg_id: nothing. Blank lines: nothing.
        9 => Line {
            text: "[1,2]".to_string(),
            reply: None,
        },
        _ => Line {
            text: " \t".to_string(),
            reply: None,
        },
    }
}

/// The input bytes (after `init`), line ends alternating `\n` and `\r\n`.
fn input_of(lines: &[Line]) -> Vec<u8> {
    let mut input = format!("{INIT}\n").into_bytes();
    for (index, line) in lines.iter().enumerate() {
        input.extend_from_slice(line.text.as_bytes());
        input.extend_from_slice(if index % 2 == 0 { b"\n" } else { b"\r\n" });
    }
    input
}

/// The replies predicted for `lines`, after `init_ok`.
fn expected(lines: &[Line]) -> Vec<(String, u64, String, Value)> {
    lines
        .iter()
        .filter_map(|line| line.reply.clone())
        .map(|(src, id, kind, value)| (src, id, kind.to_string(), value))
        .collect()
}

/// The node's replies, `init_ok` checked and dropped, each reduced to
/// `(dest, in_reply_to, type, echo value or error code)`.
fn replies(output: &[u8]) -> Vec<(String, u64, String, Value)> {
    let mut lines = output.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let init_ok: Value = serde_json::from_slice(lines.next().expect("init_ok")).expect("json");
    assert_eq!(init_ok["body"]["type"], "init_ok");
    lines
        .map(|line| {
            let reply: Value = serde_json::from_slice(line).expect("every output line is JSON");
            let body = &reply["body"];
            let kind = body["type"].as_str().expect("type").to_string();
            let value = if kind == "error" {
                body["code"].clone()
            } else {
                body["echo"].clone()
            };
            let dest = reply["dest"].as_str().expect("dest").to_string();
            let in_reply_to = body["in_reply_to"].as_u64().expect("in_reply_to");
            (dest, in_reply_to, kind, value)
        })
        .collect()
}

/// Feeds `input` in pieces ending at `cuts` (positions, any order), draining output and
/// resuming held input after every piece when `limit` is set.
fn run(input: &[u8], cuts: &[usize], limit: Option<usize>) -> Vec<u8> {
    let mut core = NodeCore::new(Echo, 1);
    if let Some(bytes) = limit {
        core = core.with_output_limit(bytes);
    }
    let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut % (input.len() + 1)).collect();
    cuts.push(input.len());
    cuts.sort_unstable();
    let (mut output, mut taken, mut from) = (Vec::new(), Vec::new(), 0);
    for cut in cuts {
        core.handle_input(0, &input[from..cut]);
        from = cut;
        for round in 0.. {
            core.take_output(&mut taken);
            output.extend_from_slice(&taken);
            if !core.input_held() {
                break;
            }
            assert!(round < 100_000, "held input never drains");
            core.resume_input(0);
        }
    }
    output
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_line_gets_its_own_reply_however_the_input_is_split(
        kinds in prop::collection::vec(0u8..=10, 1..60),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        held in any::<bool>(),
    ) {
        let lines: Vec<Line> = kinds
            .iter()
            .enumerate()
            .map(|(index, &kind)| line(kind, index as u64 + 2))
            .collect();
        let input = input_of(&lines);
        let limit = held.then_some(1);
        prop_assert_eq!(replies(&run(&input, &cuts, limit)), expected(&lines));
    }
}

#[test]
fn clean_batches_and_batches_with_escapes_give_the_same_replies_in_every_split() {
    // Every kind in turn: small reads give batches without a backslash (parsed in place)
    // and batches with one (parsed from a copy); larger ones mix every kind.
    let lines: Vec<Line> = (0..200)
        .map(|index| line((index % 11) as u8, index + 2))
        .collect();
    let input = input_of(&lines);
    let want = expected(&lines);
    assert_eq!(
        want.len(),
        18 * 6 + 2,
        "18 rounds of 11 kinds, 6 answered, then 2 answered"
    );
    for step in [1, 2, 3, 7, 64, 95, 96, 97, 4096] {
        let cuts: Vec<usize> = (step..input.len()).step_by(step).collect();
        assert_eq!(
            replies(&run(&input, &cuts, None)),
            want,
            "reads of {step} bytes"
        );
        assert_eq!(replies(&run(&input, &cuts, Some(1))), want, "held, {step}");
    }
}

#[test]
fn huge_lines_in_a_batch() {
    // A 2 MiB value is answered; a line over the cap is dropped alone, wherever it falls.
    let big = "é".repeat(1 << 20);
    let over = "x".repeat(MAX_LINE + 1);
    let lines = vec![
        line(0, 2),
        Line {
            text: format!(
                r#"{{"src":"c1","dest":"n0","body":{{"type":"echo","echo":"{big}","msg_id":3}}}}"#
            ),
            reply: Some(("c1".into(), 3, "echo_ok", json!(big))),
        },
        line(1, 4),
        Line {
            text: over.clone(),
            reply: None,
        },
        line(5, 5),
        line(3, 6),
        Line {
            text: format!("{over}{over}"),
            reply: None,
        },
        line(0, 7),
    ];
    let input = input_of(&lines);
    let want = expected(&lines);
    for cuts in [vec![], vec![1 << 16, 5 << 20, (3 * MAX_LINE) / 2 + 7]] {
        assert_eq!(replies(&run(&input, &cuts, None)), want);
        assert_eq!(replies(&run(&input, &cuts, Some(1))), want);
    }
}
