//! rpc and grpcurl side by side on the same server (grpcurl installed from PyPI into a
//! venv under the target directory): the same service and method lists, the same
//! describe output, the same JSON from the same calls, the same exit codes. Also with
//! `--proto` files (comments included).
//!
//! Skipped, with a note, only when `python3` is absent; if pip cannot install grpcurl, the
//! tests fail and say so.

mod common;

use common::{Reflection, Run, dynamic_protos, grpcurl, rpc, run_grpcurl, start};
use std::path::Path;

/// Runs `rpc VERB --plaintext TARGET REST..` and `grpcurl -plaintext TARGET VERB REST..`.
fn both(grpcurl: &Path, target: &str, verb: &str, rest: &[&str]) -> (Run, Run) {
    let mut ours = vec![verb, "--plaintext", target];
    ours.extend(rest);
    let mut theirs = vec!["-plaintext", target, verb];
    theirs.extend(rest);
    (rpc(&ours, None), run_grpcurl(grpcurl, &theirs, None))
}

#[test]
fn the_same_lists() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    for rest in [
        &[][..],
        &["routeguide.RouteGuide"],
        &["dyntest.Kitchen"],
        &["grpc.health.v1.Health"],
    ] {
        let (ours, theirs) = both(grpcurl, &target, "list", rest);
        assert_eq!(ours.ok(), theirs.ok(), "list {rest:?}");
    }
    let v1alpha = start(Reflection::V1AlphaOnly, |_| {});
    let (ours, theirs) = both(grpcurl, &v1alpha.target(), "list", &[]);
    assert_eq!(ours.ok(), theirs.ok(), "list on a v1alpha-only server");
}

#[test]
fn the_same_descriptions() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    for symbol in [
        "helloworld.Greeter",
        "helloworld.HelloRequest",
        "routeguide.RouteGuide",
        "routeguide.RouteGuide.RouteChat",
        "routeguide.Feature",
        "routeguide.Feature.location",
        "grpc.health.v1.Health",
        "grpc.health.v1.HealthCheckResponse",
        "grpc.health.v1.HealthCheckResponse.ServingStatus",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1.ServerReflectionRequest",
        "grpc.reflection.v1alpha.ServerReflectionResponse",
        "dyntest.Kitchen",
        "dyntest.Order",
        "dyntest.Order.Inner",
        "dyntest.Order.choice",
        "dyntest.Order.counts",
        "dyntest.Dish",
        "dyntest.common.Colour",
        "google.protobuf.Timestamp",
        "google.protobuf.Value",
    ] {
        let (ours, theirs) = both(grpcurl, &target, "describe", &[symbol]);
        assert_eq!(ours.ok(), theirs.ok(), "describe {symbol}");
    }
    // Without a symbol: every service, in the same order.
    let (ours, theirs) = both(grpcurl, &target, "describe", &[]);
    assert_eq!(ours.ok(), theirs.ok(), "describe with no symbol");
    // An unknown symbol fails in both, with exit code 1.
    let (ours, theirs) = both(grpcurl, &target, "describe", &["no.Such"]);
    assert_eq!((ours.code, theirs.code), (1, 1));
}

#[test]
fn the_same_descriptions_from_proto_files_with_comments() {
    let Some(grpcurl) = grpcurl() else { return };
    let import = dynamic_protos();
    let import = import.to_str().unwrap();
    for (file, symbol) in [
        ("dyntest/kitchen.proto", "dyntest.Kitchen"),
        ("dyntest/kitchen.proto", "dyntest.Order"),
        ("dyntest/kitchen.proto", "dyntest.Kitchen.Chat"),
        ("legacy.proto", "legacy.Holder"),
        ("legacy.proto", "legacy.note"),
        ("custom_options.proto", "opts.Reading"),
    ] {
        let ours = rpc(&["describe", "--proto", file, "--import-path", import, symbol], None);
        let theirs = run_grpcurl(grpcurl, &["-import-path", import, "-proto", file, "describe", symbol], None);
        assert_eq!(ours.ok(), theirs.ok(), "describe {symbol} from {file}");
    }
}

