//! `unique-ids` (MAELSTROM.md §3.2): `generate` ops; ok value = the returned id.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{ClientPolicy, ClientSide, Generator, OneRpcClient, OpSpec, Step, WorkerSlot, object};
use crate::node::rng::Rng;

/// The unique-ids client side: reusable clients, one `generate` RPC per op.
pub fn unique_ids() -> ClientSide {
    ClientSide {
        generator: Box::new(UniqueIdsGenerator),
        open_client: OneRpcClient::factory(request, reply),
        policy: ClientPolicy {
            reusable: true,
            ..ClientPolicy::DEFAULT
        },
    }
}

struct UniqueIdsGenerator;

impl Generator for UniqueIdsGenerator {
    fn next_op(&mut self, _rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        OpSpec::new("generate", OwnedValue::null())
    }
}

fn request(_op: &OpSpec) -> OwnedValue {
    object(vec![("type", "generate".into())])
}

fn reply(op: &OpSpec, body: &OwnedValue) -> Step {
    match validate(body, "generate_ok", &[("id", Kind::Any)]) {
        Ok(()) => Step::ok(body.get("id").cloned().unwrap_or_else(OwnedValue::null)),
        Err(e) => Step::malformed(op, &e),
    }
}
