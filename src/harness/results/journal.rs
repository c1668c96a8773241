//! Reads a run's `net-journal.jsonl` back (one line per send and per receive, written by
//! [`crate::harness::net::network`]) for the Lamport diagram, keeping only a window of
//! messages so a run of millions of messages is read in bounded memory.

use std::io::{self, BufRead, BufReader};
use std::path::Path;

use ahash::AHashMap;
use simd_json::OwnedValue;
use simd_json::prelude::*;

/// Longest text kept of one message (its hover text in the diagram).
pub const MESSAGE_TEXT_MAX: usize = 1_000;
/// Receives kept per message (`--duplicate` delivers some twice; more is never drawn).
const RECEIVES_MAX: usize = 4;

/// Which messages to keep: the first `messages` sent at or after `from_ns` (journal time).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Journal (host) time from which messages are kept; `None`: from the first.
    pub from_ns: Option<u64>,
    /// Most messages kept.
    pub messages: usize,
}

/// One kept message.
#[derive(Clone, Debug)]
pub struct Message {
    /// Sender.
    pub src: String,
    /// Recipient.
    pub dest: String,
    /// The body's `type` (`?` when it has none).
    pub body_type: String,
    /// The whole envelope as JSON, cut at [`MESSAGE_TEXT_MAX`] characters.
    pub text: String,
    /// Journal time of the send.
    pub sent_ns: u64,
    /// Journal times of its receives (none: lost, dropped by a partition, or still in
    /// flight at the end).
    pub received_ns: Vec<u64>,
}

/// One journal event of a kept message, in journal (time) order: its send, or receive `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Index into [`Journal::messages`].
    pub message: usize,
    /// `None` for the send, `Some(n)` for the n-th receive.
    pub receive: Option<usize>,
}

/// The kept window of a journal, and how many messages were left out.
#[derive(Debug, Default)]
pub struct Journal {
    /// Kept messages, in send order.
    pub messages: Vec<Message>,
    /// Their sends and receives, in journal order.
    pub events: Vec<Event>,
    /// Messages sent in the whole journal.
    pub total: u64,
    /// Messages sent before the window.
    pub before: u64,
    /// Messages sent after the window was full.
    pub after: u64,
    /// Lines that were not journal events (skipped).
    pub unreadable: u64,
}

impl Journal {
    /// Messages not drawn.
    pub fn left_out(&self) -> u64 {
        self.before + self.after
    }

    /// Keeps message `id`'s send (`built`), and remembers where, for its receives.
    pub(super) fn keep_send(&mut self, kept: &mut AHashMap<u64, usize>, id: u64, built: Message) {
        kept.insert(id, self.messages.len());
        self.events.push(Event {
            message: self.messages.len(),
            receive: None,
        });
        self.messages.push(built);
    }

    /// Keeps a receive at `time` of the kept message `id`, if it has fewer than `most`.
    pub(super) fn keep_receive(
        &mut self,
        kept: &AHashMap<u64, usize>,
        id: u64,
        time: u64,
        most: usize,
    ) {
        if let Some(&index) = kept.get(&id)
            && let Some(message) = self.messages.get_mut(index)
            && message.received_ns.len() < most
        {
            self.events.push(Event {
                message: index,
                receive: Some(message.received_ns.len()),
            });
            message.received_ns.push(time);
        }
    }
}

/// Reads `path` keeping the messages of `window`.
pub fn read_journal(path: &Path, window: Window) -> io::Result<Journal> {
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut journal = Journal::default();
    let mut kept: AHashMap<u64, usize> = AHashMap::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(journal);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(value) = simd_json::to_owned_value(&mut line) else {
            journal.unreadable += 1;
            continue;
        };
        if add_line(&mut journal, &mut kept, &value, window).is_none() {
            journal.unreadable += 1;
        }
    }
}

/// One journal line's event: its kind (`send` or `recv`), time, message and message id;
/// `None` when the line is not a journal event.
pub(super) fn journal_event(line: &OwnedValue) -> Option<(&str, u64, &OwnedValue, u64)> {
    let time = line.get("time")?.as_u64()?;
    let message = line.get("message")?;
    let id = message.get("id")?.as_u64()?;
    Some((line.get("type")?.as_str()?, time, message, id))
}

/// Adds one parsed journal line; `None` when it is not a journal event.
fn add_line(
    journal: &mut Journal,
    kept: &mut AHashMap<u64, usize>,
    line: &OwnedValue,
    window: Window,
) -> Option<()> {
    let (kind, time, message, id) = journal_event(line)?;
    match kind {
        "send" => {
            journal.total += 1;
            if window.from_ns.is_some_and(|from| time < from) {
                journal.before += 1;
            } else if journal.messages.len() >= window.messages {
                journal.after += 1;
            } else {
                let built = kept_message(message, time)?;
                journal.keep_send(kept, id, built);
            }
        }
        "recv" => journal.keep_receive(kept, id, time, RECEIVES_MAX),
        _ => return None,
    }
    Some(())
}

pub(super) fn kept_message(message: &OwnedValue, sent_ns: u64) -> Option<Message> {
    let text = message.encode();
    let text = match text.char_indices().nth(MESSAGE_TEXT_MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    };
    let body_type = message
        .get("body")
        .and_then(|body| body.get("type"))
        .and_then(|kind| kind.as_str())
        .unwrap_or("?");
    Some(Message {
        src: message.get("src")?.as_str()?.to_string(),
        dest: message.get("dest")?.as_str()?.to_string(),
        body_type: body_type.to_string(),
        text,
        sent_ns,
        received_ns: Vec::new(),
    })
}
