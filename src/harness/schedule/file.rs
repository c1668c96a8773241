//! `schedule.jsonl`: a [`Schedule`] as JSON lines, written after a `--sim` run and read by
//! `glomers test --sim --schedule FILE` and `glomers shrink`.
//!
//! ```text
//! {"glomers-schedule":1,"workload":"broadcast","flags":["-w","broadcast",…],"strategy":null,
//!  "participants":["n0","n1","lin-kv",…],"node-count":2,"main-end":10000000000}
//! {"op":{"at":1234567,"thread":0,"f":"broadcast","value":0}}
//! {"partition":{"start":0,"end":2500000000,"shape":"one","grudge":{"n0":["n1"],"n1":["n0"]}}}
//! {"msg":["n0","n1",17],"latency-ms":93,"extra-ms":12,"lost":true,"copy-ms":40}
//! ```
//!
//! Times are integer nanoseconds of relative time (the history's `:time`). Lines may be
//! deleted or edited by hand: reading checks every field and names the line of the first
//! problem; sizes are bounded so a hostile file cannot fill memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{FORMAT, MessageFate, Partition, Schedule, ScheduledOp};
use crate::wire::writer::write_str;

/// The file's name in a run directory.
pub const FILE_NAME: &str = "schedule.jsonl";
/// Longest line accepted (an op's value, a header with many flags).
const LINE_MAX: usize = 1 << 20;
/// Most entries of each kind accepted: far above what `--sim` limits allow a run to make.
const OPS_MAX: usize = 2_000_000;
const PARTITIONS_MAX: usize = 1_000_000;
const MESSAGES_MAX: usize = 50_000_000;
/// Latest time a schedule may name: the longest `--time-limit` plus a day of slack.
const TIME_MAX_NS: u64 =
    2 * crate::harness::limits::TIME_LIMIT_S_MAX * crate::harness::hosts::SECOND;
/// Longest message delay a schedule may name (latency or reorder delay): what the flags
/// allow, `--latency` up to 60 s drawn up to twice that, or exponential tails, plus
/// `--reorder-ms`, with room to spare.
const DELAY_MAX_MS: u64 = 3_600_000;
/// Most distinct `:f` names (each is kept for the whole process, see [`intern_f`]).
const F_NAMES_MAX: usize = 64;

/// Writes `schedule` to `out`.
pub fn write(schedule: &Schedule, out: &mut impl Write) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(256);
    write_header(schedule, &mut line);
    out.write_all(&line)?;
    for op in &schedule.ops {
        line.clear();
        line.extend_from_slice(b"{\"op\":{\"at\":");
        line.extend_from_slice(itoa::Buffer::new().format(op.at).as_bytes());
        line.extend_from_slice(b",\"thread\":");
        line.extend_from_slice(itoa::Buffer::new().format(op.thread).as_bytes());
        line.extend_from_slice(b",\"f\":");
        write_str(&mut line, op.f);
        line.extend_from_slice(b",\"value\":");
        op.value.write(&mut line)?;
        line.extend_from_slice(b"}}\n");
        out.write_all(&line)?;
    }
    for partition in &schedule.partitions {
        line.clear();
        write_partition(schedule, partition, &mut line);
        out.write_all(&line)?;
    }
    for fate in &schedule.messages {
        line.clear();
        write_fate(schedule, fate, &mut line);
        out.write_all(&line)?;
    }
    out.flush()
}

/// Writes `schedule` to `path` (buffered).
pub fn write_file(schedule: &Schedule, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    write(
        schedule,
        &mut std::io::BufWriter::with_capacity(1 << 20, file),
    )
}

