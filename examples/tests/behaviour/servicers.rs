//! The servicers of the behaviour suite: one behaviour, written as a blocking and as an
//! async servicer. The greeting `name` is a command: `ok`, `echo-metadata`,
//! `abort:<code>`, `sleep:<ms>` (sleeps unless cancelled), `panic`.
// Each face's test binary registers one of the two servicers; the other goes unused there.
#![allow(dead_code)]

use examples::pb::helloworld::{AsyncGreeterServicer, GreeterServicer, HelloReply, HelloRequest};
use examples::pb::routeguide::{AsyncRouteGuideServicer, Point, RouteGuideServicer, RouteNote, RouteSummary};
use futures::StreamExt;
use rpc_core::{Metadata, RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServicerContext, StatusCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Handlers that saw their RPC cancelled (by deadline, client or stop).
pub static CANCELLED_SEEN: AtomicUsize = AtomicUsize::new(0);
/// Handlers that started sleeping.
pub static STARTED_SLEEPING: AtomicUsize = AtomicUsize::new(0);
/// Handlers that ran to completion after sleeping.
pub static SLEPT_FULLY: AtomicUsize = AtomicUsize::new(0);

fn echo(context: &ServicerContext) -> Result<(), RpcError> {
    let mut initial = Metadata::new();
    let mut trailing = Metadata::new();
    for (k, v) in context.invocation_metadata().iter() {
        if k.starts_with("x-") {
            let (stem, bin) = match k.strip_suffix("-bin") {
                Some(stem) => (stem, "-bin"),
                None => (k, ""),
            };
            initial.add(&format!("{stem}-initial{bin}"), v.clone())?;
            trailing.add(&format!("{stem}-trailing{bin}"), v.clone())?;
        }
    }
    context.send_initial_metadata(initial)?;
    context.set_trailing_metadata(trailing);
    Ok(())
}

fn outcome_before_sleep(name: &str, context: &ServicerContext) -> Result<Option<Duration>, RpcError> {
    if name == "echo-metadata" {
        echo(context)?;
    } else if let Some(code) = name.strip_prefix("abort:") {
        let code = StatusCode::from_name(code).unwrap_or(StatusCode::Unknown);
        context.set_trailing_metadata(Metadata::from_pairs([("x-why", "asked to abort")])?);
        return Err(context.abort(code, format!("aborted with {code} as asked")));
    } else if name == "panic" {
        panic!("handler panicked as asked");
    } else if let Some(ms) = name.strip_prefix("sleep:") {
        STARTED_SLEEPING.fetch_add(1, Ordering::SeqCst);
        return Ok(Some(Duration::from_millis(ms.parse().unwrap_or(0))));
    }
    Ok(None)
}

fn reply(name: &str) -> HelloReply {
    HelloReply {
        message: format!("hello {name}"),
    }
}

/// The suite's servicer, blocking.
#[derive(Debug, Default)]
pub struct Blocking;

impl GreeterServicer for Blocking {
    fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        if let Some(sleep) = outcome_before_sleep(&request.name, context)? {
            if context.wait_cancelled(sleep) {
                CANCELLED_SEEN.fetch_add(1, Ordering::SeqCst);
                return Err(RpcError::cancelled("handler saw cancellation"));
            }
            SLEPT_FULLY.fetch_add(1, Ordering::SeqCst);
        }
        Ok(reply(&request.name))
    }
}

impl RouteGuideServicer for Blocking {
    fn list_features(
        &self,
        request: examples::pb::routeguide::Rectangle,
        _context: &ServicerContext,
    ) -> Result<ResponseIterator<examples::pb::routeguide::Feature>, RpcError> {
        Ok(ResponseIterator::from_messages(features_for(&request)))
    }

    fn record_route(&self, requests: RequestIterator<Point>, _context: &ServicerContext) -> Result<RouteSummary, RpcError> {
        let mut summary = RouteSummary::default();
        for p in requests {
            summary.point_count += 1;
            summary.distance += p?.latitude;
        }
        Ok(summary)
    }

    fn route_chat(
        &self,
        requests: RequestIterator<RouteNote>,
        _context: &ServicerContext,
    ) -> Result<ResponseIterator<RouteNote>, RpcError> {
        Ok(ResponseIterator::new(requests.map(|n| {
            n.map(|n| RouteNote {
                message: format!("re: {}", n.message),
                ..n
            })
        })))
    }
}

/// The suite's servicer, async.
#[derive(Debug, Default)]
pub struct Async;

impl AsyncGreeterServicer for Async {
    async fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        if let Some(sleep) = outcome_before_sleep(&request.name, context)? {
            tokio::select! {
                _ = context.on_cancel() => {
                    CANCELLED_SEEN.fetch_add(1, Ordering::SeqCst);
                    return Err(RpcError::cancelled("handler saw cancellation"));
                }
                _ = tokio::time::sleep(sleep) => { SLEPT_FULLY.fetch_add(1, Ordering::SeqCst); }
            }
        }
        Ok(reply(&request.name))
    }
}

impl AsyncRouteGuideServicer for Async {
    async fn list_features(
        &self,
        request: examples::pb::routeguide::Rectangle,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<examples::pb::routeguide::Feature>, RpcError> {
        Ok(ResponseStream::from_messages(features_for(&request)))
    }

    async fn record_route(&self, mut requests: RequestStream<Point>, _context: &ServicerContext) -> Result<RouteSummary, RpcError> {
        let mut summary = RouteSummary::default();
        while let Some(p) = requests.message().await? {
            summary.point_count += 1;
            summary.distance += p.latitude;
        }
        Ok(summary)
    }

    async fn route_chat(
        &self,
        requests: RequestStream<RouteNote>,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<RouteNote>, RpcError> {
        Ok(ResponseStream::new(requests.map(|n| {
            n.map(|n| RouteNote {
                message: format!("re: {}", n.message),
                ..n
            })
        })))
    }
}

/// `n` features named `feature 0..n`, where `n` is the rectangle's `lo.latitude`.
pub fn features_for(rect: &examples::pb::routeguide::Rectangle) -> Vec<examples::pb::routeguide::Feature> {
    let n = rect.lo.map(|p| p.latitude).unwrap_or(0).clamp(0, 1000);
    (0..n)
        .map(|i| examples::pb::routeguide::Feature {
            name: format!("feature {i}"),
            location: None,
        })
        .collect()
}
