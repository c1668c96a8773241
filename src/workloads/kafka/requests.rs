//! The client side of kafka shared by both strategies (MAELSTROM.md §3.11): reading
//! `send`, `poll`, `commit_offsets` and `list_committed_offsets` requests, and answering
//! polls and committed-offset lists from a [`Store`].
//!
//! A poll answers, per requested key, the consecutive messages from the requested offset
//! (offsets are dense, so that is exactly "the requested offset, or the next existing
//! one"), never skipping one: the store only ever holds a gap-free prefix of each log.

use super::store::Store;
use crate::node::{Ctx, Message, RequestError};
use crate::wire::writer::write_json;
use crate::wire::{ErrorCode, Json, JsonKind};

/// Largest accepted message (its JSON text): a larger `send` gets error 14, so every
/// replication message stays far below the node's line limit.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// About the most message bytes one `poll_ok` carries (then it stops early: the client
/// polls again from where it stopped).
pub const MAX_POLL_BYTES: usize = 4 << 20;

/// A `send`'s key, and its message written as JSON text into `scratch` (cleared first).
pub fn read_send<'m>(msg: &Message<'m>, scratch: &mut Vec<u8>) -> Result<&'m str, RequestError> {
    let key = msg.str("key")?;
    let value = msg.field("msg")?;
    scratch.clear();
    write_json(scratch, value);
    if scratch.len() > MAX_MESSAGE_BYTES {
        return Err(RequestError::new(
            ErrorCode::Abort,
            format!("messages are limited to {MAX_MESSAGE_BYTES} bytes of JSON"),
        ));
    }
    Ok(key)
}

/// An `offsets` object whose values are all integers.
pub fn read_offsets<'m>(msg: &Message<'m>) -> Result<Json<'m>, RequestError> {
    let offsets = msg.field("offsets")?;
    let valid = offsets.kind() == JsonKind::Object
        && offsets
            .entries()
            .all(|(_, v)| v.kind() == JsonKind::Integer);
    if !valid {
        return Err(RequestError::malformed(
            "offsets must be an object of key to integer offset",
        ));
    }
    Ok(offsets)
}

/// An integer offset as `u64` (negative ones read as `None`).
pub fn offset_of(value: Json<'_>) -> Option<u64> {
    value.as_u64()
}

/// A `list_committed_offsets`'s `keys` array (its non-string items are ignored).
pub fn read_keys<'m>(msg: &Message<'m>) -> Result<Json<'m>, RequestError> {
    let keys = msg.field("keys")?;
    if keys.kind() != JsonKind::Array {
        return Err(RequestError::malformed("keys must be an array of keys"));
    }
    Ok(keys)
}

/// Answers `poll` from `store`: up to `max_per_key` messages per key.
pub fn reply_poll<T>(
    ctx: &mut Ctx<'_, T>,
    msg: &Message<'_>,
    store: &Store,
    max_per_key: usize,
) -> Result<(), RequestError> {
    let offsets = read_offsets(msg)?;
    let mut body = ctx.reply(msg, "poll_ok");
    let mut msgs = body.object("msgs");
    let mut budget = MAX_POLL_BYTES;
    for (name, offset) in offsets.entries() {
        let Some(key) = store.find(name) else {
            continue;
        };
        let log = store.log(key);
        let from = offset_of(offset).unwrap_or(0);
        let to = log.len().min(from.saturating_add(max_per_key as u64));
        if from >= to || budget == 0 {
            continue;
        }
        let mut pairs = msgs.array(name);
        for offset in from..to {
            let Some(message) = log.get(offset) else {
                break;
            };
            pairs.array().u64(offset).raw(message);
            budget = budget.saturating_sub(message.len() + 24);
            if budget == 0 {
                break;
            }
        }
    }
    Ok(())
}

/// Answers `list_committed_offsets` from `store` (keys never committed are left out).
pub fn reply_committed<T>(
    ctx: &mut Ctx<'_, T>,
    msg: &Message<'_>,
    store: &Store,
) -> Result<(), RequestError> {
    let keys = read_keys(msg)?;
    let mut body = ctx.reply(msg, "list_committed_offsets_ok");
    let mut offsets = body.object("offsets");
    for name in keys.items().filter_map(|k| k.as_str()) {
        if let Some(committed) = store.find(name).and_then(|key| store.committed(key)) {
            offsets.u64(name, committed);
        }
    }
    Ok(())
}
