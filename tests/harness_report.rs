//! `glomers report DIR` on a real Maelstrom store directory
//! (tests/fixtures/maelstrom-runs/broadcast-5n-valid: results.edn + history.edn of a valid
//! 5-node broadcast run) and on bad input.

use std::process::Command;

const MAELSTROM_RUN: &str = "tests/fixtures/maelstrom-runs/broadcast-5n-valid";

fn report(dir: &str) -> (Option<i32>, String, String) {
    report_with(&[dir])
}

fn report_with(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("report")
        .args(args)
        .output()
        .expect("run glomers");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn report_prints_a_maelstrom_runs_summary() {
    let (code, stdout, stderr) = report(MAELSTROM_RUN);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(":valid? true"), "{stdout}");
    // :net :servers :msgs-per-op as Maelstrom computed it.
    let servers = stdout
        .split_once(":servers")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    assert!(servers.contains(":msgs-per-op 9.53271"), "{stdout}");
    assert!(
        stdout.contains(":stable-latencies {0 0, 0.5 0, 0.95 0, 0.99 0, 1 0}"),
        "{stdout}"
    );
    // Latency quantiles per f, computed from history.edn (Maelstrom only plots them).
    assert!(stdout.contains(":latencies {:broadcast"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("Everything looks good! ヽ(‘ー`)ノ"),
        "{stdout}"
    );
}

#[test]
fn report_on_a_missing_directory_exits_254() {
    let (code, _, stderr) = report("tests/fixtures/no-such-run");
    assert_eq!(code, Some(254));
    assert!(stderr.contains("results.edn"), "{stderr}");
}

#[test]
fn report_exit_status_follows_the_verdict() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-invalid");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("results.edn"),
        "{:workload {:valid? false}, :valid? false}\n",
    )
    .expect("write");
    let (code, stdout, _) = report(&dir.to_string_lossy());
    assert_eq!(code, Some(1), "{stdout}");
    std::fs::write(
        dir.join("results.edn"),
        "{:workload {:valid? :unknown}, :valid? :unknown}\n",
    )
    .expect("write");
    assert_eq!(report(&dir.to_string_lossy()).0, Some(2));
}

#[test]
fn brief_report_is_the_headline() {
    let (code, stdout, stderr) = report_with(&["--brief", MAELSTROM_RUN]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "valid?            true", "{stdout}");
    assert!(
        stdout.contains("ops               214 (214 ok, 0 fail, 0 info)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("msgs-per-op       servers 9.53271, all 11.626168"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stable latency    median 0 ms, p95 0 ms, max 0 ms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("latency broadcast median 2.72 ms"),
        "{stdout}"
    );
    assert!(lines.len() <= 8, "brief means brief: {stdout}");
}
