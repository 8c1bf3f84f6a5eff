//! `ChannelzServicer`: the seven channelz methods over the engine's registry.

use crate::convert;
use crate::pb::*;
use rpc_aio::channelz;
use rpc_core::{RpcError, ServicerContext};

/// Serves `grpc.channelz.v1.Channelz` from the process's registry. It holds no state: every
/// answer is a fresh snapshot.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChannelzServicer {
    _private: (),
}

impl ChannelzServicer {
    /// A servicer.
    pub fn new() -> ChannelzServicer {
        ChannelzServicer { _private: () }
    }
}

/// A page size from a request: 0 lets the registry choose; a negative one is refused.
fn max_results(max: i64) -> Result<usize, RpcError> {
    usize::try_from(max).map_err(|_| RpcError::invalid_argument(format!("max_results must not be negative, got {max}")))
}

fn not_found(what: &str, id: i64) -> RpcError {
    RpcError::not_found(format!("no {what} with id {id}"))
}

impl AsyncChannelzServicer for ChannelzServicer {
    async fn get_top_channels(
        &self,
        request: GetTopChannelsRequest,
        _context: &ServicerContext,
    ) -> Result<GetTopChannelsResponse, RpcError> {
        let page = channelz::top_channels(request.start_channel_id, max_results(request.max_results)?);
        Ok(GetTopChannelsResponse {
            channel: page.items.iter().map(convert::channel).collect(),
            end: page.end,
        })
    }

    async fn get_servers(&self, request: GetServersRequest, _context: &ServicerContext) -> Result<GetServersResponse, RpcError> {
        let page = channelz::servers(request.start_server_id, max_results(request.max_results)?);
        Ok(GetServersResponse {
            server: page.items.iter().map(convert::server).collect(),
            end: page.end,
        })
    }

    async fn get_server(&self, request: GetServerRequest, _context: &ServicerContext) -> Result<GetServerResponse, RpcError> {
        let server = channelz::server(request.server_id).ok_or_else(|| not_found("server", request.server_id))?;
        Ok(GetServerResponse {
            server: Some(convert::server(&server)),
        })
    }

    async fn get_server_sockets(
        &self,
        request: GetServerSocketsRequest,
        _context: &ServicerContext,
    ) -> Result<GetServerSocketsResponse, RpcError> {
        let max = max_results(request.max_results)?;
        let page = channelz::server_sockets(request.server_id, request.start_socket_id, max)
            .ok_or_else(|| not_found("server", request.server_id))?;
        Ok(GetServerSocketsResponse {
            socket_ref: page.items.iter().map(convert::socket_ref).collect(),
            end: page.end,
        })
    }

    async fn get_channel(&self, request: GetChannelRequest, _context: &ServicerContext) -> Result<GetChannelResponse, RpcError> {
        let channel = channelz::channel(request.channel_id).ok_or_else(|| not_found("channel", request.channel_id))?;
        Ok(GetChannelResponse {
            channel: Some(convert::channel(&channel)),
        })
    }

    async fn get_subchannel(&self, request: GetSubchannelRequest, _context: &ServicerContext) -> Result<GetSubchannelResponse, RpcError> {
        let sub = channelz::subchannel(request.subchannel_id).ok_or_else(|| not_found("subchannel", request.subchannel_id))?;
        Ok(GetSubchannelResponse {
            subchannel: Some(convert::subchannel(&sub)),
        })
    }

    async fn get_socket(&self, request: GetSocketRequest, _context: &ServicerContext) -> Result<GetSocketResponse, RpcError> {
        let socket = channelz::socket(request.socket_id).ok_or_else(|| not_found("socket", request.socket_id))?;
        Ok(GetSocketResponse {
            socket: Some(convert::socket(&socket)),
        })
    }
}
