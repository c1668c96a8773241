//! Structured output for in-process drivers, modelled on quinn-proto's `poll_transmit`:
//! each message a node wrote, as (src, dest, body) slices of its output bytes.
//!
//! The bytes are exactly what the node would print on stdout. A driver that routes
//! messages itself (the simulator) wants to know where each message's parts lie, not to
//! split the output into lines and parse every envelope back. The writer knows those
//! offsets when it writes the envelope (`NodeState::begin_message`), so the core records
//! one `MessageSpan` per message — but only once a driver asked for it
//! ([`crate::node::NodeCore::record_transmits`]): the process runtime records nothing and
//! pays one predictable branch per message.

/// `{"src":` — the start of every message the node writes.
const SRC_OPEN: usize = b"{\"src\":".len();
/// `,"dest":` and `,"body":` — what follows the src and the dest literals.
const FIELD_GAP: usize = b",\"dest\":".len();
/// `}}\n` — the end of the body, of the envelope, and of the line.
const MESSAGE_CLOSE: &[u8] = b"}}\n";

/// Where one message lies in the output buffer (byte offsets). The message ends where the
/// next one starts, or at the end of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageSpan {
    /// The message's `{`.
    pub start: usize,
    /// The opening quote of the dest literal.
    pub dest: usize,
    /// The body's `{`.
    pub body: usize,
}

/// A node's output taken with [`crate::node::NodeCore::take_transmits`]: the raw bytes and
/// where each message lies in them. Reuse one across calls to keep both allocations.
#[derive(Debug, Default)]
pub struct Transmits {
    pub(crate) bytes: Vec<u8>,
    pub(crate) spans: Vec<MessageSpan>,
}

/// One message of a [`Transmits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit<'t> {
    /// The sender's id as a JSON string literal's content (no quotes, still escaped: equal
    /// to the id when it holds no `\`).
    pub src: &'t [u8],
    /// The destination, like `src`.
    pub dest: &'t [u8],
    /// The body: one JSON object.
    pub body: &'t [u8],
    /// The whole message as printed, without its line end.
    pub line: &'t [u8],
}

impl Transmits {
    /// No output.
    pub fn new() -> Self {
        Transmits::default()
    }

    /// The raw output: `\n`-terminated JSON lines, byte for byte what stdout would get.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the node wrote nothing.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The messages, in write order.
    pub fn iter(&self) -> impl Iterator<Item = Transmit<'_>> + '_ {
        assert!(
            self.spans
                .first()
                .map_or(self.bytes.is_empty(), |span| span.start == 0),
            "transmit spans cover the output from its first byte (recording on?)"
        );
        (0..self.spans.len()).map(move |index| self.message(index))
    }

    /// Message `index`; asserts the span matches the envelope the writer wrote.
    fn message(&self, index: usize) -> Transmit<'_> {
        let span = self.spans[index];
        let end = self
            .spans
            .get(index + 1)
            .map_or(self.bytes.len(), |next| next.start);
        let line = &self.bytes[span.start..end];
        assert!(
            span.start + SRC_OPEN + FIELD_GAP < span.dest
                && span.dest + FIELD_GAP < span.body
                && span.body + MESSAGE_CLOSE.len() <= end
                && line.ends_with(MESSAGE_CLOSE),
            "transmit span {index} does not match the output"
        );
        Transmit {
            src: literal(&self.bytes[span.start + SRC_OPEN..span.dest - FIELD_GAP]),
            dest: literal(&self.bytes[span.dest..span.body - FIELD_GAP]),
            body: &self.bytes[span.body..end - 2],
            line: &line[..line.len() - 1],
        }
    }
}

/// The content of a JSON string literal (strips the quotes).
fn literal(quoted: &[u8]) -> &[u8] {
    assert!(
        quoted.len() >= 2 && quoted.starts_with(b"\"") && quoted.ends_with(b"\""),
        "a string literal"
    );
    &quoted[1..quoted.len() - 1]
}
