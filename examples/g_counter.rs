//! Challenge 4 on seq-kv: every op, reads too, `cas`es one key to a new value (counter × 10⁶ + ops;
//! seq-kv answers no-change ops from stale states), retried from the value a failed cas reports.
use glomers::node::kv::KvValue::{I64, Str};
use glomers::node::kv::{Kv, KvOp, KvReply, Service};
use glomers::node::{Ctx, Message, RequestError, RpcReply, Workload};
use std::collections::HashMap;
const KV: Kv = Kv::new(Service::SeqKv, 1000);
struct Op(String, u64, Option<i64>, i64);
#[derive(Default)]
struct Counter(u64, HashMap<u64, Op>);
fn cas(ctx: &mut Ctx<'_>, tag: u64, Op(_, _, delta, from): &Op) {
    let to = from + delta.unwrap_or(0) * 1_000_000 + 1;
    let _ = KV.cas(ctx, Str("counter"), I64(*from), I64(to), true, tag);
}
impl Workload for Counter {
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        let delta = (msg.kind == "add").then(|| msg.i64("delta")).transpose()?;
        self.0 += 1;
        let op = Op(msg.src.to_string(), msg.msg_id.unwrap_or(0), delta, 0);
        cas(ctx, self.0, self.1.entry(self.0).or_insert(op));
        Ok(())
    }
    fn on_rpc_reply(&mut self, ctx: &mut Ctx<'_>, tag: u64, reply: RpcReply<'_>) {
        let r = KvReply::decode(KvOp::Cas, reply);
        match self.1.remove(&tag) {
            Some(Op(c, id, None, v)) if matches!(r, KvReply::Ok) => {
                ctx.reply_to(&c, id, "read_ok").i64("value", v / 1_000_000);
            }
            Some(Op(c, id, ..)) if matches!(r, KvReply::Ok) => drop(ctx.reply_to(&c, id, "add_ok")),
            Some(mut op) => {
                op.3 = r.current_i64().unwrap_or(op.3);
                cas(ctx, tag, self.1.entry(tag).or_insert(op));
            }
            None => {}
        }
    }
}
fn main() {
    glomers::runtime::main("g-counter", Counter::default());
}
