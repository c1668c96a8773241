//! Scripted tests of the Maelstrom services (src/harness/services), through the same
//! `service()` / `handle()` surface the runner uses, plus property tests:
//! lin-kv against a plain map model, seq-kv per-node monotonicity and read-your-writes.

use glomers::harness::services::value::clojure_eq;
use glomers::harness::services::{LwwKv, SERVICE_NAMES, SeqKv, SimulatedService, service};
use glomers::node::rng::Rng;
use proptest::prelude::*;
use simd_json::OwnedValue;
use simd_json::prelude::*;
use std::collections::HashMap;

fn json(text: &str) -> OwnedValue {
    let mut bytes = text.as_bytes().to_vec();
    simd_json::to_owned_value(&mut bytes).expect("test JSON")
}

fn call(svc: &mut dyn SimulatedService, src: &str, request: &str) -> Option<OwnedValue> {
    let reply = svc.handle(src, &json(request));
    if let Some(body) = &reply {
        assert!(
            body.get("msg_id").is_none(),
            "replies never carry msg_id: {body:?}"
        );
    }
    reply
}

/// Sends `request` and asserts the reply equals `expected` (Clojure equality on JSON).
fn expect(svc: &mut dyn SimulatedService, src: &str, request: &str, expected: &str) {
    let reply = call(svc, src, request);
    let expected = json(expected);
    match reply {
        Some(body) => assert!(
            clojure_eq(&body, &expected),
            "{request}\n got {body:?}\nwant {expected:?}"
        ),
        None => panic!("{request}: no reply, want {expected:?}"),
    }
}

/// Sends a `write` (with no msg_id) and expects a plain `write_ok`.
fn write_ok(svc: &mut dyn SimulatedService, src: &str, request: &str) {
    expect(
        svc,
        src,
        request,
        r#"{"type":"write_ok","in_reply_to":null}"#,
    );
}

fn text(reply: &OwnedValue) -> &str {
    reply.get("text").and_then(|t| t.as_str()).unwrap_or("")
}

#[test]
fn factory_knows_exactly_the_four_services() {
    for name in SERVICE_NAMES {
        assert!(service(name, Rng::new(1)).is_some(), "{name}");
    }
    assert!(service("lin-kv2", Rng::new(1)).is_none());
    assert!(service("n1", Rng::new(1)).is_none());
}

#[test]
fn lin_kv_read_write_cas_with_exact_bodies() {
    let mut kv = service("lin-kv", Rng::new(1)).expect("lin-kv");
    let kv = kv.as_mut();
    expect(
        kv,
        "n0",
        r#"{"type":"read","key":1,"msg_id":1}"#,
        r#"{"type":"error","code":20,"text":"key does not exist","in_reply_to":1}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":1,"from":1,"to":2,"msg_id":2}"#,
        r#"{"type":"error","code":20,"text":"key does not exist","in_reply_to":2}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"write","key":1,"value":3,"msg_id":3}"#,
        r#"{"type":"write_ok","in_reply_to":3}"#,
    );
    expect(
        kv,
        "n1",
        r#"{"type":"read","key":1,"msg_id":4}"#,
        r#"{"type":"read_ok","value":3,"in_reply_to":4}"#,
    );
    expect(
        kv,
        "n1",
        r#"{"type":"cas","key":1,"from":2,"to":5,"msg_id":5}"#,
        r#"{"type":"error","code":22,"text":"current value 3 is not 2","in_reply_to":5}"#,
    );
    expect(
        kv,
        "n1",
        r#"{"type":"cas","key":1,"from":3,"to":5,"msg_id":6}"#,
        r#"{"type":"cas_ok","in_reply_to":6}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"read","key":1,"msg_id":7}"#,
        r#"{"type":"read_ok","value":5,"in_reply_to":7}"#,
    );
    // create_if_not_exists: creates a missing key whatever `from` is…
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":2,"from":99,"to":"new","create_if_not_exists":true,"msg_id":8}"#,
        r#"{"type":"cas_ok","in_reply_to":8}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"read","key":2,"msg_id":9}"#,
        r#"{"type":"read_ok","value":"new","in_reply_to":9}"#,
    );
    // …but an existing key still needs `from` to match.
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":2,"from":"old","to":"x","create_if_not_exists":true,"msg_id":10}"#,
        r#"{"type":"error","code":22,"text":"current value \"new\" is not \"old\"","in_reply_to":10}"#,
    );
}

