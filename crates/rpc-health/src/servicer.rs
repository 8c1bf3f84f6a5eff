//! `HealthServicer`: the statuses of the served services, answered by Check and streamed by Watch.

use crate::pb::{AsyncHealthServicer, HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus};
use rpc_core::{ResponseStream, RpcError, ServicerContext};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

#[derive(Default)]
struct Inner {
    services: HashMap<String, watch::Sender<ServingStatus>>,
    shutting_down: bool,
}

/// The health of a server's services. Clone it to keep a handle after registering it.
///
/// The empty service name `""` stands for the server as a whole and starts as SERVING.
/// `Check` of an unknown service is NOT_FOUND; `Watch` of one streams SERVICE_UNKNOWN until
/// it is set. After [`enter_graceful_shutdown`](Self::enter_graceful_shutdown) every service
/// is NOT_SERVING and further `set` calls are ignored.
#[derive(Clone)]
pub struct HealthServicer {
    inner: Arc<Mutex<Inner>>,
}

impl Default for HealthServicer {
    fn default() -> Self {
        HealthServicer::new()
    }
}

impl HealthServicer {
    /// A servicer where the server as a whole (`""`) is SERVING.
    pub fn new() -> HealthServicer {
        let health = HealthServicer { inner: Arc::default() };
        health.set("", ServingStatus::Serving);
        health
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the status of `service` (a full name such as `helloworld.Greeter`, or `""`),
    /// notifying every watcher. Ignored once graceful shutdown has begun.
    pub fn set(&self, service: &str, status: ServingStatus) {
        let mut inner = self.lock();
        if inner.shutting_down {
            return;
        }
        match inner.services.get(service) {
            Some(tx) => {
                tx.send_replace(status);
            }
            None => {
                inner.services.insert(service.to_owned(), watch::channel(status).0);
            }
        }
    }

    /// The status of `service`, if it was ever set.
    pub fn get(&self, service: &str) -> Option<ServingStatus> {
        let inner = self.lock();
        inner
            .services
            .get(service)
            .map(|tx| *tx.borrow())
            .filter(|s| *s != ServingStatus::ServiceUnknown)
    }

    /// Marks every service NOT_SERVING at once and ignores further `set` calls, so load
    /// balancers drain the server while it finishes its work.
    pub fn enter_graceful_shutdown(&self) {
        let mut inner = self.lock();
        inner.shutting_down = true;
        for tx in inner.services.values() {
            if *tx.borrow() != ServingStatus::ServiceUnknown {
                tx.send_replace(ServingStatus::NotServing);
            }
        }
    }

    /// Whether graceful shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    fn subscribe(&self, service: &str) -> watch::Receiver<ServingStatus> {
        let mut inner = self.lock();
        inner
            .services
            .entry(service.to_owned())
            .or_insert_with(|| watch::channel(ServingStatus::ServiceUnknown).0)
            .subscribe()
    }
}

impl fmt::Debug for HealthServicer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        let mut services: Vec<(&str, ServingStatus)> = inner.services.iter().map(|(k, v)| (k.as_str(), *v.borrow())).collect();
        services.sort();
        f.debug_struct("HealthServicer")
            .field("services", &services)
            .field("shutting_down", &inner.shutting_down)
            .finish()
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status as i32 }
}

impl AsyncHealthServicer for HealthServicer {
    async fn check(&self, request: HealthCheckRequest, _context: &ServicerContext) -> Result<HealthCheckResponse, RpcError> {
        match self.get(&request.service) {
            Some(status) => Ok(response(status)),
            None => Err(RpcError::not_found(format!("unknown service {:?}", request.service))),
        }
    }

    async fn watch(
        &self,
        request: HealthCheckRequest,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<HealthCheckResponse>, RpcError> {
        let rx = self.subscribe(&request.service);
        // The first item is the current status; then one item per change. The stream ends
        // when the servicer is dropped (no more senders) or the client goes away.
        let stream = futures::stream::unfold((rx, true), |(mut rx, first)| async move {
            if !first && rx.changed().await.is_err() {
                return None;
            }
            let status = *rx.borrow_and_update();
            Some((Ok(response(status)), (rx, false)))
        });
        Ok(ResponseStream::new(stream))
    }
}
