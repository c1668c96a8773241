//! The causal path of a few ops through the network journal, for a Lamport diagram that
//! draws only what led to a failure (the ops an invalid run's `explanation` names).
//!
//! Per op: its client's request (sent at the op's invocation time) and the reply received
//! at its completion time, every message the client sent or received in between, and,
//! backwards from each reply, what its sender had received before sending it (within the
//! op's interval): from a node, every peer or service message (happens-before through
//! peers); from a service, the one request it answers. Transitively, newest first, at most
//! [`PER_OP_MAX`] messages per op and [`CAUSAL_MAX`] in all. Other clients' requests are left
//! out: they precede the reply but belong to other ops.
//!
//! The journal is read twice in bounded memory: once for the messages sent within some op's
//! interval (compact records, at most `WINDOW_MAX`), once for the chosen messages' text.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use ahash::{AHashMap, AHashSet};
use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::journal::{Journal, journal_event, kept_message};
use crate::harness::history::History;
use crate::harness::services::SERVICE_NAMES;

/// Most messages drawn per op.
pub const PER_OP_MAX: usize = 60;
/// Most messages drawn in all.
pub const CAUSAL_MAX: usize = 400;
/// Most messages kept from the ops' intervals while choosing (beyond: the rest are ignored).
const WINDOW_MAX: usize = 500_000;

/// One op's interval in journal time: invocation, and completion when it completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpSpan {
    /// Journal time of the invocation (the request's send).
    pub invoke_ns: u64,
    /// Journal time of the completion (the reply's receipt).
    pub complete_ns: Option<u64>,
}

impl OpSpan {
    fn end(&self) -> u64 {
        self.complete_ns.unwrap_or(self.invoke_ns)
    }
}

/// The history indices an invalid run's results name: every `explanation` entry's `ops`.
pub fn explained_ops(results: &OwnedValue) -> Vec<u64> {
    let mut ops: Vec<u64> = results
        .get("explanation")
        .and_then(|e| e.as_array())
        .map_or(&[][..], |e| e.as_slice())
        .iter()
        .filter_map(|entry| entry.get("ops").and_then(|o| o.as_array()))
        .flatten()
        .filter_map(|i| i.as_u64())
        .collect();
    ops.sort_unstable();
    ops.dedup();
    ops
}

/// The intervals of the client ops holding any of `indices` (invocation or completion), in
/// journal time (`main_start_ns` is history time 0).
pub fn op_spans(history: &History, indices: &[u64], main_start_ns: u64) -> Vec<OpSpan> {
    let wanted: AHashSet<u64> = indices.iter().copied().collect();
    history
        .pairs()
        .into_iter()
        .filter(|(invoke, done)| {
            wanted.contains(&invoke.index) || done.is_some_and(|d| wanted.contains(&d.index))
        })
        .map(|(invoke, done)| OpSpan {
            invoke_ns: main_start_ns + invoke.time_ns,
            complete_ns: done.map(|d| main_start_ns + d.time_ns),
        })
        .collect()
}

/// What the causal diagram holds: the chosen messages as a [`Journal`], and how many the
/// whole journal had.
pub struct CausalRead {
    /// The chosen messages and their events, in journal order.
    pub journal: Journal,
    /// Ops whose request was found in the journal.
    pub ops_found: usize,
}

/// Reads the journal at `path` and keeps the messages on the causal paths of `spans`.
pub fn read_causal(path: &Path, spans: &[OpSpan]) -> io::Result<CausalRead> {
    let sent = read_windows(path, spans)?;
    let mut chosen: AHashSet<u64> = AHashSet::new();
    let mut ops_found = 0;
    let by_dest = by_destination(&sent);
    for span in spans {
        if chosen.len() >= CAUSAL_MAX {
            break;
        }
        let path = op_path(&sent, &by_dest, span);
        ops_found += usize::from(!path.is_empty());
        for index in path {
            if chosen.len() >= CAUSAL_MAX {
                break;
            }
            chosen.insert(sent[index].id);
        }
    }
    let journal = read_chosen(path, &chosen)?;
    Ok(CausalRead { journal, ops_found })
}

/// A message sent inside some op's interval, as far as choosing needs it.
struct Sent {
    id: u64,
    src: String,
    dest: String,
    msg_id: Option<u64>,
    in_reply_to: Option<u64>,
    sent_ns: u64,
    /// Journal line number of the send, and of the first receive.
    send_seq: u64,
    receive: Option<(u64, u64)>,
}

