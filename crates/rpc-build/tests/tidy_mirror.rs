//! Tidy check: rpc-sync mirrors rpc-aio file for file and name for name (as reqwest's
//! `blocking/` mirrors `async_impl/`), except where `crates/rpc-sync/mirror-exceptions.txt`
//! says why not.
//!
//! # What counts
//!
//! For every file path present under both `crates/rpc-aio/src` and `crates/rpc-sync/src`
//! (`channel.rs` and `channel.rs`, `call/mod.rs` and `call/mod.rs`), the **public items** of
//! each file are compared by name:
//! - items declared `pub` (not `pub(crate)` and the like) at the top of the file or in an
//!   inline `pub mod` (named `m::Item`): `fn`, `struct`, `enum`, `union`, `trait`, `type`,
//!   `const`, `static`, `mod`, and the names `pub use` makes visible (globs excepted);
//! - for a type present in both files (as a public item or as the self type of an inherent
//!   `impl`), the `pub` functions and constants of its inherent `impl` blocks
//!   (`Channel::unary_unary`); trait impls are not compared (a trait fixes their names).
//!
//! Items under `#[cfg(test)]` or `#[doc(hidden)]` are skipped. An item in one file of the pair
//! and not the other is a **difference**. Each difference must be listed in the exceptions
//! file as `path | item | reason` (lines starting with `#` are comments), and every line there must still
//! match a difference: a stale exception fails too, so the list stays true.
//!
//! Not seen: items that macros generate (`multicallable!` structs and methods) and files
//! present on one side only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The public names of one file, with what kind of item each is.
type Surface = BTreeMap<String, &'static str>;

fn has_attr(attrs: &[syn::Attribute], name: &str, arg: &str) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident(name) && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident(arg)))
}

/// Whether an item is left out: test-only or hidden from the docs.
fn skipped(attrs: &[syn::Attribute]) -> bool {
    has_attr(attrs, "cfg", "test") || has_attr(attrs, "doc", "hidden")
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// The attributes, visibility, name and kind of an item that has a name.
fn describe(item: &syn::Item) -> Option<(&[syn::Attribute], &syn::Visibility, String, &'static str)> {
    Some(match item {
        syn::Item::Fn(i) => (&i.attrs, &i.vis, i.sig.ident.to_string(), "fn"),
        syn::Item::Struct(i) => (&i.attrs, &i.vis, i.ident.to_string(), "struct"),
        syn::Item::Enum(i) => (&i.attrs, &i.vis, i.ident.to_string(), "enum"),
        syn::Item::Union(i) => (&i.attrs, &i.vis, i.ident.to_string(), "union"),
        syn::Item::Trait(i) => (&i.attrs, &i.vis, i.ident.to_string(), "trait"),
        syn::Item::Type(i) => (&i.attrs, &i.vis, i.ident.to_string(), "type"),
        syn::Item::Const(i) => (&i.attrs, &i.vis, i.ident.to_string(), "const"),
        syn::Item::Static(i) => (&i.attrs, &i.vis, i.ident.to_string(), "static"),
        syn::Item::Mod(i) => (&i.attrs, &i.vis, i.ident.to_string(), "mod"),
        _ => return None,
    })
}

/// The names a `use` tree makes visible.
fn use_names(tree: &syn::UseTree, last: Option<String>, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree, Some(p.ident.to_string()), out),
        syn::UseTree::Name(n) if n.ident == "self" => out.extend(last),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) if r.rename != "_" => out.push(r.rename.to_string()),
        syn::UseTree::Rename(_) | syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, last.clone(), out)),
    }
}

