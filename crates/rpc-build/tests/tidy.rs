//! Tidy checks over the whole workspace, run by plain `cargo test`: every Rust file under
//! `crates/`, `examples/`, `interop/` and `xtask/` opens with a `//!` module doc.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHECKED: &[&str] = &["crates", "examples", "interop", "xtask"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The `.rs` files git tracks under the checked directories, or, outside a git checkout,
/// every `.rs` file found there (skipping `target` and hidden directories).
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let tracked = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--"])
        .args(CHECKED)
        .output();
    if let Ok(out) = tracked
        && out.status.success()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.components().any(|c| c.as_os_str() == "target") && p.exists())
            .collect();
    }
    let mut files = Vec::new();
    for dir in CHECKED {
        walk(&root.join(dir), &mut files);
    }
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let root = workspace_root();
    let files = rust_files(&root);
    assert!(!files.is_empty(), "no Rust files found under {}", root.display());
    let mut missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.lines().next().is_some_and(|line| line.starts_with("//!"))
        })
        .map(|path| path.strip_prefix(&root).unwrap_or(path).display().to_string())
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "these files do not start with a `//!` line:\n  {}",
        missing.join("\n  ")
    );
}
