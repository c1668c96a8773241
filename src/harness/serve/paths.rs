//! Which file a request path names, refusing anything outside the store: the path is
//! percent-decoded once, `.` and `..` segments (however encoded) are refused, and the
//! result is resolved through symlinks and must still lie under the store's real path (a
//! symlink inside the store pointing out of it is refused; `store/latest` is followed).

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What a path segment in a link encodes: all but letters, digits and `. - _ ~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// Why a path was not served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not valid UTF-8 after decoding, a NUL or backslash, or a `.`/`..` segment.
    BadPath,
    /// Resolves outside the store.
    Outside,
    /// Nothing there.
    NotFound,
}

/// The store-relative segments of `encoded` (a URL path tail, still percent-encoded).
pub fn segments(encoded: &str) -> Result<Vec<String>, Refusal> {
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| Refusal::BadPath)?;
    if decoded.contains(['\0', '\\']) {
        return Err(Refusal::BadPath);
    }
    let mut out = Vec::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return Err(Refusal::BadPath);
        }
        out.push(segment.to_string());
    }
    Ok(out)
}

/// The real path of `encoded` under `root` (itself a canonical path), or why not.
pub fn resolve(root: &Path, encoded: &str) -> Result<PathBuf, Refusal> {
    let mut path = root.to_path_buf();
    for segment in segments(encoded)? {
        path.push(segment);
    }
    let real = path.canonicalize().map_err(|_| Refusal::NotFound)?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Refusal::Outside)
    }
}

/// `path` relative to `root`, `/`-separated and percent-encoded for a link.
pub fn link(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| {
            percent_encoding::utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused_however_encoded() {
        for path in [
            "..",
            "a/../b",
            "%2e%2e/etc/passwd",
            "%2E%2E",
            "a/%2e%2e/%2e%2e/x",
            ".",
            "a%2f..%2fb",
            "..%5cwin",
            "a%00b",
        ] {
            assert_eq!(segments(path), Err(Refusal::BadPath), "{path}");
        }
        assert_eq!(segments("a//b/").unwrap(), ["a", "b"]);
        assert_eq!(segments("%252e%252e").unwrap(), ["%2e%2e"], "decoded once");
        assert_eq!(segments("...").unwrap(), ["..."]);
    }
}
