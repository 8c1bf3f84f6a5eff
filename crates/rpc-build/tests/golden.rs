//! Golden files: the code generated for `proto/helloworld.proto` and `proto/route_guide.proto`
//! is committed under `tests/golden/`, so a change to the generator shows in review as a
//! change to what users get. Each package's file is committed in its parts (the messages,
//! the descriptors, the client stub, the blocking servicer, the async servicer, the
//! registration), one golden file each, so each part reads on its own. Each test
//! regenerates one package and fails with a line diff of every part that differs;
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden` rewrites them.

use std::path::{Path, PathBuf};

/// Lines put before each part in a golden file (they keep the tidy test's `//!` rule and
/// say where the part comes from); not part of the comparison's subject.
fn header(proto: &str, part: &str) -> String {
    format!(
        "//! Golden copy of the {part} of what rpc-build generates for `proto/{proto}`,\n\
         //! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with\n\
         //! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.\n"
    )
}

/// Generates `proto` with the default options and returns the package's file.
fn generate(proto: &str, package_file: &str) -> String {
    let protos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden").join(proto);
    let _ = std::fs::remove_dir_all(&out);
    rpc_build::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .include_file(None::<PathBuf>)
        .compile(&[protos.join(proto)], &[protos])
        .expect("generation succeeds");
    std::fs::read_to_string(out.join(package_file)).expect("the package file was written")
}

/// One part of a generated package file: its golden file's name, what the header calls it,
/// and how the line of its first item begins (`None`: the part starts the file).
struct Part {
    file: &'static str,
    name: &'static str,
    first_item: Option<String>,
}

/// The parts of the file generated for a package with the one service `service` (its Rust
/// name, e.g. `RouteGuide`) whose constants are prefixed `constant` (e.g. `ROUTE_GUIDE`).
fn parts(service: &str, constant: &str) -> Vec<Part> {
    let part = |file, name, first_item: Option<String>| Part { file, name, first_item };
    vec![
        part("messages.rs", "message types", None),
        part(
            "descriptors.rs",
            "service descriptors",
            Some(format!("pub const {constant}_SERVICE_NAME:")),
        ),
        part("client.rs", "client stub", Some(format!("pub struct {service}Stub<C>"))),
        part(
            "blocking_servicer.rs",
            "blocking servicer",
            Some(format!("pub trait {service}Servicer:")),
        ),
        part(
            "async_servicer.rs",
            "async servicer",
            Some(format!("pub trait Async{service}Servicer:")),
        ),
        part(
            "registration.rs",
            "registration and file descriptors",
            Some(format!("pub trait {service}ServicerKind<M>")),
        ),
    ]
}

/// Cuts `code` into `parts`: a part starts after the last top-level item ending (a line
/// `}` or `};`) before the line of its first item, so the item's docs and attributes go
/// with it.
fn split<'a>(code: &'a str, parts: &[Part]) -> Result<Vec<&'a str>, String> {
    let mut starts = vec![0];
    for part in parts.iter().skip(1) {
        let first = part.first_item.as_deref().unwrap_or_default();
        let from = *starts.last().unwrap_or(&0);
        let at = code[from..]
            .match_indices('\n')
            .map(|(i, _)| from + i + 1)
            .find(|&i| code[i..].starts_with(first))
            .ok_or_else(|| {
                format!(
                    "no line starting `{first}` after the {}: cut the parts anew",
                    parts[starts.len() - 1].name
                )
            })?;
        let end = code[from..at]
            .match_indices('\n')
            .map(|(i, _)| from + i + 1)
            .rfind(|&i| i < at && matches!(code[i..].lines().next(), Some("}" | "};")))
            .ok_or_else(|| format!("no item ends before `{first}`"))?;
        let after = end + code[end..].find('\n').map_or(code.len() - end, |i| i + 1);
        starts.push(after);
    }
    starts.push(code.len());
    Ok(starts.windows(2).map(|w| &code[w[0]..w[1]]).collect())
}

