//! Which glomers wrote a run, and in which store format, so that `glomers report`, `serve`
//! (and any later reader) know what they are reading. A run's `results.json` and
//! `results.edn` carry two extra top-level keys, `glomers-version` (the crate version) and
//! `store-format` (an integer raised whenever a file of the store changes in a way an older
//! reader would misread). They are added only to the files a run writes
//! ([`stamped`]), not to the results map the checkers produce, which stays in Maelstrom's
//! shape (tests compare it with Maelstrom's text byte for byte); Maelstrom's own results
//! have neither key and read as format 1.

use simd_json::OwnedValue;
use simd_json::prelude::*;

/// Top-level results key: the version of glomers that wrote the run.
pub const VERSION_KEY: &str = "glomers-version";
/// Top-level results key: the store format of the run's files.
pub const FORMAT_KEY: &str = "store-format";
/// Runs without [`FORMAT_KEY`]: Maelstrom's, and glomers' before the key existed.
pub const PREVIOUS_FORMAT: u64 = 1;
/// The format this glomers writes (and the newest it reads).
pub const STORE_FORMAT: u64 = 2;

/// `results` with [`VERSION_KEY`] and [`FORMAT_KEY`] added (a copy: the caller's map keeps
/// Maelstrom's shape for the console and comparisons).
pub fn stamped(results: &OwnedValue) -> OwnedValue {
    let mut stamped = results.clone();
    if let OwnedValue::Object(map) = &mut stamped {
        map.insert(
            VERSION_KEY.to_string(),
            OwnedValue::from(env!("CARGO_PKG_VERSION")),
        );
        map.insert(FORMAT_KEY.to_string(), OwnedValue::from(STORE_FORMAT));
    }
    stamped
}

/// The store format of a run's results: [`PREVIOUS_FORMAT`] when the key is absent;
/// `None` when the key holds something other than a non-negative integer.
pub fn format_of(results: &OwnedValue) -> Option<u64> {
    match results.get(FORMAT_KEY) {
        None => Some(PREVIOUS_FORMAT),
        Some(value) => value.as_u64(),
    }
}

/// A warning when the run was written in a format newer than this glomers knows (or an
/// unreadable one): what may follow is a best effort and may miss or misread figures.
/// `None` for the current and previous formats.
pub fn newer_format_warning(results: &OwnedValue) -> Option<String> {
    let writer = match results.get(VERSION_KEY).and_then(|v| v.as_str()) {
        Some(version) => format!("glomers {version}"),
        None => "an unknown glomers".to_string(),
    };
    let ours = env!("CARGO_PKG_VERSION");
    match format_of(results) {
        Some(format) if format <= STORE_FORMAT => None,
        Some(format) => Some(format!(
            "this run was written by {writer} in store format {format}, newer than the \
             formats {PREVIOUS_FORMAT}–{STORE_FORMAT} this glomers {ours} reads; figures \
             may be missing or wrong: read it with a newer glomers"
        )),
        None => Some(format!(
            "this run's {FORMAT_KEY} is not a format number (written by {writer}); this \
             glomers {ours} reads formats {PREVIOUS_FORMAT}–{STORE_FORMAT}: figures may be \
             missing or wrong"
        )),
    }
}
