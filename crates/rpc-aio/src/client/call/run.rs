//! A running call as one stream of response messages ([`Running`]): it starts the call
//! (its start future: interceptors, then the attempt up to the response headers), reads
//! the responses with the call's codec, enforces the deadline, and records the initial
//! metadata and the final status in the call's shared state. Whoever polls it drives the
//! RPC: the call object inline, or a task it moved to.

use super::shared::{CallShared, Headers};
use crate::client::attempt::Started;
use crate::client::body::{Read, ReadError, Reader};
use crate::client::channel::{ActiveCall, ChannelShared};
use crate::client::errors::{When, from_h2};
use crate::client::interceptor::Responses;
use crate::wire::status;
use futures::Stream;
use futures::future::BoxFuture;
use rpc_core::RpcError;
use rpc_core::codec::Decoder;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

/// A running call, type-erased: what call objects hold.
pub(crate) type CallStream<Resp> = Pin<Box<dyn Stream<Item = Result<Resp, RpcError>> + Send>>;

/// What a call's start future produces: the response to read, and the call's place in the
/// channel's count of active calls.
// Made once per call and moved into its (boxed) state machine: boxing the large
// variant would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Begun {
    /// A response straight from the attempt.
    Direct(Started, ActiveCall),
    /// Responses through the interceptors (type-erased messages); the terminal of the
    /// chain records headers and trailers in the shared state.
    Erased(Responses, ActiveCall),
}

/// The start of a call.
pub(crate) type Start = BoxFuture<'static, Result<Begun, RpcError>>;

// Lives inside the boxed `Running`; boxing the reader would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Phase {
    Starting(Start),
    Reading(Reader),
    Erased(Responses),
    Done,
}

pin_project_lite::pin_project! {
    /// A call from its start to its status.
    pub(crate) struct Running<Resp, D> {
        phase: Phase,
        shared: Arc<CallShared>,
        channel: Arc<ChannelShared>,
        codec: Arc<D>,
        deadline: Option<Instant>,
        #[pin]
        timer: Option<tokio::time::Sleep>,
        armed: bool,
        deadline_generation: u64,
        active: Option<ActiveCall>,
        _resp: std::marker::PhantomData<fn() -> Resp>,
    }
}

impl<Resp, D> Running<Resp, D>
where
    Resp: Send + 'static,
    D: Decoder<Resp>,
{
    pub(crate) fn new(start: Start, shared: Arc<CallShared>, channel: Arc<ChannelShared>, codec: Arc<D>) -> Running<Resp, D> {
        let deadline = shared.deadline();
        let deadline_generation = shared.deadline_generation();
        Running {
            phase: Phase::Starting(start),
            shared,
            channel,
            codec,
            deadline,
            timer: None,
            armed: false,
            deadline_generation,
            active: None,
            _resp: std::marker::PhantomData,
        }
    }

    /// Erases the codec and message types.
    pub(crate) fn boxed(self) -> CallStream<Resp> {
        Box::pin(self)
    }
}

