//! `glomers serve` (issue 16): a read-only page of a store's runs, on loopback only, that
//! refuses every path outside the store (`..`, `%2e%2e`, a symlink pointing out), checked
//! over HTTP and in a real headless Chromium, which also writes screenshots to
//! `target/tmp/serve-e2e/`.

#[path = "common/e2e.rs"]
mod e2e;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{Store, run};

/// A running `glomers serve`, killed on drop.
struct Server {
    child: Child,
    port: u16,
    /// Its stderr, kept open so the server can still write to it.
    _stderr: BufReader<std::process::ChildStderr>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `glomers serve --port 0 STORE` and reads the port it printed.
fn serve(store: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(["serve", "--port", "0"])
        .arg(store)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start glomers serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    let mut stderr = BufReader::new(stderr);
    stderr.read_line(&mut line).expect("line");
    let mut server = Server {
        child,
        port: 0,
        _stderr: stderr,
    };
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    assert!(address.starts_with("127.0.0.1:"), "loopback only: {line}");
    server.port = address
        .trim_start_matches("127.0.0.1:")
        .parse()
        .expect("port");
    server
}

/// A raw HTTP/1.0 request (the path sent exactly as given); returns (status, body).
fn request(port: u16, method: &str, path: &str, host: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

fn get(port: u16, path: &str) -> (u16, String) {
    request(port, "GET", path, &format!("127.0.0.1:{port}"))
}

/// A store with one short `--sim` broadcast run; returns the run's directory name.
fn store_with_a_run(name: &str) -> (Store, String) {
    let store = Store::new(name);
    let done = run(
        &store,
        "--sim -w broadcast --node-count 3 --time-limit 2 --rate 20 --latency 5 --seed 3",
    );
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let link = std::fs::read_link(store.0.join("broadcast").join("latest")).expect("latest");
    (store, link.to_string_lossy().into_owned())
}

#[test]
fn paths_outside_the_store_and_writes_are_refused() {
    let (store, run_name) = store_with_a_run("serve-refusals");
    let outside = std::env::temp_dir().join(format!("glomers-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("secret.txt"), "secret").expect("secret");
    std::os::unix::fs::symlink(&outside, store.0.join("escape")).expect("symlink");
    let server = serve(&store.0);
    let port = server.port;
    let run_file = format!("/file/broadcast/{run_name}/results.edn");
    assert_eq!(get(port, &run_file).0, 200);
    assert_eq!(
        get(port, "/file/latest/messages.svg").0,
        200,
        "links inside"
    );
    for path in [
        "/file/../../etc/passwd",
        "/file/broadcast/../../../etc/passwd",
        "/file/%2e%2e/%2e%2e/etc/passwd",
        "/file/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/run/..%2f..%2fetc",
        "/compare?run=..%2F..%2Fetc",
    ] {
        let (status, body) = get(port, path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!body.contains("root:"), "{path}");
    }
    let (status, body) = get(port, "/file/escape/secret.txt");
    assert_eq!(status, 403, "symlink out of the store: {body}");
    assert!(!body.contains("secret\n") && body != "secret");
    assert_eq!(get(port, "/file/escape").0, 403);
    assert_eq!(get(port, "/file/no-such-file").0, 404);
    let host = format!("127.0.0.1:{port}");
    assert_eq!(request(port, "POST", "/", &host).0, 405);
    assert_eq!(request(port, "DELETE", &run_file, &host).0, 405);
    assert_eq!(request(port, "GET", "/", "evil.example:80").0, 403);
    drop(server);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn the_server_listens_on_loopback_only() {
    use glomers::harness::serve::bind_address;
    assert!(bind_address(8080).ip().is_loopback());
    assert_eq!(bind_address(8080).to_string(), "127.0.0.1:8080");
    let (store, _) = store_with_a_run("serve-loopback");
    let server = serve(&store.0);
    assert_eq!(get(server.port, "/").0, 200);
    // This machine's address on its outward interface (no packet is sent), if it has one:
    // the server must not answer there.
    let outward = UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| socket.connect("10.255.255.1:9").map(|()| socket))
        .and_then(|socket| socket.local_addr())
        .map(|address| address.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    match outward {
        Some(ip) => assert!(
            TcpStream::connect_timeout(&(ip, server.port).into(), Duration::from_secs(2)).is_err(),
            "answered on {ip}"
        ),
        None => eprintln!("no non-loopback address on this machine: outward check skipped"),
    }
}

#[test]
fn the_index_the_run_page_and_the_comparison_list_the_run() {
    let (store, run_name) = store_with_a_run("serve-pages");
    let server = serve(&store.0);
    let (status, index) = get(server.port, "/");
    assert_eq!(status, 200);
    assert!(
        index.contains(&format!("/run/broadcast/{run_name}")),
        "{index}"
    );
    assert!(index.contains("<td class=\"true\">true</td>"), "{index}");
    let (status, page) = get(server.port, &format!("/run/broadcast/{run_name}"));
    assert_eq!(status, 200, "{page}");
    for file in [
        "messages.svg",
        "timeline.html",
        "results.edn",
        "history.txt",
        "node-logs",
    ] {
        assert!(
            page.contains(&format!("{run_name}/{file}\"")),
            "{file}: {page}"
        );
    }
    let compare = format!("/compare?run=broadcast%2F{run_name}&run=broadcast%2Flatest");
    let (status, page) = get(server.port, &compare);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("servers msgs-per-op") && page.contains("<circle"),
        "{page}"
    );
}

/// Debian's `chromium` (or another name for it) on PATH.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs headless Chromium with `args`, at most 120 s; returns its stdout.
fn browse(chromium: &Path, profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(["--no-first-run", "--disable-dev-shm-usage"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader")
}

#[test]
fn a_real_browser_lists_the_run_and_draws_its_lamport_diagram() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required under CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let (store, run_name) = store_with_a_run("serve-browser");
    let server = serve(&store.0);
    let base = format!("http://127.0.0.1:{}", server.port);
    let profile = store.0.join("chromium-profile");
    let output = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-e2e");
    std::fs::create_dir_all(&output).expect("output dir");
    let index = browse(
        &chromium,
        &profile,
        &["--dump-dom".into(), format!("{base}/")],
    );
    assert!(
        index.contains(&run_name) && index.contains("<tr class=\"run\">"),
        "{index}"
    );
    let diagram = format!("{base}/file/broadcast/{run_name}/messages.svg");
    let dom = browse(&chromium, &profile, &["--dump-dom".into(), diagram.clone()]);
    let arrows = dom.matches("class=\"arrow\"").count();
    assert!(arrows > 10, "{arrows} arrows in\n{dom}");
    for (name, url) in [("index.png", format!("{base}/")), ("messages.png", diagram)] {
        let shot = output.join(name);
        let _ = std::fs::remove_file(&shot);
        browse(
            &chromium,
            &profile,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1400,1000".into(),
                url,
            ],
        );
        let bytes = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(bytes > 10_000, "{} is {bytes} bytes", shot.display());
        eprintln!("screenshot: {}", shot.display());
    }
}

#[test]
fn a_muted_node_is_flagged_on_the_index_and_on_its_run_page() {
    let store = Store::new("serve-muted");
    let done = run(
        &store,
        "-w echo --bin tests/nodes/echo_late.py --node-count 1 --time-limit 8 --rate 10 \
         --seed 3 -- 3 5.5",
    );
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let link = std::fs::read_link(store.0.join("echo").join("latest")).expect("latest");
    let run_name = link.to_string_lossy().into_owned();
    let server = serve(&store.0);
    let (status, index) = get(server.port, "/");
    assert_eq!(status, 200);
    assert!(index.contains("muted / late"), "{index}");
    let (status, page) = get(server.port, &format!("/run/echo/{run_name}"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("n0 muted at") && page.contains("the real Maelstrom stops reading"),
        "{page}"
    );
}

#[test]
fn a_shrunk_run_is_listed_like_any_other_with_what_went_wrong() {
    let store = Store::new("serve-shrunk");
    let store_dir = store.0.display().to_string();
    let mut args = vec!["shrink", "--max-tries", "80", "glomers", "test"];
    args.extend(
        "-w txn-rw-register --sim --node-count 2 --rate 100 --time-limit 6 --nemesis partition \
         --nemesis-interval 2 --loss 0.1 --duplicate 0.1 --reorder-ms 30 --clock-skew 0.2 \
         --asymmetric-partitions --seed 11"
            .split_whitespace(),
    );
    args.extend(["--store", store_dir.as_str()]);
    let out = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(&args)
        .output()
        .expect("glomers shrink");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = std::fs::read_link(store.0.join("txn-rw-register").join("latest")).expect("latest");
    let run_name = link.to_string_lossy().into_owned();
    let server = serve(&store.0);
    let (status, index) = get(server.port, "/");
    assert_eq!(status, 200);
    assert!(
        index.contains(&format!("/run/txn-rw-register/{run_name}")),
        "{index}"
    );
    assert!(
        index.contains("class=\"shrunk\"") && index.contains("Shrunk in"),
        "{index}"
    );
    let (status, page) = get(server.port, &format!("/run/txn-rw-register/{run_name}"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("What went wrong") && page.contains("T1"),
        "{page}"
    );
    for file in ["messages.svg", "schedule.jsonl", "shrink.txt"] {
        assert!(
            page.contains(&format!("{run_name}/{file}\"")),
            "{file}: {page}"
        );
    }
}