/// The name of the type an inherent impl is for (`Channel` for `impl<T> Channel<T>`).
fn self_type(item: &syn::ItemImpl) -> Option<String> {
    match &*item.self_ty {
        syn::Type::Path(p) if item.trait_.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// What one file shows: its public items, and the public functions and constants of the
/// inherent impls of each type.
#[derive(Debug, Default)]
struct FileSurface {
    items: Surface,
    /// Type name -> its public associated items (`method` -> kind).
    methods: BTreeMap<String, Surface>,
    /// Names re-exported from rpc-aio itself (`pub use rpc_aio::X`): the very same item as
    /// rpc-aio's, so neither it, its methods, nor (for a module) its contents can differ.
    aio_reexports: BTreeSet<String>,
}

impl FileSurface {
    fn parse(source: &str) -> syn::Result<FileSurface> {
        let file = syn::parse_file(source)?;
        let mut surface = FileSurface::default();
        surface.add(&file.items, "");
        Ok(surface)
    }

    fn add(&mut self, items: &[syn::Item], prefix: &str) {
        for item in items {
            match item {
                syn::Item::Use(u) if is_pub(&u.vis) && !skipped(&u.attrs) => {
                    let mut names = Vec::new();
                    use_names(&u.tree, None, &mut names);
                    let from_aio = matches!(&u.tree, syn::UseTree::Path(p) if p.ident == "rpc_aio");
                    for name in names {
                        if from_aio {
                            self.aio_reexports.insert(format!("{prefix}{name}"));
                        }
                        self.items.insert(format!("{prefix}{name}"), "use");
                    }
                }
                syn::Item::Impl(i) if !skipped(&i.attrs) => {
                    let Some(ty) = self_type(i) else { continue };
                    let methods = self.methods.entry(format!("{prefix}{ty}")).or_default();
                    for assoc in &i.items {
                        let (attrs, vis, name, kind) = match assoc {
                            syn::ImplItem::Fn(f) => (&f.attrs, &f.vis, f.sig.ident.to_string(), "method"),
                            syn::ImplItem::Const(c) => (&c.attrs, &c.vis, c.ident.to_string(), "associated const"),
                            _ => continue,
                        };
                        if is_pub(vis) && !skipped(attrs) {
                            methods.insert(name, kind);
                        }
                    }
                }
                _ => {
                    let Some((attrs, vis, name, kind)) = describe(item) else { continue };
                    if !is_pub(vis) || skipped(attrs) {
                        continue;
                    }
                    self.items.insert(format!("{prefix}{name}"), kind);
                    if let syn::Item::Mod(syn::ItemMod {
                        content: Some((_, inner)), ..
                    }) = item
                    {
                        self.add(inner, &format!("{prefix}{name}::"));
                    }
                }
            }
        }
    }

    /// The names of types this file has: public items and self types of inherent impls.
    fn types(&self) -> BTreeSet<&str> {
        self.items.keys().chain(self.methods.keys()).map(String::as_str).collect()
    }
}

/// Which side of the mirror has an item the other lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Aio,
    Sync,
}

/// An item in one file of a pair and not in the other.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Difference {
    /// The file's path under `src/`.
    path: String,
    /// `insecure_channel`, `Channel::unary_unary`.
    item: String,
    kind: &'static str,
    only_in: Side,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.only_in {
            Side::Aio => "rpc-aio",
            Side::Sync => "rpc-sync",
        };
        write!(f, "{} | {} | ({} only in {side})", self.path, self.item, self.kind)
    }
}

fn compare(path: &str, aio: &Surface, sync: &Surface, prefix: &str, out: &mut Vec<Difference>) {
    for (side, ours, theirs) in [(Side::Aio, aio, sync), (Side::Sync, sync, aio)] {
        for (name, kind) in ours {
            if !theirs.contains_key(name) {
                out.push(Difference {
                    path: path.to_owned(),
                    item: format!("{prefix}{name}"),
                    kind,
                    only_in: side,
                });
            }
        }
    }
}

/// The differences between the rpc-aio and rpc-sync versions of the file at `path`.
fn differences(path: &str, aio: &str, sync: &str) -> Result<Vec<Difference>, String> {
    let parse = |face: &str, source: &str| FileSurface::parse(source).map_err(|e| format!("{face}/src/{path}: {e}"));
    let (aio, sync) = (parse("rpc-aio", aio)?, parse("rpc-sync", sync)?);
    let mut out = Vec::new();
    // What rpc-sync re-exports from rpc-aio is rpc-aio's own item: leave out its contents.
    let same_item = |name: &str| sync.aio_reexports.iter().any(|r| name.starts_with(&format!("{r}::")));
    let aio_items: Surface = aio
        .items
        .iter()
        .filter(|(n, _)| !same_item(n))
        .map(|(n, k)| (n.clone(), *k))
        .collect();
    compare(path, &aio_items, &sync.items, "", &mut out);
    let empty = Surface::new();
    for ty in aio.types().intersection(&sync.types()) {
        if sync.aio_reexports.contains(*ty) {
            continue;
        }
        let (a, s) = (aio.methods.get(*ty).unwrap_or(&empty), sync.methods.get(*ty).unwrap_or(&empty));
        compare(path, a, s, &format!("{ty}::"), &mut out);
    }
    out.sort_by(|a, b| (&a.path, &a.item).cmp(&(&b.path, &b.item)));
    Ok(out)
}

/// One line of the exceptions file.
#[derive(Debug, PartialEq, Eq)]
struct Exception {
    line: usize,
    path: String,
    item: String,
}

