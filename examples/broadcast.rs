//! Challenge 3b, simply: a new value is stored and sent once to every other node. No retries,
//! so values sent across a partition are lost (workloads/broadcast is the robust one).

use glomers::node::{Ctx, Message, RequestError, Workload};

#[derive(Default)]
struct Broadcast(Vec<u64>); // the values seen

impl Workload for Broadcast {
    type Tag = (); // no RPCs, no timers

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "broadcast" | "gossip" => {
                let value = msg.u64("message")?;
                if !self.0.contains(&value) {
                    self.0.push(value);
                    let (me, peers) = (ctx.node_id().to_string(), ctx.node_ids().to_vec());
                    for peer in peers.iter().filter(|p| **p != me) {
                        ctx.send(peer, "gossip").u64("message", value);
                    }
                }
                if msg.kind == "broadcast" {
                    ctx.reply(msg, "broadcast_ok");
                }
            }
            "read" => drop(
                ctx.reply(msg, "read_ok")
                    .u64_array("messages", self.0.clone()),
            ),
            "topology" => drop(ctx.reply(msg, "topology_ok")),
            other => return Err(RequestError::not_supported(other)),
        }
        Ok(())
    }
}

fn main() {
    glomers::runtime::main("broadcast", Broadcast::default());
}
