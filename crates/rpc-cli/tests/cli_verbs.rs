//! `rpc list`, `describe` and `health` run as a subprocess against servers on 127.0.0.1:
//! output, exit codes, reflection v1 and v1alpha, `--proto` instead of reflection, the
//! header flags, TLS, and the errors of a server without reflection, a closed port and a
//! bad command line.

mod common;

use common::{Reflection, dynamic_protos, rpc, start, start_with};

const SERVICES: &str = "\
dyntest.Kitchen
grpc.health.v1.Health
grpc.reflection.v1.ServerReflection
grpc.reflection.v1alpha.ServerReflection
helloworld.Greeter
routeguide.RouteGuide
";

#[test]
fn list_services_and_methods() {
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    assert_eq!(rpc(&["list", "--plaintext", &target], None).ok(), SERVICES);
    // grpcurl's single-dash spelling works too.
    assert_eq!(rpc(&["list", "-plaintext", &target], None).ok(), SERVICES);
    assert_eq!(
        rpc(&["list", "--plaintext", &target, "routeguide.RouteGuide"], None).ok(),
        "routeguide.RouteGuide.GetFeature\nrouteguide.RouteGuide.ListFeatures\nrouteguide.RouteGuide.RecordRoute\nrouteguide.RouteGuide.RouteChat\n"
    );
    let unknown = rpc(&["list", "--plaintext", &target, "no.Such"], None);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("symbol not found: no.Such"), "{}", unknown.stderr);
    let not_a_service = rpc(&["list", "--plaintext", &target, "helloworld.HelloRequest"], None);
    assert_eq!(not_a_service.code, 1);
    assert!(
        not_a_service.stderr.contains("is a message, not a service"),
        "{}",
        not_a_service.stderr
    );
}

#[test]
fn list_through_v1alpha_only() {
    let server = start(Reflection::V1AlphaOnly, |_| {});
    let listed = rpc(&["list", "--plaintext", &server.target()], None);
    // The server lists what it describes; it serves v1alpha only.
    assert!(listed.ok().contains("helloworld.Greeter\n"), "{listed:?}");
    let described = rpc(&["describe", "--plaintext", &server.target(), "dyntest.Order.Inner"], None);
    assert!(described.ok().starts_with("dyntest.Order.Inner is a message:\n"), "{described:?}");
}

#[test]
fn describe_symbols_of_every_kind() {
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    let greeter = rpc(&["describe", "--plaintext", &target, "helloworld.Greeter"], None);
    assert!(greeter.ok().starts_with("helloworld.Greeter is a service:\n"), "{greeter:?}");
    assert!(
        greeter
            .stdout
            .contains("  rpc SayHello ( .helloworld.HelloRequest ) returns ( .helloworld.HelloReply );\n"),
        "{}",
        greeter.stdout
    );
    let chat = rpc(&["describe", "--plaintext", &target, "routeguide.RouteGuide.RouteChat"], None);
    assert!(
        chat.ok()
            .ends_with("rpc RouteChat ( stream .routeguide.RouteNote ) returns ( stream .routeguide.RouteNote );\n"),
        "{chat:?}"
    );
    let field = rpc(&["describe", "--plaintext", &target, "dyntest.Dish.ready_at"], None);
    assert_eq!(
        field.ok(),
        "dyntest.Dish.ready_at is a field:\n.google.protobuf.Timestamp ready_at = 1;\n"
    );
    let value = rpc(
        &["describe", "--plaintext", &target, "grpc.health.v1.HealthCheckResponse.NOT_SERVING"],
        None,
    );
    assert!(value.ok().ends_with("is an enum value:\nNOT_SERVING = 2;\n"), "{value:?}");
    let everything = rpc(&["describe", "--plaintext", &target], None);
    assert_eq!(
        everything.ok().lines().filter(|l| l.ends_with(" is a service:")).count(),
        SERVICES.lines().count(),
        "{everything:?}"
    );
    let unknown = rpc(&["describe", "--plaintext", &target, "no.Such"], None);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("failed to resolve symbol \"no.Such\""),
        "{}",
        unknown.stderr
    );
}

