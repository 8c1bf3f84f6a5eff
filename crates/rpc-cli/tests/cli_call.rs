//! `rpc call` as a subprocess against servers on 127.0.0.1: the four method kinds, the
//! JSON printed equal to what the generated prost types give, requests inline, from a
//! file and from stdin, `--emit-defaults`, `-v`, and the errors: an unknown method, bad
//! JSON, too many requests, a failed RPC (64 + its code) and `--max-time`.

mod common;

use common::{Reflection, dynamic_protos, rpc, start};
use examples::pb::routeguide::{Feature, Point, RouteSummary};
use prost::Message;
use rpc_dynamic::{DescriptorPool, DynamicMessage, JsonOptions, message_to_json};

/// The JSON rpc prints for the prost message `message` of type `name`.
fn expected_json<M: Message>(name: &str, message: &M) -> String {
    let pool = DescriptorPool::decode(examples::pb::routeguide::ROUTE_GUIDE_SERVICE.file_descriptor_set).unwrap();
    let descriptor = pool.get_message_by_name(name).unwrap();
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).unwrap();
    message_to_json(&dynamic, &JsonOptions::new()).unwrap() + "\n"
}

fn point_json(p: &Point) -> String {
    format!(r#"{{"latitude": {}, "longitude": {}}}"#, p.latitude, p.longitude)
}

#[test]
fn unary_calls_print_the_response_as_json() {
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    let hello = rpc(
        &[
            "call",
            "--plaintext",
            "-d",
            r#"{"name": "ada"}"#,
            &target,
            "helloworld.Greeter/SayHello",
        ],
        None,
    );
    assert_eq!(hello.ok(), "{\n  \"message\": \"Hello, ada! (from an async handler)\"\n}\n");
    assert!(hello.stderr.is_empty(), "nothing on stderr without -v: {}", hello.stderr);

    let feature = examples::route_guide::features().remove(0);
    let location = feature.location.unwrap();
    let got = rpc(
        &[
            "call",
            "-plaintext",
            "-d",
            &point_json(&location),
            &target,
            "routeguide.RouteGuide.GetFeature",
        ],
        None,
    );
    assert_eq!(got.ok(), expected_json("routeguide.Feature", &feature));

    // No -d: one empty request. --emit-defaults shows the empty name.
    let nowhere = Feature {
        name: String::new(),
        location: Some(Point::default()),
    };
    let empty = rpc(&["call", "--plaintext", &target, "routeguide.RouteGuide/GetFeature"], None);
    assert_eq!(empty.ok(), expected_json("routeguide.Feature", &nowhere));
    assert_eq!(
        empty.stdout, "{\n  \"location\": {\n    \n  }\n}\n",
        "grpcurl's layout of an empty object"
    );
    let defaults = rpc(
        &[
            "call",
            "--plaintext",
            "--emit-defaults",
            &target,
            "routeguide.RouteGuide/GetFeature",
        ],
        None,
    );
    assert_eq!(
        defaults.ok(),
        "{\n  \"name\": \"\",\n  \"location\": {\n    \"latitude\": 0,\n    \"longitude\": 0\n  }\n}\n"
    );
}

#[test]
fn streaming_calls_of_each_kind() {
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    let features = examples::route_guide::features();

    // Server streaming: every feature inside a rectangle around all of them.
    let rectangle = r#"{"lo": {"latitude": 400000000, "longitude": -750000000}, "hi": {"latitude": 420000000, "longitude": -730000000}}"#;
    let listed = rpc(
        &[
            "call",
            "--plaintext",
            "-d",
            rectangle,
            &target,
            "routeguide.RouteGuide/ListFeatures",
        ],
        None,
    );
    let expected: String = features.iter().map(|f| expected_json("routeguide.Feature", f)).collect();
    assert_eq!(listed.ok(), expected);

    // Client streaming, requests from stdin (newline-delimited JSON).
    let points: Vec<Point> = features.iter().take(3).map(|f| f.location.unwrap()).collect();
    let stdin: String = points.iter().map(|p| point_json(p) + "\n").collect();
    let summary = rpc(
        &["call", "--plaintext", "-d", "@-", &target, "routeguide.RouteGuide/RecordRoute"],
        Some(&stdin),
    );
    let printed = summary.ok();
    let parsed: RouteSummary = {
        let pool = DescriptorPool::decode(examples::pb::routeguide::ROUTE_GUIDE_SERVICE.file_descriptor_set).unwrap();
        let descriptor = pool.get_message_by_name("routeguide.RouteSummary").unwrap();
        let message = rpc_dynamic::message_from_json(&descriptor, printed, &JsonOptions::new()).unwrap();
        RouteSummary::decode(message.encode_to_vec().as_slice()).unwrap()
    };
    assert_eq!((parsed.point_count, parsed.feature_count), (3, 3), "{printed}");
    assert!(parsed.distance > 0);

    // Bidi streaming, requests from a file: each note is answered with the notes sent
    // to the same location before it.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rpc-cli-call-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let notes = dir.join("notes.json");
    let here = r#"{"latitude": 1, "longitude": 1}"#;
    std::fs::write(
        &notes,
        format!(r#"{{"location": {here}, "message": "first"}} {{"location": {here}, "message": "second"}}"#),
    )
    .unwrap();
    let chat = rpc(
        &[
            "call",
            "--plaintext",
            "-d",
            &format!("@{}", notes.display()),
            &target,
            "routeguide.RouteGuide/RouteChat",
        ],
        None,
    );
    assert!(chat.ok().contains("\"message\": \"first\""), "{chat:?}");
    std::fs::remove_dir_all(&dir).unwrap();

    // Bidi streaming against the reflection service itself.
    let reflected = rpc(
        &[
            "call",
            "--plaintext",
            "-d",
            r#"{"listServices": ""}"#,
            &target,
            "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        ],
        None,
    );
    assert!(reflected.ok().contains("\"name\": \"routeguide.RouteGuide\""), "{reflected:?}");
}

#[test]
fn well_known_types_and_an_any_whose_type_is_fetched_by_reflection() {
    let server = start(Reflection::Both, |_| {});
    // kitchen.proto does not import the health proto: the Any's type is fetched afterwards.
    let dish = rpc(
        &[
            "call",
            "--plaintext",
            "-d",
            r#"{"name": "x"}"#,
            &server.target(),
            "dyntest.Kitchen/Cook",
        ],
        None,
    );
    assert_eq!(
        dish.ok(),
        r#"{
  "readyAt": "2023-11-14T22:13:20.005Z",
  "took": "90s",
  "extra": {
    "@type": "type.googleapis.com/grpc.health.v1.HealthCheckResponse",
    "status": "SERVING"
  },
  "notes": {
    "spicy": true
  },
  "calories": "12345678901",
  "name": "soup"
}
"#
    );
    // From files that lack the Any's type, the response cannot be printed: exit 1, said so.
    let files = rpc(
        &[
            "call",
            "--plaintext",
            "--proto",
            "dyntest/kitchen.proto",
            "--import-path",
            dynamic_protos().to_str().unwrap(),
            &server.target(),
            "dyntest.Kitchen/Cook",
        ],
        None,
    );
    assert_eq!(files.code, 1, "{files:?}");
    assert!(files.stderr.contains("grpc.health.v1.HealthCheckResponse"), "{}", files.stderr);
}

#[test]
fn verbose_prints_metadata_on_stderr_only() {
    let server = start(Reflection::Both, |_| {});
    let run = rpc(
        &[
            "call",
            "--plaintext",
            "-v",
            "-H",
            "x-demo: 1",
            "-d",
            r#"{"name": "v"}"#,
            &server.target(),
            "helloworld.Greeter/SayHello",
        ],
        None,
    );
    assert_eq!(run.ok(), "{\n  \"message\": \"Hello, v! (from an async handler)\"\n}\n");
    for part in [
        "Resolved method descriptor:",
        "rpc SayHello ( .helloworld.HelloRequest ) returns ( .helloworld.HelloReply );",
        "Request metadata to send:\nx-demo: 1",
        "Response trailers received:",
        "Sent 1 request and received 1 response",
    ] {
        assert!(run.stderr.contains(part), "{part:?} in\n{}", run.stderr);
    }
}

#[test]
fn calls_through_proto_files_without_reflection() {
    let server = start(Reflection::None, |_| {});
    let protos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let run = rpc(
        &[
            "call",
            "--plaintext",
            "--proto",
            "helloworld.proto",
            "--import-path",
            protos.to_str().unwrap(),
            "-d",
            r#"{"name": "files"}"#,
            &server.target(),
            "helloworld.Greeter/SayHello",
        ],
        None,
    );
    assert!(run.ok().contains("Hello, files!"), "{run:?}");
    // Courses is described by the files but not served: UNIMPLEMENTED (64 + 12).
    let kitchen = rpc(
        &[
            "call",
            "--plaintext",
            "--proto",
            "dyntest/kitchen.proto",
            "--import-path",
            dynamic_protos().to_str().unwrap(),
            &server.target(),
            "dyntest.Kitchen/Courses",
        ],
        None,
    );
    assert_eq!(kitchen.code, 64 + 12, "{kitchen:?}");
    assert!(kitchen.stderr.contains("Code: Unimplemented"), "{}", kitchen.stderr);
}

#[test]
fn errors_and_their_exit_codes() {
    let server = start(Reflection::Both, |_| {});
    let target = server.target();
    let greeter = "helloworld.Greeter/SayHello";
    for (args, code, says) in [
        (
            vec!["-d", r#"{"name": "x"}"#, "helloworld.Greeter/Shout"],
            1,
            "does not include a method named \"Shout\"",
        ),
        (vec!["-d", r#"{"name": "x"}"#, "no.Such/Method"], 1, "symbol not found: no.Such"),
        (vec!["-d", "Greeter"], 2, "required"),
        (vec!["-d", r#"{"nme": "x"}"#, greeter], 1, "unrecognized field name 'nme'"),
        (vec!["-d", r#"{"name": "x"#, greeter], 1, "error getting request data"),
        (
            vec!["-d", r#"{"name": "a"} {"name": "b"}"#, greeter],
            1,
            "is a unary RPC, but the request data holds 2 messages",
        ),
        (vec!["-d", "@/no/such/file.json", greeter], 1, "/no/such/file.json"),
        (
            vec!["-d", r#"{"service": "no.Such"}"#, "grpc.health.v1.Health/Check"],
            64 + 5,
            "Code: NotFound",
        ),
    ] {
        let mut full = vec!["call", "--plaintext"];
        full.extend(&args[..args.len() - 1]);
        full.push(&target);
        full.push(args[args.len() - 1]);
        let run = rpc(&full, None);
        assert_eq!(run.code, code, "{full:?}: {run:?}");
        assert!(run.stderr.contains(says), "{full:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{full:?}: {}", run.stdout);
    }
    // Watch streams until the deadline: DEADLINE_EXCEEDED (64 + 4), after the first answer.
    let started = std::time::Instant::now();
    let watched = rpc(
        &[
            "call",
            "--plaintext",
            "--max-time",
            "1",
            "-d",
            r#"{"service": "helloworld.Greeter"}"#,
            &target,
            "grpc.health.v1.Health/Watch",
        ],
        None,
    );
    assert_eq!(watched.code, 64 + 4, "{watched:?}");
    assert_eq!(watched.stdout, "{\n  \"status\": \"SERVING\"\n}\n");
    assert!(watched.stderr.contains("Code: DeadlineExceeded"), "{}", watched.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