fn write_header(schedule: &Schedule, line: &mut Vec<u8>) {
    let strings = |words: &[String]| -> OwnedValue {
        OwnedValue::Array(Box::new(words.iter().map(|w| w.as_str().into()).collect()))
    };
    let strategy = match &schedule.strategy {
        Some((variable, value)) => {
            let mut map = simd_json::owned::Object::new();
            map.insert(variable.clone(), value.as_str().into());
            OwnedValue::Object(Box::new(map))
        }
        None => OwnedValue::null(),
    };
    let mut header = simd_json::owned::Object::new();
    header.insert("glomers-schedule".into(), FORMAT.into());
    header.insert("workload".into(), schedule.workload.as_str().into());
    header.insert("flags".into(), strings(&schedule.flags));
    header.insert("strategy".into(), strategy);
    header.insert("participants".into(), strings(&schedule.participants));
    header.insert("node-count".into(), (schedule.node_count as u64).into());
    header.insert("main-end".into(), schedule.main_end.into());
    // Fixed key order, so the file's bytes do not depend on the map's hasher.
    line.push(b'{');
    let keys = [
        "glomers-schedule",
        "workload",
        "flags",
        "strategy",
        "participants",
        "node-count",
        "main-end",
    ];
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        write_str(line, key);
        line.push(b':');
        if let Some(value) = header.get(*key) {
            let _ = value.write(line);
        }
    }
    line.extend_from_slice(b"}\n");
}

fn write_partition(schedule: &Schedule, partition: &Partition, line: &mut Vec<u8>) {
    line.extend_from_slice(b"{\"partition\":{\"start\":");
    line.extend_from_slice(itoa::Buffer::new().format(partition.start).as_bytes());
    line.extend_from_slice(b",\"end\":");
    match partition.end {
        Some(end) => line.extend_from_slice(itoa::Buffer::new().format(end).as_bytes()),
        None => line.extend_from_slice(b"null"),
    }
    line.extend_from_slice(b",\"shape\":");
    write_str(line, &partition.shape);
    line.extend_from_slice(b",\"grudge\":{");
    for (dest, srcs) in partition.grudge.iter().enumerate() {
        if dest > 0 {
            line.push(b',');
        }
        write_str(line, participant(schedule, dest));
        line.extend_from_slice(b":[");
        for (i, &src) in srcs.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            write_str(line, participant(schedule, src));
        }
        line.push(b']');
    }
    line.extend_from_slice(b"}}}\n");
}

fn write_fate(schedule: &Schedule, fate: &MessageFate, line: &mut Vec<u8>) {
    line.extend_from_slice(b"{\"msg\":[");
    write_str(line, participant(schedule, usize::from(fate.src)));
    line.push(b',');
    write_str(line, participant(schedule, usize::from(fate.dest)));
    line.push(b',');
    line.extend_from_slice(itoa::Buffer::new().format(fate.nth).as_bytes());
    line.extend_from_slice(b"],\"latency-ms\":");
    line.extend_from_slice(itoa::Buffer::new().format(fate.latency_ms).as_bytes());
    if fate.extra_ms > 0 {
        line.extend_from_slice(b",\"extra-ms\":");
        line.extend_from_slice(itoa::Buffer::new().format(fate.extra_ms).as_bytes());
    }
    if fate.lost {
        line.extend_from_slice(b",\"lost\":true");
    }
    if let Some(copy) = fate.copy_ms {
        line.extend_from_slice(b",\"copy-ms\":");
        line.extend_from_slice(itoa::Buffer::new().format(copy).as_bytes());
    }
    line.extend_from_slice(b"}\n");
}

fn participant(schedule: &Schedule, index: usize) -> &str {
    schedule
        .participants
        .get(index)
        .map(String::as_str)
        .unwrap_or("?")
}

/// Reads a schedule file; the error names the file's line.
pub fn read_file(path: &Path) -> Result<Schedule, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read the schedule {}: {e}", path.display()))?;
    read(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| format!("schedule {}: {e}", path.display()))
}

/// Reads a schedule from JSON lines.
pub fn read(mut input: impl BufRead) -> Result<Schedule, String> {
    let mut schedule = Schedule::default();
    let mut buffer = Vec::new();
    let mut number = 0usize;
    let mut header = false;
    while next_line(&mut input, &mut buffer).map_err(|e| format!("line {}: {e}", number + 1))? {
        number += 1;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = |why: String| format!("line {number}: {why}");
        let value = simd_json::to_owned_value(&mut buffer)
            .map_err(|_| at("not a JSON object".to_string()))?;
        if !header {
            read_header(&value, &mut schedule).map_err(at)?;
            header = true;
            continue;
        }
        read_entry(&value, &mut schedule).map_err(at)?;
    }
    if !header {
        return Err("empty: no header line".to_string());
    }
    Ok(schedule)
}

