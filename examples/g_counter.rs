//! Challenge 4 on seq-kv: every op, reads too, `cas`es one key to a new value (counter × 10⁶ + ops;
//! seq-kv answers no-change ops from stale states), retried from the value a failed cas reports.
use glomers::node::kv::{Kv, KvOp, KvReply, KvValue::I64, KvValue::Str, ReplyTo, Service};
use glomers::node::{Ctx, Message, RequestError, RpcReply, Workload};
/// A client's add (or read: no delta) as a cas from `from`; it is its own RPC tag.
#[derive(Clone, Copy, Debug)]
struct Op {
    to: ReplyTo,
    delta: Option<i64>,
    from: i64,
}
fn cas(ctx: &mut Ctx<'_, Op>, op: Op) {
    let to = op.from + op.delta.unwrap_or(0) * 1_000_000 + 1;
    let _ = Kv::new(Service::SeqKv, 1000).cas(ctx, Str("counter"), I64(op.from), I64(to), true, op);
}
struct Counter;
impl Workload for Counter {
    type Tag = Op;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Op>, msg: &Message<'_>) -> Result<(), RequestError> {
        let delta = (msg.kind == "add").then(|| msg.i64("delta")).transpose()?;
        if let Some(to) = ReplyTo::for_request(msg)? {
            cas(ctx, Op { to, delta, from: 0 });
        }
        Ok(())
    }
    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_, Op>, op: Op, reply: RpcReply<'_>) {
        let (reply, value) = (KvReply::decode(KvOp::Cas, reply), op.from / 1_000_000);
        match (reply, op.delta) {
            (KvReply::Ok, None) => drop(op.to.reply(ctx, "read_ok").i64("value", value)),
            (KvReply::Ok, Some(_)) => drop(op.to.reply(ctx, "add_ok")),
            (failed, _) => {
                let from = failed.current_i64().unwrap_or(op.from);
                cas(ctx, Op { from, ..op });
            }
        }
    }
}
fn main() {
    glomers::runtime::main("g-counter", Counter);
}