/// Parses `path | item | reason` lines; blank lines and lines starting with `#` are skipped
/// (a `#` elsewhere is text: a raw identifier such as `r#type` can be an item).
fn parse_exceptions(text: &str) -> Result<Vec<Exception>, String> {
    let mut out: Vec<Exception> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [path, item, reason] = fields[..] else {
            return Err(format!("line {}: expected `path | item | reason`, got `{raw}`", i + 1));
        };
        if path.is_empty() || item.is_empty() || reason.is_empty() {
            return Err(format!("line {}: the path, the item and the reason must all be given", i + 1));
        }
        if let Some(first) = out.iter().find(|e| e.path == path && e.item == item) {
            return Err(format!(
                "line {}: `{path} | {item}` is listed already on line {}",
                i + 1,
                first.line
            ));
        }
        out.push(Exception {
            line: i + 1,
            path: path.to_owned(),
            item: item.to_owned(),
        });
    }
    Ok(out)
}

/// Checks `pairs` (path -> (rpc-aio source, rpc-sync source)) against `exceptions` (the
/// exceptions file's text): every difference listed, every listed line a difference.
fn check(pairs: &BTreeMap<String, (String, String)>, exceptions: &str) -> Result<(), String> {
    let exceptions = parse_exceptions(exceptions).map_err(|e| format!("mirror-exceptions.txt: {e}"))?;
    let mut found = Vec::new();
    for (path, (aio, sync)) in pairs {
        found.extend(differences(path, aio, sync)?);
    }
    let listed = |d: &Difference| exceptions.iter().any(|e| e.path == d.path && e.item == d.item);
    let unexplained: Vec<String> = found.iter().filter(|d| !listed(d)).map(|d| format!("  {d}")).collect();
    let stale: Vec<String> = exceptions
        .iter()
        .filter(|e| !found.iter().any(|d| d.path == e.path && d.item == e.item))
        .map(|e| format!("  line {}: {} | {}", e.line, e.path, e.item))
        .collect();
    let mut report = String::new();
    if !unexplained.is_empty() {
        report.push_str(&format!(
            "rpc-aio and rpc-sync differ here; mirror the item, or add the line (with the reason in \
             place of the parenthesis) to crates/rpc-sync/mirror-exceptions.txt:\n{}\n",
            unexplained.join("\n")
        ));
    }
    if !stale.is_empty() {
        report.push_str(&format!(
            "these exceptions match no difference any more; remove them:\n{}\n",
            stale.join("\n")
        ));
    }
    if report.is_empty() { Ok(()) } else { Err(report) }
}

/// Every `.rs` file under `dir`, by its path relative to `dir` (with `/`).
fn sources_under(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().components();
                let rel = rel.map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn exceptions_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rpc-sync/mirror-exceptions.txt")
}

// Every difference between the faces is either mirrored away or listed with its reason in
// crates/rpc-sync/mirror-exceptions.txt.
#[test]
fn rpc_sync_mirrors_rpc_aio() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let aio = sources_under(&crates.join("rpc-aio/src"));
    let mut sync = sources_under(&crates.join("rpc-sync/src"));
    assert!(
        aio.contains_key("lib.rs") && sync.contains_key("lib.rs"),
        "the crates' sources are not where expected"
    );
    let pairs: BTreeMap<String, (String, String)> = aio
        .into_iter()
        .filter_map(|(path, a)| sync.remove(&path).map(|s| (path, (a, s))))
        .collect();
    let exceptions = std::fs::read_to_string(exceptions_file()).unwrap_or_default();
    if let Err(report) = check(&pairs, &exceptions) {
        panic!("{report}");
    }
}

#[test]
fn the_exceptions_file_parses() {
    let text = std::fs::read_to_string(exceptions_file()).expect("crates/rpc-sync/mirror-exceptions.txt exists");
    parse_exceptions(&text).unwrap_or_else(|e| panic!("mirror-exceptions.txt: {e}"));
}

#[cfg(test)]
mod checker {
    //! The comparison on synthetic file pairs.

    use super::*;

    fn items(diffs: &[Difference]) -> Vec<(String, Side)> {
        diffs.iter().map(|d| (d.item.clone(), d.only_in)).collect()
    }

    fn diff(aio: &str, sync: &str) -> Vec<(String, Side)> {
        items(&differences("x.rs", aio, sync).unwrap())
    }

    fn pairs(list: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
        list.iter()
            .map(|(p, a, s)| (p.to_string(), (a.to_string(), s.to_string())))
            .collect()
    }

    #[test]
    fn the_same_names_are_no_difference_whatever_the_bodies_and_kinds() {
        let aio = "pub struct Channel; impl Channel { pub async fn close(&self) {} } pub fn insecure_channel() {}";
        let sync = "pub struct Channel { inner: u8 } impl Channel { pub fn close(&self) {} } pub fn insecure_channel() {}";
        assert!(diff(aio, sync).is_empty());
        assert!(diff("pub struct Error;", "pub type Error = u8;").is_empty(), "a name is a name");
    }

