//! `broadcast` and `g-set` (MAELSTROM.md §3.3, §3.4): a coin flip between adding the next
//! value of one shared sequence 0, 1, 2, … and a read; one final read per worker.
//!
//! With `--extra-checks`, a quarter of the adds re-add an earlier value (drawn from the
//! rng, so a seed still fixes the run), since a set must absorb duplicates and the extra
//! checks expect set semantics; and g-set's final reads are flagged `final?` like
//! broadcast's, so the convergence check can tell them from main-phase reads.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::schema::{Kind, validate};
use super::{
    Client, ClientPolicy, ClientSide, FinalStep, Generator, OnceEach, OpSpec, Step, WorkerSlot,
    WorkloadOptions, object,
};
use crate::harness::hosts::Time;
use crate::node::rng::Rng;

/// `-w broadcast`: `broadcast`/`read` with `messages`, reads idempotent, `final?` reads.
pub fn broadcast(options: &WorkloadOptions) -> ClientSide {
    set_workload(Shape::BROADCAST, options.extra)
}

/// `-w g-set`: `add`/`read` with `value`, no error wrapper, final reads unflagged.
pub fn g_set(options: &WorkloadOptions) -> ClientSide {
    set_workload(Shape::G_SET, options.extra)
}

/// What differs between the two workloads' messages.
#[derive(Clone, Copy)]
struct Shape {
    add_f: &'static str,
    add_key: &'static str,
    read_key: &'static str,
    final_flag: bool,
}

impl Shape {
    const BROADCAST: Shape = Shape {
        add_f: "broadcast",
        add_key: "message",
        read_key: "messages",
        final_flag: true,
    };
    const G_SET: Shape = Shape {
        add_f: "add",
        add_key: "element",
        read_key: "value",
        final_flag: false,
    };
}

/// One add in this many re-adds an earlier value under `--extra-checks`.
const DUPLICATE_ODDS: u64 = 4;

fn set_workload(shape: Shape, extra: bool) -> ClientSide {
    let broadcast = shape.final_flag;
    ClientSide {
        generator: Box::new(SetGenerator {
            shape,
            extra,
            next_value: 0,
            finals: OnceEach::default(),
        }),
        open_client: Box::new(move || Box::new(SetClient { shape })),
        policy: ClientPolicy {
            error_wrapper: broadcast,
            idempotent: if broadcast { &["read"] } else { &[] },
            ..ClientPolicy::DEFAULT
        },
    }
}

/// The shared sequence of values to add.
struct SetGenerator {
    shape: Shape,
    /// `--extra-checks`: duplicate adds, flagged final reads.
    extra: bool,
    next_value: u64,
    finals: OnceEach,
}

impl Generator for SetGenerator {
    fn next_op(&mut self, rng: &mut Rng, _worker: WorkerSlot) -> OpSpec {
        if rng.coin() {
            if self.extra && self.next_value > 0 && rng.below(DUPLICATE_ODDS) == 0 {
                let again = rng.below(self.next_value);
                return OpSpec::new(self.shape.add_f, again.into());
            }
            let value = self.next_value;
            self.next_value += 1;
            OpSpec::new(self.shape.add_f, value.into())
        } else {
            OpSpec::new("read", OwnedValue::null())
        }
    }

    fn has_final_phase(&self) -> bool {
        true
    }

    fn final_step(&mut self, _rng: &mut Rng, worker: WorkerSlot, _elapsed: Time) -> FinalStep {
        let is_final = self.shape.final_flag || self.extra;
        self.finals.step(worker.thread, || OpSpec {
            is_final,
            ..OpSpec::new("read", OwnedValue::null())
        })
    }
}

struct SetClient {
    shape: Shape,
}

impl Client for SetClient {
    fn invoke(&mut self, op: &OpSpec) -> Step {
        Step::Send(match op.f {
            "read" => object(vec![("type", "read".into())]),
            f => object(vec![
                ("type", f.into()),
                (self.shape.add_key, op.value.clone()),
            ]),
        })
    }

    fn on_reply(&mut self, op: &OpSpec, body: &OwnedValue) -> Step {
        let read_key = self.shape.read_key;
        let checked = match op.f {
            "read" => validate(body, "read_ok", &[(read_key, Kind::ArrayOrNull)]),
            f => validate(body, &format!("{f}_ok"), &[]),
        };
        match checked {
            Err(e) => Step::malformed(op, &e),
            Ok(()) if op.f == "read" => {
                Step::ok(body.get(read_key).cloned().unwrap_or_else(OwnedValue::null))
            }
            Ok(()) => Step::ok(op.value.clone()),
        }
    }
}
