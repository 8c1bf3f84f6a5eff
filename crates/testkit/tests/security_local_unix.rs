//! Unix-socket ports and local server credentials, both faces: a server listening on
//! `unix:path`, `unix:///abs/path` and `unix-abstract:name` with `ServerCredentials::local()`
//! serves every kind of call to a `ChannelCredentials::local()` channel; the handler sees
//! the peer as `unix:` and the transport as `local`; a stale socket file is replaced at bind
//! and the server's own file is removed at stop; local credentials on a loopback TCP port
//! serve loopback clients. (Refusing a non-loopback peer is unit-tested on the address the
//! server sees: rpc-aio's `server::transport::listen` tests; no test leaves loopback.)

use rpc_core::{ChannelCredentials, ChannelOptions, Request, ServerCredentials, ServerOptions, StatusCode};
use rpc_testkit::{Face, FaceServer, Peer, Style, both_faces, md, msg};
use std::path::PathBuf;

/// A socket path of its own for `tag` in the temporary directory (short: paths of Unix
/// sockets are limited to about 100 bytes).
fn socket_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rpc-sec-{}-{tag}.sock", std::process::id()))
}

/// Every kind of call succeeds on `channel`; the handler sees `peer` and the `local` transport.
fn serves_locally<F: Face>(face: &F, channel: &F::Channel, peer: &str, what: &str) {
    for (kind, call) in face.every_kind(channel, &md(&[])) {
        assert_eq!(call.code, StatusCode::Ok, "{what}, {kind}: {:?}", call.error);
    }
    let seen = face.unary(channel, Request::new(msg("")).metadata(md(&[("x-peer", "1")])));
    assert_eq!(seen.responses[0].text, peer, "{what}: peer()");
    let seen = face.unary(channel, Request::new(msg("")).metadata(md(&[("x-whoami", "1")])));
    assert!(
        seen.responses[0].text.starts_with("type=local;"),
        "{what}: {}",
        seen.responses[0].text
    );
}

fn unix_path_ports_with_local_credentials<F: Face>() {
    let face = F::new();
    let path = socket_path(F::NAME);
    let path_text = path.to_str().expect("a UTF-8 temporary directory");
    assert!(path_text.starts_with('/'), "{path_text}");
    for (form, address) in [
        ("unix:path", format!("unix:{path_text}")),
        ("unix:///abs", format!("unix://{path_text}")),
    ] {
        // What a server that died leaves behind: a socket file nobody listens on.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("a stale socket file"));
        assert!(path.exists(), "{form}: the stale socket file is there");

        let server = face.serve_at(Style::Blocking, ServerOptions::default(), &address, ServerCredentials::local());
        assert_eq!(server.port(), 1, "{form}: a Unix port's number is 1, as gRPC returns");
        let channel = face.secure_channel(&address, ChannelCredentials::local(), ChannelOptions::default());
        serves_locally(&face, &channel, "unix:", form);
        // A channel without local credentials is served too (the socket is local).
        let plain = face.channel(&address);
        assert_eq!(face.unary(&plain, msg("x")).code, StatusCode::Ok, "{form}: insecure channel");

        assert!(server.stop(None).wait(), "{form}: the server stops");
        assert!(!path.exists(), "{form}: the server's socket file is removed at stop");
    }
}

#[cfg(target_os = "linux")]
fn unix_abstract_ports_with_local_credentials<F: Face>() {
    let face = F::new();
    let address = format!("unix-abstract:rpc-sec-{}-{}", std::process::id(), F::NAME);
    let server = face.serve_at(Style::Async, ServerOptions::default(), &address, ServerCredentials::local());
    assert_eq!(server.port(), 1);
    let channel = face.secure_channel(&address, ChannelCredentials::local(), ChannelOptions::default());
    serves_locally(&face, &channel, "unix:", "unix-abstract");
    assert!(server.stop(None).wait());
    // The name is free again once the server stopped: a second server binds it.
    let again = face.serve_at(Style::Async, ServerOptions::default(), &address, ServerCredentials::local());
    let channel = face.secure_channel(&address, ChannelCredentials::local(), ChannelOptions::default());
    assert_eq!(face.unary(&channel, msg("x")).code, StatusCode::Ok);
    assert!(again.stop(None).wait());
}

fn local_credentials_on_loopback_tcp<F: Face>() {
    let face = F::new();
    let server = face.serve_at(Style::Async, ServerOptions::default(), "127.0.0.1:0", ServerCredentials::local());
    let target = server.target();
    let channel = face.secure_channel(&target, ChannelCredentials::local(), ChannelOptions::default());
    let peer = face.unary(&channel, Request::new(msg("")).metadata(md(&[("x-peer", "1")])));
    let peer = &peer.responses[0].text;
    assert!(peer.starts_with("ipv4:127.0.0.1:"), "{peer}");
    serves_locally(&face, &channel, peer, "loopback TCP");
    assert!(server.stop(None).wait());
}

both_faces!(unix_path_ports_with_local_credentials, local_credentials_on_loopback_tcp);
#[cfg(target_os = "linux")]
both_faces!(unix_abstract_ports_with_local_credentials);

/// A path holding something other than a socket is not removed: the bind fails, saying
/// why. A socket file another server bound after this one is not removed by this one's stop.
#[test]
fn only_socket_files_are_replaced_and_only_our_own_is_removed() {
    let path = socket_path("kinds");
    let address = format!("unix:{}", path.display());
    std::fs::write(&path, b"not a socket").unwrap();
    let server = rpc_aio::server(ServerOptions::default());
    let err = server.add_insecure_port(&address).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains(&address), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket", "a regular file is left alone");
    std::fs::remove_file(&path).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let first = rpc_aio::server(ServerOptions::default());
    assert_eq!(first.add_insecure_port(&address).unwrap(), 1);
    // A second server takes the path over (the first one's file is replaced, as gRPC does).
    let second = rpc_aio::server(ServerOptions::default());
    second.add_method_handler("/t.S/Echo", rpc_testkit::echo_handler());
    assert_eq!(second.add_insecure_port(&address).unwrap(), 1);
    runtime.block_on(async {
        second.start().await.unwrap();
        first.start().await.unwrap();
        first.stop(None).await;
        assert!(path.exists(), "the first server's stop leaves the second server's socket file");
        let channel = rpc_aio::insecure_channel(&address, Default::default()).unwrap();
        let reply = channel
            .unary_unary::<rpc_testkit::Msg, rpc_testkit::Msg>("/t.S/Echo")
            .call(Request::new(msg("still here")).timeout(std::time::Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(reply.text, "echo:still here");
        second.stop(None).await;
    });
    assert!(!path.exists(), "the second server removes its own file");
}
