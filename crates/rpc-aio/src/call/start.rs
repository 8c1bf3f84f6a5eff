//! Starting each kind of call on a channel (used by multi-callables and generated stubs).

use super::driver::{Body, prepare_unary, start};
use super::streaming::Writer;
use super::{StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall};
use crate::channel::Channel;
use rpc_core::{Request, RequestSource};
use tokio::sync::mpsc;

/// How many responses a streaming call buffers ahead of the reader.
const STREAM_BUFFER: usize = 8;

fn split_source<Req>(source: RequestSource<Req>) -> (Body<Req>, Writer<Req>) {
    match source {
        RequestSource::Writer => {
            let (tx, rx) = mpsc::channel(1);
            (
                Body::Source(RequestSource::Writer, Some(rx)),
                Writer {
                    tx: Some(tx),
                    has_source: false,
                },
            )
        }
        other => (
            Body::Source(other, None),
            Writer {
                tx: None,
                has_source: true,
            },
        ),
    }
}

impl Channel {
    pub(crate) fn start_unary_unary<Req, Resp>(&self, path: &str, request: Request<Req>) -> UnaryCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (message, options) = request.into_parts();
        let inner = self.inner();
        let (shared, run) = prepare_unary(inner, &self.interceptors, path, options, message);
        UnaryCall::new(shared, run, inner.runtime.clone())
    }

    pub(crate) fn start_unary_stream<Req, Resp>(&self, path: &str, request: Request<Req>) -> UnaryStreamCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (message, options) = request.into_parts();
        UnaryStreamCall {
            core: start(self.inner(), &self.interceptors, path, options, Body::Unary(message), STREAM_BUFFER),
        }
    }

    pub(crate) fn start_stream_unary<Req, Resp>(&self, path: &str, request: Request<RequestSource<Req>>) -> StreamUnaryCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (source, options) = request.into_parts();
        let (body, writer) = split_source(source);
        StreamUnaryCall {
            core: start(self.inner(), &self.interceptors, path, options, body, 1),
            writer,
            response: None,
        }
    }

    pub(crate) fn start_stream_stream<Req, Resp>(&self, path: &str, request: Request<RequestSource<Req>>) -> StreamStreamCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (source, options) = request.into_parts();
        let (body, writer) = split_source(source);
        StreamStreamCall {
            core: start(self.inner(), &self.interceptors, path, options, body, STREAM_BUFFER),
            writer,
        }
    }
}
