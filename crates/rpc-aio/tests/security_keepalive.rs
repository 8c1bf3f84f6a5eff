//! Keepalive enforcement: a client that pings more often than `keepalive_min_time` is told
//! to go away (GOAWAY ENHANCE_YOUR_CALM `too_many_pings`, as gRPC servers say it, then its
//! connection closes) after gRPC's two forgiven strikes, while a client that keeps to the
//! interval keeps its connection.

use rpc_aio::ServerOptions;
use rpc_testkit::{bounded, serve_aio};
use std::time::Duration;

/// A raw HTTP/2 client: its request handle (kept, or h2 closes an idle connection by
/// itself), its pings, and its connection task (which ends when the connection does).
async fn ping_client(
    target: &str,
) -> (
    h2::client::SendRequest<bytes::Bytes>,
    h2::PingPong,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = tokio::net::TcpStream::connect(target).await.unwrap();
    let (client, mut conn) = h2::client::handshake(tcp).await.unwrap();
    let pings = conn.ping_pong().unwrap();
    (client, pings, tokio::spawn(conn))
}

#[tokio::test]
async fn a_client_pinging_too_often_is_told_to_go_away() {
    bounded(async {
        let (server, target) = serve_aio(ServerOptions::default().keepalive_min_time(Duration::from_secs(60)), |_| {}).await;
        let (_client, mut pings, connection) = ping_client(&target).await;
        // Bounded: the connection must end long before 50 pings are all answered.
        for _ in 0..50 {
            if pings.ping(h2::Ping::opaque()).await.is_err() {
                break;
            }
        }
        let ended = tokio::time::timeout(Duration::from_secs(20), connection)
            .await
            .expect("the connection of a client pinging every few microseconds was kept open");
        let error = ended.unwrap().expect_err("the connection ends with the server's GOAWAY");
        assert!(error.is_go_away(), "{error}");
        assert_eq!(error.reason(), Some(h2::Reason::ENHANCE_YOUR_CALM), "{error}");
        assert!(error.to_string().contains("too_many_pings"), "{error}");
        server.stop(None).await;
    })
    .await;
}

#[tokio::test]
async fn a_client_keeping_to_the_interval_keeps_its_connection() {
    bounded(async {
        let (server, target) = serve_aio(ServerOptions::default().keepalive_min_time(Duration::from_millis(50)), |_| {}).await;
        let (_client, mut pings, connection) = ping_client(&target).await;
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(120)).await;
            pings.ping(h2::Ping::opaque()).await.expect("a well-spaced ping is answered");
        }
        assert!(!connection.is_finished(), "a well-behaved client lost its connection");
        connection.abort();
        server.stop(None).await;
    })
    .await;
}
