//! Which messages `messages.svg` draws (`--diagram-from`, `--diagram-messages`) and what
//! it says it drew: the console line and the `messages-diagram` results entry written when
//! messages were left out, or when the run kept no journal.

use simd_json::OwnedValue;

/// Default most messages drawn: a few thousand arrows stay readable and the file a few MB.
pub const DIAGRAM_MESSAGES_DEFAULT: usize = 3_000;
/// Most messages `--diagram-messages` may ask for.
pub const DIAGRAM_MESSAGES_MAX: usize = 100_000;

/// What `messages.svg` draws (flag `--diagram`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagramMode {
    /// Every message (within the window), as Maelstrom draws it. An invalid run whose
    /// explanation names ops also gets `causal.svg`, their causal path.
    #[default]
    Full,
    /// Only the messages on the causal path of the ops an invalid run's explanation names
    /// (see [`super::causal`]), so a minimal failure fits on one screen; a run without such
    /// ops gets the full diagram.
    Causal,
}

/// Which messages the diagram draws (flags `--diagram`, `--diagram-from`,
/// `--diagram-messages`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiagramWindow {
    /// Seconds from the main phase's start (negative: during init); `None`: from the first.
    pub from_s: Option<f64>,
    /// Most messages drawn.
    pub messages: usize,
    /// Full, or the causal path of the explained ops (`glomers shrink` sets this).
    pub mode: DiagramMode,
}

impl Default for DiagramWindow {
    fn default() -> Self {
        DiagramWindow {
            from_s: None,
            messages: DIAGRAM_MESSAGES_DEFAULT,
            mode: DiagramMode::Full,
        }
    }
}

/// What `messages.svg` shows.
#[derive(Clone, Debug, PartialEq)]
pub enum DiagramSummary {
    /// The run kept no journal (`--no-journal`), so the diagram has no messages.
    NoJournal,
    /// `drawn` of `total` messages, sent from `first_s` to `last_s` (main-phase seconds).
    Drawn {
        /// Messages drawn.
        drawn: usize,
        /// Messages in the journal.
        total: u64,
        /// Left out before the window, and after it.
        before: u64,
        /// Left out after the window was full.
        after: u64,
        /// Send time of the first drawn message.
        first_s: f64,
        /// Send time of the last drawn message.
        last_s: f64,
    },
}

impl DiagramSummary {
    /// The console line, when something is not drawn.
    pub fn console_line(&self) -> Option<String> {
        match self {
            DiagramSummary::NoJournal => {
                Some("messages.svg: no network journal (--no-journal), no messages drawn".into())
            }
            DiagramSummary::Drawn {
                drawn,
                total,
                before,
                after,
                first_s,
                last_s,
            } if before + after > 0 => Some(format!(
                "messages.svg: drew {drawn} of {total} messages (sent {first_s:.3} s to \
                 {last_s:.3} s); left out {before} before and {after} after \
                 (choose with --diagram-from SECONDS --diagram-messages N)"
            )),
            DiagramSummary::Drawn { .. } => None,
        }
    }

    /// The results entry (`messages-diagram`), when something is not drawn.
    pub fn results_value(&self) -> Option<OwnedValue> {
        let mut map = simd_json::owned::Object::new();
        match self {
            DiagramSummary::NoJournal => {
                map.insert("journal".into(), false.into());
            }
            DiagramSummary::Drawn {
                drawn,
                total,
                before,
                after,
                first_s,
                last_s,
            } if before + after > 0 => {
                map.insert("drawn".into(), (*drawn as u64).into());
                map.insert("total".into(), (*total).into());
                map.insert("left-out-before".into(), (*before).into());
                map.insert("left-out-after".into(), (*after).into());
                map.insert("first-sent-s".into(), (*first_s).into());
                map.insert("last-sent-s".into(), (*last_s).into());
            }
            DiagramSummary::Drawn { .. } => return None,
        }
        Some(OwnedValue::Object(Box::new(map)))
    }
}
