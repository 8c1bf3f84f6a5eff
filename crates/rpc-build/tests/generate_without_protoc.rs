//! Runs the generator with `PROTOC` pointing at a file that does not exist, proving that
//! no `protoc` is needed, and checks what it wrote.

use std::path::{Path, PathBuf};

fn proto_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The only test of this binary, so that setting `PROTOC` races with no other thread.
#[test]
fn generator_runs_with_protoc_pointing_nowhere() {
    // SAFETY: this is the only test in this binary and it has started no thread yet, so
    // nothing reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", "/nonexistent/protoc-must-not-be-run") };
    generates_route_guide();
    keywords_and_clashes_give_valid_names();
    a_missing_proto_is_an_error_not_a_panic();
}

/// Whether `code` contains `item`, ignoring whitespace (the output is formatted).
fn has(code: &str, item: &str) -> bool {
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    squash(code).contains(&squash(item))
}

fn generates_route_guide() {
    let out = out_dir("route_guide");
    let fds_path = out.join("all.bin");
    rpc_build::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .file_descriptor_set_path(&fds_path)
        .compile(&[proto_root().join("route_guide.proto")], &[proto_root()])
        .expect("generation without protoc succeeds");
    let code = std::fs::read_to_string(out.join("routeguide.rs")).unwrap();
    for item in [
        "pub struct RouteGuideStub<C>",
        "pub fn get_feature(",
        "pub fn get_feature_with_call(",
        "pub fn get_feature_future(",
        "pub fn list_features(",
        "pub fn record_route_future(",
        "pub fn route_chat(",
        // The stub calls through the multi-callable of each kind and returns the alias.
        "-> ::rpc_core::codegen::UnaryUnaryWithCall<C, Point, Feature>",
        "-> ::rpc_core::codegen::UnaryStreamCall<C, Rectangle, Feature>",
        "-> ::rpc_core::codegen::StreamUnaryFuture<C, Point, RouteSummary>",
        "-> ::rpc_core::codegen::StreamStreamCall<C, RouteNote, RouteNote>",
        "::rpc_core::codegen::StreamUnaryCallable::future(&::rpc_core::codegen::Channel::stream_unary::<",
        ">(&self.channel, &ROUTE_GUIDE_RECORD_ROUTE), requests.into_streaming_request(),",
        "pub trait RouteGuideServicer: Send + Sync + 'static",
        "pub trait AsyncRouteGuideServicer: Send + Sync + 'static",
        "pub trait RouteGuideServicerKind<M>",
        "pub fn add_route_guide_servicer_to_server<M>(",
        "pub static ROUTE_GUIDE_GET_FEATURE: ::rpc_core::codegen::MethodDescriptor",
        "pub static ROUTE_GUIDE_SERVICE: ::rpc_core::codegen::ServiceDescriptor",
        "pub const ROUTE_GUIDE_SERVICE_NAME: &str = \"routeguide.RouteGuide\";",
        "pub const FILE_DESCRIPTOR_SET: &[u8]",
        "/// Streams every feature found inside a rectangle.",
        "::rpc_core::codegen::prost::Message",
    ] {
        assert!(has(&code, item), "`{item}` missing from the generated code");
    }
    // Everything comes through the codegen path: no other crate is named.
    let outside_codegen = code
        .replace("::rpc_core::codegen::prost", "<cg>")
        .replace("::rpc_core::codegen::", "<cg>");
    for banned in ["tonic", "rpc_aio", "rpc_sync", "prost::", "prost_types::"] {
        assert!(
            !outside_codegen.contains(banned),
            "generated code mentions `{banned}` outside the codegen path"
        );
    }
    syn::parse_file(&code).expect("generated code parses");
    assert!(
        std::fs::read_to_string(out.join("_includes.rs"))
            .unwrap()
            .contains("pub mod routeguide")
    );
    assert!(std::fs::metadata(&fds_path).unwrap().len() > 0);
}

fn keywords_and_clashes_give_valid_names() {
    let out = out_dir("keywords");
    let protos = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protos");
    rpc_build::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .codegen_path("crate::cg")
        .compile(&[protos.join("keywords.proto")], &[protos])
        .expect("generation succeeds");
    let file = out.join("kw.r#type.v1.rs");
    let listing: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.file_name()).collect();
    let code = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}; found {listing:?}", file.display()));
    syn::parse_file(&code).expect("generated code parses");
    for item in [
        "pub struct SelfStub<C>",
        "pub fn r#type(",
        "pub fn type_with_call(",
        "pub fn call_new(",
        "pub fn call_new_future(",
        "pub fn call_channel(",
        "pub fn r#async(",
        "fn r#type(&self, request: Match",
        "fn new(&self, requests: crate::cg::ReqIter<Match>",
        "pub const SELF_SERVICE_NAME: &str = \"kw.type.v1.Self\";",
        "path: \"/kw.type.v1.Self/Type\"",
        "pub fn add_self_servicer_to_server<M>(",
        "pub fn add_nothing_servicer_to_server<M>(",
        "crate::cg::prost_types::Timestamp",
    ] {
        assert!(has(&code, item), "`{item}` missing from:\n{code}");
    }
    let includes = std::fs::read_to_string(out.join("_includes.rs")).unwrap();
    assert!(includes.contains("pub mod r#type"), "{includes}");
}

fn a_missing_proto_is_an_error_not_a_panic() {
    let err = rpc_build::configure()
        .out_dir(out_dir("missing"))
        .emit_rerun_if_changed(false)
        .compile(&[proto_root().join("does_not_exist.proto")], &[proto_root()])
        .unwrap_err();
    assert!(err.to_string().contains("does_not_exist"), "{err}");
}
