//! What only the async face's calls have around deadlines and cancellation (the
//! both-faces behaviour is in `crates/testkit/tests/call_deadline.rs` and
//! `call_cancel.rs`): a unary call runs lazily, when awaited or started, and dropping one
//! while it is being awaited (driven inline, with no task of its own) cancels it.

use rpc_aio::{ChannelOptions, Metadata, Request, StatusCode, insecure_channel};
use rpc_testkit::{Msg, TonicPeer, UNARY, bounded, eventually, msg};
use std::time::Duration;

#[tokio::test]
async fn dropping_a_unary_call_being_awaited_cancels_it() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "10000").unwrap();
    let mut call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("x")).metadata(md));
    // Drive the call inline until the server has it, then drop it.
    tokio::select! {
        r = &mut call => panic!("the call ended early: {r:?}"),
        _ = eventually("the server to have the call", || server.probe().calls() == 1) => {}
    }
    drop(call);
    eventually("the server to see the cancellation", || server.probe().cancelled() == 1).await;
}

#[tokio::test]
async fn a_unary_call_runs_when_awaited_or_started() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let idle = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("idle"));
    // Nothing to wait for: a call that is not awaited sends nothing, so give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.probe().calls(), 0, "a call that is not awaited sends nothing");
    assert!(!idle.done());
    // Dropping it sends nothing either, and a cancelled idle call reports CANCELLED.
    drop(idle);
    let cancelled = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("never"));
    assert!(cancelled.cancel());
    assert!(cancelled.cancelled() && cancelled.done());
    assert_eq!(bounded(cancelled).await.unwrap_err().code(), StatusCode::Cancelled);
    // `start()` runs it in the background: the server answers while nobody awaits it.
    let started = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("bg"));
    started.start();
    eventually("the started call to end", || started.done()).await;
    assert_eq!(server.probe().calls(), 1);
    assert_eq!(bounded(started).await.unwrap().text, "echo:bg");
    // So do the async accessors: the initial metadata arrive without awaiting the call.
    let observed = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("md"));
    bounded(observed.initial_metadata()).await.unwrap();
    assert_eq!(bounded(observed.code()).await, StatusCode::Ok);
    assert_eq!(bounded(observed).await.unwrap().text, "echo:md");
}
