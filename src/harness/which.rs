//! Finding the `--bin` to run. A name with a `/` is a path, as before and as in Maelstrom.
//! A bare name (`--bin echo`) is looked up in the `PATH` directories first, the way a shell
//! would, so `cargo install glomers` followed by `glomers test -w echo --bin echo` works
//! from any directory. A bare name found on no `PATH` directory but present as a file in
//! the current directory still runs that file: Maelstrom resolves `--bin` against the
//! current directory, and runs typed that way keep working. When both exist the `PATH` one
//! wins (a shell needs `./NAME` for the current directory too) and a warning names both.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The file `--bin bin` names, before it is checked to be runnable: `bin` itself when it
/// contains a `/`, else the first executable `PATH` match, else `./bin` when that exists.
/// A bare name found nowhere is an error saying where it was looked for.
pub fn locate(bin: &Path) -> Result<PathBuf, String> {
    if bin.as_os_str().is_empty() {
        return Err("--bin needs a file name".to_string());
    }
    if bin.as_os_str().as_encoded_bytes().contains(&b'/') {
        return Ok(bin.to_path_buf());
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let dirs = path_dirs(&path_var);
    let in_cwd = Path::new(".").join(bin);
    match dirs
        .iter()
        .map(|dir| dir.join(bin))
        .find(|c| is_executable_file(c))
    {
        Some(found) => {
            if in_cwd.exists() && !same_file(&found, &in_cwd) {
                eprintln!(
                    "warning: --bin {}: running {} (found on PATH), not ./{} in the current \
                     directory; give --bin ./{} to run that one",
                    bin.display(),
                    found.display(),
                    bin.display(),
                    bin.display()
                );
            }
            Ok(found)
        }
        None if in_cwd.exists() => Ok(in_cwd),
        None => Err(not_found(bin, &dirs, &in_cwd)),
    }
}

/// `PATH` split on `:`; an empty entry means the current directory (POSIX).
fn path_dirs(path_var: &OsStr) -> Vec<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            }
        })
        .collect()
}

/// A regular file (or a link to one) with an execute bit: what a shell would run.
fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// The error for a bare name found nowhere: every place that was tried.
fn not_found(bin: &Path, dirs: &[PathBuf], in_cwd: &Path) -> String {
    let cwd = std::env::current_dir()
        .map(|dir| dir.join(bin).display().to_string())
        .unwrap_or_else(|_| in_cwd.display().to_string());
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let searched = if searched.is_empty() {
        "PATH is empty".to_string()
    } else {
        format!("looked in the PATH directories {}", searched.join(":"))
    };
    format!(
        "--bin {}: no such executable: {searched}, and for ./{} ({cwd}); give a path \
         (e.g. target/release/{}) or install the node binaries (`cargo install --path .`)",
        bin.display(),
        bin.display(),
        bin.display()
    )
}
