//! Challenge 1, `echo`: reply with the same `echo` value.
//!
//! Messages: `echo {echo}` → `echo_ok {echo}`. The value is passed through as parsed
//! (any JSON), never re-allocated: it is copied from the input tape into the output.

use crate::node::{Ctx, Message, RequestError, Workload};

/// The echo node.
#[derive(Debug, Default)]
pub struct Echo;

impl Workload for Echo {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "echo" => {
                let value = msg.field("echo")?;
                ctx.reply(msg, "echo_ok").json("echo", value);
                Ok(())
            }
            other => Err(RequestError::not_supported(other)),
        }
    }
}
