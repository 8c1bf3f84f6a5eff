//! The writing side of a request-streaming call made with `WriteRequests`: a bounded
//! channel to the request body ([`Writer`]), and [`RequestSender`], the half split off a
//! call so one task writes while another reads.

use super::shared::CallShared;
use crate::client::body::Item;
use rpc_core::{OutgoingMessage, RpcError, WriteOptions};
use std::fmt;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many written requests may wait for the connection to take them.
pub(crate) const WRITE_BUFFER: usize = 1;

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

    pub(crate) async fn write(&mut self, shared: &CallShared, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        if self.has_source {
            return Err(RpcError::failed_precondition(
                "write() is only for calls made with WriteRequests; this call has a request source",
            ));
        }
        let Some(tx) = &self.tx else {
            return Err(RpcError::failed_precondition("write() after done_writing()"));
        };
        let item = Item::Message(OutgoingMessage { message: request, options });
        if tx.send(item).await.is_err() {
            return Err(match shared.end().await {
                Err(e) => e,
                Ok(_) => RpcError::failed_precondition("write() after the call finished"),
            });
        }
        Ok(())
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
}

impl<Req> fmt::Debug for RequestSender<Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSender").field("open", &self.writer.tx.is_some()).finish()
    }
}

impl<Req: Send + 'static> RequestSender<Req> {
    pub(crate) fn new(writer: Writer<Req>, shared: Arc<CallShared>) -> RequestSender<Req> {
        RequestSender { writer, shared }
    }

    /// Sends one request.
    ///
    /// # Errors
    /// The call's error if it has ended; FAILED_PRECONDITION after `done_writing`.
    ///
    /// # Cancel safety
    /// Not cancel safe: if the future is dropped before it completes, the request may or
    /// may not have been queued.
    pub async fn write(&mut self, request: Req) -> Result<(), RpcError> {
        self.writer.write(&self.shared, request, WriteOptions::new()).await
    }

    /// Sends one request with per-message options.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    ///
    /// # Cancel safety
    /// As [`write`](Self::write).
    pub async fn write_with(&mut self, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        self.writer.write(&self.shared, request, options).await
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
