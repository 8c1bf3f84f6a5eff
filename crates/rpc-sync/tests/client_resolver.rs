//! The blocking face's own resolvers and policies: `ChannelBuilder::resolver` with a
//! `ManualResolver` updated from this thread while the channel runs on the private runtime,
//! and `ChannelBuilder::lb_policy` with a policy of the channel's own. (Fleets of backend
//! processes, for both faces: the kit's `tests/fleet.rs`.)

use rpc_sync::lb::{LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Pick, PickInfo, Picker, Subchannel};
use rpc_sync::resolver::{Address, ManualResolver, Resolution};
use rpc_sync::{Channel, ChannelConnectivity, ChannelOptions, Request, StatusCode};
use rpc_testkit::{Msg, TonicPeer, UNARY, msg};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn address(peer: &TonicPeer) -> Address {
    Address::tcp(std::net::SocketAddr::from(([127, 0, 0, 1], peer.port())))
}

fn call(ch: &Channel) -> Result<Msg, rpc_sync::RpcError> {
    ch.unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("x")).timeout(Duration::from_secs(10)))
}

#[test]
fn a_manual_resolver_given_to_the_builder_moves_calls() {
    let (first, second) = (TonicPeer::start(), TonicPeer::start());
    let manual = ManualResolver::new("sync-manual");
    manual.update(Resolution::new(vec![address(&first)]));
    let ch = Channel::builder("sync-manual:///x").resolver(manual.clone()).build().unwrap();
    call(&ch).unwrap();
    assert_eq!(first.probe().calls(), 1);
    manual.update(Resolution::new(vec![address(&second)]));
    for _ in 0..200 {
        if second.probe().calls() > 0 {
            break;
        }
        call(&ch).unwrap();
    }
    assert!(second.probe().calls() > 0, "calls moved to the second server");
    let before = first.probe().calls();
    for _ in 0..10 {
        call(&ch).unwrap();
    }
    assert_eq!(first.probe().calls(), before, "and stay there");
}

/// A policy that refuses every call with its own error, counting its picks.
struct Refuse(Arc<AtomicUsize>);

impl LbPolicyBuilder for Refuse {
    fn name(&self) -> &str {
        "refuse"
    }
    fn build(&self) -> Box<dyn LbPolicy> {
        Box::new(RefusePolicy(self.0.clone(), Vec::new()))
    }
}

struct RefusePolicy(Arc<AtomicUsize>, Vec<Subchannel>);

impl LbPolicy for RefusePolicy {
    fn update(&mut self, update: LbUpdate<'_>, helper: &mut dyn LbHelper) {
        self.1 = update.addresses.iter().map(|a| helper.new_subchannel(a, false)).collect();
        helper.update_state(ChannelConnectivity::TransientFailure, Arc::new(RefusePicker(self.0.clone())));
    }
    fn subchannel_state(&mut self, _s: &Subchannel, _state: ChannelConnectivity, _helper: &mut dyn LbHelper) {}
}

struct RefusePicker(Arc<AtomicUsize>);

impl Picker for RefusePicker {
    fn pick(&self, info: &PickInfo<'_>) -> Pick {
        self.0.fetch_add(1, Ordering::SeqCst);
        Pick::Fail(rpc_sync::RpcError::unavailable(format!("refused {}", info.method())))
    }
}

#[test]
fn a_policy_given_to_the_builder_chooses_for_every_call() {
    let peer = TonicPeer::start();
    let picks = Arc::new(AtomicUsize::new(0));
    let ch = Channel::builder(&peer.target())
        .lb_policy(Refuse(picks.clone()))
        .options(ChannelOptions::default().lb_policy_name("refuse".to_owned()))
        .build()
        .unwrap();
    let err = call(&ch).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains("refused /test.Svc/Unary"), "{err}");
    assert!(picks.load(Ordering::SeqCst) >= 1);
    assert_eq!(ch.get_state(false), ChannelConnectivity::TransientFailure);
    assert_eq!(peer.probe().calls(), 0, "nothing reached the server");
}
