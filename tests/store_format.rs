//! Runs say which glomers wrote them and in which store format (issue 27): results.json
//! and results.edn carry `glomers-version` and `store-format`; `report` and `serve` read the
//! current format and the previous one (no key: Maelstrom's runs, older glomers runs), and
//! say clearly when a run is from a newer format.

#[path = "common/e2e.rs"]
mod e2e;

use std::path::Path;
use std::process::{Command, Output};

use e2e::{Store, run};
use glomers::harness::results::format::{
    FORMAT_KEY, PREVIOUS_FORMAT, STORE_FORMAT, VERSION_KEY, format_of, stamped,
};
use glomers::harness::serve::runs::summarize;

const MAELSTROM_RUN: &str = "tests/fixtures/maelstrom-runs/broadcast-5n-valid";

fn report(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("report")
        .arg(dir)
        .output()
        .expect("run glomers")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_run_records_the_version_and_store_format() {
    let store = Store::new("store-format");
    let done = run(
        &store,
        "-w echo --sim --node-count 1 --time-limit 1 --rate 10 --seed 3",
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    let latest = store.0.join("latest");
    let json = std::fs::read_to_string(latest.join("results.json")).expect("json");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        json.contains(&format!("\"{VERSION_KEY}\": \"{version}\"")),
        "{json}"
    );
    assert!(
        json.contains(&format!("\"{FORMAT_KEY}\": {STORE_FORMAT}")),
        "{json}"
    );
    let edn = std::fs::read_to_string(latest.join("results.edn")).expect("edn");
    assert!(
        edn.contains(&format!(":{VERSION_KEY} \"{version}\"")),
        "{edn}"
    );
    assert!(
        edn.contains(&format!(":{FORMAT_KEY} {STORE_FORMAT}")),
        "{edn}"
    );
    // The console summary keeps Maelstrom's shape.
    assert!(!done.stdout.contains(VERSION_KEY), "{}", done.stdout);
    let out = report(&latest);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    let summary = summarize(&store.0, &latest.canonicalize().expect("run"));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
}

#[test]
fn maelstrom_runs_read_as_the_previous_format() {
    let out = report(Path::new(MAELSTROM_RUN));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    let results =
        glomers::harness::results::read_results_edn(&Path::new(MAELSTROM_RUN).join("results.edn"))
            .expect("fixture");
    assert_eq!(format_of(&results), Some(PREVIOUS_FORMAT));
    assert_eq!(format_of(&stamped(&results)), Some(STORE_FORMAT));
}

#[test]
fn a_newer_format_is_named_by_report_and_serve() {
    let store = Store::new("newer-format");
    let dir = store.0.join("echo").join("20990101T000000.000Z");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("results.edn"),
        "{:workload {:valid? true}, :valid? true, :glomers-version \"9.1.0\", :store-format 99}\n",
    )
    .expect("write");
    let out = report(&dir);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("glomers 9.1.0 in store format 99"),
        "{stderr}"
    );
    assert!(stderr.contains("newer"), "{stderr}");
    let summary = summarize(&store.0, &dir);
    assert_eq!(summary.verdict, "true");
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("store format 99")),
        "{:?}",
        summary.warnings
    );
    std::fs::write(
        dir.join("results.edn"),
        "{:workload {:valid? true}, :valid? true, :store-format \"two\"}\n",
    )
    .expect("write");
    let stderr = text(&report(&dir).stderr);
    assert!(stderr.contains("not a format number"), "{stderr}");
}
