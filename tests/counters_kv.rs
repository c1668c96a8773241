//! The KV-service client (`glomers::node::kv`) against the harness's own lin-kv and lww-kv:
//! every request shape it builds is accepted, and every reply decodes to the right
//! outcome (value, ok, 20, 22 with its current value, lww-kv ignoring
//! `create_if_not_exists`).

mod counters_support;

use counters_support::Cluster;
use glomers::node::kv::{Kv, KvOp, KvReply, KvValue, Service};
use glomers::node::{Ctx, Message, RequestError, RpcReply, Workload};

/// Runs a fixed script of KV requests, one at a time, and records each decoded outcome.
struct Probe {
    kv: Kv,
    step: u32,
    log: Vec<String>,
}

impl Probe {
    fn next(&mut self, ctx: &mut Ctx<'_, (KvOp, u32)>) {
        let kv = self.kv;
        let step = self.step;
        self.step += 1;
        let t = |op| (op, step);
        let key = KvValue::Str("k");
        let sent = match step {
            0 => kv.write(ctx, key, KvValue::U64(1), t(KvOp::Write)),
            1 => kv.read(ctx, key, t(KvOp::Read)),
            2 => kv.cas(
                ctx,
                key,
                KvValue::U64(1),
                KvValue::I64(-2),
                false,
                t(KvOp::Cas),
            ),
            3 => kv.cas(
                ctx,
                key,
                KvValue::U64(1),
                KvValue::U64(3),
                false,
                t(KvOp::Cas),
            ),
            4 => kv.read(ctx, KvValue::U64(77), t(KvOp::Read)),
            5 => kv.cas(
                ctx,
                KvValue::U64(77),
                KvValue::U64(0),
                KvValue::U64(5),
                false,
                t(KvOp::Cas),
            ),
            6 => kv.cas(
                ctx,
                KvValue::U64(77),
                KvValue::U64(0),
                KvValue::Raw(b"[1,\"a\"]"),
                true,
                t(KvOp::Cas),
            ),
            7 => kv.read(ctx, KvValue::U64(77), t(KvOp::Read)),
            _ => return,
        };
        sent.expect("rpc");
    }
}

impl Workload for Probe {
    /// The request's kind and its step in the script.
    type Tag = (KvOp, u32);

    fn on_init(&mut self, ctx: &mut Ctx<'_, (KvOp, u32)>) {
        self.next(ctx);
    }

    fn on_message(
        &mut self,
        _ctx: &mut Ctx<'_, (KvOp, u32)>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        Err(RequestError::not_supported(msg.kind))
    }

    fn on_rpc_reply(
        &mut self,
        ctx: &mut Ctx<'_, (KvOp, u32)>,
        tag: (KvOp, u32),
        reply: RpcReply<'_>,
    ) {
        let (op, step) = tag;
        assert_eq!(step + 1, self.step, "replies come back in order, tagged");
        let outcome = KvReply::decode(op, reply);
        let text = match outcome {
            KvReply::Value(value) => format!("value {}", glomers_json(value)),
            KvReply::Ok => "ok".to_string(),
            KvReply::KeyDoesNotExist => "20".to_string(),
            KvReply::PreconditionFailed(_) => format!("22 current {:?}", outcome.current_i64()),
            KvReply::Error(code, text) => format!("error {} {text}", code.code()),
            KvReply::Timeout => "timeout".to_string(),
        };
        self.log.push(text);
        self.next(ctx);
    }
}

fn glomers_json(value: glomers::wire::Json<'_>) -> String {
    let mut out = Vec::new();
    glomers::wire::writer::write_json(&mut out, value);
    String::from_utf8(out).expect("utf8")
}

fn run(service: Service) -> Vec<String> {
    let probe = Probe {
        kv: Kv::new(service, 1000),
        step: 0,
        log: Vec::new(),
    };
    let mut cluster = Cluster::new(vec![probe], 5, 3);
    cluster.run_until(1000);
    cluster.nodes[0].workload().log.clone()
}

#[test]
fn lin_kv_outcomes_decode() {
    assert_eq!(
        run(Service::LinKv),
        [
            "ok",
            "value 1",
            "ok",
            "22 current Some(-2)",
            "20",
            "20",
            "ok",
            "value [1,\"a\"]"
        ]
    );
}

#[test]
fn lww_kv_never_creates_on_cas() {
    let log = run(Service::LwwKv);
    assert_eq!(log[5], "20");
    assert_eq!(log[6], "20", "lww-kv ignores create_if_not_exists");
    assert_eq!(log[7], "20");
}
