//! `echo` (MAELSTROM.md §3.1): "Please echo N", N uniform in [0, 127]; ok value = the body.

use simd_json::OwnedValue;

use super::schema::{Kind, validate};
use super::{OpSpec, Reply, Workload, object};
use crate::node::rng::Rng;

/// The echo workload.
pub struct Echo;

impl Workload for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn next_op(&mut self, rng: &mut Rng, _thread: usize) -> OpSpec {
        OpSpec::new("echo", format!("Please echo {}", rng.below(128)).into())
    }

    fn final_op(&mut self, _thread: usize) -> Option<OpSpec> {
        None
    }

    fn request(&self, op: &OpSpec) -> OwnedValue {
        object(vec![("type", "echo".into()), ("echo", op.value.clone())])
    }

    fn reply(&self, _op: &OpSpec, body: &OwnedValue) -> Reply {
        match validate(body, "echo_ok", &[("echo", Kind::Any)]) {
            Ok(()) => Reply::Ok(body.clone()),
            Err(e) => Reply::Malformed(e),
        }
    }
}