fn check(proto: &str, package_file: &str, golden_dir: &str, parts: &[Part]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden_dir);
    let generated = generate(proto, package_file);
    let pieces = split(&generated, parts).unwrap_or_else(|e| panic!("proto/{proto}: {e}"));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut differ = String::new();
    for (part, piece) in parts.iter().zip(pieces) {
        let golden = dir.join(part.file);
        let expected = format!("{}{piece}", header(proto, part.name));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&golden, &expected).unwrap();
            eprintln!("rewrote {}", golden.display());
            continue;
        }
        // Line endings a checkout may have changed are not a difference.
        let committed = std::fs::read_to_string(&golden).unwrap_or_default().replace("\r\n", "\n");
        if committed != expected {
            differ.push_str(&format!(
                "tests/golden/{golden_dir}/{}: lines of the golden file (-) and of the generated code (+):\n{}",
                part.file,
                diff_summary(&committed, &expected)
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "the code generated for proto/{proto} differs from tests/golden/{golden_dir}/.\n\
         If the change is meant, rewrite the golden files with\n\
         \x20   UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden\n\
         and commit them.\n{differ}"
    );
}

#[test]
fn helloworld_matches_its_golden_files() {
    check("helloworld.proto", "helloworld.rs", "helloworld", &parts("Greeter", "GREETER"));
}

#[test]
fn route_guide_matches_its_golden_files() {
    check(
        "route_guide.proto",
        "routeguide.rs",
        "route_guide",
        &parts("RouteGuide", "ROUTE_GUIDE"),
    );
}

#[test]
fn the_parts_put_together_are_the_generated_file() {
    let code = "// m\nstruct A {\n}\n/// d\npub const X_SERVICE_NAME: &str = \"\";\nstatic S: u8 = {\n};\n/// s\n#[derive(Clone)]\npub struct XStub<C> {\n}\n\
                pub trait XServicer: Send {\n}\npub trait AsyncXServicer: Send {\n}\npub trait XServicerKind<M> {\n}\nconst F: u8 = 0;\n";
    let pieces = split(code, &parts("X", "X")).unwrap();
    assert_eq!(pieces.concat(), code, "nothing is lost or repeated");
    assert_eq!(pieces[0], "// m\nstruct A {\n}\n");
    assert_eq!(pieces[1], "/// d\npub const X_SERVICE_NAME: &str = \"\";\nstatic S: u8 = {\n};\n");
    assert_eq!(
        pieces[2], "/// s\n#[derive(Clone)]\npub struct XStub<C> {\n}\n",
        "docs and attributes go with their item"
    );
    assert_eq!(pieces[5], "pub trait XServicerKind<M> {\n}\nconst F: u8 = 0;\n");
    assert!(split("struct A {\n}\n", &parts("X", "X")).unwrap_err().contains("X_SERVICE_NAME"));
}

/// How many changed lines the summary shows before it stops.
const SHOWN: usize = 60;
/// Lines of context around each change.
const CONTEXT: usize = 2;
/// Longer lines (the encoded descriptor set) are cut.
const WIDTH: usize = 160;

/// One line of a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// A line diff of `old` to `new` (longest common subsequence; generated files are small).
fn diff<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Edit<'a>> {
    let (n, m) = (old.len(), new.len());
    // lcs[i][j]: the length of the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut edits) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            edits.push(Edit::Same(old[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            edits.push(Edit::Removed(old[i]));
            i += 1;
        } else {
            edits.push(Edit::Added(new[j]));
            j += 1;
        }
    }
    edits
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(WIDTH) {
        Some((at, _)) => format!("{}… ({} chars)", &line[..at], line.chars().count()),
        None => line.to_owned(),
    }
}

/// The changed lines of `old` -> `new` with a little context and their line numbers in
/// each (old, new), at most [`SHOWN`] changed lines, and a count of all of them.
fn diff_summary(old: &str, new: &str) -> String {
    if old.is_empty() {
        return "  (the golden file is missing or empty)\n".to_owned();
    }
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let edits = diff(&old, &new);
    let changed: Vec<usize> = (0..edits.len()).filter(|&k| !matches!(edits[k], Edit::Same(_))).collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let (mut out, mut shown, mut gap) = (String::new(), 0, false);
    let (mut old_line, mut new_line) = (0, 0);
    for (k, edit) in edits.iter().enumerate() {
        if !matches!(edit, Edit::Added(_)) {
            old_line += 1;
        }
        if !matches!(edit, Edit::Removed(_)) {
            new_line += 1;
        }
        if shown >= SHOWN {
            continue;
        }
        if !near(k) {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push_str("  ...\n");
        }
        gap = false;
        let (old_no, new_no) = (old_line.to_string(), new_line.to_string());
        let (old_no, mark, new_no, text) = match edit {
            Edit::Same(t) => (old_no.as_str(), ' ', new_no.as_str(), t),
            Edit::Removed(t) => (old_no.as_str(), '-', "", t),
            Edit::Added(t) => ("", '+', new_no.as_str(), t),
        };
        if mark != ' ' {
            shown += 1;
        }
        out.push_str(&format!("{old_no:>5} {new_no:>5} {mark} {}\n", cut(text)));
    }
    let removed = edits.iter().filter(|e| matches!(e, Edit::Removed(_))).count();
    let added = edits.iter().filter(|e| matches!(e, Edit::Added(_))).count();
    if shown < changed.len() {
        out.push_str(&format!("  ... and {} more changed lines\n", changed.len() - shown));
    }
    out.push_str(&format!("  {removed} lines removed, {added} added\n"));
    out
}

#[test]
fn the_diff_summary_shows_changed_lines_with_context() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let new = "a\nb\nC\nd\ne\nf\ng\nh\ni\n";
    let summary = diff_summary(old, new);
    assert_eq!(
        summary,
        "    1     1   a\n    2     2   b\n    3       - c\n          3 + C\n    4     4   d\n    5     5   e\n  ...\n    \
         7     7   g\n    8     8   h\n          9 + i\n  1 lines removed, 2 added\n"
    );
    assert_eq!(
        diff(&["x", "y"], &["y"]),
        [Edit::Removed("x"), Edit::Same("y")],
        "a removal is not shown as a change of every line"
    );
    assert!(diff_summary("", "x").contains("missing"));
    assert!(diff_summary("a\n", &format!("{}\n", "z".repeat(500))).contains("… (500 chars)"));
}
