//! Challenge 2, `unique-ids`: globally unique ids with no coordination at all, so the node
//! stays totally available under partitions.
//!
//! Messages: `generate` → `generate_ok {id}`. With n nodes and this node at index i of
//! `node_ids`, the k-th id is `k·n + i`: residues mod n separate the nodes and k never
//! repeats within one, so ids are unique integers (one comparable type, as the checker's
//! `:range` needs), and each costs one multiply-add.

use crate::node::{Ctx, Message, RequestError, Workload};

/// The id generator node.
#[derive(Debug, Default)]
pub struct UniqueIds {
    issued: u64,
}

impl Workload for UniqueIds {
    type Tag = ();

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message<'_>) -> Result<(), RequestError> {
        match msg.kind {
            "generate" => {
                let nodes = ctx.node_ids().len().max(1) as u64;
                let id = self
                    .issued
                    .checked_mul(nodes)
                    .and_then(|base| base.checked_add(ctx.node_index() as u64))
                    .ok_or_else(|| {
                        RequestError::new(crate::wire::ErrorCode::Abort, "id space exhausted")
                    })?;
                self.issued += 1;
                ctx.reply(msg, "generate_ok").u64("id", id);
                Ok(())
            }
            other => Err(RequestError::not_supported(other)),
        }
    }
}