fn is_client(name: &str) -> bool {
    name.strip_prefix('c')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn is_service(name: &str) -> bool {
    SERVICE_NAMES.contains(&name)
}

/// Pass one: the messages sent within any span (their first receive too, whenever it came).
fn read_windows(path: &Path, spans: &[OpSpan]) -> io::Result<Vec<Sent>> {
    let mut windows: Vec<(u64, u64)> = spans.iter().map(|s| (s.invoke_ns, s.end())).collect();
    windows.sort_unstable();
    let inside = |time: u64| {
        let after = windows.partition_point(|w| w.0 <= time);
        windows[..after].iter().any(|w| time <= w.1)
    };
    let mut sent: Vec<Sent> = Vec::new();
    let mut index: AHashMap<u64, usize> = AHashMap::new();
    for_each_line(path, |seq, line| {
        let Some((kind, time, message, id)) = journal_event(line) else {
            return;
        };
        match kind {
            "send" if sent.len() < WINDOW_MAX && inside(time) => {
                let text = |key: &str| message.get(key).and_then(|v| v.as_str()).unwrap_or("");
                let body = message.get("body");
                let number = |key: &str| body.and_then(|b| b.get(key)).and_then(|v| v.as_u64());
                index.insert(id, sent.len());
                sent.push(Sent {
                    id,
                    src: text("src").to_string(),
                    dest: text("dest").to_string(),
                    msg_id: number("msg_id"),
                    in_reply_to: number("in_reply_to"),
                    sent_ns: time,
                    send_seq: seq,
                    receive: None,
                });
            }
            "recv" => {
                if let Some(&at) = index.get(&id)
                    && sent[at].receive.is_none()
                {
                    sent[at].receive = Some((seq, time));
                }
            }
            _ => {}
        }
    })?;
    Ok(sent)
}

/// Received messages per destination, by receive order.
fn by_destination(sent: &[Sent]) -> AHashMap<&str, Vec<usize>> {
    let mut by_dest: AHashMap<&str, Vec<usize>> = AHashMap::new();
    for (index, message) in sent.iter().enumerate() {
        if message.receive.is_some() {
            by_dest
                .entry(message.dest.as_str())
                .or_default()
                .push(index);
        }
    }
    for list in by_dest.values_mut() {
        list.sort_by_key(|&i| sent[i].receive.map_or(0, |r| r.0));
    }
    by_dest
}

/// The messages (indices into `sent`) on one op's causal path, at most [`PER_OP_MAX`].
fn op_path(sent: &[Sent], by_dest: &AHashMap<&str, Vec<usize>>, span: &OpSpan) -> Vec<usize> {
    let end = span.end();
    let requests: Vec<usize> = (0..sent.len())
        .filter(|&i| is_client(&sent[i].src) && sent[i].sent_ns == span.invoke_ns)
        .collect();
    let answered_at_completion = |request: usize| {
        let r = &sent[request];
        sent.iter().any(|m| {
            m.dest == r.src
                && m.in_reply_to.is_some()
                && m.in_reply_to == r.msg_id
                && m.receive.is_some_and(|(_, t)| Some(t) == span.complete_ns)
        })
    };
    let Some(request) = requests
        .iter()
        .copied()
        .find(|&r| answered_at_completion(r))
        .or(requests.first().copied())
    else {
        return Vec::new();
    };
    let client = sent[request].src.as_str();
    let mut path: Vec<usize> = (0..sent.len())
        .filter(|&i| {
            let m = &sent[i];
            (m.src == client || m.dest == client) && m.sent_ns >= span.invoke_ns && m.sent_ns <= end
        })
        .collect();
    let mut chosen: AHashSet<usize> = path.iter().copied().collect();
    let mut frontier: VecDeque<usize> = path
        .iter()
        .copied()
        .filter(|&i| sent[i].dest == client)
        .collect();
    while let Some(reply) = frontier.pop_front() {
        for cause in causes(sent, by_dest, reply, span.invoke_ns) {
            if path.len() >= PER_OP_MAX {
                return path;
            }
            if chosen.insert(cause) {
                path.push(cause);
                frontier.push_back(cause);
            }
        }
    }
    path
}

/// What the sender of `message` had received before sending it (since `from_ns`), newest
/// first: a service only the request it answers; a node every message from a peer or a
/// service (never another client's request).
fn causes(
    sent: &[Sent],
    by_dest: &AHashMap<&str, Vec<usize>>,
    message: usize,
    from_ns: u64,
) -> Vec<usize> {
    let m = &sent[message];
    let Some(received) = by_dest.get(m.src.as_str()) else {
        return Vec::new();
    };
    let before = received.partition_point(|&i| sent[i].receive.is_some_and(|r| r.0 < m.send_seq));
    let earlier = received[..before].iter().rev().copied();
    if is_service(&m.src) {
        return earlier
            .filter(|&i| sent[i].src == m.dest && sent[i].msg_id.is_some())
            .filter(|&i| sent[i].msg_id == m.in_reply_to)
            .take(1)
            .collect();
    }
    earlier
        .take_while(|&i| sent[i].receive.is_some_and(|r| r.1 >= from_ns))
        .filter(|&i| sent[i].sent_ns >= from_ns && !is_client(&sent[i].src))
        .take(PER_OP_MAX)
        .collect()
}

/// Pass two: the chosen messages with their text, and their events in journal order.
fn read_chosen(path: &Path, chosen: &AHashSet<u64>) -> io::Result<Journal> {
    let mut journal = Journal::default();
    let mut kept: AHashMap<u64, usize> = AHashMap::new();
    for_each_line(path, |_, line| {
        let Some((kind, time, message, id)) = journal_event(line) else {
            return;
        };
        match kind {
            "send" => {
                journal.total += 1;
                if chosen.contains(&id)
                    && let Some(built) = kept_message(message, time)
                {
                    journal.keep_send(&mut kept, id, built);
                }
            }
            // The causal diagram draws each message's first receive only.
            "recv" => journal.keep_receive(&kept, id, time, 1),
            _ => {}
        }
    })?;
    journal.after = journal.total - journal.messages.len() as u64;
    Ok(journal)
}

/// Calls `each(line number, parsed line)` for every JSON line of the file at `path`.
fn for_each_line(path: &Path, mut each: impl FnMut(u64, &OwnedValue)) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut line = Vec::new();
    let mut seq = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        seq += 1;
        if let Ok(value) = simd_json::to_owned_value(&mut line) {
            each(seq, &value);
        }
    }
}
