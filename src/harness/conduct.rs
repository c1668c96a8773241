//! How the nodes treated the clients, beyond what the history shows: nodes the harness
//! muted for writing to an unknown destination, and replies that came after the client
//! gave up on the request, or a second time (MAELSTROM.md §1.8, §1.9, §2.3).
//!
//! The real Maelstrom stops reading a node's stdout for the rest of the run as soon as the
//! node addresses a participant that is not registered (typically a client that timed out
//! and was closed), and quietly discards late replies to a client that is still open
//! (reusable clients keep their id after a timeout). The history shows neither: a muted
//! node's later ops just time out, a discarded reply leaves no trace. The runner records
//! both here so that the console, `results.edn` and sweeps can say so out loud.

use simd_json::OwnedValue;

/// Nanoseconds (the harness's clock unit).
type Time = u64;
const MS: Time = 1_000_000;

/// Findings kept in full; past this only the counts grow (a node answering every request
/// late must not fill memory).
pub const LISTED_MAX: usize = 20;

/// A node whose output the harness stopped reading.
#[derive(Clone, Debug, PartialEq)]
pub struct Muted {
    /// Node id.
    pub node: String,
    /// Relative time (ns since the main phase began; 0 before it) of the offending line.
    pub time_ns: Time,
    /// Why: "invalid dest \"c2\" (not a node, open client or service)".
    pub why: String,
    /// The message, as the node wrote it (src, dest, body).
    pub message: String,
}

/// How a reply was out of turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lateness {
    /// It answered a request whose client had already timed out.
    AfterTimeout,
    /// It answered a request that had already been answered.
    Second,
}

impl Lateness {
    /// The name results use.
    pub fn name(self) -> &'static str {
        match self {
            Lateness::AfterTimeout => "after-timeout",
            Lateness::Second => "second-reply",
        }
    }
}

/// One reply out of turn to a client that was still open (so it was discarded).
#[derive(Clone, Debug, PartialEq)]
pub struct LateReply {
    /// Node that sent it.
    pub node: String,
    /// Client it went to.
    pub client: String,
    /// The request's msg_id.
    pub in_reply_to: u64,
    /// The reply's body type (`echo_ok`, `error`, …).
    pub reply_type: String,
    /// Relative time the reply was sent (ns).
    pub time_ns: Time,
    /// How far past the request's deadline it came (ns; 0 for a second reply that came
    /// in time).
    pub late_by_ns: Time,
    /// After a timeout, or a second answer.
    pub lateness: Lateness,
}

/// Everything of the kind a run found, bounded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conduct {
    /// Muted nodes, in the order they were muted (each node at most once).
    pub muted: Vec<Muted>,
    /// Messages the muted nodes wrote afterwards, dropped unread.
    pub dropped_after_mute: u64,
    /// The first [`LISTED_MAX`] late or second replies to open clients.
    pub late: Vec<LateReply>,
    /// How many replies came after their client's timeout.
    pub after_timeout: u64,
    /// How many requests were answered a second time.
    pub second_replies: u64,
}

impl Conduct {
    /// Whether every node answered every request once and in time, and none was muted.
    pub fn is_clean(&self) -> bool {
        self.muted.is_empty() && self.after_timeout == 0 && self.second_replies == 0
    }

    /// Records a late or second reply (the list is bounded, the counts exact).
    pub fn record_late(&mut self, reply: LateReply) {
        match reply.lateness {
            Lateness::AfterTimeout => self.after_timeout += 1,
            Lateness::Second => self.second_replies += 1,
        }
        if self.late.len() < LISTED_MAX {
            self.late.push(reply);
        }
    }

    /// Whether `node` is muted.
    pub fn is_muted(&self, node: &str) -> bool {
        self.muted.iter().any(|m| m.node == node)
    }

    /// The results entries: `muted-nodes` and `late-replies`, only when there is something
    /// to say (a clean run's results keep Maelstrom's shape).
    pub fn to_results(&self) -> Vec<(&'static str, OwnedValue)> {
        let mut entries = Vec::new();
        if !self.muted.is_empty() {
            let muted = self
                .muted
                .iter()
                .map(|m| {
                    object(vec![
                        ("node", m.node.as_str().into()),
                        ("time", m.time_ns.into()),
                        ("why", m.why.as_str().into()),
                        ("message", m.message.as_str().into()),
                    ])
                })
                .collect();
            entries.push(("muted-nodes", OwnedValue::Array(Box::new(muted))));
            entries.push(("dropped-after-mute", self.dropped_after_mute.into()));
        }
        if self.after_timeout > 0 || self.second_replies > 0 {
            let listed = self
                .late
                .iter()
                .map(|l| {
                    object(vec![
                        ("node", l.node.as_str().into()),
                        ("client", l.client.as_str().into()),
                        ("in-reply-to", l.in_reply_to.into()),
                        ("type", l.reply_type.as_str().into()),
                        ("time", l.time_ns.into()),
                        ("late-by-ms", (l.late_by_ns / MS).into()),
                        ("kind", l.lateness.name().into()),
                    ])
                })
                .collect();
            entries.push((
                "late-replies",
                object(vec![
                    ("after-timeout", self.after_timeout.into()),
                    ("second-replies", self.second_replies.into()),
                    ("first", OwnedValue::Array(Box::new(listed))),
                ]),
            ));
        }
        entries
    }
}

fn object(pairs: Vec<(&str, OwnedValue)>) -> OwnedValue {
    let mut map = simd_json::owned::Object::new();
    for (key, value) in pairs {
        map.insert(key.to_string(), value);
    }
    OwnedValue::Object(Box::new(map))
}