impl<Resp, D> Stream for Running<Resp, D>
where
    Resp: Send + 'static,
    D: Decoder<Resp>,
{
    type Item = Result<Resp, RpcError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if matches!(this.phase, Phase::Done) {
            return Poll::Ready(None);
        }
        // A call may be polled from any thread or executor: its start (interceptors, the
        // attempt) and its timers are the channel runtime's. Reading the responses needs no
        // runtime, so the streaming path pays nothing for this.
        let _entered = (!matches!(this.phase, Phase::Reading(_)))
            .then(|| enter(&this.channel.runtime))
            .flatten();
        if !*this.armed {
            *this.armed = true;
            if let Some(d) = *this.deadline {
                // A deadline already past fails the call before anything is sent: the
                // timer's first tick could come after a fast server's answer.
                if d <= Instant::now() {
                    return expired(this.phase, this.active, this.shared);
                }
                let _entered = enter(&this.channel.runtime);
                this.timer.set(Some(tokio::time::sleep_until(d.into())));
            }
        }
        loop {
            // An interceptor may have moved the deadline.
            let generation = this.shared.deadline_generation();
            if generation != *this.deadline_generation {
                *this.deadline_generation = generation;
                match this.shared.deadline() {
                    Some(d) => match this.timer.as_mut().as_pin_mut() {
                        Some(t) => t.reset(d.into()),
                        None => {
                            let _entered = enter(&this.channel.runtime);
                            this.timer.set(Some(tokio::time::sleep_until(d.into())))
                        }
                    },
                    None => this.timer.set(None),
                }
            }
            if let Some(t) = this.timer.as_mut().as_pin_mut()
                && t.poll(cx).is_ready()
            {
                return expired(this.phase, this.active, this.shared);
            }
            let outcome = match this.phase {
                Phase::Starting(start) => match start.as_mut().poll(cx) {
                    Poll::Pending => {
                        if this.shared.deadline_generation() != *this.deadline_generation {
                            continue;
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => Err(e),
                    Poll::Ready(Ok(Begun::Direct(started, active))) => {
                        *this.active = Some(active);
                        match started {
                            Started::Stream { headers, reader } => {
                                this.shared.set_initial(headers);
                                *this.phase = Phase::Reading(reader);
                                continue;
                            }
                            Started::TrailersOnly(headers) => Ok(Headers::Raw(headers)),
                        }
                    }
                    Poll::Ready(Ok(Begun::Erased(responses, active))) => {
                        *this.active = Some(active);
                        *this.phase = Phase::Erased(responses);
                        continue;
                    }
                },
                Phase::Reading(reader) => match ready!(reader.poll_read(&**this.codec, cx)) {
                    Ok(Read::Message(m)) => return Poll::Ready(Some(Ok(m))),
                    Ok(Read::End(trailers)) => match trailers.as_ref().and_then(status::read) {
                        Some(Ok(_)) => Ok(Headers::Raw(trailers.unwrap_or_default())),
                        Some(Err(e)) => Err(e),
                        None => Err(RpcError::internal("the server ended the response without a gRPC status")),
                    },
                    Err(ReadError::Status(e)) => Err(e),
                    Err(ReadError::Transport(e)) => {
                        Err(this.shared.error_now().unwrap_or_else(|| from_h2(this.channel, &e, When::Reading)))
                    }
                },
                Phase::Erased(responses) => match ready!(Pin::new(responses).poll_next(cx)) {
                    Some(Ok(any)) => match any.downcast::<Resp>() {
                        Ok(m) => return Poll::Ready(Some(Ok(m))),
                        Err(_) => Err(RpcError::internal("an interceptor produced a response of the wrong message type")),
                    },
                    Some(Err(e)) => Err(e),
                    None => Ok(Headers::Converted(this.shared.take_trailers().unwrap_or_default())),
                },
                Phase::Done => return Poll::Ready(None),
            };
            return end(this.phase, this.active, this.shared, outcome);
        }
    }
}

/// Enters `runtime` unless the calling thread is in a runtime already.
fn enter(runtime: &tokio::runtime::Handle) -> Option<tokio::runtime::EnterGuard<'_>> {
    tokio::runtime::Handle::try_current().is_err().then(|| runtime.enter())
}

/// Ends the call with DEADLINE_EXCEEDED.
fn expired<Resp>(phase: &mut Phase, active: &mut Option<ActiveCall>, shared: &CallShared) -> Poll<Option<Result<Resp, RpcError>>> {
    end(phase, active, shared, Err(RpcError::deadline_exceeded("deadline exceeded")))
}

/// Ends the call with `outcome`: records it (unless the call already ended, e.g. it was
/// cancelled: that outcome stands) and reports an error once.
fn end<Resp>(
    phase: &mut Phase,
    active: &mut Option<ActiveCall>,
    shared: &CallShared,
    outcome: Result<Headers, RpcError>,
) -> Poll<Option<Result<Resp, RpcError>>> {
    let failed = outcome.is_err();
    let won = shared.finish(outcome);
    // Dropped after the outcome is recorded: an interceptor's status hook watching the
    // responses sees it (a deadline, a cancellation) rather than a bare CANCELLED.
    *phase = Phase::Done;
    *active = None;
    if !failed && won {
        return Poll::Ready(None);
    }
    match shared.error_now() {
        Some(e) => Poll::Ready(Some(Err(e))),
        None => Poll::Ready(None),
    }
}
