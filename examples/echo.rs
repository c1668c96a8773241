//! Challenge 1 as a newcomer writes it: answer `echo` with the same value. Run it with
//! `cargo build --example echo && glomers test -w echo --bin target/debug/examples/echo
//! --node-count 1 --time-limit 10` (docs/writing-a-node.md has the rest).

use glomers::node::{Ctx, Message, RequestError, Workload};

struct Echo;

impl Workload for Echo {
    type Tag = (); // no RPCs, no timers

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "echo" => {
                ctx.reply(msg, "echo_ok").json("echo", msg.field("echo")?);
                Ok(())
            }
            other => Err(RequestError::not_supported(other)),
        }
    }
}

fn main() {
    glomers::runtime::main("echo", Echo);
}
