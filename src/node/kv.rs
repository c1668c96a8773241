//! A client for Maelstrom's key-value services (`lin-kv`, `seq-kv`, `lww-kv`;
//! MAELSTROM.md §4.1) and its timestamp oracle (`lin-tso`, §4.2), plus the two small
//! pieces every KV-backed workload needs: a bounded table of pending operations, and a
//! client address kept inline so that a deferred reply costs no allocation.
//!
//! Requests go out through [`Ctx::rpc`], so the reply, an `error`, or the timeout comes
//! back exactly once to [`crate::node::Workload::on_rpc_reply`] with the caller's own tag
//! (say `Tag::Cas { key }`); [`KvReply::decode`] turns that into a typed outcome. Nothing
//! here allocates: keys and values are written straight into the node's output buffer,
//! and replies are borrowed views of the input batch.
//!
//! Messages sent: `read {key}`, `write {key, value}`, `cas {key, from, to,
//! create_if_not_exists?}` to a KV service, `ts` to `lin-tso`; no timers (timeouts are the
//! core's).

use super::ctx::{Ctx, RpcRefused};
use super::timers::Millis;
use super::workload::RpcReply;
use crate::wire::{ErrorCode, Json, ObjectWriter};

/// Which Maelstrom KV service to talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `lin-kv`: linearizable.
    LinKv,
    /// `seq-kv`: sequentially consistent; reads may be stale (see [`Kv`]).
    SeqKv,
    /// `lww-kv`: last-write-wins; anything may be stale or lost, and cas never creates.
    LwwKv,
    /// `lin-tso`: a linearizable timestamp oracle (only [`Kv::ts`]).
    LinTso,
}

impl Service {
    /// The service's node id on the Maelstrom network.
    pub fn id(self) -> &'static str {
        match self {
            Service::LinKv => "lin-kv",
            Service::SeqKv => "seq-kv",
            Service::LwwKv => "lww-kv",
            Service::LinTso => "lin-tso",
        }
    }
}

/// A JSON key or value to send. Kafka keys are strings, txn keys integers, counters
/// integers; [`KvValue::Raw`] carries anything the caller serialised into its own scratch
/// buffer (a list, an object), and [`KvValue::Json`] passes a parsed value through.
#[derive(Clone, Copy, Debug)]
pub enum KvValue<'a> {
    /// A JSON string.
    Str(&'a str),
    /// A non-negative integer.
    U64(u64),
    /// An integer.
    I64(i64),
    /// A parsed value, copied through.
    Json(Json<'a>),
    /// Bytes that already are one valid JSON value.
    Raw(&'a [u8]),
    /// An array of non-negative integers (written straight from the slice).
    U64Array(&'a [u64]),
}

impl KvValue<'_> {
    fn write(self, body: &mut ObjectWriter<'_>, field: &str) {
        match self {
            KvValue::Str(text) => body.str(field, text),
            KvValue::U64(value) => body.u64(field, value),
            KvValue::I64(value) => body.i64(field, value),
            KvValue::Json(value) => body.json(field, value),
            KvValue::Raw(bytes) => body.raw(field, bytes),
            KvValue::U64Array(values) => body.u64_array(field, values.iter().copied()),
        };
    }
}

/// The kind of request a reply answers, for checking the reply type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// `read` → `read_ok {value}`.
    Read,
    /// `write` → `write_ok`.
    Write,
    /// `cas` → `cas_ok`.
    Cas,
    /// `ts` (lin-tso) → `ts_ok {ts}`, decoded as a [`KvReply::Value`].
    Ts,
}

impl KvOp {
    fn ok_kind(self) -> &'static str {
        match self {
            KvOp::Read => "read_ok",
            KvOp::Write => "write_ok",
            KvOp::Cas => "cas_ok",
            KvOp::Ts => "ts_ok",
        }
    }
}

