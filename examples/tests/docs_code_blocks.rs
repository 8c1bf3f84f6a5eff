//! The guides' code blocks cannot rot: every page of `docs/` (and `README.md`) is compiled as
//! doc tests somewhere, and every code block says its language, so that rustdoc compiles
//! exactly the Rust ones (a bare fence is Rust to rustdoc, and prose to a reader).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The markdown pages whose code blocks readers copy.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.extend(["README.md", "examples/README.md", "interop/README.md"].map(|p| root.join(p)));
    pages
}

/// The opening fences of a page: (line number, info string).
fn openings(text: &str) -> Vec<(usize, String)> {
    let mut open = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        if !open {
            out.push((n + 1, info.trim().to_owned()));
        }
        open = !open;
    }
    out
}

#[test]
fn every_code_block_names_its_language() {
    let mut bare = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("page is readable");
        for (line, info) in openings(&text) {
            if info.is_empty() {
                bare.push(format!("{}:{line}", page.display()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "code blocks without a language (write rust, text, toml, sh, ...): {bare:#?}"
    );
}

#[test]
fn no_rust_block_is_left_out_of_the_doc_tests() {
    let mut ignored = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("page is readable");
        for (line, info) in openings(&text) {
            if info.split(',').any(|a| a.trim() == "ignore") {
                ignored.push(format!("{}:{line}", page.display()));
            }
        }
    }
    assert!(
        ignored.is_empty(),
        "`ignore`d Rust blocks (make them compile; `no_run` if they need a network): {ignored:#?}"
    );
}

#[test]
fn every_page_with_rust_is_compiled_as_doc_tests() {
    let root = root();
    let examples_lib = std::fs::read_to_string(root.join("examples/src/lib.rs")).expect("lib.rs");
    let dynamic_lib = std::fs::read_to_string(root.join("crates/rpc-dynamic/src/lib.rs")).expect("rpc-dynamic lib.rs");
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("page is readable");
        let has_rust = openings(&text).iter().any(|(_, info)| info.split(',').next() == Some("rust"));
        let name = page.strip_prefix(&root).expect("under the root").display().to_string();
        let included = examples_lib.contains(&format!("\"../../{name}\"")) || dynamic_lib.contains(&format!("\"../../../{name}\""));
        if has_rust && !included {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "pages with Rust blocks not included as doc tests in examples/src/lib.rs: {missing:?}"
    );
}

#[test]
fn every_relative_link_names_a_file_that_exists() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("page is readable");
        let dir = page.parent().expect("a page is in a directory");
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(start) = rest.find("](") {
                let after = &rest[start + 2..];
                let Some(end) = after.find(')') else { break };
                let target = &after[..end];
                rest = &after[end..];
                let path = target.split('#').next().unwrap_or("");
                if path.is_empty() || path.contains("://") {
                    continue;
                }
                if !dir.join(path).exists() {
                    broken.push(format!("{}:{}: {target}", page.display(), n + 1));
                }
            }
        }
    }
    assert!(broken.is_empty(), "links to files that do not exist: {broken:#?}");
}
