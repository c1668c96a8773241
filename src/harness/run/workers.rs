//! The runner's worker side: invoking ops, matching replies, timeouts and completions
//! (MAELSTROM.md §1.4, §1.6, §2.2, §2.3).

use simd_json::OwnedValue;
use simd_json::prelude::*;

use crate::harness::clients::outcome::{
    Outcome, Pending, error_outcome, malformed_outcome, timeout_outcome,
};
use crate::harness::clients::{OpSpec, Reply};
use crate::harness::history::{OpType, Process};
use crate::harness::hosts::{MS, NodeHost, Time};
use crate::harness::net::network::{ClientRole, Delivery};
use crate::harness::run::{RunError, Runner, fatal};

impl<H: NodeHost> Runner<'_, H> {
    pub(super) fn deliver_to_client(
        &mut self,
        now: Time,
        role: ClientRole,
        delivery: Delivery,
    ) -> Result<(), RunError> {
        let body = delivery.message.body;
        let Some(in_reply_to) = body.get("in_reply_to").and_then(|v| v.as_u64()) else {
            return Ok(());
        };
        match role {
            ClientRole::Init(node) => {
                self.on_init_reply(node, in_reply_to, &delivery.message.dest, &body)
            }
            ClientRole::Setup(node) => self.on_setup_reply(node, in_reply_to, &body),
            ClientRole::Worker(thread) => {
                let matches = self
                    .workers
                    .get(thread)
                    .and_then(|w| w.pending.as_ref())
                    .is_some_and(|p| p.msg_id == in_reply_to);
                if matches {
                    self.on_worker_reply(now, thread, &body)?;
                }
                Ok(())
            }
        }
    }

    fn on_worker_reply(
        &mut self,
        now: Time,
        thread: usize,
        body: &OwnedValue,
    ) -> Result<(), RunError> {
        let Some(pending) = self.workers.get_mut(thread).and_then(|w| w.pending.take()) else {
            return Ok(());
        };
        let outcome = if body.get("type").and_then(|t| t.as_str()) == Some("error") {
            error_outcome(self.workload.as_ref(), &pending.op, body)
        } else {
            match self.workload.reply(&pending.op, body) {
                Reply::Ok(value) => Outcome {
                    op_type: OpType::Ok,
                    value,
                    error: None,
                    exception: None,
                },
                Reply::Malformed(message) => malformed_outcome(&pending.op, &message),
                Reply::Next(request) => return self.send_request(now, thread, pending.op, request),
            }
        };
        self.complete(now, thread, &pending.op, outcome);
        Ok(())
    }

    /// Gives up on requests whose deadline passed.
    pub(super) fn expire(&mut self, now: Time) -> Result<(), RunError> {
        for thread in 0..self.workers.len() {
            let expired = self.workers[thread]
                .pending
                .as_ref()
                .is_some_and(|p| p.deadline <= now);
            if expired && let Some(pending) = self.workers[thread].pending.take() {
                let outcome = timeout_outcome(self.workload.as_ref(), &pending.op);
                self.complete(now, thread, &pending.op, outcome);
            }
        }
        self.check_phase_deadline(now)
    }

    /// Starts an op on a free worker: (re)opens its client, records the invocation, sends.
    pub(super) fn invoke(&mut self, now: Time, thread: usize, op: OpSpec) -> Result<(), RunError> {
        let next_client = &mut self.next_client;
        let Some(worker) = self.workers.get_mut(thread) else {
            return Ok(());
        };
        if worker.client.is_none() || worker.replace {
            if let Some(old) = worker.client.take() {
                self.net.unregister(&old);
            }
            let name = format!("c{next_client}");
            *next_client += 1;
            self.net
                .register_client(name.clone(), ClientRole::Worker(thread));
            worker.client = Some(name);
            worker.replace = false;
            worker.next_msg_id = 1;
        }
        let process = Process::Client(worker.process);
        let index = self.history.push(
            self.relative(now),
            OpType::Invoke,
            process,
            op.f,
            op.value.clone(),
        );
        if let Some(record) = self.history.ops.get_mut(index as usize) {
            record.is_final = op.is_final;
        }
        let request = self.workload.request(&op);
        self.send_request(now, thread, op, request)
    }

    fn send_request(
        &mut self,
        now: Time,
        thread: usize,
        op: OpSpec,
        mut request: OwnedValue,
    ) -> Result<(), RunError> {
        let timeout = self.workload.timeout_ms() * MS;
        let Some(worker) = self.workers.get_mut(thread) else {
            return Ok(());
        };
        let msg_id = worker.next_msg_id;
        worker.next_msg_id += 1;
        if let Some(map) = request.as_object_mut() {
            map.insert("msg_id".to_string(), msg_id.into());
        }
        let client = worker.client.clone().unwrap_or_default();
        let node = self
            .config
            .nodes
            .get(worker.node)
            .cloned()
            .unwrap_or_default();
        worker.pending = Some(Pending {
            op,
            msg_id,
            deadline: now + timeout,
        });
        self.net.send(now, client, node, request).map_err(fatal)?;
        Ok(())
    }

    /// Records a completion, bumps the process after `info`, frees the worker.
    fn complete(&mut self, now: Time, thread: usize, op: &OpSpec, outcome: Outcome) {
        let concurrency = self.workers.len() as u64;
        let reusable = self.workload.reusable_client();
        let rel = self.relative(now);
        let Some(worker) = self.workers.get_mut(thread) else {
            return;
        };
        let process = Process::Client(worker.process);
        let index = self
            .history
            .push(rel, outcome.op_type, process, op.f, outcome.value);
        if let Some(record) = self.history.ops.get_mut(index as usize) {
            record.error = outcome.error;
            record.exception = outcome.exception;
            record.is_final = op.is_final;
        }
        match outcome.op_type {
            OpType::Ok => self.counts.ok += 1,
            OpType::Fail => self.counts.fail += 1,
            _ => {
                self.counts.info += 1;
                worker.process += concurrency;
                worker.replace = !reusable;
            }
        }
        self.free.push_back(thread);
    }
}
