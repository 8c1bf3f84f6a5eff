//! The `auth_server_aio` example as a child process: calls without a token, with a wrong
//! token or with a non-bearer header get UNAUTHENTICATED; the right token is served.
#![cfg(unix)]

use examples::pb::helloworld::{GreeterStub, HelloRequest};
use rpc_core::{CallCredentials, ChannelCredentials, ChannelOptions, Metadata, Request, StatusCode};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the child when the test ends, passed or failed.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Killed, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth_server_aio"))
        .args(["--port", "0", "--token", "s3cret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(p) = line.strip_prefix("listening on ") {
                let _ = tx.send(p.trim().parse::<u16>().unwrap());
            }
        }
    });
    let port = rx.recv_timeout(Duration::from_secs(30)).expect("the server did not start");
    (child, port)
}

#[tokio::test]
async fn interceptor_rejects_missing_and_invalid_tokens_with_unauthenticated() {
    let (_child, port) = start();
    let target = format!("127.0.0.1:{port}");
    let call = |creds: ChannelCredentials, metadata: Metadata| {
        let channel = rpc_aio::secure_channel(&target, creds, ChannelOptions::default()).unwrap();
        async move {
            let request = Request::new(HelloRequest { name: "auth".into() })
                .metadata(metadata)
                .timeout(Duration::from_secs(10));
            GreeterStub::new(channel).say_hello(request).await
        }
    };
    let local = ChannelCredentials::local;

    let err = call(local(), Metadata::new()).await.unwrap_err();
    assert_eq!(
        (err.code(), err.details()),
        (StatusCode::Unauthenticated, "missing authorization header")
    );

    let wrong = local().with_call_credentials(CallCredentials::access_token("guess"));
    let err = call(wrong, Metadata::new()).await.unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::Unauthenticated, "invalid token"));

    let mut basic = Metadata::new();
    basic.add("authorization", "Basic czNjcmV0").unwrap();
    let err = call(local(), basic).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated);

    let right = local().with_call_credentials(CallCredentials::access_token("s3cret"));
    let reply = call(right, Metadata::new()).await.unwrap();
    assert!(reply.message.contains("Hello, auth!"), "{}", reply.message);
}
