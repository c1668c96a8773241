//! Client requests: `read {key}`, `write {key, value}`, `cas {key, from, to}`.
//!
//! The leader serves them (reads by read-index, writes and cas through the log); a
//! follower forwards them to the leader it knows as an RPC of the same type with
//! `forwarded: true`, and relays the answer. A forwarded request is never forwarded again
//! (a non-leader answers it with 11), and the leader takes each forwarded msg_id once, so
//! a duplicated forward cannot be appended twice.

use super::Ctx;
use super::{Entry, Forward, LinKv, Op, PendingRead, Proposal, Role, Tag};
use crate::node::kv::ReplyTo;
use crate::node::{Message, RequestError, RpcReply};
use crate::wire::ErrorCode;

fn unavailable(text: &'static str) -> RequestError {
    RequestError::new(ErrorCode::TemporarilyUnavailable, text)
}

/// What a client asked for.
#[derive(Clone, Copy, Debug)]
enum Request {
    Read(i64),
    Change(Op),
}

fn parse(msg: &Message<'_>) -> Result<Request, RequestError> {
    let key = msg.i64("key")?;
    Ok(match msg.kind {
        "read" => Request::Read(key),
        "write" => Request::Change(Op::Write {
            key,
            value: msg.i64("value")?,
        }),
        _ => Request::Change(Op::Cas {
            key,
            from: msg.i64("from")?,
            to: msg.i64("to")?,
        }),
    })
}

impl LinKv {
    /// A client request (or one forwarded by a peer).
    pub(super) fn on_client(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
    ) -> Result<(), RequestError> {
        let request = parse(msg)?;
        let Some(to) = ReplyTo::of(msg) else {
            return match msg.msg_id {
                None => Ok(()), // nothing to answer, so nothing to do
                Some(_) => Err(RequestError::malformed("sender id too long")),
            };
        };
        let forwarded = msg.body.get("forwarded").and_then(|f| f.as_bool()) == Some(true);
        // Planted bug: "a read changes nothing, so any replica may answer it". A follower
        // (or a deposed leader) lags the commit index, so the read may be stale.
        #[cfg(feature = "planted-bugs")]
        if let Request::Read(key) = request
            && self.config.planted_local_read
        {
            match self.store.read(key) {
                Some(value) => drop(to.reply(ctx, "read_ok").i64("value", value)),
                None => to.error(ctx, ErrorCode::KeyDoesNotExist, "no such key"),
            }
            return Ok(());
        }
        let mut entered_at = self.me;
        if forwarded {
            let peer = self.peer(msg)?;
            entered_at = peer;
            let fresh = match (self.seen.get_mut(peer), msg.msg_id) {
                (Some(window), Some(id)) => window.first_time(id),
                _ => false,
            };
            if !fresh {
                return Ok(()); // a duplicate: the first copy is (or was) answered
            }
            if self.role != Role::Leader {
                return Err(unavailable("not the leader"));
            }
        }
        let budget = if forwarded {
            self.config.forwarded_budget_ms
        } else {
            self.config.reply_budget_ms
        };
        let deadline = ctx.now().saturating_add(budget);
        if self.role == Role::Leader {
            self.count_entry(entered_at);
            if matches!(request, Request::Change(_)) && self.transferring(ctx.now()) {
                return Err(unavailable("leadership transfer in progress"));
            }
        }
        match (self.role, self.leader) {
            (Role::Leader, _) => self.serve(ctx, to, request, deadline),
            (_, Some(leader)) if leader != self.me => self.forward(ctx, msg, to, request, leader),
            _ => Err(unavailable("no leader known")),
        }
    }

    /// As leader: queue a read, or append a change, to be answered by `deadline` at the
    /// latest. Sends after the batching delay.
    fn serve(
        &mut self,
        ctx: &mut Ctx<'_>,
        to: ReplyTo,
        request: Request,
        deadline: u64,
    ) -> Result<(), RequestError> {
        match request {
            Request::Read(key) => {
                if self.reads.len() >= self.config.max_pending {
                    return Err(unavailable("too many reads waiting"));
                }
                self.reads.push_back(PendingRead {
                    to,
                    key,
                    round: self.round + 1,
                    index: self.commit.max(self.term_start),
                    deadline,
                });
            }
            Request::Change(op) => {
                assert!(
                    self.transfer.is_none(),
                    "a write accepted during a transfer"
                );
                if self.proposals.len() >= self.config.max_pending
                    || self.log.last_index() >= self.config.max_log
                {
                    return Err(unavailable("too many writes waiting"));
                }
                let term = self.term;
                let index = self.log.push(Entry { term, op });
                let proposal = Proposal { term, to, deadline };
                if let Some(displaced) = self.proposals.insert(index, proposal) {
                    // An entry of an older term of ours was truncated from this index; it
                    // may still sit in another node's log and commit there one day.
                    displaced.to.error(
                        ctx,
                        ErrorCode::Crash,
                        "our entry was replaced; the operation may have happened",
                    );
                }
            }
        }
        self.schedule_flush(ctx);
        self.arm_deadline_check(ctx);
        Ok(())
    }

    /// As follower: send the request to the leader (an RPC), remember whom to answer.
    fn forward(
        &mut self,
        ctx: &mut Ctx<'_>,
        msg: &Message<'_>,
        to: ReplyTo,
        request: Request,
        leader: usize,
    ) -> Result<(), RequestError> {
        // Forwards are this node's only RPCs.
        if ctx.pending_rpcs() >= self.config.max_pending {
            return Err(unavailable("too many forwarded requests"));
        }
        let mutating = matches!(request, Request::Change(_));
        let tag = Tag::Forward(Forward { to, mutating });
        let timeout = self.config.reply_budget_ms;
        let name = self.names.get(leader).map_or("", String::as_str);
        let mut body = ctx
            .rpc(name, msg.kind, timeout, tag)
            .map_err(|_| unavailable("too many RPCs pending"))?;
        match request {
            Request::Read(key) => body.i64("key", key),
            Request::Change(Op::Write { key, value }) => body.i64("key", key).i64("value", value),
            Request::Change(Op::Cas { key, from, to }) => {
                body.i64("key", key).i64("from", from).i64("to", to)
            }
            Request::Change(Op::Noop) => &mut body,
        };
        body.bool("forwarded", true);
        Ok(())
    }

    /// The leader's answer to a forwarded request (or its timeout): relay it.
    pub(super) fn on_forward_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        forward: Forward,
        reply: RpcReply<'_>,
    ) {
        let to = forward.to;
        match reply {
            RpcReply::Ok(answer) => {
                let mut body = to.reply(ctx, answer.kind);
                if let Some(value) = answer.body.get("value") {
                    body.json("value", value);
                }
            }
            RpcReply::Error(code, text) => to.error(ctx, code, text),
            RpcReply::Timeout if forward.mutating => to.error(
                ctx,
                ErrorCode::Crash,
                "the leader did not answer; the operation may have happened",
            ),
            RpcReply::Timeout => to.error(
                ctx,
                ErrorCode::TemporarilyUnavailable,
                "the leader did not answer",
            ),
        }
    }
}
