//! `unique-ids` (MAELSTROM.md §3.2): endless `generate`; reusable client; ok value = `id`.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{OpSpec, Reply, Workload, object};
use crate::node::rng::Rng;

/// The unique-ids workload.
pub struct UniqueIds;

impl Workload for UniqueIds {
    fn name(&self) -> &'static str {
        "unique-ids"
    }

    fn next_op(&mut self, _rng: &mut Rng, _thread: usize) -> OpSpec {
        OpSpec::new("generate", OwnedValue::null())
    }

    fn final_op(&mut self, _thread: usize) -> Option<OpSpec> {
        None
    }

    fn request(&self, _op: &OpSpec) -> OwnedValue {
        object(vec![("type", "generate".into())])
    }

    fn reply(&self, _op: &OpSpec, body: &OwnedValue) -> Reply {
        match validate(body, "generate_ok", &[("id", Kind::Any)]) {
            Ok(()) => Reply::Ok(body.get("id").cloned().unwrap_or_else(OwnedValue::null)),
            Err(e) => Reply::Malformed(e),
        }
    }

    fn reusable_client(&self) -> bool {
        true
    }
}