/// The outcome of a KV request, decoded from an [`RpcReply`].
#[derive(Clone, Copy, Debug)]
pub enum KvReply<'a> {
    /// `read_ok`: the value read (for `ts_ok`, the timestamp).
    Value(Json<'a>),
    /// `write_ok` or `cas_ok`.
    Ok,
    /// Error 20: the key is missing (definite: nothing changed).
    KeyDoesNotExist,
    /// Error 22: the cas `from` did not match (definite). The text is
    /// `current value <cur> is not <from>`; see [`KvReply::current_i64`].
    PreconditionFailed(&'a str),
    /// Any other error reply (code and text), or a reply of the wrong type or shape
    /// (reported as [`ErrorCode::Crash`]: the outcome is unknown).
    Error(ErrorCode, &'a str),
    /// No reply before the timeout: the request may or may not have taken effect.
    Timeout,
}

impl<'a> KvReply<'a> {
    /// Decodes the reply to a request of kind `op`.
    pub fn decode(op: KvOp, reply: RpcReply<'a>) -> Self {
        match reply {
            RpcReply::Timeout => KvReply::Timeout,
            RpcReply::Error(ErrorCode::KeyDoesNotExist, _) => KvReply::KeyDoesNotExist,
            RpcReply::Error(ErrorCode::PreconditionFailed, text) => {
                KvReply::PreconditionFailed(text)
            }
            RpcReply::Error(code, text) => KvReply::Error(code, text),
            RpcReply::Ok(msg) if msg.kind != op.ok_kind() => KvReply::Error(
                ErrorCode::Crash,
                "unexpected reply type from the KV service",
            ),
            RpcReply::Ok(msg) => match op {
                KvOp::Read => match msg.body.get("value") {
                    Some(value) => KvReply::Value(value),
                    None => KvReply::Error(ErrorCode::Crash, "read_ok without a value"),
                },
                KvOp::Ts => match msg.body.get("ts") {
                    Some(ts) if ts.as_u64().is_some() => KvReply::Value(ts),
                    _ => KvReply::Error(ErrorCode::Crash, "ts_ok without a timestamp"),
                },
                KvOp::Write | KvOp::Cas => KvReply::Ok,
            },
        }
    }

    /// True when the request surely did not take effect (a definite error).
    pub fn is_definite_failure(&self) -> bool {
        match self {
            KvReply::KeyDoesNotExist | KvReply::PreconditionFailed(_) => true,
            KvReply::Error(code, _) => code.is_definite(),
            KvReply::Value(_) | KvReply::Ok | KvReply::Timeout => false,
        }
    }

    /// For a failed cas on an integer register: the current value the service reported
    /// (`current value 12 is not 10` → 12). Saves a read before retrying; `None` when
    /// the text has another shape or the value is not an integer.
    pub fn current_i64(&self) -> Option<i64> {
        let KvReply::PreconditionFailed(text) = self else {
            return None;
        };
        let rest = text.strip_prefix("current value ")?;
        let end = rest.find(" is not ")?;
        rest[..end].parse().ok()
    }
}

/// A KV client: which service, and how long to wait for each reply.
#[derive(Clone, Copy, Debug)]
pub struct Kv {
    /// The service addressed.
    pub service: Service,
    /// Per-request timeout. Services never drop requests (they are never partitioned),
    /// so a timeout means a slow network, and the request may still take effect.
    pub timeout_ms: Millis,
}

impl Kv {
    /// A client for `service` with a per-request timeout.
    pub const fn new(service: Service, timeout_ms: Millis) -> Self {
        Kv {
            service,
            timeout_ms,
        }
    }

    /// Asks `lin-tso` for a timestamp (the service of `self` is ignored); the outcome
    /// arrives with `tag` ([`KvOp::Ts`]: a [`KvReply::Value`] holding the number).
    pub fn ts<T>(&self, ctx: &mut Ctx<'_, T>, tag: T) -> Result<(), RpcRefused> {
        ctx.rpc(Service::LinTso.id(), "ts", self.timeout_ms, tag)?;
        Ok(())
    }

    /// Sends `read {key}`; the outcome arrives with `tag` ([`KvOp::Read`]).
    pub fn read<T>(
        &self,
        ctx: &mut Ctx<'_, T>,
        key: KvValue<'_>,
        tag: T,
    ) -> Result<(), RpcRefused> {
        let mut body = ctx.rpc(self.service.id(), "read", self.timeout_ms, tag)?;
        key.write(&mut body, "key");
        Ok(())
    }

    /// Sends `write {key, value}`; the outcome arrives with `tag` ([`KvOp::Write`]).
    pub fn write<T>(
        &self,
        ctx: &mut Ctx<'_, T>,
        key: KvValue<'_>,
        value: KvValue<'_>,
        tag: T,
    ) -> Result<(), RpcRefused> {
        let mut body = ctx.rpc(self.service.id(), "write", self.timeout_ms, tag)?;
        key.write(&mut body, "key");
        value.write(&mut body, "value");
        Ok(())
    }

    /// Sends `cas {key, from, to}` (with `create_if_not_exists: true` when `create`; lww-kv
    /// ignores that flag). The outcome arrives with `tag` ([`KvOp::Cas`]).
    pub fn cas<T>(
        &self,
        ctx: &mut Ctx<'_, T>,
        key: KvValue<'_>,
        from: KvValue<'_>,
        to: KvValue<'_>,
        create: bool,
        tag: T,
    ) -> Result<(), RpcRefused> {
        let mut body = ctx.rpc(self.service.id(), "cas", self.timeout_ms, tag)?;
        key.write(&mut body, "key");
        from.write(&mut body, "from");
        to.write(&mut body, "to");
        if create {
            body.bool("create_if_not_exists", true);
        }
        Ok(())
    }
}

/// A bounded table of operations waiting for RPC outcomes, addressed by slot number (put
/// the slot into the RPC's tag, e.g. `Tag::Fetch { slot }`). Slots are reused; the table never grows past
/// its capacity, so a flood of requests gets [`Pending::insert`] = `None` (answer those
/// with a definite error) instead of unbounded memory.
#[derive(Debug)]
pub struct Pending<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Pending<T> {
    /// An empty table with room for `capacity` operations (allocated up front).
    pub fn with_capacity(capacity: u32) -> Self {
        Pending {
            slots: (0..capacity).map(|_| None).collect(),
            free: (0..capacity).rev().collect(),
        }
    }

    /// Stores `value` and returns its slot, or `None` when full.
    pub fn insert(&mut self, value: T) -> Option<u32> {
        let slot = self.free.pop()?;
        let entry = self.slots.get_mut(slot as usize)?;
        assert!(entry.is_none(), "free slot {slot} in use");
        *entry = Some(value);
        Some(slot)
    }

    /// The operation in `slot`, if any.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Removes and returns the operation in `slot` (a stale or unknown slot gives `None`).
    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let value = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(value)
    }

    /// Every pending operation with its slot (for deadline checks).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(slot, entry)| Some((slot as u32, entry.as_mut()?)))
    }

    /// Number of operations in the table.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// True when no operation is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Longest sender id a [`ReplyTo`] keeps (Maelstrom's are `c123`, `n4`).
pub const REPLY_TO_MAX_ID: usize = 22;

/// Where to send a deferred reply: the request's `src` and `msg_id`, stored inline (no
/// heap), so queues of waiting client requests allocate nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyTo {
    id: [u8; REPLY_TO_MAX_ID],
    id_len: u8,
    /// The request's `msg_id`, sent back as `in_reply_to`.
    pub msg_id: u64,
}

