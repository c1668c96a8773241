//! Writing a finished test to its store directory, as Maelstrom does (MAELSTROM.md §7):
//! `results.json` + `results.edn`, `history.edn` / `history.txt` / `history.jsonl`, and the
//! console summary with its verdict line (§7.3).
//!
//! Key order mirrors Maelstrom's `results.edn` (see [`order`]), so files are deterministic
//! and diff well between runs.

pub mod edn_write;
pub mod headline;
pub mod order;
pub mod plot;
pub mod store;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use simd_json::{OwnedValue, StaticNode};

use crate::harness::checkers::{Validity, validity_of};
use crate::harness::history::{History, Op, Process};
use edn_write::{Mode, clj_double, pretty, single_line};

pub use crate::harness::edn::read_results_edn;

/// The verdict line Maelstrom logs after the results (§7.3).
pub fn verdict_line(validity: Validity) -> &'static str {
    match validity {
        Validity::Valid => "Everything looks good! ヽ(‘ー`)ノ",
        Validity::Invalid => "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻",
        Validity::Unknown => "Errors occurred during analysis, but no anomalies found. ಠ~ಠ",
    }
}

/// The process exit status Maelstrom uses for a verdict: 0 valid, 1 invalid, 2 unknown.
pub fn exit_status(validity: Validity) -> i32 {
    match validity {
        Validity::Valid => 0,
        Validity::Invalid => 1,
        Validity::Unknown => 2,
    }
}

/// The results map pretty-printed as EDN, a blank line, then the verdict line.
pub fn console_summary(results: &OwnedValue) -> String {
    let mut out = pretty(results);
    if let OwnedValue::Object(map) = results
        && let Some(error) = map.get("error")
    {
        out.push('\n');
        out.push_str(&pretty(error));
    }
    out.push_str("\n\n");
    out.push_str(verdict_line(validity_of(results)));
    out.push('\n');
    out
}

/// Writes `results.json` (pretty, ordered keys) and `results.edn` into `dir`.
pub fn write_results(dir: &Path, results: &OwnedValue) -> std::io::Result<()> {
    let mut json = String::new();
    write_json(results, 0, true, &mut json);
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
    let value = crate::harness::checkers::value::op_value(op, None);
    let mut line = String::new();
    write_json(&value, 0, false, &mut line);
    line
}

/// Hand-written JSON so that object keys come out in [`order`]'s order.
fn write_json(v: &OwnedValue, indent: usize, pretty: bool, out: &mut String) {
    let newline = |out: &mut String, level: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(level));
        }
    };
    match v {
        OwnedValue::Static(StaticNode::Null) => out.push_str("null"),
        OwnedValue::Static(StaticNode::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        OwnedValue::Static(StaticNode::I64(i)) => out.push_str(&i.to_string()),
        OwnedValue::Static(StaticNode::U64(u)) => out.push_str(&u.to_string()),
        OwnedValue::Static(StaticNode::F64(x)) if x.is_finite() => {
            out.push_str(&clj_double(*x).replace('E', "e"));
        }
        OwnedValue::Static(_) => out.push_str("null"),
        OwnedValue::String(s) => json_string(s, out),
        OwnedValue::Array(items) if items.is_empty() => out.push_str("[]"),
        OwnedValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                write_json(item, indent + 1, pretty, out);
            }
            newline(out, indent);
            out.push(']');
        }
        OwnedValue::Object(map) if map.is_empty() => out.push_str("{}"),
        OwnedValue::Object(map) => {
            out.push('{');
            for (i, k) in order::ordered_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                json_string(k, out);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                if let Some(item) = map.get(k) {
                    write_json(item, indent + 1, pretty, out);
                }
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Summarises a store directory (ours or a real Maelstrom one) for `glomers report DIR`:
/// the console summary of [`load_store_dir`].
pub fn report_store_dir(dir: &Path) -> Result<String, String> {
    load_store_dir(dir).map(|results| console_summary(&results))
}

/// Reads a store directory's `results.edn` and adds per-`f` latency quantiles under
/// `perf` → `latencies` from `history.edn` when the results lack them (Maelstrom only
/// draws them).
pub fn load_store_dir(dir: &Path) -> Result<OwnedValue, String> {
    let mut results = read_results_edn(&dir.join("results.edn"))?;
    let history_path = dir.join("history.edn");
    if history_path.is_file()
        && let OwnedValue::Object(top) = &mut results
        && let Some(OwnedValue::Object(perf)) = top.get_mut("perf")
        && !perf.contains_key("latencies")
    {
        let history = crate::harness::edn::read_history_edn(&history_path)?;
        if let OwnedValue::Object(ours) = crate::harness::checkers::stats::perf(&history)
            && let Some(latencies) = ours.get("latencies")
        {
            perf.insert("latencies".to_string(), latencies.clone());
        }
    }
    Ok(results)
}
