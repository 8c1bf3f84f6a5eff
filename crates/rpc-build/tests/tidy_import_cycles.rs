//! Tidy check: no import cycles between the modules of `crates/rpc-aio/src` and of
//! `crates/rpc-sync/src`, so each crate stays layered (a module never depends, through
//! others, on a module that depends on it).
//!
//! # What counts
//!
//! - A **module** is a source file: `lib.rs` is the crate root, `a.rs` and `a/mod.rs` are
//!   `a`, `a/b.rs` is `a::b`. Inline `mod x { .. }` blocks (tests, say) belong to their file.
//! - A file of module `A` **names** an item when a path in it resolves into the crate:
//!   paths starting with `crate::`, `super::`, `self::`, with a child module's name, or with
//!   a name the file imports; in `use` declarations, in code (types, expressions, patterns,
//!   trait bounds, attributes) and in the tokens of macro calls (`crate::`/`super::`/`self::`
//!   paths only; in `macro_rules!` bodies only `crate::` and `$crate::`, which mean the same
//!   wherever the macro expands). Visibilities (`pub(crate)`) name nothing.
//! - A path resolves to the module that **defines** the item: module segments are walked
//!   down, then the next name is looked up among the module's own items; a name the module
//!   imports (`use`, including `pub use` re-exports and globs) is followed to where it is
//!   defined. A path that ends at a module names that module; a name found nowhere names the
//!   deepest module reached; a path that leaves the crate names nothing.
//! - There is an **edge** `A -> D` for every item `A` names that `D` (≠ `A`) defines, and for
//!   every private `use` (it may import a trait, which code then uses without naming it).
//!   A `pub`/`pub(..)` `use` is a re-export: it makes no edge of its own, it only forwards
//!   names. So a parent that re-exports its children (`mod x; pub use x::X;`) is not in a
//!   cycle with a child that reaches a sibling through the parent (`use super::Y`): the edge
//!   goes to the sibling that defines `Y`.
//! - A **cycle** is a strongly connected set of two or more modules; the test fails listing
//!   each one, with one path round it and, for each edge, a path that made it.
//!
//! Not seen: paths made by macros from separate tokens, `#[path]` attributes, and items that
//! only a glob of an external crate brings in (they name nothing, which is right).

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::{self, Visit};

/// A module, as the path of its segments from the crate root (`[]` is the root).
type ModPath = Vec<String>;

/// What the walk over one file finds.
#[derive(Debug, Default)]
struct Module {
    /// The file, for messages.
    file: String,
    /// Names of items defined in the file (inline modules included).
    items: BTreeSet<String>,
    /// Named imports: the name in this module -> the imported path (and where it appears).
    imports: BTreeMap<String, Named>,
    /// Glob imports (`use x::*`).
    globs: Vec<Named>,
    /// Every path that may name an item of the crate, and whether it makes an edge even
    /// when it resolves to a module (private `use`s, code paths).
    paths: Vec<Named>,
}

/// A path as written, with the inline module it is written in.
#[derive(Clone, Debug)]
struct Named {
    /// The module the path is relative to: the file's module plus inline `mod` names.
    scope: ModPath,
    /// The segments as written (`super`, `crate`, `self` included).
    segments: Vec<String>,
    /// Where it is written.
    origin: Origin,
}

/// Where a path is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// In code (or a macro call): one segment alone is a value, a type or a macro, never a module.
    Code,
    /// In a private `use`.
    Use,
    /// In a `pub`/`pub(..)` `use`: a re-export, which makes no edge.
    ReExport,
}

impl Named {
    fn text(&self) -> String {
        self.segments.join("::")
    }
}

/// The module a source file defines, from its path under `src/`.
fn module_of(rel: &str) -> ModPath {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn show(module: &[String]) -> String {
    if module.is_empty() { "crate".to_owned() } else { module.join("::") }
}

/// Walks one file's syntax tree.
struct Walker<'a> {
    module: &'a mut Module,
    scope: ModPath,
}

