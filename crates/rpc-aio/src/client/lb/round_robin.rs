//! `round_robin`: one subchannel per address, all connected at once and reconnected when
//! they drop; each call goes to the next READY subchannel in turn. The channel is READY
//! while any subchannel is, CONNECTING while any is connecting, else TRANSIENT_FAILURE (a
//! subchannel that failed counts as failing until it connects again). A subchannel whose
//! backend's health check says not SERVING is not READY, so it gets no calls (gRFC A17).

use super::pick_first::reuse;
use super::{Constant, LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Pick, PickInfo, Picker, Subchannel, all_failed};
use rpc_core::{ChannelConnectivity as C, RpcError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Builds `round_robin`.
#[derive(Debug)]
pub(crate) struct RoundRobinBuilder;

impl LbPolicyBuilder for RoundRobinBuilder {
    fn name(&self) -> &str {
        "round_robin"
    }

    fn build(&self) -> Box<dyn LbPolicy> {
        Box::new(RoundRobin::default())
    }
}

#[derive(Default)]
struct RoundRobin {
    subchannels: Vec<Subchannel>,
    /// The state each subchannel counts as: TRANSIENT_FAILURE sticks until READY.
    counted: HashMap<u64, C>,
    /// Where the next picker starts (so pickers do not all begin at the first address).
    start: usize,
}

/// Every READY subchannel in turn.
struct Rotation {
    ready: Vec<Subchannel>,
    next: AtomicUsize,
}

impl Picker for Rotation {
    fn pick(&self, _info: &PickInfo<'_>) -> Pick {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        // Never empty: a rotation is made only with READY subchannels.
        match self.ready.get(i % self.ready.len().max(1)) {
            Some(s) => Pick::Ready(s.clone()),
            None => Pick::Queue,
        }
    }
}

impl RoundRobin {
    fn publish(&mut self, helper: &mut dyn LbHelper) {
        let ready: Vec<Subchannel> = self.subchannels.iter().filter(|s| s.state() == C::Ready).cloned().collect();
        if !ready.is_empty() {
            self.start = self.start.wrapping_add(1);
            let next = AtomicUsize::new(self.start % ready.len());
            helper.update_state(C::Ready, Arc::new(Rotation { ready, next }));
            return;
        }
        let connecting = self
            .subchannels
            .iter()
            .any(|s| matches!(self.counted.get(&s.id()).copied().unwrap_or(C::Idle), C::Connecting | C::Idle));
        if connecting {
            helper.update_state(C::Connecting, Arc::new(Constant::Queue));
        } else {
            helper.update_state(C::TransientFailure, Arc::new(Constant::Fail(all_failed(&self.subchannels))));
        }
    }
}

impl LbPolicy for RoundRobin {
    fn update(&mut self, update: LbUpdate<'_>, helper: &mut dyn LbHelper) {
        let old = std::mem::take(&mut self.subchannels);
        self.subchannels = reuse(&old, update.addresses, helper, true);
        drop(old);
        let ids: Vec<u64> = self.subchannels.iter().map(Subchannel::id).collect();
        self.counted.retain(|id, _| ids.contains(id));
        for s in &self.subchannels {
            self.counted.entry(s.id()).or_insert_with(|| s.state());
            s.connect();
        }
        self.publish(helper);
    }

    fn subchannel_state(&mut self, subchannel: &Subchannel, state: C, helper: &mut dyn LbHelper) {
        if !self.subchannels.contains(subchannel) {
            return;
        }
        let before = self.counted.get(&subchannel.id()).copied().unwrap_or(C::Idle);
        let counted = match (before, state) {
            (C::TransientFailure, C::Connecting | C::Idle) => C::TransientFailure,
            (_, s) => s,
        };
        self.counted.insert(subchannel.id(), counted);
        if before == C::Ready && state != C::Ready {
            helper.request_resolution();
        }
        if state == C::TransientFailure {
            helper.request_resolution();
        }
        if state == C::Idle {
            subchannel.connect();
        }
        self.publish(helper);
    }

    fn resolver_error(&mut self, error: &RpcError, helper: &mut dyn LbHelper) {
        if self.subchannels.is_empty() {
            helper.update_state(C::TransientFailure, Arc::new(Constant::Fail(error.clone())));
        }
    }

    fn exit_idle(&mut self, helper: &mut dyn LbHelper) {
        for s in &self.subchannels {
            s.connect();
        }
        self.publish(helper);
    }
}
