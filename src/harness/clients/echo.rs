//! `echo` (MAELSTROM.md §3.1): "Please echo N", N uniform in [0, 127]; ok value = the body.

use simd_json::OwnedValue;

use super::schema::{Kind, validate};
use super::{ClientPolicy, ClientSide, Generator, OneRpcClient, OpSpec, Step, WorkerSlot, object};
use crate::node::rng::Rng;

/// The echo client side: non-reusable clients, one `echo` RPC per op.
pub fn echo() -> ClientSide {
    ClientSide {
        generator: Box::new(EchoGenerator),
        open_client: OneRpcClient::factory(request, reply),
        policy: ClientPolicy::DEFAULT,
    }
}

struct EchoGenerator;

impl Generator for EchoGenerator {
    fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        OpSpec::new("echo", format!("Please echo {}", rng.below(128)).into())
    }
}

fn request(op: &OpSpec) -> OwnedValue {
    object(vec![("type", "echo".into()), ("echo", op.value.clone())])
}

fn reply(op: &OpSpec, body: &OwnedValue) -> Step {
    match validate(body, "echo_ok", &[("echo", Kind::Any)]) {
        Ok(()) => Step::ok(body.clone()),
        Err(e) => Step::malformed(op, &e),
    }
}