impl Walker<'_> {
    fn path(&mut self, segments: Vec<String>, origin: Origin) {
        if !segments.is_empty() {
            self.module.paths.push(Named {
                scope: self.scope.clone(),
                segments,
                origin,
            });
        }
    }

    /// Records the leaves of a `use` tree under `prefix`.
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>, origin: Origin) {
        let named = |segments: Vec<String>, scope: &ModPath| Named {
            scope: scope.clone(),
            segments,
            origin,
        };
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix, origin);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                let (segments, alias) = if name == "self" {
                    (prefix.clone(), prefix.last().cloned())
                } else {
                    let mut s = prefix.clone();
                    s.push(name.clone());
                    (s, Some(name))
                };
                self.import(alias, named(segments.clone(), &self.scope));
                self.path(segments, origin);
            }
            syn::UseTree::Rename(r) => {
                let mut segments = prefix.clone();
                if r.ident != "self" {
                    segments.push(r.ident.to_string());
                }
                self.import(Some(r.rename.to_string()), named(segments.clone(), &self.scope));
                self.path(segments, origin);
            }
            syn::UseTree::Glob(_) => {
                self.module.globs.push(named(prefix.clone(), &self.scope));
                self.path(prefix.clone(), origin);
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(tree, prefix, origin);
                }
            }
        }
    }

    fn import(&mut self, alias: Option<String>, named: Named) {
        // `use x as _` imports a trait for its methods only: no name, but still a path.
        if let Some(alias) = alias.filter(|a| a != "_") {
            self.module.imports.entry(alias).or_insert(named);
        }
    }

    /// Paths in macro tokens: `crate::a::b`, `super::x`, `self::y` (and `$crate::..`).
    fn macro_tokens(&mut self, tokens: TokenStream, definition: bool) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let TokenTree::Group(g) = &tokens[i] {
                self.macro_tokens(g.stream(), definition);
                i += 1;
                continue;
            }
            // `crate` (also as `$crate`) means this crate wherever a macro expands;
            // `super` and `self` in a `macro_rules!` body mean the module it expands in.
            let start = match &tokens[i] {
                TokenTree::Ident(id) => id == "crate" || (!definition && (id == "super" || id == "self")),
                _ => false,
            };
            if !start {
                i += 1;
                continue;
            }
            let mut segments = vec![tokens[i].to_string()];
            let mut j = i + 1;
            while j + 2 < tokens.len() && is_path_sep(&tokens[j], &tokens[j + 1]) {
                match &tokens[j + 2] {
                    TokenTree::Ident(id) => segments.push(id.to_string()),
                    _ => break,
                }
                j += 3;
            }
            if segments.len() > 1 {
                self.path(segments, Origin::Code);
            }
            i = j.max(i + 1);
        }
    }
}

fn is_path_sep(a: &TokenTree, b: &TokenTree) -> bool {
    matches!((a, b), (TokenTree::Punct(x), TokenTree::Punct(y))
        if x.as_char() == ':' && y.as_char() == ':' && x.spacing() == proc_macro2::Spacing::Joint)
}

fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |r| &r.1).to_string(),
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Macro(i) => i.ident.as_ref()?.to_string(),
        syn::Item::Mod(i) => i.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::TraitAlias(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        _ => return None,
    })
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        // Items of inline modules count as the file's (only a name clash could mislead).
        // `mod x;` is not an item here: `x` is a module of its own, found by its file.
        let declared_file_module = matches!(item, syn::Item::Mod(m) if m.content.is_none());
        if let Some(name) = item_name(item).filter(|_| !declared_file_module) {
            self.module.items.insert(name);
        }
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        if let Some((_, items)) = &item.content {
            self.scope.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_some() {
            return; // `use ::x`: another crate
        }
        let origin = match item.vis {
            syn::Visibility::Inherited => Origin::Use,
            _ => Origin::ReExport,
        };
        self.use_tree(&item.tree, &mut Vec::new(), origin);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.path(segments, Origin::Code);
        }
        visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.macro_tokens(mac.tokens.clone(), false);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        let definition = item.mac.path.is_ident("macro_rules");
        if !definition {
            self.visit_path(&item.mac.path);
        }
        self.macro_tokens(item.mac.tokens.clone(), definition);
    }
}

