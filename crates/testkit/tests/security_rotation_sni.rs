//! Server certificates that change while the server runs, and several chosen by SNI, both
//! faces. After `CertificateHandle::replace`, a new client trusting only the new CA
//! connects and one trusting only the old CA is refused, while a connection made before
//! the rotation keeps serving calls; a bad pair is refused and the pair in force stays.
//! With two pairs, clients asking for different names (`ssl_target_name_override`, sent as
//! SNI) each get the certificate naming them; a client sending no name gets the first.

use rpc_core::{ChannelCredentials, ChannelOptions, CredentialsError, ServerCredentials, ServerOptions, StatusCode};
use rpc_testkit::pki::{Ca, Leaf, Validity};
use rpc_testkit::{Face, FaceServer, Peer, Style, both_faces, msg};

fn pair(leaf: &Leaf) -> (&[u8], &[u8]) {
    (leaf.key.as_bytes(), leaf.cert.as_bytes())
}

/// A TLS channel of this face trusting only `ca`, asking for `name` (no override: the
/// target's host, an IP address, so no SNI).
fn trusting<F: Face>(face: &F, target: &str, ca: &Ca, name: Option<&str>) -> F::Channel {
    let credentials = ChannelCredentials::ssl(Some(ca.pem.as_bytes()), None, None).unwrap();
    let mut options = ChannelOptions::default();
    if let Some(name) = name {
        options = options.ssl_target_name_override(name.to_owned());
    }
    face.secure_channel(target, credentials, options)
}

fn calls_ok<F: Face>(face: &F, channel: &F::Channel) -> bool {
    face.unary(channel, msg("x")).code == StatusCode::Ok
}

fn refused<F: Face>(face: &F, channel: &F::Channel, what: &str) {
    let call = face.unary(channel, msg("x"));
    assert_eq!(call.code, StatusCode::Unavailable, "{what}: {:?}", call.error);
}

fn rotation_serves_new_handshakes_with_the_new_pair<F: Face>() {
    let face = F::new();
    let (old_ca, new_ca) = (Ca::new("old-ca"), Ca::new("new-ca"));
    let old = old_ca.leaf("server", &["localhost"], Validity::Now);
    let new = new_ca.leaf("server", &["localhost"], Validity::Now);
    let (credentials, handle) = ServerCredentials::ssl_reloadable(&[pair(&old)], None, false).unwrap();
    let server = face.serve_at(Style::Async, ServerOptions::default(), "127.0.0.1:0", credentials);
    let target = server.target();

    let before = trusting(&face, &target, &old_ca, Some("localhost"));
    assert!(calls_ok(&face, &before), "the first pair serves");

    // A key that is not the certificate's: refused, and the old pair stays in force.
    let err = handle.replace(&[(new.key.as_bytes(), old.cert.as_bytes())], None).unwrap_err();
    assert!(matches!(err, CredentialsError::BadPair { .. }), "{err}");
    assert_eq!(handle.current().0, 0, "a refused replace changes nothing");
    assert!(
        calls_ok(&face, &trusting(&face, &target, &old_ca, Some("localhost"))),
        "old pair kept"
    );

    handle.replace(&[pair(&new)], None).unwrap();
    assert_eq!(handle.current().0, 1);
    assert!(
        calls_ok(&face, &trusting(&face, &target, &new_ca, Some("localhost"))),
        "a new client sees the new pair"
    );
    refused(
        &face,
        &trusting(&face, &target, &old_ca, Some("localhost")),
        "a new client trusting only the old CA",
    );
    // The connection made before the rotation is untouched (a reconnect would be refused:
    // this channel trusts only the old CA).
    assert!(
        calls_ok(&face, &before),
        "the connection from before the rotation still serves calls"
    );
    assert!(server.stop(None).wait());
}

fn rotation_replaces_the_client_roots<F: Face>() {
    let face = F::new();
    let (server_ca, old_clients, new_clients) = (Ca::new("server-ca"), Ca::new("old-clients"), Ca::new("new-clients"));
    let leaf = server_ca.leaf("server", &["localhost"], Validity::Now);
    let (credentials, handle) = ServerCredentials::ssl_reloadable(&[pair(&leaf)], Some(old_clients.pem.as_bytes()), true).unwrap();
    let server = face.serve_at(Style::Async, ServerOptions::default(), "127.0.0.1:0", credentials);
    let target = server.target();
    let client = |issuer: &Ca| {
        let id = issuer.leaf("client", &["client.test"], Validity::Now);
        let credentials =
            ChannelCredentials::ssl(Some(server_ca.pem.as_bytes()), Some(id.key.as_bytes()), Some(id.cert.as_bytes())).unwrap();
        face.secure_channel(
            &target,
            credentials,
            ChannelOptions::default().ssl_target_name_override("localhost".to_owned()),
        )
    };
    assert!(calls_ok(&face, &client(&old_clients)));
    refused(&face, &client(&new_clients), "a client of the new CA before the rotation");
    // require_client_auth stays: roots cannot be dropped.
    assert!(handle.replace(&[pair(&leaf)], None).is_err());
    handle.replace(&[pair(&leaf)], Some(new_clients.pem.as_bytes())).unwrap();
    assert!(calls_ok(&face, &client(&new_clients)));
    refused(&face, &client(&old_clients), "a client of the old CA after the rotation");
    assert!(server.stop(None).wait());
}

fn sni_chooses_the_pair_naming_the_host<F: Face>() {
    let face = F::new();
    let ca = Ca::new("sni-ca");
    let a = ca.leaf("a", &["a.test", "127.0.0.1"], Validity::Now);
    let b = ca.leaf("b", &["b.test"], Validity::Now);
    let credentials = ServerCredentials::ssl(&[pair(&a), pair(&b)], None, false).unwrap();
    let server = face.serve_at(Style::Async, ServerOptions::default(), "127.0.0.1:0", credentials);
    let target = server.target();
    // Each client checks that the certificate names what it asked for: both pass only if
    // each got its own.
    assert!(calls_ok(&face, &trusting(&face, &target, &ca, Some("a.test"))), "a.test");
    assert!(calls_ok(&face, &trusting(&face, &target, &ca, Some("b.test"))), "b.test");
    assert!(
        calls_ok(&face, &trusting(&face, &target, &ca, None)),
        "no SNI: the first pair, which names 127.0.0.1"
    );
    refused(&face, &trusting(&face, &target, &ca, Some("c.test")), "a name no pair has");
    assert!(server.stop(None).wait());

    // The same pairs the other way round: SNI still finds a; without SNI, b (first) is
    // presented, and it does not name 127.0.0.1.
    let credentials = ServerCredentials::ssl(&[pair(&b), pair(&a)], None, false).unwrap();
    let server = face.serve_at(Style::Async, ServerOptions::default(), "127.0.0.1:0", credentials);
    let target = server.target();
    assert!(
        calls_ok(&face, &trusting(&face, &target, &ca, Some("a.test"))),
        "a.test, second pair"
    );
    refused(&face, &trusting(&face, &target, &ca, None), "no SNI: b is the default now");
    assert!(server.stop(None).wait());
}

both_faces!(
    rotation_serves_new_handshakes_with_the_new_pair,
    rotation_replaces_the_client_roots,
    sni_chooses_the_pair_naming_the_host
);