impl ReplyTo {
    /// The address of `msg`'s sender, or `None` when it has no msg_id (nothing to answer)
    /// or an id longer than [`REPLY_TO_MAX_ID`] bytes.
    pub fn of(msg: &super::Message<'_>) -> Option<Self> {
        let msg_id = msg.msg_id?;
        let bytes = msg.src.as_bytes();
        let mut id = [0u8; REPLY_TO_MAX_ID];
        id.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(ReplyTo {
            id,
            id_len: bytes.len() as u8,
            msg_id,
        })
    }

    /// The address to answer request `msg` at later: `Ok(None)` when it has no msg_id
    /// (nothing to answer), an `abort` error when its sender id is too long to keep.
    pub fn for_request(msg: &super::Message<'_>) -> Result<Option<Self>, super::RequestError> {
        match (ReplyTo::of(msg), msg.msg_id) {
            (None, Some(_)) => Err(super::RequestError::new(
                ErrorCode::Abort,
                "sender id too long",
            )),
            (to, _) => Ok(to),
        }
    }

    /// The sender's id.
    pub fn src(&self) -> &str {
        // Copied from a &str, so always valid UTF-8 up to id_len.
        std::str::from_utf8(&self.id[..usize::from(self.id_len)]).unwrap_or("")
    }

    /// Starts the reply of type `kind` (with `in_reply_to`); add fields to the writer.
    pub fn reply<'c, T>(&self, ctx: &'c mut Ctx<'_, T>, kind: &str) -> ObjectWriter<'c> {
        let mut body = ctx.send(self.src(), kind);
        body.u64("in_reply_to", self.msg_id);
        body
    }

    /// Sends an `error` reply with `code` and `text`.
    pub fn error<T>(&self, ctx: &mut Ctx<'_, T>, code: ErrorCode, text: &str) {
        self.reply(ctx, "error")
            .u64("code", code.code())
            .str("text", text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_slots_are_reused() {
        let mut pending = Pending::with_capacity(2);
        let a = pending.insert("a").expect("room");
        let b = pending.insert("b").expect("room");
        assert_eq!(pending.insert("c"), None);
        assert_eq!(pending.remove(a), Some("a"));
        assert_eq!(pending.remove(a), None, "removed twice");
        assert_eq!(pending.insert("d"), Some(a));
        assert_eq!(pending.get_mut(b).map(|v| *v), Some("b"));
        assert_eq!(pending.len(), 2);
        assert_eq!(pending.remove(99), None);
    }

    #[test]
    fn current_value_is_parsed_from_precondition_text() {
        let failed = KvReply::PreconditionFailed("current value 12 is not 10");
        assert_eq!(failed.current_i64(), Some(12));
        assert_eq!(
            KvReply::PreconditionFailed("current value -3 is not 1").current_i64(),
            Some(-3)
        );
        assert_eq!(
            KvReply::PreconditionFailed("current value \"a\" is not 1").current_i64(),
            None
        );
        assert_eq!(KvReply::PreconditionFailed("nope").current_i64(), None);
        assert_eq!(KvReply::Ok.current_i64(), None);
        assert!(failed.is_definite_failure());
        assert!(!KvReply::Timeout.is_definite_failure());
    }
}