/// Reads one line into `buffer` (without its newline), refusing lines past [`LINE_MAX`].
fn next_line(input: &mut impl BufRead, buffer: &mut Vec<u8>) -> std::io::Result<bool> {
    buffer.clear();
    let read = input
        .by_ref()
        .take(LINE_MAX as u64 + 1)
        .read_until(b'\n', buffer)?;
    if read == 0 {
        return Ok(false);
    }
    if buffer.last() == Some(&b'\n') {
        buffer.pop();
    } else if buffer.len() > LINE_MAX {
        return Err(std::io::Error::other(format!(
            "line longer than {LINE_MAX} bytes"
        )));
    }
    Ok(true)
}

fn read_header(value: &OwnedValue, schedule: &mut Schedule) -> Result<(), String> {
    let version = value
        .get("glomers-schedule")
        .and_then(|v| v.as_u64())
        .ok_or("the first line is not a schedule header (no \"glomers-schedule\")")?;
    if version > FORMAT {
        return Err(format!(
            "schedule format {version} is newer than this glomers reads ({FORMAT}); upgrade glomers"
        ));
    }
    schedule.workload = string(value, "workload")?.to_string();
    schedule.flags = strings(value, "flags")?;
    schedule.participants = strings(value, "participants")?;
    if schedule.participants.len() > usize::from(u16::MAX) {
        return Err("too many participants".to_string());
    }
    schedule.node_count = value
        .get("node-count")
        .and_then(|v| v.as_u64())
        .filter(|&n| n as usize <= schedule.participants.len())
        .ok_or("\"node-count\" missing or more than the participants")?
        as usize;
    schedule.main_end = time(value, "main-end")?;
    schedule.strategy = match value.get("strategy") {
        Some(OwnedValue::Object(map)) => map
            .iter()
            .next()
            .and_then(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))),
        _ => None,
    };
    Ok(())
}

fn read_entry(value: &OwnedValue, schedule: &mut Schedule) -> Result<(), String> {
    if let Some(op) = value.get("op") {
        if schedule.ops.len() >= OPS_MAX {
            return Err(format!("more than {OPS_MAX} ops"));
        }
        let f = intern_f(string(op, "f")?)?;
        schedule.ops.push(ScheduledOp {
            at: time(op, "at")?,
            thread: integer(op, "thread")? as usize,
            f,
            value: op.get("value").cloned().unwrap_or_else(OwnedValue::null),
        });
    } else if let Some(partition) = value.get("partition") {
        if schedule.partitions.len() >= PARTITIONS_MAX {
            return Err(format!("more than {PARTITIONS_MAX} partitions"));
        }
        let partition = read_partition(partition, schedule)?;
        schedule.partitions.push(partition);
    } else if let Some(link) = value.get("msg") {
        if schedule.messages.len() >= MESSAGES_MAX {
            return Err(format!("more than {MESSAGES_MAX} messages"));
        }
        let fate = read_fate(link, value, schedule)?;
        schedule.messages.push(fate);
    } else {
        return Err("expected an \"op\", \"partition\" or \"msg\" entry".to_string());
    }
    Ok(())
}

fn read_partition(value: &OwnedValue, schedule: &Schedule) -> Result<Partition, String> {
    let start = time(value, "start")?;
    let end = match value.get("end") {
        None => None,
        Some(v) if v.is_null() => None,
        Some(_) => Some(time(value, "end")?),
    };
    if end.is_some_and(|end| end < start) {
        return Err("a partition ends before it starts".to_string());
    }
    let mut grudge = vec![Vec::new(); schedule.node_count];
    let Some(OwnedValue::Object(map)) = value.get("grudge") else {
        return Err("\"grudge\" is not a map of node to the nodes it drops".to_string());
    };
    for (dest, srcs) in map.iter() {
        let dest = node_index(schedule, dest)?;
        let Some(srcs) = srcs.as_array() else {
            return Err(format!("grudge of {dest} is not a list"));
        };
        for src in srcs {
            let name = src.as_str().ok_or("a grudge lists a non-string")?;
            grudge[dest].push(node_index(schedule, name)?);
        }
        grudge[dest].sort_unstable();
        grudge[dest].dedup();
    }
    Ok(Partition {
        start,
        end,
        shape: string(value, "shape")?.to_string(),
        grudge,
    })
}