#[test]
fn proto_files_instead_of_reflection() {
    let protos = dynamic_protos();
    let import = protos.to_str().unwrap();
    // No server at all: list and describe read the files.
    let listed = rpc(&["list", "--proto", "dyntest/kitchen.proto", "--import-path", import], None);
    assert_eq!(listed.ok(), "dyntest.Kitchen\n");
    let methods = rpc(
        &[
            "list",
            "--proto",
            "dyntest/kitchen.proto",
            "--import-path",
            import,
            "dyntest.Kitchen",
        ],
        None,
    );
    assert_eq!(
        methods.ok(),
        "dyntest.Kitchen.Chat\ndyntest.Kitchen.Cook\ndyntest.Kitchen.Courses\ndyntest.Kitchen.Nothing\ndyntest.Kitchen.Tasting\n"
    );
    let described = rpc(
        &[
            "describe",
            "-proto",
            "dyntest/kitchen.proto",
            "-import-path",
            import,
            "dyntest.common.Colour",
        ],
        None,
    );
    assert_eq!(
        described.ok(),
        "dyntest.common.Colour is an enum:\n// A colour.\nenum Colour {\n  COLOUR_UNSPECIFIED = 0;\n  RED = 1;\n  GREEN = 2;\n}\n"
    );
    let broken = rpc(&["list", "--proto", "dyntest/nope.proto", "--import-path", import], None);
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("nope.proto"), "{}", broken.stderr);

    // A server without reflection is usable with the files.
    let server = start(Reflection::None, |_| {});
    let greeter_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let health = rpc(
        &[
            "describe",
            "--proto",
            "helloworld.proto",
            "--import-path",
            greeter_dir.to_str().unwrap(),
            &server.target(),
            "helloworld.Greeter",
        ],
        None,
    );
    assert!(health.ok().starts_with("helloworld.Greeter is a service:"), "{health:?}");
}

