//! The files a finished test leaves in its store directory (MAELSTROM.md §7):
//! `results.json` + `results.edn`, and the history as `history.edn`, `history.txt` and
//! `history.jsonl`. The history line formats are also what `jepsen.log` shows.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use simd_json::OwnedValue;

use super::edn_write::{Mode, pretty, single_line};
use super::json::to_json;
use crate::harness::history::{History, Op, Process};

/// Writes `results.json` (pretty, ordered keys) and `results.edn` into `dir`.
pub fn write_results(dir: &Path, results: &OwnedValue) -> std::io::Result<()> {
    let mut json = to_json(results, true);
    json.push('\n');
    std::fs::write(dir.join("results.json"), json)?;
    let mut edn = pretty(results);
    edn.push('\n');
    std::fs::write(dir.join("results.edn"), edn)
}

/// Writes `history.edn` (one op map per line), `history.txt`
/// (`process TAB :type TAB :f TAB value [TAB error]`) and `history.jsonl` into `dir`.
pub fn write_history(dir: &Path, history: &History) -> std::io::Result<()> {
    let create = |name: &str| std::fs::File::create(dir.join(name)).map(std::io::BufWriter::new);
    let (mut edn, mut txt, mut jsonl) = (
        create("history.edn")?,
        create("history.txt")?,
        create("history.jsonl")?,
    );
    for op in &history.ops {
        writeln!(edn, "{}", history_edn_line(op))?;
        writeln!(txt, "{}", history_txt_line(op))?;
        writeln!(jsonl, "{}", history_json_line(op))?;
    }
    edn.flush()?;
    txt.flush()?;
    jsonl.flush()
}

fn value_mode(op: &Op) -> Mode {
    if op.process == Process::Nemesis {
        Mode::Nemesis
    } else {
        Mode::OpValue
    }
}

fn process_text(p: Process) -> String {
    match p {
        Process::Client(n) => n.to_string(),
        Process::Nemesis => ":nemesis".to_string(),
    }
}

/// `{:index 0, :time 1, :type :invoke, :process 0, :f :read, :value nil}` (+ `:error`,
/// `:final?`), as Maelstrom's history.edn.
pub fn history_edn_line(op: &Op) -> String {
    let mut line = format!(
        "{{:index {}, :time {}, :type :{}, :process {}, :f :{}, :value {}",
        op.index,
        op.time_ns,
        op.op_type.name(),
        process_text(op.process),
        op.f,
        single_line(&op.value, value_mode(op)),
    );
    if let Some(error) = &op.error {
        let _ = write!(line, ", :error {}", single_line(error, Mode::Error));
    }
    if let Some(exception) = &op.exception {
        let _ = write!(
            line,
            ", :exception {}",
            single_line(exception, Mode::OpValue)
        );
    }
    if op.is_final {
        line.push_str(", :final? true");
    }
    line.push('}');
    line
}

/// Jepsen's history.txt line.
pub fn history_txt_line(op: &Op) -> String {
    let mut line = format!(
        "{}\t:{}\t:{}\t{}",
        process_text(op.process),
        op.op_type.name(),
        op.f,
        single_line(&op.value, value_mode(op))
    );
    if let Some(error) = &op.error {
        let _ = write!(line, "\t{}", single_line(error, Mode::Error));
    }
    line
}

/// One JSON object per op, keys in history.edn order.
pub fn history_json_line(op: &Op) -> String {
    to_json(&crate::harness::checkers::value::op_value(op, None), false)
}
