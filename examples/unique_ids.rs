//! Challenge 2: globally unique ids with no coordination — this node's id plus a counter.

use glomers::node::{Ctx, Message, RequestError, Workload};

#[derive(Default)]
struct UniqueIds {
    issued: u64,
}

impl Workload for UniqueIds {
    type Tag = (); // no RPCs, no timers

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "generate" => {
                self.issued += 1;
                let id = format!("{}-{}", ctx.node_id(), self.issued);
                ctx.reply(msg, "generate_ok").str("id", &id);
                Ok(())
            }
            other => Err(RequestError::not_supported(other)),
        }
    }
}

fn main() {
    glomers::runtime::main("unique-ids", UniqueIds::default());
}
