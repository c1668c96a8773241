//! A synthetic g-set history for the set-full checker's benchmark at 100k and 1M client
//! ops, which `glomers test --sim` cannot make: there half the ops are reads, and every
//! read returns the whole set so far, so 10k ops are already 50 MiB of EDN and 1M would be
//! ~0.5 TB.
//!
//! What it writes is a valid history of Maelstrom's g-set workload with reads made rare:
//! * `CLIENTS` processes; op *k* goes to process *k* mod `CLIENTS`, is invoked at step *k*
//!   and completes (`ok`) at step *k* + `CLIENTS` − 1, so `CLIENTS` ops are in flight at
//!   any time and each process runs one op at a time;
//! * ops are adds of 0, 1, 2, … except one in every `ops / READS` (`READS` reads in all),
//!   which reads the whole set: every element whose add was invoked before the read was
//!   (in-flight adds included, as a node that has seen them would answer), ascending;
//! * then one final read per process with every element, as Maelstrom's final generator.
//!
//! So the reads hold about `READS / 2 + CLIENTS` times as many elements as there are adds
//! (~15 per op): the history grows linearly with the ops, as the other workloads' do.
//! Times are 1 ms per step; there is no nemesis.

use std::io::Write;
use std::path::Path;

/// Client processes (ops in flight).
const CLIENTS: u64 = 5;

/// Reads before the final ones, spread evenly over the history.
const READS: u64 = 20;

/// Writes a history of `ops` client ops (final reads included) to `path`.
pub fn write(path: &Path, ops: u64) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let main_ops = ops.saturating_sub(CLIENTS);
    let read_every = (main_ops / READS).max(1);
    // Per in-flight op (indexed by step mod CLIENTS): its value, or None for a read, with
    // the number of adds invoked before it.
    let mut pending: Vec<Option<(Option<u64>, u64)>> = vec![None; CLIENTS as usize];
    let mut adds = 0u64;
    let mut index = 0u64;
    let mut line = String::new();
    for step in 0..main_ops + CLIENTS - 1 {
        let time = step * 1_000_000;
        if step < main_ops {
            let process = step % CLIENTS;
            let value = (step % read_every != read_every - 1).then_some(adds);
            let f = if value.is_some() { "add" } else { "read" };
            let shown = value.map_or("nil".to_string(), |v| v.to_string());
            writeln!(
                out,
                "{{:index {index}, :time {time}, :type :invoke, :process {process}, :f :{f}, :value {shown}}}"
            )?;
            index += 1;
            pending[(step % CLIENTS) as usize] = Some((value, adds));
            if value.is_some() {
                adds += 1;
            }
        }
        // The op invoked CLIENTS - 1 steps ago completes.
        let Some(done) = step.checked_sub(CLIENTS - 1) else {
            continue;
        };
        let Some((value, before)) = pending[(done % CLIENTS) as usize].take() else {
            continue;
        };
        let process = done % CLIENTS;
        line.clear();
        match value {
            Some(v) => line.push_str(&v.to_string()),
            None => set(&mut line, before),
        }
        let f = if value.is_some() { "add" } else { "read" };
        writeln!(
            out,
            "{{:index {index}, :time {time}, :type :ok, :process {process}, :f :{f}, :value {line}}}"
        )?;
        index += 1;
    }
    // Final reads, one per process, after everything completed.
    let time = (main_ops + CLIENTS) * 1_000_000;
    for process in 0..CLIENTS.min(ops) {
        writeln!(
            out,
            "{{:index {index}, :time {time}, :type :invoke, :process {process}, :f :read, :value nil}}"
        )?;
        index += 1;
        line.clear();
        set(&mut line, adds);
        writeln!(
            out,
            "{{:index {index}, :time {time}, :type :ok, :process {process}, :f :read, :value {line}}}"
        )?;
        index += 1;
    }
    out.flush()
}

/// `[0 1 … n-1]`.
fn set(line: &mut String, n: u64) {
    use std::fmt::Write;
    line.push('[');
    for v in 0..n {
        if v > 0 {
            line.push(' ');
        }
        let _ = write!(line, "{v}");
    }
    line.push(']');
}