/// The modules of one crate and the edges between them.
struct Graph {
    modules: BTreeMap<ModPath, Module>,
}

/// An edge and the path that made it first.
type Edges = BTreeMap<(ModPath, ModPath), String>;

/// How deep imports are followed (a re-export of a re-export ...), against import loops.
const MAX_HOPS: usize = 16;

impl Graph {
    /// Parses `files` (path under `src/` -> source).
    fn new(files: &BTreeMap<String, String>) -> Result<Graph, String> {
        let mut modules = BTreeMap::new();
        for (rel, source) in files {
            let file = syn::parse_file(source).map_err(|e| format!("{rel}: {e}"))?;
            let path = module_of(rel);
            let mut module = Module {
                file: rel.clone(),
                ..Module::default()
            };
            Walker {
                module: &mut module,
                scope: path.clone(),
            }
            .visit_file(&file);
            modules.insert(path, module);
        }
        Ok(Graph { modules })
    }

    /// The module a scope (a file's module plus inline modules) belongs to.
    fn file_module(&self, scope: &[String]) -> ModPath {
        let mut m = scope.to_vec();
        while !self.modules.contains_key(&m) && !m.is_empty() {
            m.pop();
        }
        m
    }

    /// The absolute path (from the crate root) that `named` means, or `None` when it leaves
    /// the crate or is a local name (a variable, a generic, a prelude item).
    fn absolute(&self, named: &Named, hops: usize) -> Option<Vec<String>> {
        let (first, rest) = named.segments.split_first()?;
        let mut scope = named.scope.clone();
        match first.as_str() {
            "crate" => return Some(rest.to_vec()),
            "self" => return Some([scope, rest.to_vec()].concat()),
            "super" => {
                let mut segments = named.segments.as_slice();
                while let Some(("super", tail)) = segments.split_first().map(|(s, t)| (s.as_str(), t)) {
                    scope.pop()?;
                    segments = tail;
                }
                return Some([scope, segments.to_vec()].concat());
            }
            _ => {}
        }
        // A name in scope: a child module, an item of the file, an import, or a glob's.
        let file = self.file_module(&scope);
        let module = &self.modules[&file];
        let mut child = scope.clone();
        child.push(first.clone());
        let may_be_module = !(rest.is_empty() && named.origin == Origin::Code);
        if may_be_module && self.modules.contains_key(&child) {
            return Some([child, rest.to_vec()].concat());
        }
        if module.items.contains(first) {
            return Some([file, named.segments.clone()].concat());
        }
        if hops < MAX_HOPS {
            if let Some(import) = module.imports.get(first).filter(|i| i.segments != named.segments) {
                let target = self.absolute(import, hops + 1)?;
                return Some([target, rest.to_vec()].concat());
            }
            for glob in &module.globs {
                let Some(base) = self.absolute(glob, hops + 1) else { continue };
                if self.modules.contains_key(&base) && self.defines(&base, first, hops + 1) {
                    return Some([base, named.segments.clone()].concat());
                }
            }
        }
        None
    }

    /// Whether `name` is an item, a child module or an import of `module`.
    fn defines(&self, module: &ModPath, name: &str, hops: usize) -> bool {
        let m = &self.modules[module];
        let mut child = module.clone();
        child.push(name.to_owned());
        m.items.contains(name)
            || m.imports.contains_key(name)
            || self.modules.contains_key(&child)
            || (hops < MAX_HOPS
                && m.globs.iter().any(|g| {
                    self.absolute(g, hops + 1)
                        .is_some_and(|b| self.modules.contains_key(&b) && &b != module && self.defines(&b, name, hops + 1))
                }))
    }

