//! `pick_first`, the default policy: the addresses in the resolver's order, one connection
//! attempt at a time; the first that connects takes every call. When every address has
//! failed the channel stays in TRANSIENT_FAILURE (calls fail fast, UNAVAILABLE) while the
//! subchannels keep trying after their backoff, until one connects. When the chosen
//! connection ends, the channel goes IDLE (asking the resolver to look again) and the next
//! call starts over from the first address. Health checking is never used (gRFC A17).

use super::{Constant, LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Pick, PickInfo, Picker, Subchannel, all_failed};
use crate::client::resolver::Address;
use rpc_core::{ChannelConnectivity as C, RpcError};
use std::sync::Arc;

/// Builds `pick_first`.
#[derive(Debug)]
pub(crate) struct PickFirstBuilder;

impl LbPolicyBuilder for PickFirstBuilder {
    fn name(&self) -> &str {
        "pick_first"
    }

    fn build(&self) -> Box<dyn LbPolicy> {
        Box::new(PickFirst::default())
    }
}

#[derive(Default)]
struct PickFirst {
    subchannels: Vec<Subchannel>,
    selected: Option<Subchannel>,
    /// The subchannel being tried in the first pass over the list.
    trying: Option<usize>,
    /// Every address failed: stay in TRANSIENT_FAILURE until one connects.
    failing: bool,
    idle: bool,
}

/// Sends every call to one subchannel.
struct Selected(Subchannel);

impl Picker for Selected {
    fn pick(&self, _info: &PickInfo<'_>) -> Pick {
        Pick::Ready(self.0.clone())
    }
}

/// Subchannels for `addresses`, reusing those of `old` with the same endpoint.
pub(super) fn reuse(old: &[Subchannel], addresses: &[Address], helper: &mut dyn LbHelper, health_check: bool) -> Vec<Subchannel> {
    let mut out: Vec<Subchannel> = Vec::with_capacity(addresses.len());
    for a in addresses {
        if out.iter().any(|s| s.address().same_endpoint(a)) {
            continue;
        }
        match old.iter().find(|s| s.address().same_endpoint(a)) {
            Some(s) => out.push(s.clone()),
            None => out.push(helper.new_subchannel(a, health_check)),
        }
    }
    out
}

impl PickFirst {
    fn start_pass(&mut self, helper: &mut dyn LbHelper) {
        self.idle = false;
        self.selected = None;
        self.trying = Some(0);
        if !self.failing {
            helper.update_state(C::Connecting, Arc::new(Constant::Queue));
        }
        self.try_next(helper);
    }

    /// Connects the subchannel being tried, moving past those that failed; after the last,
    /// reports TRANSIENT_FAILURE.
    fn try_next(&mut self, helper: &mut dyn LbHelper) {
        while let Some(i) = self.trying {
            let Some(s) = self.subchannels.get(i) else {
                self.trying = None;
                self.all_failed(helper);
                return;
            };
            match s.state() {
                C::Ready => {
                    let s = s.clone();
                    self.select(s, helper);
                    return;
                }
                C::TransientFailure => self.trying = Some(i + 1),
                C::Idle => {
                    s.connect();
                    // A subchannel still in its backoff stays IDLE-less (TRANSIENT_FAILURE);
                    // one that started connecting is waited for.
                    if s.state() == C::TransientFailure {
                        self.trying = Some(i + 1);
                    } else {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    fn all_failed(&mut self, helper: &mut dyn LbHelper) {
        self.failing = true;
        helper.update_state(C::TransientFailure, Arc::new(Constant::Fail(all_failed(&self.subchannels))));
        helper.request_resolution();
        // Keep trying: every subchannel reconnects once its backoff has passed.
        for s in &self.subchannels {
            s.connect();
        }
    }

    fn select(&mut self, s: Subchannel, helper: &mut dyn LbHelper) {
        self.trying = None;
        self.failing = false;
        self.selected = Some(s.clone());
        helper.update_state(C::Ready, Arc::new(Selected(s)));
    }
}

impl LbPolicy for PickFirst {
    fn update(&mut self, update: LbUpdate<'_>, helper: &mut dyn LbHelper) {
        let old = std::mem::take(&mut self.subchannels);
        self.subchannels = reuse(&old, update.addresses, helper, false);
        drop(old);
        if let Some(selected) = &self.selected
            && self.subchannels.contains(selected)
            && selected.state() == C::Ready
        {
            return;
        }
        self.start_pass(helper);
    }

    fn subchannel_state(&mut self, subchannel: &Subchannel, state: C, helper: &mut dyn LbHelper) {
        if !self.subchannels.contains(subchannel) {
            return;
        }
        if self.selected.as_ref() == Some(subchannel) {
            if state != C::Ready {
                // The chosen connection ended: IDLE until a call wants it again.
                self.selected = None;
                self.idle = true;
                helper.request_resolution();
                helper.update_state(C::Idle, Arc::new(Constant::Queue));
            }
            return;
        }
        if self.selected.is_some() || self.idle {
            return;
        }
        match state {
            C::Ready => self.select(subchannel.clone(), helper),
            C::TransientFailure => {
                if let Some(i) = self.trying
                    && self.subchannels.get(i) == Some(subchannel)
                {
                    self.trying = Some(i + 1);
                    self.try_next(helper);
                } else if self.failing {
                    helper.update_state(C::TransientFailure, Arc::new(Constant::Fail(all_failed(&self.subchannels))));
                }
            }
            C::Idle if self.failing => subchannel.connect(),
            _ => {}
        }
    }

    fn resolver_error(&mut self, error: &RpcError, helper: &mut dyn LbHelper) {
        if self.subchannels.is_empty() || self.failing {
            helper.update_state(C::TransientFailure, Arc::new(Constant::Fail(error.clone())));
        }
    }

    fn exit_idle(&mut self, helper: &mut dyn LbHelper) {
        if self.idle && self.selected.is_none() {
            self.start_pass(helper);
        }
    }
}