#[test]
fn the_same_json_from_the_same_calls() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    let point = r#"{"latitude": 407838351, "longitude": -746143763}"#;
    let rectangle = r#"{"lo": {"latitude": 400000000, "longitude": -750000000}, "hi": {"latitude": 420000000, "longitude": -730000000}}"#;
    for (data, method) in [
        (r#"{"name": "same"}"#, "helloworld.Greeter/SayHello"),
        (point, "routeguide.RouteGuide/GetFeature"),
        ("{}", "routeguide.RouteGuide.GetFeature"),
        (rectangle, "routeguide.RouteGuide/ListFeatures"),
        (r#"{"service": "helloworld.Greeter"}"#, "grpc.health.v1.Health/Check"),
        (
            r#"{"fileContainingSymbol": "dyntest.Kitchen"} {"fileByFilename": "no/such.proto"}"#,
            "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ),
    ] {
        let ours = rpc(&["call", "--plaintext", "-d", data, &target, method], None);
        let theirs = run_grpcurl(grpcurl, &["-plaintext", "-d", data, &target, method], None);
        assert_eq!(ours.ok(), theirs.ok(), "{method} with {data}");
    }
    let ours = rpc(
        &[
            "call",
            "--plaintext",
            "--emit-defaults",
            "-d",
            "{}",
            &target,
            "routeguide.RouteGuide/GetFeature",
        ],
        None,
    );
    let theirs = run_grpcurl(
        grpcurl,
        &[
            "-plaintext",
            "-emit-defaults",
            "-d",
            "{}",
            &target,
            "routeguide.RouteGuide/GetFeature",
        ],
        None,
    );
    assert_eq!(ours.ok(), theirs.ok(), "--emit-defaults");

    let stdin = "{\"latitude\": 1}\n{\"latitude\": 2}\n";
    let ours = rpc(
        &["call", "--plaintext", "-d", "@-", &target, "routeguide.RouteGuide/RecordRoute"],
        Some(stdin),
    );
    let theirs = run_grpcurl(
        grpcurl,
        &["-plaintext", "-d", "@", &target, "routeguide.RouteGuide/RecordRoute"],
        Some(stdin),
    );
    // The elapsed time may differ by a second; the counts and distance may not.
    let without_time = |s: &str| s.lines().filter(|l| !l.contains("elapsedTime")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_time(ours.ok()), without_time(theirs.ok()), "client streaming from stdin");

    // A failed RPC: the same exit code (64 + NOT_FOUND) and the same error block.
    let data = r#"{"service": "no.Such"}"#;
    let ours = rpc(&["call", "--plaintext", "-d", data, &target, "grpc.health.v1.Health/Check"], None);
    let theirs = run_grpcurl(grpcurl, &["-plaintext", "-d", data, &target, "grpc.health.v1.Health/Check"], None);
    assert_eq!((ours.code, theirs.code), (69, 69));
    assert_eq!(ours.stderr, theirs.stderr);
}

/// Over TLS, verified with the test CA and with verification skipped (`--insecure`): the
/// same lists and the same JSON.
#[test]
fn the_same_answers_over_tls() {
    let Some(grpcurl) = grpcurl() else { return };
    let pki = examples::tls::Pki::generate().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rpc-cli-grpcurl-tls-{}", std::process::id()));
    pki.write_to(&dir).unwrap();
    let ca = dir.join("ca.pem").to_str().unwrap().to_owned();
    let server = common::start_with(Reflection::Both, |_| {}, Some(pki.server_credentials(false).unwrap()));
    let target = server.target();
    let data = r#"{"latitude": 407838351, "longitude": -746143763}"#;
    for (ours_trust, theirs_trust) in [
        (["--cacert", ca.as_str()].as_slice(), ["-cacert", ca.as_str()].as_slice()),
        (&["--insecure"], &["-insecure"]),
    ] {
        let mut ours = vec!["list"];
        ours.extend(ours_trust);
        ours.push(&target);
        let mut theirs = theirs_trust.to_vec();
        theirs.extend([target.as_str(), "list"]);
        assert_eq!(
            rpc(&ours, None).ok(),
            run_grpcurl(grpcurl, &theirs, None).ok(),
            "list with {ours_trust:?}"
        );

        let mut ours = vec!["call"];
        ours.extend(ours_trust);
        ours.extend(["-d", data, &target, "routeguide.RouteGuide/GetFeature"]);
        let mut theirs = theirs_trust.to_vec();
        theirs.extend(["-d", data, &target, "routeguide.RouteGuide/GetFeature"]);
        let (ours, theirs) = (rpc(&ours, None), run_grpcurl(grpcurl, &theirs, None));
        assert_eq!(ours.ok(), theirs.ok(), "call with {ours_trust:?}");
        assert!(ours.stdout.contains("Patriots Path"), "{ours:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
