//! The import-cycle checker itself, on tiny synthetic crates.

use super::*;

fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect()
}

fn found(list: &[(&str, &str)]) -> Vec<String> {
    cycles(&files(list)).unwrap()
}

#[test]
fn a_cycle_through_crate_paths_is_found_with_its_edges() {
    let got = found(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "use crate::b::B; pub struct A;"),
        ("b.rs", "pub struct B; fn f(_: crate::a::A) {}"),
    ]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("{a, b}"), "{}", got[0]);
    assert!(got[0].contains("a -> b   (a.rs: `crate::b::B`)"), "{}", got[0]);
    assert!(got[0].contains("b -> a   (b.rs: `crate::a::A`)"), "{}", got[0]);
}

#[test]
fn a_chain_is_no_cycle() {
    assert!(
        found(&[
            ("lib.rs", "mod a; mod b; mod c; pub use a::A;"),
            ("a.rs", "use crate::b::B; pub struct A(B);"),
            ("b.rs", "pub struct B(crate::c::C);"),
            ("c.rs", "pub struct C;"),
        ])
        .is_empty()
    );
}

#[test]
fn reaching_a_sibling_through_a_re_exporting_parent_is_no_cycle() {
    let base = [
        ("lib.rs", "mod x; pub use x::{Y, Z};"),
        ("x/mod.rs", "mod y; mod z; pub use y::Y; pub(crate) use self::z::Z;"),
        ("x/y.rs", "use super::Z; pub struct Y(Z);"),
    ];
    let mut list = base.to_vec();
    list.push(("x/z.rs", "pub struct Z; fn f(_: crate::Y) {}"));
    let got = found(&list);
    assert_eq!(got.len(), 1, "z uses y through the crate root and y uses z: {got:?}");
    assert!(got[0].contains("{x::y, x::z}"), "{}", got[0]);
    let mut list = base.to_vec();
    list.push(("x/z.rs", "pub struct Z;"));
    assert!(found(&list).is_empty());
}

#[test]
fn a_parent_using_its_child_and_the_child_using_the_parent_is_a_cycle() {
    let re_export_only = [
        ("lib.rs", "mod a;"),
        ("a/mod.rs", "mod b; pub use b::B; pub struct Shared;"),
        ("a/b.rs", "use super::Shared; pub struct B(Shared);"),
    ];
    assert!(found(&re_export_only).is_empty(), "a re-export alone is no dependency");
    let got = found(&[
        ("lib.rs", "mod a;"),
        ("a/mod.rs", "mod b; pub struct Shared; fn f() { b::helper(); }"),
        ("a/b.rs", "pub fn helper() -> super::Shared { super::Shared }"),
    ]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("a -> a::b   (a/mod.rs: `b::helper`)"), "{}", got[0]);
}

#[test]
fn a_local_variable_named_like_a_child_module_names_nothing() {
    assert!(
        found(&[
            ("lib.rs", "mod a;"),
            ("a/mod.rs", "mod handler; pub struct Shared; fn f(handler: u8) -> u8 { handler }"),
            ("a/handler.rs", "fn g(_: super::Shared) {}"),
        ])
        .is_empty()
    );
}

#[test]
fn test_modules_and_visibilities_make_no_edge_to_their_own_file_or_the_root() {
    assert!(
        found(&[
            ("lib.rs", "mod a; fn root() -> a::A { a::A }"),
            (
                "a.rs",
                "pub(crate) struct A; pub(in crate) fn f() {} #[cfg(test)] mod tests { use super::*; fn g() -> A { A } }"
            ),
        ])
        .is_empty()
    );
}

#[test]
fn paths_inside_macro_calls_and_imported_traits_count() {
    let got = found(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", r#"pub trait Tr {} pub fn a() { println!("{}", crate::b::B); }"#),
        ("b.rs", "use crate::a::Tr as _; pub struct B;"),
    ]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("a -> b   (a.rs: `crate::b::B`)"), "{}", got[0]);
}

#[test]
fn imports_are_followed_through_aliases_and_globs() {
    // `c` names `crate::p::Q`; p re-exports q's items by a glob, so the edge is c -> p::q.
    let got = found(&[
        ("lib.rs", "mod c; mod p;"),
        ("p/mod.rs", "mod q; pub use q::*;"),
        ("p/q.rs", "use crate::c as here; pub struct Q(here::C);"),
        ("c.rs", "pub struct C; fn f(_: crate::p::Q) {}"),
    ]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("{c, p::q}"), "{}", got[0]);
}

#[test]
fn modules_are_named_after_their_files() {
    assert_eq!(module_of("lib.rs"), Vec::<String>::new());
    assert_eq!(module_of("a/mod.rs"), ["a"]);
    assert_eq!(module_of("a/b.rs"), ["a", "b"]);
    assert!(cycles(&files(&[("lib.rs", "fn (")])).is_err(), "a parse error is reported");
}