#[test]
fn lin_kv_keys_and_values_use_clojure_equality() {
    let mut kv = service("lin-kv", Rng::new(1)).expect("lin-kv");
    let kv = kv.as_mut();
    expect(
        kv,
        "n0",
        r#"{"type":"write","key":1,"value":"int key","msg_id":1}"#,
        r#"{"type":"write_ok","in_reply_to":1}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"read","key":1.0,"msg_id":2}"#,
        r#"{"type":"error","code":20,"text":"key does not exist","in_reply_to":2}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"write","key":[1,{"a":2,"b":3}],"value":{"x":1,"y":[2]},"msg_id":3}"#,
        r#"{"type":"write_ok","in_reply_to":3}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":[1,{"b":3,"a":2}],"from":{"y":[2],"x":1},"to":1,"msg_id":4}"#,
        r#"{"type":"cas_ok","in_reply_to":4}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":[1,{"a":2,"b":3}],"from":1.0,"to":2,"msg_id":5}"#,
        r#"{"type":"error","code":22,"text":"current value 1 is not 1.0","in_reply_to":5}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"write","key":"k","value":{"a":[1,null]},"msg_id":6}"#,
        r#"{"type":"write_ok","in_reply_to":6}"#,
    );
    expect(
        kv,
        "n0",
        r#"{"type":"cas","key":"k","from":null,"to":2,"msg_id":7}"#,
        r#"{"type":"error","code":22,"text":"current value {\"a\" [1 nil]} is not nil","in_reply_to":7}"#,
    );
}

#[test]
fn missing_kv_fields_read_as_null_like_the_source() {
    // (:key body) on a missing key is nil, a legal map key: no error, no silence.
    for name in ["lin-kv", "seq-kv"] {
        let mut kv = service(name, Rng::new(3)).expect(name);
        let kv = kv.as_mut();
        expect(
            kv,
            "n0",
            r#"{"type":"write","msg_id":1}"#,
            r#"{"type":"write_ok","in_reply_to":1}"#,
        );
        expect(
            kv,
            "n0",
            r#"{"type":"read","key":null,"msg_id":2}"#,
            r#"{"type":"read_ok","value":null,"in_reply_to":2}"#,
        );
        expect(
            kv,
            "n0",
            r#"{"type":"cas","to":7,"msg_id":3}"#,
            r#"{"type":"cas_ok","in_reply_to":3}"#,
        );
        expect(
            kv,
            "n0",
            r#"{"type":"read","msg_id":4}"#,
            r#"{"type":"read_ok","value":7,"in_reply_to":4}"#,
        );
    }
}

