//! `g-counter` and `pn-counter` (MAELSTROM.md §3.5, §3.6): a coin flip between an add of
//! d ∈ [−5, 4] (g-counter redraws negatives) and a read; one `final?` read per worker.
//! No error wrapper: every error or timeout is `info`.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{
    ClientPolicy, ClientSide, FinalStep, Generator, OnceEach, OneRpcClient, OpSpec, Step,
    WorkerSlot, object,
};
use crate::harness::hosts::Time;
use crate::node::rng::Rng;

/// The client side of `pn-counter` when `negative`, else of `g-counter`.
pub fn counters(negative: bool) -> ClientSide {
    ClientSide {
        generator: Box::new(CounterGenerator {
            negative,
            finals: OnceEach::default(),
        }),
        open_client: OneRpcClient::factory(request, reply),
        policy: ClientPolicy {
            error_wrapper: false,
            ..ClientPolicy::DEFAULT
        },
    }
}

struct CounterGenerator {
    negative: bool,
    finals: OnceEach,
}

impl Generator for CounterGenerator {
    fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        // Jepsen's g-counter filters negative adds out of the pn stream, so a g-counter op
        // is redrawn as a whole (coin included): ⅓ adds, ⅔ reads.
        for _ in 0..1000 {
            if !rng.coin() {
                return OpSpec::new("read", OwnedValue::null());
            }
            let delta = rng.range_inclusive(-5, 4);
            if self.negative || delta >= 0 {
                return OpSpec::new("add", delta.into());
            }
        }
        OpSpec::new("read", OwnedValue::null())
    }

    fn has_final_phase(&self) -> bool {
        true
    }

    fn final_step(&mut self, _rng: &mut Rng, worker: WorkerSlot, _elapsed: Time) -> FinalStep {
        self.finals.step(worker.thread, || {
            OpSpec::final_op("read", OwnedValue::null())
        })
    }
}

fn request(op: &OpSpec) -> OwnedValue {
    match op.f {
        "add" => object(vec![("type", "add".into()), ("delta", op.value.clone())]),
        _ => object(vec![("type", "read".into())]),
    }
}

fn reply(op: &OpSpec, body: &OwnedValue) -> Step {
    let checked = match op.f {
        "add" => validate(body, "add_ok", &[]),
        _ => validate(body, "read_ok", &[("value", Kind::Int)]),
    };
    match checked {
        Err(e) => Step::malformed(op, &e),
        Ok(()) if op.f == "add" => Step::ok(op.value.clone()),
        Ok(()) => Step::ok(body.get("value").cloned().unwrap_or_else(OwnedValue::null)),
    }
}
