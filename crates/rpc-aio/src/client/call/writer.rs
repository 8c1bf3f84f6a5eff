//! The writing side of a request-streaming call made with `WriteRequests`: a bounded
//! channel to the request body ([`Writer`]), and [`RequestSender`], the half split off a
//! call so one task writes while another reads.

use super::drive::Drive;
use super::shared::CallShared;
use crate::client::body::Item;
use rpc_core::{OutgoingMessage, RpcError, WriteOptions};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use tokio::sync::mpsc;

/// How many written requests may wait for the connection to take them.
pub(crate) const WRITE_BUFFER: usize = 1;

/// How many responses a blocked write reads ahead for the call's reader before it stops
/// reading (and waits for the reader).
const READ_AHEAD: usize = 64;

/// A timer for the call's deadline, on the call's runtime.
fn deadline_timer(shared: &CallShared, runtime: &tokio::runtime::Handle) -> Option<Pin<Box<tokio::time::Sleep>>> {
    let deadline = shared.deadline()?;
    let _entered = tokio::runtime::Handle::try_current().is_err().then(|| runtime.enter());
    Some(Box::pin(tokio::time::sleep_until(deadline.into())))
}

/// The error of a write to a call that has ended (or whose request stream the server
/// closed): the call's status. A call object's writer reads the call to its end (keeping
/// the responses for its reader); a split writer waits for the end, which its reader (or
/// the deadline) brings.
async fn ended<Resp: Send + 'static>(shared: &CallShared, runtime: &tokio::runtime::Handle, drive: Option<&mut Drive<Resp>>) -> RpcError {
    match drive {
        Some(drive) => {
            std::future::poll_fn(|cx| {
                let _entered = tokio::runtime::Handle::try_current().is_err().then(|| runtime.enter());
                drive.poll_ahead(cx, usize::MAX)
            })
            .await;
        }
        None => {
            let timer = deadline_timer(shared, runtime);
            tokio::select! {
                _ = shared.end() => {}
                _ = async { match timer { Some(t) => t.await, None => std::future::pending().await } } => {
                    shared.fail(RpcError::deadline_exceeded("deadline exceeded"));
                }
            }
        }
    }
    match shared.end_now() {
        Some(Err(e)) => e,
        _ => RpcError::failed_precondition("write() after the call finished"),
    }
}

/// Feeds the request body of a call.
pub(crate) struct Writer<Req> {
    tx: Option<mpsc::Sender<Item<Req>>>,
    /// The call has a request source (an iterator or stream): writing is an error.
    has_source: bool,
}

impl<Req: Send + 'static> Writer<Req> {
    /// A writer and the receiver the request body reads.
    pub(crate) fn channel() -> (Writer<Req>, mpsc::Receiver<Item<Req>>) {
        let (tx, rx) = mpsc::channel(WRITE_BUFFER);
        (
            Writer {
                tx: Some(tx),
                has_source: false,
            },
            rx,
        )
    }

    /// The writer of a call whose requests come from a source.
    pub(crate) fn with_source() -> Writer<Req> {
        Writer {
            tx: None,
            has_source: true,
        }
    }

    /// Sends one request. While the request waits for room, the call goes on: `drive` (the
    /// call object's, when it writes) reads responses ahead for its reader, so that the
    /// call's end is seen; the deadline fails the write. When the call has ended (the
    /// server answered, the deadline passed, the connection died) the write fails with the
    /// call's status: the writer of a call object reads up to its end to learn it, a split
    /// [`RequestSender`] waits for its reader (or the deadline).
    pub(crate) async fn write<Resp: Send + 'static>(
        &mut self,
        shared: &CallShared,
        runtime: &tokio::runtime::Handle,
        mut drive: Option<&mut Drive<Resp>>,
        request: Req,
        options: WriteOptions,
    ) -> Result<(), RpcError> {
        if self.has_source {
            return Err(RpcError::failed_precondition(
                "write() is only for calls made with WriteRequests; this call has a request source",
            ));
        }
        let Some(tx) = &self.tx else {
            return Err(RpcError::failed_precondition("write() after done_writing()"));
        };
        let item = Item::Message(OutgoingMessage { message: request, options });
        // Room now: the common case, with no timer and no polling of the call.
        let item = match tx.try_send(item) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(ended(shared, runtime, drive).await),
            Err(mpsc::error::TrySendError::Full(item)) => item,
        };
        let mut timer = deadline_timer(shared, runtime);
        let send = tx.send(item);
        let mut send = std::pin::pin!(send);
        let sent = std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = send.as_mut().poll(cx) {
                return Poll::Ready(r.is_ok());
            }
            let _entered = tokio::runtime::Handle::try_current().is_err().then(|| runtime.enter());
            if let Some(drive) = drive.as_deref_mut()
                && drive.poll_ahead(cx, READ_AHEAD).is_ready()
                && shared.is_done()
            {
                return Poll::Ready(false);
            }
            if let Some(t) = timer.as_mut()
                && t.as_mut().poll(cx).is_ready()
            {
                shared.fail(RpcError::deadline_exceeded("deadline exceeded"));
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await;
        if sent { Ok(()) } else { Err(ended(shared, runtime, drive).await) }
    }

    pub(crate) async fn done_writing(&mut self) -> Result<(), RpcError> {
        if self.has_source {
            return Err(RpcError::failed_precondition(
                "done_writing() is only for calls made with WriteRequests; this call has a request source",
            ));
        }
        if let Some(tx) = self.tx.take() {
            // The end marker tells the body to half-close (a writer that goes away without
            // it resets the stream instead). The call may have ended: nothing to tell then.
            let _ = tx.send(Item::End).await;
        }
        Ok(())
    }
}

/// The writing half of a request-streaming call, split off with `Call::split`: write
/// from one task while another reads the call's responses.
///
/// # Drop behavior
/// Dropping it without [`done_writing`](Self::done_writing) cancels the call (the
/// server sees the RPC cancelled, not a finished request stream).
pub struct RequestSender<Req> {
    writer: Writer<Req>,
    shared: Arc<CallShared>,
    runtime: tokio::runtime::Handle,
}

impl<Req> fmt::Debug for RequestSender<Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSender").field("open", &self.writer.tx.is_some()).finish()
    }
}

impl<Req: Send + 'static> RequestSender<Req> {
    pub(crate) fn new(writer: Writer<Req>, shared: Arc<CallShared>, runtime: tokio::runtime::Handle) -> RequestSender<Req> {
        RequestSender { writer, shared, runtime }
    }

    /// Sends one request.
    ///
    /// # Errors
    /// The call's status once it has ended (the status its reader receives; the write waits
    /// for it, or for the deadline); FAILED_PRECONDITION after `done_writing`.
    ///
    /// # Cancel safety
    /// Not cancel safe: if the future is dropped before it completes, the request may or
    /// may not have been queued.
    pub async fn write(&mut self, request: Req) -> Result<(), RpcError> {
        self.writer
            .write::<()>(&self.shared, &self.runtime, None, request, WriteOptions::new())
            .await
    }

    /// Sends one request with per-message options.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    ///
    /// # Cancel safety
    /// As [`write`](Self::write).
    pub async fn write_with(&mut self, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        self.writer.write::<()>(&self.shared, &self.runtime, None, request, options).await
    }

    /// Says no more requests will be written.
    ///
    /// # Errors
    /// FAILED_PRECONDITION if the call has a request source.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn done_writing(&mut self) -> Result<(), RpcError> {
        self.writer.done_writing().await
    }
}