    /// The module that defines what the absolute path `segments` names.
    fn locate(&self, segments: &[String], hops: usize) -> Option<ModPath> {
        let mut module: ModPath = Vec::new();
        let mut rest = segments;
        loop {
            let Some((name, tail)) = rest.split_first() else {
                return Some(module);
            };
            let mut child = module.clone();
            child.push(name.clone());
            if self.modules.contains_key(&child) {
                module = child;
                rest = tail;
                continue;
            }
            let m = &self.modules[&module];
            if m.items.contains(name) || hops >= MAX_HOPS {
                return Some(module);
            }
            if let Some(import) = m.imports.get(name) {
                // An import that leaves the crate names nothing of it.
                let target = self.absolute(import, hops + 1)?;
                return self.locate(&[target, tail.to_vec()].concat(), hops + 1);
            }
            for glob in &m.globs {
                let Some(base) = self.absolute(glob, hops + 1) else { continue };
                if self.modules.contains_key(&base) && base != module && self.defines(&base, name, hops + 1) {
                    return self.locate(&[base, rest.to_vec()].concat(), hops + 1);
                }
            }
            return Some(module);
        }
    }

    fn edges(&self) -> Edges {
        let mut edges = Edges::new();
        for (from, module) in &self.modules {
            for named in &module.paths {
                if named.origin == Origin::ReExport {
                    continue;
                }
                let Some(target) = self.absolute(named, 0).and_then(|abs| self.locate(&abs, 0)) else {
                    continue;
                };
                if &target != from {
                    edges
                        .entry((from.clone(), target))
                        .or_insert_with(|| format!("{}: `{}`", module.file, named.text()));
                }
            }
        }
        edges
    }
}

/// The cycles of the module graph of `files`, each as a description; empty when none.
fn cycles(files: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let graph = Graph::new(files)?;
    let edges = graph.edges();
    let nodes: Vec<&ModPath> = graph.modules.keys().collect();
    let index: BTreeMap<&ModPath, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut next = vec![Vec::new(); nodes.len()];
    for (from, to) in edges.keys() {
        next[index[from]].push(index[to]);
    }
    let mut out = Vec::new();
    for component in strongly_connected(&next).into_iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let start = *members.first().unwrap();
        let cycle = shortest_cycle(start, &next, &members);
        let mut text = format!(
            "modules {{{}}} depend on each other; one cycle:\n",
            members.iter().map(|&m| show(nodes[m])).collect::<Vec<_>>().join(", ")
        );
        for pair in cycle.windows(2) {
            let (a, b) = (nodes[pair[0]], nodes[pair[1]]);
            text.push_str(&format!("    {} -> {}   ({})\n", show(a), show(b), edges[&(a.clone(), b.clone())]));
        }
        out.push(text);
    }
    Ok(out)
}

/// Tarjan's strongly connected components.
fn strongly_connected(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        next: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.next[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = next.len();
    let mut s = State {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The shortest cycle through `start` inside `members` (breadth-first), start repeated at the end.
fn shortest_cycle(start: usize, next: &[Vec<usize>], members: &BTreeSet<usize>) -> Vec<usize> {
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &next[v] {
            if w == start {
                let mut path = vec![start, v];
                let mut at = v;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if members.contains(&w) && !parent.contains_key(&w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    unreachable!("a strongly connected component of two or more has a cycle through each member")
}

/// Every `.rs` file under `dir`, by its path relative to `dir` (with `/`).
fn sources_under(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
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

// Before the redesign the engine had three cycles: rpc-aio `channel` <-> `call::driver`,
// rpc-aio `server::{handler, rpc, shared, registry, interceptor, invoke, out}`, and rpc-sync
// `channel` <-> `client_interceptor`. Now there are none, and this keeps it so.
#[test]
fn rpc_aio_and_rpc_sync_modules_have_no_import_cycles() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    for name in ["rpc-aio", "rpc-sync"] {
        let files = sources_under(&crates.join(name).join("src"));
        assert!(files.contains_key("lib.rs"), "{name}/src/lib.rs not found");
        for cycle in cycles(&files).unwrap_or_else(|e| panic!("{name}: {e}")) {
            failures.push(format!("{name}: {cycle}"));
        }
    }
    assert!(
        failures.is_empty(),
        "import cycles (see the definition in crates/rpc-build/tests/tidy_import_cycles.rs):\n{}",
        failures.join("\n")
    );
}

#[cfg(test)]
#[path = "tidy_import_cycles/checker.rs"]
mod checker;
