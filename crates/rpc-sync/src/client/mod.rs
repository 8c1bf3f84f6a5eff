//! The blocking client: channels, multi-callables, call objects, interceptors; each file
//! mirrors its namesake in rpc-aio's `src/client/` and holds what it holds.

pub(crate) mod call;
mod channel;
mod connectivity;
mod interceptor;
mod multicallable;

/// Load-balancing policies: rpc-aio's, unchanged (policies run on the channel's runtime,
/// never on the caller's thread, so the one trait serves both faces).
pub use rpc_aio::lb;
/// Name resolution: rpc-aio's, unchanged ([`resolver::ManualResolver`] is updated from any
/// thread; a custom resolver is a `Stream` the private runtime polls).
pub use rpc_aio::resolver;

pub use call::{Call, CallOutcome, RequestSender, StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall, kind};
pub use channel::{Channel, ChannelBuilder, insecure_channel, intercept_channel, secure_channel};
pub use connectivity::{ChannelReadyFuture, SubscriptionId, channel_ready_future};
pub use interceptor::{AnyMessage, ClientCallDetails, ClientInterceptor, Next, Responses};
pub use multicallable::{
    MultiCallable, StreamStreamMultiCallable, StreamUnaryMultiCallable, UnaryStreamMultiCallable, UnaryUnaryMultiCallable,
};
