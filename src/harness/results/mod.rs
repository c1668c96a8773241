//! After the checkers: what a finished test leaves behind and shows, one job per file.
//!
//! * [`verdict`]: a verdict's console line and exit status;
//! * [`console`]: the terminal (live progress line, results summary);
//! * [`files`]: `results.json` / `results.edn` and `history.edn` / `.txt` / `.jsonl`;
//! * [`json`] and [`edn_write`]: results values as JSON and as EDN, keys in [`order`]'s
//!   order (Maelstrom's `results.edn` order), so files are deterministic and diff well;
//! * [`headline`]: the few figures `glomers report --brief` prints;
//! * [`plot`]: latency and rate plots;
//! * [`journal`], [`lamport`] and [`lamport_window`]: `messages.svg`, the Lamport diagram
//!   of the network journal; [`causal`]: only the messages on the causal path of the ops
//!   an invalid run's explanation names (`causal.svg`, or `messages.svg` with
//!   `--diagram causal`);
//! * [`timeline`]: `timeline.html`, Jepsen's op timeline;
//! * [`store`]: the store directory, created for a run or read back for a report;
//! * [`format`](mod@format): the glomers version and store format a run's results carry.

pub mod causal;
pub mod console;
pub mod edn_write;
pub mod files;
pub mod format;
pub mod headline;
pub mod journal;
pub mod json;
pub mod lamport;
pub mod lamport_window;
pub mod order;
pub mod plot;
pub mod store;
pub mod timeline;
pub mod verdict;

pub use crate::harness::edn::read_results_edn;
pub use console::console_summary;
pub use files::{
    history_edn_line, history_json_line, history_txt_line, write_history, write_results,
};
pub use store::{load_store_dir, report_store_dir};
pub use verdict::verdict_line;