#[test]
fn unknown_or_untyped_requests_get_no_reply_from_any_service() {
    let bad = [
        r#"{"type":"delete","key":1,"msg_id":1}"#,
        r#"{"key":1,"msg_id":1}"#,
        r#"{"type":null,"msg_id":1}"#,
        r#"{"type":1,"msg_id":1}"#,
        r#"{"type":"READ","key":1,"msg_id":1}"#,
        r#"["read"]"#,
        r#""ts""#,
        "null",
    ];
    for name in SERVICE_NAMES {
        let mut svc = service(name, Rng::new(9)).expect(name);
        for request in bad {
            assert!(
                call(svc.as_mut(), "n0", request).is_none(),
                "{name}: {request}"
            );
        }
    }
    let mut tso = service("lin-tso", Rng::new(9)).expect("lin-tso");
    assert!(call(tso.as_mut(), "n0", r#"{"type":"read","key":1,"msg_id":1}"#).is_none());
}

#[test]
fn in_reply_to_is_the_msg_id_as_is_or_null() {
    let requests = [
        ("lin-kv", r#"{"type":"read","key":1}"#),
        ("seq-kv", r#"{"type":"write","key":1,"value":1}"#),
        ("lww-kv", r#"{"type":"read","key":1}"#),
        ("lin-tso", r#"{"type":"ts"}"#),
    ];
    for (name, request) in requests {
        let mut svc = service(name, Rng::new(5)).expect(name);
        let reply = call(svc.as_mut(), "n0", request).expect("reply");
        assert!(
            reply.get("in_reply_to").is_some_and(|v| v.is_null()),
            "{name}: {reply:?}"
        );
    }
    let mut tso = service("lin-tso", Rng::new(5)).expect("lin-tso");
    expect(
        tso.as_mut(),
        "n0",
        r#"{"type":"ts","msg_id":"abc"}"#,
        r#"{"type":"ts_ok","ts":0,"in_reply_to":"abc"}"#,
    );
}

#[test]
fn lin_tso_counts_from_zero_strictly_increasing() {
    let mut tso = service("lin-tso", Rng::new(5)).expect("lin-tso");
    for n in 0u64..200 {
        let src = if n % 2 == 0 { "n0" } else { "n1" };
        let request = format!(r#"{{"type":"ts","msg_id":{}}}"#, n + 1);
        let expected = format!(r#"{{"type":"ts_ok","ts":{n},"in_reply_to":{}}}"#, n + 1);
        expect(tso.as_mut(), src, &request, &expected);
    }
}

const MISSING: &str =
    r#"{"type":"error","code":20,"text":"key does not exist","in_reply_to":null}"#;

#[test]
fn seq_kv_reads_from_other_nodes_are_stale_for_every_seed() {
    for seed in 0..64 {
        let mut kv = SeqKv::new(Rng::new(seed));
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":1}"#);
        // n1 reads its own write; n2 never picks the newest state while it lags
        // (rand-int's bound is exclusive), so a read-only node stays stale forever.
        expect(
            &mut kv,
            "n1",
            r#"{"type":"read","key":"x"}"#,
            r#"{"type":"read_ok","value":1,"in_reply_to":null}"#,
        );
        for _ in 0..20 {
            expect(&mut kv, "n2", r#"{"type":"read","key":"x"}"#, MISSING);
        }
        // Any state-changing request catches n2 up.
        write_ok(&mut kv, "n2", r#"{"type":"write","key":"sync","value":1}"#);
        expect(
            &mut kv,
            "n2",
            r#"{"type":"read","key":"x"}"#,
            r#"{"type":"read_ok","value":1,"in_reply_to":null}"#,
        );
    }
}

#[test]
fn seq_kv_cas_checked_against_an_old_state_fails_with_22() {
    for seed in 0..16 {
        let mut kv = SeqKv::new(Rng::new(seed));
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":1}"#);
        write_ok(&mut kv, "n2", r#"{"type":"write","key":"y","value":0}"#);
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":2}"#);
        // n2 sits at state 2 (x = 1); the newest state has x = 2, where this cas would succeed.
        expect(
            &mut kv,
            "n2",
            r#"{"type":"cas","key":"x","from":2,"to":3}"#,
            r#"{"type":"error","code":22,"text":"current value 1 is not 2","in_reply_to":null}"#,
        );
        assert_eq!(kv.last_index(), 3);
        assert_eq!(kv.newest(&json(r#""x""#)), Some(&json("2")));
    }
}

#[test]
fn seq_kv_write_equal_to_an_old_value_is_acked_without_changing_newest() {
    for seed in 0..16 {
        let mut kv = SeqKv::new(Rng::new(seed));
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":1}"#);
        write_ok(&mut kv, "n2", r#"{"type":"write","key":"y","value":0}"#);
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":2}"#);
        write_ok(&mut kv, "n2", r#"{"type":"write","key":"x","value":1}"#);
        assert_eq!(kv.last_index(), 3, "no new state was appended");
        assert_eq!(kv.newest(&json(r#""x""#)), Some(&json("2")));
        expect(
            &mut kv,
            "n1",
            r#"{"type":"read","key":"x"}"#,
            r#"{"type":"read_ok","value":2,"in_reply_to":null}"#,
        );
        // A write that differs only as 1 vs 1.0 is a change, so it goes to the newest state.
        write_ok(&mut kv, "n2", r#"{"type":"write","key":"y","value":0.0}"#);
        assert_eq!(kv.last_index(), 4);
    }
}

fn read_value(reply: &OwnedValue) -> Option<i64> {
    reply.get("value").and_then(|v| v.as_i64())
}

#[test]
fn seq_kv_lagging_past_the_ring_buffer_can_go_back_in_time() {
    // The ring-buffer wrap quirk: a node more than 31 states behind may read a newer state
    // and then an older one. Find a seed that shows it.
    let shows_it = (0..200).any(|seed| {
        let mut kv = SeqKv::new(Rng::new(seed));
        for value in 1..=40 {
            let request = format!(r#"{{"type":"write","key":"x","value":{value}}}"#);
            call(&mut kv, "n1", &request);
        }
        let mut seen = Vec::new();
        for _ in 0..10 {
            let reply = call(&mut kv, "n2", r#"{"type":"read","key":"x"}"#).expect("reply");
            seen.push(read_value(&reply).unwrap_or(0));
        }
        seen.windows(2).any(|pair| pair[1] < pair[0])
    });
    assert!(shows_it);
}

#[test]
fn lww_kv_replicas_never_converge() {
    for seed in 0..16 {
        let mut kv = LwwKv::new(Rng::new(seed));
        write_ok(&mut kv, "n1", r#"{"type":"write","key":"x","value":1}"#);
        let (mut found, mut missing) = (0, 0);
        for _ in 0..400 {
            let reply = call(&mut kv, "n1", r#"{"type":"read","key":"x"}"#).expect("reply");
            match read_value(&reply) {
                Some(1) => found += 1,
                _ => missing += 1,
            }
        }
        assert!(
            found > 0 && missing > 0,
            "seed {seed}: {found} found, {missing} missing"
        );
        let on_replica = |r| kv.replica_value(r, &json(r#""x""#)).is_some();
        assert!(
            on_replica(0) != on_replica(1),
            "exactly one replica holds the write"
        );
    }
}

#[test]
fn lww_kv_ignores_create_if_not_exists_and_prints_from_with_str() {
    let mut kv = LwwKv::new(Rng::new(11));
    for _ in 0..50 {
        expect(
            &mut kv,
            "n1",
            r#"{"type":"cas","key":"x","from":0,"to":1,"create_if_not_exists":true}"#,
            MISSING,
        );
    }
    while !(kv.replica_value(0, &json(r#""k""#)).is_some()
        && kv.replica_value(1, &json(r#""k""#)).is_some())
    {
        call(&mut kv, "n1", r#"{"type":"write","key":"k","value":"a"}"#);
    }
    let reply = call(
        &mut kv,
        "n1",
        r#"{"type":"cas","key":"k","from":"b","to":"c"}"#,
    )
    .expect("reply");
    assert_eq!(text(&reply), r#"current value "a" is not b"#);
    let reply = call(
        &mut kv,
        "n1",
        r#"{"type":"cas","key":"k","from":null,"to":"c"}"#,
    )
    .expect("reply");
    assert_eq!(text(&reply), r#"current value "a" is not "#);
}

// ---- property tests ---------------------------------------------------------------------

/// A number in a tiny domain, as an int or as the float of the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Num {
    float: bool,
    n: i64,
}

impl Num {
    fn json(self) -> String {
        if self.float {
            format!("{}.0", self.n)
        } else {
            self.n.to_string()
        }
    }
}

fn num() -> impl Strategy<Value = Num> {
    (any::<bool>(), 0i64..3).prop_map(|(float, n)| Num { float, n })
}

#[derive(Clone, Debug)]
enum ModelOp {
    Read(Num),
    Write(Num, Num),
    Cas(Num, Num, Num, bool),
}

fn model_op() -> impl Strategy<Value = ModelOp> {
    prop_oneof![
        num().prop_map(ModelOp::Read),
        (num(), num()).prop_map(|(k, v)| ModelOp::Write(k, v)),
        (num(), num(), num(), any::<bool>()).prop_map(|(k, f, t, c)| ModelOp::Cas(k, f, t, c)),
    ]
}

/// The request, and the reply a plain `HashMap` model expects (applying the op to it).
fn model_step(model: &mut HashMap<Num, Num>, op: &ModelOp, msg_id: usize) -> (String, String) {
    const NOT_FOUND: &str = r#""type":"error","code":20,"text":"key does not exist""#;
    match op {
        ModelOp::Read(k) => (
            format!(r#"{{"type":"read","key":{},"msg_id":{msg_id}}}"#, k.json()),
            match model.get(k) {
                Some(v) => format!(
                    r#"{{"type":"read_ok","value":{},"in_reply_to":{msg_id}}}"#,
                    v.json()
                ),
                None => format!(r#"{{{NOT_FOUND},"in_reply_to":{msg_id}}}"#),
            },
        ),
        ModelOp::Write(k, v) => {
            model.insert(*k, *v);
            (
                format!(
                    r#"{{"type":"write","key":{},"value":{},"msg_id":{msg_id}}}"#,
                    k.json(),
                    v.json()
                ),
                format!(r#"{{"type":"write_ok","in_reply_to":{msg_id}}}"#),
            )
        }
        ModelOp::Cas(k, from, to, create) => {
            let request = format!(
                r#"{{"type":"cas","key":{},"from":{},"to":{},"create_if_not_exists":{create},"msg_id":{msg_id}}}"#,
                k.json(),
                from.json(),
                to.json()
            );
            let reply = match model.get(k).copied() {
                Some(current) if current == *from => {
                    model.insert(*k, *to);
                    format!(r#"{{"type":"cas_ok","in_reply_to":{msg_id}}}"#)
                }
                Some(current) => format!(
                    r#"{{"type":"error","code":22,"text":"current value {} is not {}","in_reply_to":{msg_id}}}"#,
                    current.json(),
                    from.json()
                ),
                None if *create => {
                    model.insert(*k, *to);
                    format!(r#"{{"type":"cas_ok","in_reply_to":{msg_id}}}"#)
                }
                None => format!(r#"{{{NOT_FOUND},"in_reply_to":{msg_id}}}"#),
            };
            (request, reply)
        }
    }
}

/// One seq-kv op from node `src` on key `key`; writes carry unique increasing values.
#[derive(Clone, Debug)]
struct SeqOp {
    src: usize,
    key: usize,
    kind: u8,
    guess: bool,
}

fn seq_ops(max: usize) -> impl Strategy<Value = Vec<SeqOp>> {
    let op =
        (0usize..3, 0usize..3, 0u8..3, any::<bool>()).prop_map(|(src, key, kind, guess)| SeqOp {
            src,
            key,
            kind,
            guess,
        });
    prop::collection::vec(op, 1..max)
}

/// Runs `ops` against seq-kv; returns, per (src, key), the values each read returned in
/// order (-1 for "missing") and the value of that src's last acknowledged write before it.
fn run_seq(seed: u64, ops: &[SeqOp]) -> Vec<(usize, usize, i64, i64)> {
    let mut kv = SeqKv::new(Rng::new(seed));
    let mut last_seen: HashMap<(usize, usize), i64> = HashMap::new();
    let mut own_write: HashMap<(usize, usize), i64> = HashMap::new();
    let mut reads = Vec::new();
    for (counter, op) in ops.iter().enumerate() {
        let src = format!("n{}", op.src);
        let value = counter as i64 + 1;
        let request = match op.kind {
            0 => format!(r#"{{"type":"read","key":{}}}"#, op.key),
            1 => format!(r#"{{"type":"write","key":{},"value":{value}}}"#, op.key),
            _ => {
                let from = if op.guess {
                    last_seen.get(&(op.src, op.key)).copied().unwrap_or(0)
                } else {
                    0
                };
                format!(
                    r#"{{"type":"cas","key":{},"from":{from},"to":{value}}}"#,
                    op.key
                )
            }
        };
        let reply = call(&mut kv, &src, &request).expect("seq-kv replies to KV ops");
        let kind = reply.get("type").and_then(|t| t.as_str()).unwrap_or("");
        match kind {
            "read_ok" | "error" if op.kind == 0 => {
                let seen = read_value(&reply).unwrap_or(-1);
                last_seen.insert((op.src, op.key), seen);
                let mine = own_write.get(&(op.src, op.key)).copied().unwrap_or(-1);
                reads.push((op.src, op.key, seen, mine));
            }
            "write_ok" | "cas_ok" => {
                own_write.insert((op.src, op.key), value);
                last_seen.insert((op.src, op.key), value);
            }
            _ => {}
        }
    }
    reads
}

proptest! {
    #[test]
    fn lin_kv_equals_a_hash_map_model(ops in prop::collection::vec(model_op(), 1..200)) {
        let mut kv = service("lin-kv", Rng::new(0)).expect("lin-kv");
        let mut model = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            let (request, expected) = model_step(&mut model, op, i);
            let reply = kv.handle("n0", &json(&request));
            prop_assert!(reply.as_ref().is_some_and(|r| clojure_eq(r, &json(&expected))),
                "{request}: got {reply:?}, want {expected}");
        }
    }

    /// Within the 32-state window every node observes monotonically newer states.
    #[test]
    fn seq_kv_each_node_is_monotonic(seed in any::<u64>(), ops in seq_ops(31)) {
        let mut last: HashMap<(usize, usize), i64> = HashMap::new();
        for (src, key, seen, _) in run_seq(seed, &ops) {
            let before = last.insert((src, key), seen).unwrap_or(-1);
            prop_assert!(seen >= before, "n{src} read key {key} = {seen} after {before}");
        }
    }

    /// Read-your-writes holds for any history length, ring-buffer wrap included.
    #[test]
    fn seq_kv_each_node_reads_its_writes(seed in any::<u64>(), ops in seq_ops(300)) {
        for (src, key, seen, mine) in run_seq(seed, &ops) {
            prop_assert!(seen >= mine, "n{src} read key {key} = {seen} after writing {mine}");
        }
    }
}
