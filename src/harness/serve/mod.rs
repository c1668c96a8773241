//! `glomers serve [--port N] [STORE]`: a local, read-only browser of a store's runs
//! (Maelstrom's `maelstrom serve`). One thread answers one request at a time with
//! tiny_http, bound to 127.0.0.1 only; only GET and HEAD; every file path is checked by
//! [`paths::resolve`] so nothing outside the store is served; pages have no script.
//!
//! Routes: `/` the runs, `/run/<workload>/<time>` one run, `/compare?run=…&run=…` runs
//! side by side, `/file/<path>` a file (or directory listing) under the store.

pub mod pages;
pub mod paths;
pub mod runs;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use maud::Markup;
use paths::Refusal;
use tiny_http::{Header, Method, Request, Response, Server};

/// Most runs one comparison shows.
const COMPARE_MAX: usize = 20;
/// Largest file served whole (the journal of a long run can be GBs: it is cut here).
const FILE_BYTES_MAX: u64 = 64 << 20;

/// The only address `serve` binds: loopback, so the store is never exposed to a network.
pub fn bind_address(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Serves `store` on 127.0.0.1:`port` until killed; returns the exit status on failure.
pub fn main(store: &Path, port: u16) -> i32 {
    let root = match store.canonicalize() {
        Ok(root) if root.is_dir() => root,
        _ => {
            eprintln!("error: {} is not a directory (a store)", store.display());
            return crate::harness::results::verdict::EXIT_BAD_ARGS;
        }
    };
    let server = match Server::http(bind_address(port)) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", bind_address(port));
            return crate::harness::results::verdict::EXIT_CRASH;
        }
    };
    let address = server
        .server_addr()
        .to_ip()
        .unwrap_or_else(|| bind_address(port));
    eprintln!(
        "Serving {} at http://{address}/ (read-only, loopback only; Ctrl-C stops)",
        root.display()
    );
    for request in server.incoming_requests() {
        respond(&root, request);
    }
    0
}

/// A response: status, content type, body.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

fn html(status: u16, markup: Markup) -> Reply {
    Reply {
        status,
        content_type: "text/html; charset=utf-8",
        body: markup.into_string().into_bytes(),
    }
}

fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::BadPath => html(400, pages::error(400, "Bad path: . and .. are refused.")),
        Refusal::Outside => html(403, pages::error(403, "Outside the store: refused.")),
        Refusal::NotFound => html(404, pages::error(404, "Not found.")),
    }
}

fn respond(root: &Path, request: Request) {
    let head = *request.method() == Method::Head;
    let reply = if !matches!(request.method(), Method::Get | Method::Head) {
        html(405, pages::error(405, "Read-only: only GET and HEAD."))
    } else if !local_host(&request) {
        html(
            403,
            pages::error(403, "Host header is not a loopback name."),
        )
    } else {
        route(root, request.url())
    };
    let mut response = Response::from_data(if head { Vec::new() } else { reply.body })
        .with_status_code(reply.status);
    let headers = [
        ("Content-Type", reply.content_type),
        ("X-Content-Type-Options", "nosniff"),
        (
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'",
        ),
    ];
    for (name, value) in headers {
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    if let Err(e) = request.respond(response) {
        eprintln!("warning: cannot answer a request: {e}");
    }
}

/// The Host header names this machine's loopback (a page of another site that made the
/// browser resolve its name to 127.0.0.1 is refused: DNS rebinding).
fn local_host(request: &Request) -> bool {
    let Some(host) = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_ascii_lowercase())
    else {
        return true;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

fn route(root: &Path, url: &str) -> Reply {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if path == "/" {
        let (dirs, more) = runs::list_runs(root);
        let summaries: Vec<_> = dirs.iter().map(|d| runs::summarize(root, d)).collect();
        html(200, pages::index(root, &summaries, more))
    } else if path == "/compare" {
        compare(root, query)
    } else if let Some(rest) = path.strip_prefix("/run/") {
        match paths::resolve(root, rest) {
            Ok(dir) if dir.join("results.edn").is_file() || dir.join("node-logs").is_dir() => {
                let summary = runs::summarize(root, &dir);
                let present: Vec<(&str, &str)> = pages::RUN_FILES
                    .iter()
                    .copied()
                    .filter(|(name, _)| dir.join(name).exists())
                    .collect();
                html(200, pages::run_page(&summary, &present))
            }
            Ok(_) => refused(Refusal::NotFound),
            Err(refusal) => refused(refusal),
        }
    } else if let Some(rest) = path.strip_prefix("/file/") {
        match paths::resolve(root, rest) {
            Ok(real) => file(root, &real),
            Err(refusal) => refused(refusal),
        }
    } else {
        refused(Refusal::NotFound)
    }
}

/// `/compare?run=a&run=b`: each `run` resolved like any path.
fn compare(root: &Path, query: &str) -> Reply {
    let mut summaries = Vec::new();
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        if key != "run" || summaries.len() >= COMPARE_MAX {
            continue;
        }
        let value = value.replace('+', " ");
        match paths::resolve(root, &value) {
            Ok(dir) if dir.join("results.edn").is_file() => {
                summaries.push(runs::summarize(root, &dir))
            }
            Ok(_) => return refused(Refusal::NotFound),
            Err(refusal) => return refused(refusal),
        }
    }
    if summaries.is_empty() {
        return html(
            400,
            pages::error(400, "Select at least one run to compare."),
        );
    }
    html(200, pages::compare(&summaries))
}

/// A file under the store (cut at [`FILE_BYTES_MAX`]), or a directory's listing.
fn file(root: &Path, real: &Path) -> Reply {
    if real.is_dir() {
        let mut names: Vec<PathBuf> = std::fs::read_dir(real)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        let entries: Vec<(String, String)> = names
            .iter()
            .map(|path| {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                (
                    name.into_owned(),
                    format!("/file/{}", paths::link(root, path)),
                )
            })
            .collect();
        let title = paths::link(root, real);
        return html(200, pages::listing(&title, &entries));
    }
    use std::io::Read;
    let mut body = Vec::new();
    let read =
        std::fs::File::open(real).and_then(|f| f.take(FILE_BYTES_MAX).read_to_end(&mut body));
    if read.is_err() {
        return refused(Refusal::NotFound);
    }
    Reply {
        status: 200,
        content_type: content_type(real),
        body,
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "svg" => "image/svg+xml",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}
