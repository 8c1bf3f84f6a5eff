//! `UnaryStreamCall` and `StreamStreamCall`: response iterators that are also Calls
//! (gRPC Python's response iterator of a streaming call).

use super::unary::call_accessors;
use crate::runtime::RuntimeHandle;
use futures::StreamExt;
use rpc_core::RpcError;
use std::fmt;
use std::iter::FusedIterator;

macro_rules! response_iterator {
    ($name:ident < $($param:ident),* >, $aio:ty) => {
        impl<$($param),*> fmt::Debug for $name<$($param),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("done", &self.call.done()).finish()
            }
        }

        impl<$($param),*> $name<$($param),*> {
            pub(crate) fn new(call: $aio, runtime: &RuntimeHandle) -> Self {
                $name {
                    call,
                    finished: false,
                    runtime: runtime.clone(),
                }
            }

            call_accessors!();
        }

        impl<$($param),*> Iterator for $name<$($param),*> {
            type Item = Result<Resp, RpcError>;

            /// The next response; blocks until it arrives. At the end, the call's error (once)
            /// or `None`. On a thread inside an async runtime: FAILED_PRECONDITION once, and
            /// the call is cancelled.
            fn next(&mut self) -> Option<Self::Item> {
                if self.finished {
                    return None;
                }
                match self.runtime.wait(self.call.next()) {
                    Ok(Some(item)) => Some(item),
                    Ok(None) => {
                        self.finished = true;
                        None
                    }
                    Err(e) => {
                        self.finished = true;
                        self.call.cancel();
                        Some(Err(e))
                    }
                }
            }
        }

        impl<$($param),*> FusedIterator for $name<$($param),*> {}
    };
}

/// A unary-stream call: an `Iterator` of responses that is also a Call (accessors,
/// [`cancel`](Self::cancel)).
///
/// # Drop behavior
/// Dropping it before the end cancels the call (the server sees the RPC cancelled).
#[must_use = "a call is cancelled when dropped; iterate over its responses"]
pub struct UnaryStreamCall<Resp> {
    call: rpc_aio::UnaryStreamCall<Resp>,
    finished: bool,
    runtime: RuntimeHandle,
}

response_iterator!(UnaryStreamCall<Resp>, rpc_aio::UnaryStreamCall<Resp>);

/// A stream-stream call: an `Iterator` of responses that is also a Call; its requests are
/// pumped from the runtime, so reading and sending overlap.
///
/// # Drop behavior
/// Dropping it before the end cancels the call (the server sees the RPC cancelled) and stops
/// pulling requests.
#[must_use = "a call is cancelled when dropped; iterate over its responses"]
pub struct StreamStreamCall<Req, Resp> {
    call: rpc_aio::StreamStreamCall<Req, Resp>,
    finished: bool,
    runtime: RuntimeHandle,
}

response_iterator!(StreamStreamCall<Req, Resp>, rpc_aio::StreamStreamCall<Req, Resp>);
