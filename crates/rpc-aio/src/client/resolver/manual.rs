//! [`ManualResolver`]: a resolver whose addresses code sets (a test, or a watcher of a
//! registry such as Consul or Kubernetes running on a thread or a task of its own).

use super::{Resolution, Resolver, ResolverBuilder, ResolverUpdate, TargetUri};
use futures::Stream;
use rpc_core::{ChannelOptions, RpcError};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A resolver for one scheme whose updates come from [`update`](Self::update) and
/// [`fail`](Self::fail), from any thread, while channels use it. Cheap to clone (the clones
/// share the state); give a clone to `ChannelBuilder::resolver` or
/// [`register`](super::register). Every channel built with it sees the latest update.
#[derive(Clone, Debug)]
pub struct ManualResolver {
    scheme: String,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    resolve_now: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    latest: Option<ResolverUpdate>,
    version: u64,
    wakers: Vec<Waker>,
}

impl ManualResolver {
    /// A manual resolver for `scheme` (targets `scheme:...` use it), with no addresses yet:
    /// calls wait (or fail fast, UNAVAILABLE) until the first update.
    pub fn new(scheme: &str) -> ManualResolver {
        ManualResolver {
            scheme: scheme.to_ascii_lowercase(),
            shared: Arc::default(),
        }
    }

    fn push(&self, update: ResolverUpdate) {
        let wakers = {
            let mut state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
            state.latest = Some(update);
            state.version += 1;
            std::mem::take(&mut state.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Replaces the addresses (and service config) every channel using this resolver has.
    pub fn update(&self, resolution: Resolution) {
        self.push(Ok(resolution));
    }

    /// Reports a resolution error (channels keep the addresses they have, if any).
    pub fn fail(&self, error: RpcError) {
        self.push(Err(error));
    }

    /// How many times channels asked for a fresh resolution ([`Resolver::resolve_now`]).
    pub fn resolve_now_count(&self) -> u64 {
        self.shared.resolve_now.load(Ordering::Acquire)
    }
}

impl ResolverBuilder for ManualResolver {
    fn scheme(&self) -> &str {
        &self.scheme
    }

    fn build(&self, _target: &TargetUri, _options: &ChannelOptions) -> Result<Box<dyn Resolver>, RpcError> {
        Ok(Box::new(ManualStream {
            shared: self.shared.clone(),
            seen: 0,
        }))
    }
}

struct ManualStream {
    shared: Arc<Shared>,
    seen: u64,
}

impl Stream for ManualStream {
    type Item = ResolverUpdate;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ResolverUpdate>> {
        let mut state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.version != self.seen
            && let Some(latest) = state.latest.clone()
        {
            let version = state.version;
            drop(state);
            self.seen = version;
            return Poll::Ready(Some(latest));
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Resolver for ManualStream {
    fn resolve_now(&mut self) {
        self.shared.resolve_now.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::resolver::Address;
    use futures::StreamExt;

    #[tokio::test]
    async fn a_stream_sees_the_latest_update_once() {
        let manual = ManualResolver::new("Test");
        assert_eq!(manual.scheme(), "test");
        let target = TargetUri::parse("test:x", |s| s == "test").unwrap();
        let mut stream = manual.build(&target, &ChannelOptions::default()).unwrap();
        let a = Address::tcp("127.0.0.1:1".parse().unwrap());
        manual.update(Resolution::new(vec![a.clone()]));
        manual.update(Resolution::new(vec![a.clone(), a.clone()]));
        assert_eq!(stream.next().await.unwrap().unwrap().addresses.len(), 2);
        let pending = futures::poll!(stream.next());
        assert!(pending.is_pending());
        stream.resolve_now();
        assert_eq!(manual.resolve_now_count(), 1);
    }
}
