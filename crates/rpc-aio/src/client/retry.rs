//! Retries and hedging (gRFC A6), between the call and the picker: every attempt goes
//! back to the picker, so a retry can go to another backend.
//!
//! - Without a policy, a call gets one attempt, sent again once (transparently, counting
//!   for nothing) if the server never processed it.
//! - `retryPolicy`: after a failure with a retryable code, wait `random(0, backoff)` (the
//!   backoff growing by `backoffMultiplier` up to `maxBackoff`) or the server's
//!   `grpc-retry-pushback-ms` (negative: stop), then try again, up to `maxAttempts`.
//! - `hedgingPolicy`: a new attempt every `hedgingDelay` until one gets response headers
//!   (the others are cancelled), up to `maxAttempts`; a non-fatal code sends the next at
//!   once, any other code ends the call. Streamed requests go to every attempt from the
//!   replay buffer; once it overflows, the attempt that read past it is the one that goes
//!   on.
//! - A call is committed, and not retried, once response headers arrive (a trailers-only
//!   status is not a commit) or when its requests overflow the retry buffer.
//! - `retryThrottling`: failures take a token, successes give `tokenRatio` back; at or
//!   below half of `maxTokens`, no retries or hedges.
//!
//! The call's deadline covers every attempt: the running call ends at it, whatever is in
//! flight or waiting.

use super::attempt::{Failure, Prepared, Request, Started, once};
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use super::service_config::{Codes, HedgingPolicy, Policy, RetryPolicy};
use super::throttle::Throttle;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rpc_core::RpcError;
use std::sync::Arc;
use std::time::Duration;

/// Runs the attempts of a call.
pub(crate) async fn run(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    mut request: Request,
    policy: Option<&Policy>,
    throttle: Option<Arc<Throttle>>,
) -> Result<Started, RpcError> {
    let throttle = throttle.as_deref();
    let result = match policy {
        Some(Policy::Retry(p)) => retried(channel, call, prepared, &mut request, p, throttle).await,
        Some(Policy::Hedging(h)) => {
            match request.copy() {
                Some(fresh) => hedged(channel, call, prepared, fresh, h, throttle).await.map(|(started, winner)| {
                    request = winner;
                    started
                }),
                // Requests that cannot be kept (no policy made them replayable) get one attempt.
                None => single(channel, call, prepared, &mut request).await,
            }
        }
        None => single(channel, call, prepared, &mut request).await,
    };
    if result.is_ok() {
        if let Some(t) = throttle {
            t.success();
        }
        if let Request::Replayed(r, body) = &request {
            r.release(*body);
        }
    }
    result
}

/// One attempt, sent again once if the server never processed it.
async fn single(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    request: &mut Request,
) -> Result<Started, RpcError> {
    match once(channel, call, prepared, request, 0).await {
        Err(Failure::Unprocessed(e)) if request.replayable() && !call.is_done() => {
            tracing::debug!("the server did not process the call ({e}); sending it again");
            once(channel, call, prepared, request, 0).await.map_err(Failure::into_error)
        }
        other => other.map_err(Failure::into_error),
    }
}

/// The failure's code is in `codes`; records it with the throttle when it counts.
fn counts(failure: &RpcError, pushback: Option<Option<Duration>>, codes: Codes, throttle: Option<&Throttle>) -> bool {
    let listed = codes.contains(failure.code());
    if let Some(t) = throttle
        && (listed || pushback == Some(None))
    {
        t.failure();
    }
    listed
}