    #[test]
    fn items_missing_on_either_side_are_found() {
        let got = diff("pub fn a() {} pub struct B; pub const C: u8 = 0;", "pub fn a() {} pub enum D {}");
        let want = [("B", Side::Aio), ("C", Side::Aio), ("D", Side::Sync)].map(|(n, s)| (n.to_owned(), s));
        assert_eq!(got, want);
    }

    #[test]
    fn methods_of_a_type_on_both_sides_are_compared() {
        let aio = "pub struct Call; impl Call { pub fn code(&self) {} pub fn cancel(&self) {} }";
        let sync = "pub struct Call; impl Call { pub fn code(&self) {} pub const MAX: u8 = 1; }";
        assert_eq!(
            diff(aio, sync),
            [("Call::MAX".to_owned(), Side::Sync), ("Call::cancel".to_owned(), Side::Aio)]
        );
        // A type on one side only is one difference, not one per method.
        assert_eq!(
            diff("pub struct Only; impl Only { pub fn a(&self) {} }", ""),
            [("Only".to_owned(), Side::Aio)]
        );
        // A type of the other file (an impl of it here) still has its methods compared.
        assert_eq!(
            diff("impl Channel { pub fn ready(&self) {} }", "impl<T> Channel<T> {}"),
            [("Channel::ready".to_owned(), Side::Aio)]
        );
    }

    #[test]
    fn private_hidden_test_and_trait_items_are_not_compared() {
        let aio = r#"
            pub(crate) fn internal() {}
            fn private() {}
            #[doc(hidden)] pub fn hidden() {}
            #[cfg(test)] mod tests { pub fn helper() {} }
            pub struct T;
            impl T { pub(crate) fn inner(&self) {} fn private(&self) {} #[doc(hidden)] pub fn engine(&self) {} }
            impl Clone for T { fn clone(&self) -> T { T } }
        "#;
        assert!(diff(aio, "pub struct T;").is_empty(), "{:?}", diff(aio, "pub struct T;"));
    }

    #[test]
    fn re_exports_count_by_the_name_they_make_visible() {
        let aio = "pub use crate::call::{UnaryCall, StreamCall as Streaming}; pub use x::*; pub use y::Tr as _; pub mod testing { pub fn server() {} }";
        let sync = "pub use crate::call::UnaryCall; pub use rpc_aio::Streaming; pub mod testing {}";
        assert_eq!(diff(aio, sync), [("testing::server".to_owned(), Side::Aio)]);
    }

    #[test]
    fn what_rpc_sync_re_exports_from_rpc_aio_is_the_same_item_with_the_same_methods() {
        let aio = "pub struct Outcome; impl Outcome { pub fn code(&self) {} } pub mod kind { pub enum Unary {} }";
        let sync = "pub use rpc_aio::{Outcome, kind};";
        assert!(diff(aio, sync).is_empty(), "{:?}", diff(aio, sync));
        // A re-export from anywhere else is only a name.
        assert_eq!(diff(aio, "pub use other::{Outcome, kind};").len(), 2);
    }

    #[test]
    fn listed_differences_pass_and_unlisted_ones_fail() {
        let files = pairs(&[("channel.rs", "pub fn a() {} pub fn b() {}", "pub fn a() {}")]);
        assert!(check(&files, "# comment\n\nchannel.rs | b | the blocking face has no b\n").is_ok());
        let err = check(&files, "").unwrap_err();
        assert!(err.contains("channel.rs | b | (fn only in rpc-aio)"), "{err}");
    }

    #[test]
    fn stale_exceptions_fail() {
        let files = pairs(&[("channel.rs", "pub fn a() {}", "pub fn a() {}")]);
        let err = check(&files, "channel.rs | a | once different\n").unwrap_err();
        assert!(err.contains("line 1: channel.rs | a"), "{err}");
        let err = check(&files, "call.rs | b | no such file pair\n").unwrap_err();
        assert!(err.contains("match no difference"), "{err}");
    }

    #[test]
    fn malformed_exceptions_fail() {
        assert!(parse_exceptions("channel.rs | a").unwrap_err().contains("line 1"));
        assert!(parse_exceptions("channel.rs | a | ").unwrap_err().contains("reason"));
        assert!(
            parse_exceptions("a | b | c\n\na | b | d")
                .unwrap_err()
                .contains("listed already on line 1")
        );
        assert!(
            check(&pairs(&[("x.rs", "pub fn (", "")]), "")
                .unwrap_err()
                .contains("rpc-aio/src/x.rs")
        );
    }
}
