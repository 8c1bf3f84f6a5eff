//! Call credentials (access tokens, metadata plugins) travel only over TLS or local
//! channels: on an insecure channel the call fails with a clear error, the plugin is never
//! asked, and nothing reaches the server (its probe records every RPC; the channel never even connects).

use rpc_aio::{
    AuthMetadataContext, AuthMetadataPlugin, CallCredentials, ChannelCredentials, ChannelOptions, Metadata, Request, RpcError,
    ServerCredentials, ServerOptions, StatusCode, secure_channel,
};
use rpc_testkit::pki::{Ca, Validity};
use rpc_testkit::{Msg, Probe, Style, UNARY, bounded, msg, serve_service};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A plugin that counts how often it is asked.
struct Plugin(Arc<AtomicUsize>);

impl AuthMetadataPlugin for Plugin {
    fn get_metadata(&self, context: &AuthMetadataContext) -> Result<Metadata, RpcError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let mut md = Metadata::new();
        md.add("authorization", format!("Bearer plugin-for-{}", context.method_name))?;
        Ok(md)
    }
}

/// A server with the test service: its probe records each RPC and its headers.
async fn recording_server(credentials: ServerCredentials) -> (rpc_aio::Server, u16, Arc<Probe>) {
    serve_service(Style::Async, ServerOptions::default(), credentials).await
}

#[tokio::test]
async fn insecure_channel_refuses_call_credentials_and_sends_nothing() {
    let (server, port, seen) = recording_server(ServerCredentials::insecure()).await;
    // The refusal comes before any connection: the channel's state stays IDLE.
    let asked = Arc::new(AtomicUsize::new(0));
    let target = format!("127.0.0.1:{port}");
    let per_channel = ChannelCredentials::insecure().with_call_credentials(CallCredentials::access_token("secret-1"));
    let ch = secure_channel(&target, per_channel, ChannelOptions::default()).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated, "{err}");
    assert!(err.details().contains("secure channel"), "{err}");
    assert_eq!(
        ch.get_state(false),
        rpc_aio::ChannelConnectivity::Idle,
        "the channel never connected"
    );

    let plain = rpc_aio::insecure_channel(&target, ChannelOptions::default()).unwrap();
    let per_call = CallCredentials::metadata_plugin(Plugin(asked.clone()));
    let request = Request::new(msg("y")).credentials(per_call).timeout(Duration::from_secs(5));
    let err = bounded(plain.unary_unary::<Msg, Msg>(UNARY).call(request)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated, "{err}");
    assert_eq!(asked.load(Ordering::SeqCst), 0, "the plugin was not asked for a token");
    assert_eq!(plain.get_state(false), rpc_aio::ChannelConnectivity::Idle);

    assert_eq!(seen.calls(), 0, "nothing reached the server");
    // The same channel without credentials works: the refusal was about the credentials.
    bounded(plain.unary_unary::<Msg, Msg>(UNARY).call(msg("z"))).await.unwrap();
    assert_eq!((seen.calls(), seen.header("authorization")), (1, None));
    server.stop(None).await;
}

#[tokio::test]
async fn local_and_tls_channels_send_tokens_and_plugin_metadata() {
    let (server, port, seen) = recording_server(ServerCredentials::insecure()).await;
    let asked = Arc::new(AtomicUsize::new(0));
    let local = ChannelCredentials::local().with_call_credentials(CallCredentials::access_token("local-token"));
    let ch = secure_channel(&format!("127.0.0.1:{port}"), local, ChannelOptions::default()).unwrap();
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("a"))).await.unwrap();
    server.stop(None).await;

    let ca = Ca::new("ca");
    let leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let creds = ServerCredentials::ssl(&[(leaf.key.as_bytes(), leaf.cert.as_bytes())], None, false).unwrap();
    let (tls_server, tls_port, tls_seen) = recording_server(creds).await;
    let channel_creds = ChannelCredentials::ssl(Some(ca.pem.as_bytes()), None, None).unwrap();
    let options = ChannelOptions::default().ssl_target_name_override("localhost".to_owned());
    let ch = secure_channel(&format!("127.0.0.1:{tls_port}"), channel_creds, options).unwrap();
    let request = Request::new(msg("b")).credentials(CallCredentials::metadata_plugin(Plugin(asked.clone())));
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(request)).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let sent = |probe: &Probe| (probe.calls(), probe.header("authorization"));
    assert_eq!(sent(&seen), (1, Some("Bearer local-token".to_owned())));
    assert_eq!(sent(&tls_seen), (1, Some("Bearer plugin-for-Unary".to_owned())));
    tls_server.stop(None).await;
}
