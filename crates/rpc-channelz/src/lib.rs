//! The gRPC channelz service (`grpc.channelz.v1.Channelz`, gRFC A14) for both faces of rpc,
//! like gRPC Python's `grpc_channelz.v1.channelz`.
//!
//! [`ChannelzServicer`] answers from the engine's registry (`rpc_aio::channelz`, which the
//! blocking face shares): every channel, subchannel, server and socket of the process. It is
//! an async servicer, so it runs on an rpc-aio server and, unchanged, on an rpc-sync server:
//! register it with [`add_channelz_servicer_to_server`]. Clients use [`ChannelzStub`] with
//! either face's channel, or any channelz client (grpcdebug, gRPC Python's stubs, `rpc call`
//! through reflection).
//!
//! ```no_run
//! # async fn demo() -> Result<(), rpc_core::RpcError> {
//! use rpc_channelz::{ChannelzServicer, add_channelz_servicer_to_server};
//! let server = rpc_aio::server(rpc_core::ServerOptions::default());
//! add_channelz_servicer_to_server(ChannelzServicer::new(), &server);
//! server.add_insecure_port("127.0.0.1:50051")?;
//! server.start().await?;
//! # Ok(()) }
//! ```
//!
//! What is counted and what is not yet (messages, keepalives, flow-control windows, socket
//! security) is listed in `rpc_aio::channelz`'s documentation and in docs/channelz.md.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]

mod convert;
mod servicer;

/// The generated `grpc.channelz.v1` code: messages, [`ChannelzStub`], servicer traits.
#[allow(missing_docs, missing_debug_implementations)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/grpc.channelz.v1.rs"));
}

pub use pb::{
    AsyncChannelzServicer, CHANNELZ_SERVICE, CHANNELZ_SERVICE_NAME, ChannelzServicer as BlockingChannelzServicer, ChannelzStub,
    add_channelz_servicer_to_server,
};
pub use servicer::ChannelzServicer;