fn read_fate(
    link: &OwnedValue,
    value: &OwnedValue,
    schedule: &Schedule,
) -> Result<MessageFate, String> {
    let parts = link
        .as_array()
        .filter(|parts| parts.len() == 3)
        .ok_or("\"msg\" is not [src, dest, n]")?;
    let index = |v: &OwnedValue| -> Result<u16, String> {
        let name = v.as_str().ok_or("\"msg\" names a non-string")?;
        let index = schedule
            .participants
            .iter()
            .position(|p| p == name)
            .ok_or_else(|| format!("unknown participant {name:?}"))?;
        Ok(index as u16)
    };
    let optional = |key: &str| -> Result<Option<u64>, String> {
        match value.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("\"{key}\" is not a whole number of ms")),
        }
    };
    Ok(MessageFate {
        src: index(&parts[0])?,
        dest: index(&parts[1])?,
        nth: parts[2]
            .as_u64()
            .ok_or("the message number is not an integer")?,
        latency_ms: delay(integer(value, "latency-ms")?)?,
        extra_ms: delay(optional("extra-ms")?.unwrap_or(0))?,
        lost: value.get("lost").and_then(|v| v.as_bool()).unwrap_or(false),
        copy_ms: optional("copy-ms")?.map(delay).transpose()?,
    })
}

fn node_index(schedule: &Schedule, name: &str) -> Result<usize, String> {
    schedule.participants[..schedule.node_count]
        .iter()
        .position(|p| p == name)
        .ok_or_else(|| format!("unknown node {name:?}"))
}

fn string<'v>(value: &'v OwnedValue, key: &str) -> Result<&'v str, String> {
    value
        .get(key)
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("\"{key}\" missing or not a string"))
}

/// A relative time in ns, at most [`TIME_MAX_NS`] (so adding it to a clock cannot wrap).
fn time(value: &OwnedValue, key: &str) -> Result<u64, String> {
    let ns = integer(value, key)?;
    if ns > TIME_MAX_NS {
        return Err(format!(
            "\"{key}\" is past {TIME_MAX_NS} ns (the longest run)"
        ));
    }
    Ok(ns)
}

/// A message delay in ms, at most [`DELAY_MAX_MS`].
fn delay(ms: u64) -> Result<u64, String> {
    if ms > DELAY_MAX_MS {
        return Err(format!(
            "a message delay of {ms} ms is past {DELAY_MAX_MS} ms"
        ));
    }
    Ok(ms)
}

fn integer(value: &OwnedValue, key: &str) -> Result<u64, String> {
    value
        .get(key)
        .and_then(|v| v.as_u64())
        .ok_or_else(|| format!("\"{key}\" missing or not a non-negative integer"))
}

fn strings(value: &OwnedValue, key: &str) -> Result<Vec<String>, String> {
    value
        .get(key)
        .and_then(|v| v.as_array())
        .and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(String::from))
                .collect()
        })
        .ok_or_else(|| format!("\"{key}\" missing or not a list of strings"))
}

/// The `&'static str` for an op's `:f` read from a file (ops carry static names, as the
/// generators make them). Names are kept once per process, at most [`F_NAMES_MAX`].
fn intern_f(f: &str) -> Result<&'static str, String> {
    use std::sync::Mutex;
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().map_err(|_| "internal: f names poisoned")?;
    if let Some(known) = names.iter().find(|n| **n == f) {
        return Ok(known);
    }
    if names.len() >= F_NAMES_MAX || f.len() > 64 {
        return Err(format!("too many distinct op names (at {f:?})"));
    }
    let leaked: &'static str = Box::leak(f.to_string().into_boxed_str());
    names.push(leaked);
    Ok(leaked)
}
