//! `late-replies`: every request answered once, before the client gave up (MAELSTROM.md
//! §1.9). The runner records what the history cannot show — replies after a timeout,
//! second replies, nodes muted for writing to a closed client — under `late-replies` and
//! `muted-nodes` in the results; this check turns them into findings. Maelstrom discards
//! such replies (or stops reading the node) and may still call the run valid.

use simd_json::OwnedValue;
use simd_json::prelude::*;

use super::{ExtraInput, Findings};

/// The findings of the run's `late-replies` and `muted-nodes` entries.
pub fn check(input: &ExtraInput) -> OwnedValue {
    let mut findings = Findings::default();
    let text = |v: &OwnedValue, key: &str| {
        v.get(key)
            .map(|x| x.as_str().map_or_else(|| x.encode(), str::to_string))
            .unwrap_or_default()
    };
    let seconds = |v: &OwnedValue| v.get("time").and_then(|t| t.cast_f64()).unwrap_or(0.0) / 1e9;
    if let Some(muted) = input.results.get("muted-nodes").and_then(|m| m.as_array()) {
        for m in muted {
            findings.push(
                format!(
                    "{} was muted at {:.3} s for a message with an {}: {}",
                    text(m, "node"),
                    seconds(m),
                    text(m, "why"),
                    text(m, "message")
                ),
                &[],
            );
        }
    }
    if let Some(late) = input.results.get("late-replies") {
        let listed = late.get("first").and_then(|f| f.as_array());
        for l in listed.into_iter().flatten() {
            let how = match text(l, "kind").as_str() {
                "second-reply" => "a second reply".to_string(),
                _ => format!("{} ms after the client's timeout", text(l, "late-by-ms")),
            };
            findings.push(
                format!(
                    "{} answered {}'s request {} with {} at {:.3} s, {how}",
                    text(l, "node"),
                    text(l, "client"),
                    text(l, "in-reply-to"),
                    text(l, "type"),
                    seconds(l)
                ),
                &[],
            );
        }
        let counted = ["after-timeout", "second-replies"]
            .iter()
            .filter_map(|k| late.get(*k).and_then(|c| c.as_u64()))
            .sum::<u64>();
        let listed = listed.map_or(0, |l| l.len() as u64);
        findings.count_unlisted(counted.saturating_sub(listed));
    }
    findings.result()
}
