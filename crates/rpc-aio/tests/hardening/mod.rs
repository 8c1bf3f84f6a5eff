//! Support for the security and fault tests: certificates made with rcgen at test time, an
//! rpc-aio echo server that counts what reaches its handlers, and bounded waits.
#![allow(dead_code)]

use rpc_aio::{
    RequestStream, ResponseStream, RpcError, Server, ServerCredentials, ServerOptions, ServicerContext, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The message of the test service (same wire shape as `common::Msg`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Msg {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(bytes = "vec", tag = "2")]
    pub payload: Vec<u8>,
    #[prost(int32, tag = "3")]
    pub n: i32,
}

pub fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
        ..Msg::default()
    }
}

pub const UNARY: &str = "/test.Svc/Unary";
pub const SERVER_STREAM: &str = "/test.Svc/ServerStream";
pub const CLIENT_STREAM: &str = "/test.Svc/ClientStream";
pub const WHOAMI: &str = "/test.Svc/Whoami";

/// Fails the test instead of hanging: every await on the network goes through this.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f).await.expect("timed out")
}

/// What reached the handlers.
#[derive(Default, Debug)]
pub struct Counts {
    pub calls: AtomicUsize,
    pub cancelled: AtomicUsize,
    pub stream_sent: AtomicUsize,
}

impl Counts {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Registers the test service on `server`: Unary echoes `echo:<text>` with `n` bytes of
/// payload; ServerStream sends `n` messages of `payload.len()` bytes each; ClientStream
/// counts messages; Whoami describes the auth context.
pub fn add_test_service(server: &Server, counts: Arc<Counts>) {
    let c = counts.clone();
    server.add_method_handler(
        UNARY,
        unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
            c.calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Msg {
                    text: format!("echo:{}", m.text),
                    payload: vec![7u8; m.n.max(0) as usize],
                    n: m.n,
                })
            }
        }),
    );
    let c = counts.clone();
    server.add_method_handler(
        SERVER_STREAM,
        unary_stream_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
            c.calls.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            async move {
                let size = m.payload.len();
                let on_cancel = c.clone();
                ctx.add_callback(move || {
                    on_cancel.cancelled.fetch_add(1, Ordering::SeqCst);
                });
                let stream = futures::stream::iter(0..m.n).map(move |i| {
                    c.stream_sent.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, RpcError>(Msg {
                        payload: vec![1u8; size],
                        n: i,
                        ..Msg::default()
                    })
                });
                Ok(ResponseStream::new(stream))
            }
        }),
    );
    let c = counts.clone();
    server.add_method_handler(
        CLIENT_STREAM,
        stream_unary_rpc_method_handler(move |mut s: RequestStream<Msg>, _ctx: ServicerContext| {
            c.calls.fetch_add(1, Ordering::SeqCst);
            async move {
                use futures::StreamExt;
                let mut n = 0;
                while let Some(m) = s.next().await {
                    m?;
                    n += 1;
                }
                Ok(Msg { n, ..msg("counted") })
            }
        }),
    );
    let c = counts;
    server.add_method_handler(
        WHOAMI,
        unary_unary_rpc_method_handler(move |_m: Msg, ctx: ServicerContext| {
            c.calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let auth = ctx.auth_context();
                let show = |k: &str| -> String {
                    auth.properties()
                        .get(k)
                        .map(|vs| {
                            vs.iter()
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                };
                let ids = ctx
                    .peer_identities()
                    .map(|ids| {
                        ids.iter()
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                Ok(msg(&format!(
                    "type={};cn={};san={};key={};ids={}",
                    show("transport_security_type"),
                    show("x509_common_name"),
                    show("x509_subject_alternative_name"),
                    ctx.peer_identity_key().unwrap_or(""),
                    ids
                )))
            }
        }),
    );
}

use futures::StreamExt as _;

pub mod child;

/// Starts an rpc-aio server with the test service on 127.0.0.1 (a free port).
pub async fn start_server(options: ServerOptions, credentials: ServerCredentials) -> (Server, u16, Arc<Counts>) {
    let server = rpc_aio::server(options);
    let counts = Arc::new(Counts::default());
    add_test_service(&server, counts.clone());
    let port = server.add_secure_port("127.0.0.1:0", credentials).unwrap();
    server.start().await.unwrap();
    (server, port, counts)
}

/// A plaintext channel to `port` with default options.
pub fn channel(port: u16) -> rpc_aio::Channel {
    rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), rpc_aio::ChannelOptions::default()).unwrap()
}

/// Asserts the server still answers a normal call from a fresh channel.
pub async fn assert_serving(port: u16) {
    let ch = channel(port);
    let reply = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("still-there"))).await;
    assert_eq!(reply.expect("a normal call after hostile input").text, "echo:still-there");
}

/// Test PKI: a CA and leaf certificates signed by it, in PEM.
pub mod pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

    pub struct Ca {
        pub pem: String,
        issuer: Issuer<'static, KeyPair>,
    }

    pub struct Leaf {
        pub cert: String,
        pub key: String,
    }

    pub enum Validity {
        Now,
        Expired,
        NotYetValid,
    }

    impl Ca {
        pub fn new(name: &str) -> Ca {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.distinguished_name.push(DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            let key = KeyPair::generate().unwrap();
            let pem = params.self_signed(&key).unwrap().pem();
            Ca {
                pem,
                issuer: Issuer::new(params, key),
            }
        }

        /// A leaf with common name `cn` and subject alternative names `sans`.
        pub fn leaf(&self, cn: &str, sans: &[&str], validity: Validity) -> Leaf {
            let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            params.distinguished_name.push(DnType::CommonName, cn);
            let now = time_now_year();
            match validity {
                Validity::Now => {}
                Validity::Expired => {
                    params.not_before = rcgen::date_time_ymd(now - 3, 1, 1);
                    params.not_after = rcgen::date_time_ymd(now - 1, 1, 1);
                }
                Validity::NotYetValid => {
                    params.not_before = rcgen::date_time_ymd(now + 2, 1, 1);
                    params.not_after = rcgen::date_time_ymd(now + 4, 1, 1);
                }
            }
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            Leaf {
                cert: cert.pem(),
                key: key.serialize_pem(),
            }
        }
    }

    fn time_now_year() -> i32 {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        1970 + (secs / 31_556_952) as i32
    }
}