#[test]
fn a_server_without_reflection_a_closed_port_and_bad_command_lines() {
    let server = start(Reflection::None, |_| {});
    let listed = rpc(&["list", "--plaintext", &server.target()], None);
    assert_eq!(listed.code, 1);
    assert!(listed.stderr.contains("does not support the reflection API"), "{}", listed.stderr);

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = rpc(&["list", "--plaintext", &format!("127.0.0.1:{port}")], None);
    assert_eq!(closed.code, 1, "{closed:?}");
    assert!(closed.stderr.contains("failed to dial target host"), "{}", closed.stderr);

    for (args, says) in [
        (&["list"][..], "TARGET"),
        (&["frobnicate"][..], "frobnicate"),
        (
            &["list", "--plaintext", "--cacert", "x.pem", "127.0.0.1:1"][..],
            "not valid with --plaintext",
        ),
        (&["health", "--plaintext", "-H", "no colon", "127.0.0.1:1"][..], "name: value"),
        (&["list", "--plaintext", "--max-time=0", "127.0.0.1:1"][..], "max-time"),
    ] {
        let run = rpc(args, None);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    let help = rpc(&["--help"], None);
    assert!(help.ok().contains("Exit codes"), "{help:?}");
}

#[test]
fn health_statuses_and_exit_codes() {
    let server = start(Reflection::None, |_| {});
    let target = server.target();
    assert_eq!(rpc(&["health", "--plaintext", &target], None).ok(), "SERVING\n");
    assert_eq!(
        rpc(&["health", "--plaintext", &target, "helloworld.Greeter"], None).ok(),
        "SERVING\n"
    );
    let down = rpc(&["health", "--plaintext", &target, "down.Service"], None);
    assert_eq!((down.code, down.stdout.as_str()), (4, "NOT_SERVING\n"), "{down:?}");
    let unknown = rpc(&["health", "--plaintext", &target, "no.Such"], None);
    assert_eq!(unknown.code, 64 + 5, "NOT_FOUND: {unknown:?}");
    assert!(unknown.stderr.contains("Code: NotFound"), "{}", unknown.stderr);
    server.health.enter_graceful_shutdown();
    let draining = rpc(&["health", "--plaintext", &target, "helloworld.Greeter"], None);
    assert_eq!(draining.code, 4, "{draining:?}");
}

#[test]
fn headers_go_where_the_flags_say() {
    let server = start(Reflection::Both, |server| {
        server.as_aio().add_interceptor(examples::auth::RequireBearerToken::new(["secret"]));
    });
    let target = server.target();
    let token = "authorization: Bearer secret";
    // -H: reflection and the RPC.
    assert!(
        rpc(&["list", "--plaintext", "-H", token, &target], None)
            .ok()
            .contains("helloworld.Greeter")
    );
    assert_eq!(rpc(&["health", "--plaintext", "-H", token, &target], None).ok(), "SERVING\n");
    // --rpc-header: not for reflection, so listing is refused.
    let listed = rpc(&["list", "--plaintext", "--rpc-header", token, &target], None);
    assert_eq!(listed.code, 1, "{listed:?}");
    assert!(listed.stderr.contains("UNAUTHENTICATED"), "{}", listed.stderr);
    assert_eq!(
        rpc(&["health", "--plaintext", "--rpc-header", token, &target], None).ok(),
        "SERVING\n"
    );
    // --reflect-header: not for the RPC.
    assert!(
        rpc(&["list", "--plaintext", "--reflect-header", token, &target], None)
            .ok()
            .contains("helloworld.Greeter")
    );
    let health = rpc(&["health", "--plaintext", "--reflect-header", token, &target], None);
    assert_eq!(health.code, 64 + 16, "UNAUTHENTICATED: {health:?}");
}

#[test]
fn tls_with_a_ca_file_and_mutual_tls() {
    let pki = examples::tls::Pki::generate().unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rpc-cli-tls-{}", std::process::id()));
    pki.write_to(&dir).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let tls = start_with(Reflection::Both, |_| {}, Some(pki.server_credentials(false).unwrap()));
    let target = tls.target();
    let listed = rpc(&["list", "--cacert", &file("ca.pem"), &target], None);
    assert!(listed.ok().contains("helloworld.Greeter"), "{listed:?}");
    let named = rpc(&["list", "--cacert", &file("ca.pem"), "--authority", "localhost", &target], None);
    assert!(named.ok().contains("helloworld.Greeter"), "{named:?}");
    let untrusted = rpc(&["list", &target], None);
    assert_eq!(untrusted.code, 1, "without --cacert the test CA is not trusted: {untrusted:?}");
    // --insecure: TLS that trusts any certificate, so the test CA is not needed.
    let insecure = rpc(&["list", "--insecure", &target], None);
    assert!(insecure.ok().contains("helloworld.Greeter"), "{insecure:?}");
    let both = rpc(&["list", "--insecure", "--cacert", &file("ca.pem"), &target], None);
    assert_eq!(both.code, 2, "--insecure with --cacert is a usage error: {both:?}");

    let mutual = start_with(Reflection::Both, |_| {}, Some(pki.server_credentials(true).unwrap()));
    let (cert, key, mutual_target) = (file("client.pem"), file("client.key"), mutual.target());
    let health_with_cert = |trust: &[&str]| {
        let mut args = vec!["health"];
        args.extend_from_slice(trust);
        args.extend(["--cert", &cert, "--key", &key, &mutual_target]);
        rpc(&args, None)
    };
    assert_eq!(health_with_cert(&["--cacert", &file("ca.pem")]).ok(), "SERVING\n");
    // --insecure still presents the client certificate.
    assert_eq!(health_with_cert(&["--insecure"]).ok(), "SERVING\n");
    let without = rpc(&["health", "--cacert", &file("ca.pem"), &mutual.target()], None);
    assert_ne!(without.code, 0, "mutual TLS refuses a client without a certificate: {without:?}");
    let half = rpc(
        &[
            "health",
            "--cacert",
            &file("ca.pem"),
            "--cert",
            &file("client.pem"),
            &mutual.target(),
        ],
        None,
    );
    assert_eq!(half.code, 2, "{half:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
