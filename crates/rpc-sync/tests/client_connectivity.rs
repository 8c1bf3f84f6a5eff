//! Connectivity from blocking code: get_state, subscribe/unsubscribe, channel_ready_future
//! (also with a server that starts late). (A wait_for_ready call across a late server is
//! in the kit's call_deadline.rs, for both faces.)

use rpc_sync::{ChannelConnectivity, ChannelOptions, RpcError, StatusCode, channel_ready_future, insecure_channel};
use rpc_testkit::{LIMIT, Msg, TonicPeer, UNARY, free_port, msg, sync_channel};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn get_state_and_subscribe_follow_the_connection() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    assert_eq!(ch.get_state(false), ChannelConnectivity::Idle);
    let (tx, rx) = mpsc::channel();
    let id = ch.subscribe(
        move |state| {
            let _ = tx.send(state);
        },
        true,
    );
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), ChannelConnectivity::Idle);
    loop {
        let state = rx.recv_timeout(LIMIT).expect("no READY reported");
        assert_ne!(state, ChannelConnectivity::Shutdown);
        if state == ChannelConnectivity::Ready {
            break;
        }
    }
    assert_eq!(ch.get_state(false), ChannelConnectivity::Ready);
    let (tx2, rx2) = mpsc::channel();
    let other = ch.subscribe(
        move |state| {
            let _ = tx2.send(state);
        },
        false,
    );
    assert_eq!(rx2.recv_timeout(LIMIT).unwrap(), ChannelConnectivity::Ready);
    assert!(ch.unsubscribe(id));
    assert!(!ch.unsubscribe(id));
    ch.close(None);
    assert_eq!(rx2.recv_timeout(LIMIT).unwrap(), ChannelConnectivity::Shutdown);
    // SHUTDOWN is the last call: the subscription ends and drops its callback (and sender).
    assert_eq!(rx2.recv_timeout(LIMIT), Err(mpsc::RecvTimeoutError::Disconnected));
    let _ = ch.unsubscribe(other);
}

#[test]
fn channel_ready_future_waits_for_a_server_that_starts_late() {
    let port = free_port();
    let ch = insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let mut ready = channel_ready_future(&ch);
    let err = ready.result(Some(Duration::from_millis(50))).unwrap_err();
    assert!(err.is_timeout(), "a wait that times out is its own error: {err}");
    assert!(!ready.done());
    let peer = TonicPeer::start_on(port);
    ready.result(Some(LIMIT)).unwrap();
    assert!(ready.done() && !ready.cancelled());
    ready.result(None).unwrap();
    assert_eq!(ch.get_state(false), ChannelConnectivity::Ready);
    assert_eq!(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("late")).unwrap().text, "echo:late");
    drop(peer);
}

#[test]
fn channel_ready_future_can_be_cancelled() {
    let ch = insecure_channel(&format!("127.0.0.1:{}", free_port()), ChannelOptions::default()).unwrap();
    let mut ready = channel_ready_future(&ch);
    assert!(ready.cancel());
    assert!(ready.cancelled());
    assert_eq!(RpcError::from(ready.result(Some(LIMIT)).unwrap_err()).code(), StatusCode::Cancelled);
    assert!(ready.done());
}

#[test]
fn channel_ready_future_fails_when_the_channel_closes() {
    let ch = insecure_channel(&format!("127.0.0.1:{}", free_port()), ChannelOptions::default()).unwrap();
    let mut ready = channel_ready_future(&ch);
    ch.close(None);
    assert_eq!(RpcError::from(ready.result(Some(LIMIT)).unwrap_err()).code(), StatusCode::Cancelled);
}

#[test]
fn state_and_channel_ready_work_from_inside_an_async_runtime() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (state, refused) = rt.block_on(async {
        let mut ready = channel_ready_future(&ch);
        let state = ch.get_state(true);
        (state, RpcError::from(ready.result(None).unwrap_err()).code())
    });
    assert_ne!(state, ChannelConnectivity::Shutdown);
    assert_eq!(refused, StatusCode::FailedPrecondition);
    channel_ready_future(&ch).result(Some(LIMIT)).unwrap();
}