async fn retried(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    request: &mut Request,
    policy: &RetryPolicy,
    throttle: Option<&Throttle>,
) -> Result<Started, RpcError> {
    let mut attempts = 0u32;
    let mut transparent = false;
    let mut backoff = policy.initial_backoff;
    loop {
        let failure = match once(channel, call, prepared, request, attempts).await {
            Ok(started) => return Ok(started),
            Err(f) => f,
        };
        if call.is_done() || !request.replayable() {
            return Err(failure.into_error());
        }
        let (error, pushback) = match failure {
            Failure::Unprocessed(e) if !transparent => {
                transparent = true;
                tracing::debug!("the server did not process the call ({e}); sending it again");
                continue;
            }
            Failure::Unprocessed(e) => (e, None),
            Failure::Status(e, p) => (e, p),
        };
        attempts += 1;
        if !counts(&error, pushback, policy.retryable, throttle)
            || pushback == Some(None)
            || attempts >= policy.max_attempts
            || throttle.is_some_and(|t| !t.allows())
        {
            return Err(error);
        }
        let wait = match pushback {
            Some(Some(delay)) => {
                backoff = policy.initial_backoff;
                delay
            }
            _ => {
                let wait = backoff.mul_f64(fastrand::f64());
                backoff = Duration::try_from_secs_f64(backoff.as_secs_f64() * policy.multiplier)
                    .unwrap_or(policy.max_backoff)
                    .min(policy.max_backoff);
                wait
            }
        };
        tracing::debug!(attempt = attempts + 1, ?wait, "retrying after {error}");
        tokio::time::sleep(wait).await;
    }
}

/// Hedged attempts, each sending a copy of `request`; returns the winner's response and
/// its request (for a replayed stream, the body the call commits to).
async fn hedged(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    request: Request,
    policy: &HedgingPolicy,
    throttle: Option<&Throttle>,
) -> Result<(Started, Request), RpcError> {
    // Whether the call committed (its replay buffer overflowed) to an attempt other than
    // the one of `r`: then `r`'s failure only says it was cut off.
    let cut_off = |r: &Request| matches!(r, Request::Replayed(replay, body) if replay.committed_elsewhere(*body));
    let start = |n: u32, request: Option<Request>| {
        let mut request = request.unwrap_or(Request::Once(None));
        async move {
            let result = once(channel, call, prepared, &mut request, n).await;
            (result, request)
        }
    };
    let mut in_flight = FuturesUnordered::new();
    in_flight.push(start(0, request.copy()));
    let mut sent = 1u32;
    let mut stopped = false;
    let mut transparent = false;
    let mut last_error = None;
    let mut next = Some(Box::pin(tokio::time::sleep(policy.delay)));
    loop {
        let can_send = sent < policy.max_attempts && !stopped && !call.is_done() && request.replayable();
        if in_flight.is_empty() && !can_send {
            return Err(last_error
                .take()
                .unwrap_or_else(|| RpcError::unavailable("every hedged attempt failed")));
        }
        let timer = async {
            match next.as_mut() {
                Some(t) if can_send => t.await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = timer => {
                next = None;
                if throttle.is_none_or(Throttle::allows) {
                    in_flight.push(start(sent, request.copy()));
                    sent += 1;
                    next = Some(Box::pin(tokio::time::sleep(policy.delay)));
                } else {
                    stopped = true;
                }
            }
            done = in_flight.next(), if !in_flight.is_empty() => {
                // The winner's response is returned; dropping the others cancels them.
                let failure = match done {
                    Some((Ok(started), winner)) => return Ok((started, winner)),
                    Some((Err(_), attempt)) if cut_off(&attempt) => continue,
                    Some((Err(f), _)) => f,
                    None => continue,
                };
                let (error, pushback) = match failure {
                    Failure::Unprocessed(e) if !transparent && !call.is_done() && request.replayable() => {
                        transparent = true;
                        in_flight.push(start(sent - 1, request.copy()));
                        tracing::debug!("the server did not process a hedged attempt ({e}); sending it again");
                        continue;
                    }
                    Failure::Unprocessed(e) => (e, None),
                    Failure::Status(e, p) => (e, p),
                };
                if !counts(&error, pushback, policy.non_fatal, throttle) {
                    return Err(error);
                }
                match pushback {
                    Some(None) => stopped = true,
                    Some(Some(delay)) => next = Some(Box::pin(tokio::time::sleep(delay))),
                    // A non-fatal code sends the next hedge at once.
                    None => next = Some(Box::pin(tokio::time::sleep(Duration::ZERO))),
                }
                last_error = Some(error);
                let more = sent < policy.max_attempts && !stopped && request.replayable() && throttle.is_none_or(Throttle::allows);
                if in_flight.is_empty() && !more {
                    return Err(last_error.take().unwrap_or_else(|| RpcError::unavailable("every hedged attempt failed")));
                }
            }
        }
    }
}
