//! `.proto` files loaded at run time (imports, the well-known types, errors) and symbols
//! looked up in the pool: methods in both spellings with their kinds, and every kind of
//! element.

use rpc_dynamic::{ErrorKind, MethodKind, Symbol, find_method, find_symbol, load_protos, split_method_name};
use std::path::{Path, PathBuf};

fn protos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protos")
}

#[test]
fn a_file_with_imports_loads_with_its_imports_and_the_well_known_types() {
    let pool = load_protos(&["dyntest/kitchen.proto"], &[protos()]).unwrap();
    let names: Vec<String> = pool.files().map(|f| f.name().to_owned()).collect();
    for file in [
        "dyntest/kitchen.proto",
        "dyntest/common.proto",
        "google/protobuf/timestamp.proto",
        "google/protobuf/any.proto",
    ] {
        assert!(names.iter().any(|n| n == file), "{file} in {names:?}");
    }
    assert!(pool.get_message_by_name("dyntest.common.Point").is_some());
    // A path under the import path works as well as the import name.
    let by_path = load_protos(&[protos().join("dyntest/kitchen.proto")], &[protos()]).unwrap();
    assert!(by_path.get_service_by_name("dyntest.Kitchen").is_some());
}

#[test]
fn without_import_paths_a_file_sees_its_own_directory() {
    let pool = load_protos::<_, &Path>(&[protos().join("legacy.proto")], &[]).unwrap();
    assert!(pool.get_message_by_name("legacy.Old").is_some());
}

#[test]
fn load_errors_say_what_and_where() {
    let missing = load_protos(&["dyntest/nope.proto"], &[protos()]).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Load);
    assert!(missing.to_string().contains("nope.proto"), "{missing}");

    let dir = std::env::temp_dir().join(format!("rpc-dynamic-load-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.proto"),
        "syntax = \"proto3\";\nmessage M {\n  strin name = 1;\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("unimported.proto"), "syntax = \"proto3\";\nmessage M { other.T t = 1; }\n").unwrap();
    let broken = load_protos(&["broken.proto"], &[&dir]).unwrap_err();
    assert_eq!(broken.kind(), ErrorKind::Load);
    assert!(broken.to_string().contains("broken.proto"), "{broken}");
    let unresolved = load_protos(&["unimported.proto"], &[&dir]).unwrap_err();
    assert!(unresolved.to_string().contains("other.T"), "{unresolved}");
    assert_eq!(
        load_protos::<&str, &str>(&[], &[]).unwrap_err().kind(),
        ErrorKind::Load,
        "no files is an error, not an empty pool"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn methods_by_either_spelling_with_their_kinds() {
    let pool = load_protos(&["dyntest/kitchen.proto"], &[protos()]).unwrap();
    for (name, kind) in [
        ("dyntest.Kitchen/Cook", MethodKind::Unary),
        ("dyntest.Kitchen.Courses", MethodKind::ServerStreaming),
        ("/dyntest.Kitchen/Tasting", MethodKind::ClientStreaming),
        (".dyntest.Kitchen.Chat", MethodKind::BidiStreaming),
    ] {
        let method = find_method(&pool, name).unwrap();
        assert_eq!(method.kind(), kind, "{name}");
        assert_eq!(method.kind().client_streams(), name.ends_with("Tasting") || name.ends_with("Chat"));
        assert_eq!(method.kind().server_streams(), name.ends_with("Courses") || name.ends_with("Chat"));
    }
    let cook = find_method(&pool, "dyntest.Kitchen/Cook").unwrap();
    assert_eq!(cook.path(), "/dyntest.Kitchen/Cook");
    assert_eq!(cook.full_name(), "dyntest.Kitchen.Cook");
    assert_eq!(cook.input().full_name(), "dyntest.Order");
    assert_eq!(cook.output().full_name(), "dyntest.Dish");
    assert_eq!(MethodKind::BidiStreaming.to_string(), "bidi-streaming");

    let unknown_method = find_method(&pool, "dyntest.Kitchen/Bake").unwrap_err();
    assert!(unknown_method.is_not_found());
    assert!(unknown_method.to_string().contains("Bake"), "{unknown_method}");
    let unknown_service = find_method(&pool, "dyntest.Bakery/Bake").unwrap_err();
    assert!(unknown_service.to_string().contains("dyntest.Bakery"), "{unknown_service}");
    for bad in ["Cook", "", "/", "dyntest.Kitchen/", "."] {
        assert_eq!(find_method(&pool, bad).unwrap_err().kind(), ErrorKind::InvalidName, "{bad:?}");
    }
    assert_eq!(split_method_name("a.B/C").unwrap(), ("a.B", "C"));
    assert_eq!(split_method_name("a.B.C").unwrap(), ("a.B", "C"));
}

#[test]
fn every_kind_of_symbol_is_found() {
    let pool = load_protos(&["dyntest/kitchen.proto", "legacy.proto"], &[protos()]).unwrap();
    for (name, kind) in [
        ("dyntest.Kitchen", "service"),
        ("dyntest.Kitchen.Cook", "method"),
        ("dyntest.Order", "message"),
        (".dyntest.Order.Inner", "message"),
        ("dyntest.Order.name", "field"),
        ("dyntest.Order.text", "field"),
        ("dyntest.Order.choice", "one-of"),
        ("dyntest.common.Colour", "enum"),
        ("dyntest.Order.Inner.Size", "enum"),
        ("dyntest.common.Colour.RED", "enum value"),
        ("dyntest.common.RED", "enum value"),
        ("dyntest.Order.Inner.LARGE", "enum value"),
        ("legacy.note", "extension"),
        ("legacy.Holder.level", "extension"),
    ] {
        let symbol = find_symbol(&pool, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(symbol.kind_name(), kind, "{name}");
    }
    // The synthetic oneof of a proto3 `optional` field is not a symbol.
    assert!(find_symbol(&pool, "dyntest.Order._maybe").unwrap_err().is_not_found());
    let value = find_symbol(&pool, "dyntest.common.RED").unwrap();
    assert_eq!(value.full_name(), "dyntest.common.Colour.RED");
    assert_eq!(value.parent_file().name(), "dyntest/common.proto");
    assert!(matches!(find_symbol(&pool, "dyntest.Order").unwrap(), Symbol::Message(m) if m.name() == "Order"));
    let error = find_symbol(&pool, "dyntest.Nothing.Here").unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.to_string(), "symbol not found: dyntest.Nothing.Here");
    assert_eq!(find_symbol(&pool, " ").unwrap_err().kind(), ErrorKind::InvalidName);
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("rpc-dynamic-load-position-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("typo.proto"), "syntax = \"proto3\";\nmessage M {\n  string name = ;\n}\n").unwrap();
    let error = load_protos(&["typo.proto"], &[&dir]).unwrap_err();
    assert!(error.to_string().contains("typo.proto:3:"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
