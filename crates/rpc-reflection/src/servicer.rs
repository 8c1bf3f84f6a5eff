//! `ReflectionServicer`: answers the requests of each ServerReflectionInfo stream, in order,
//! from a [`DescriptorIndex`] of the services it describes (v1; v1alpha is converted to v1).

use crate::index::DescriptorIndex;
use crate::pb::v1::server_reflection_request::MessageRequest;
use crate::pb::v1::server_reflection_response::MessageResponse;
use crate::pb::v1::{
    ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse, ServerReflectionRequest, ServerReflectionResponse,
    ServiceResponse,
};
use crate::pb::{v1, v1alpha};
use futures::StreamExt;
use prost::Message;
use rpc_core::codegen::ServiceDescriptor;
use rpc_core::{RequestStream, ResponseStream, RpcError, ServicerContext, StatusCode};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// A server whose registered services can be listed: both faces' servers.
pub trait ServiceRegistry: rpc_core::codegen::Server {
    /// The services registered on the server through generated code so far.
    fn registered_services(&self) -> Vec<&'static ServiceDescriptor>;
}

impl ServiceRegistry for rpc_aio::Server {
    fn registered_services(&self) -> Vec<&'static ServiceDescriptor> {
        self.services()
    }
}

impl ServiceRegistry for rpc_sync::Server {
    fn registered_services(&self) -> Vec<&'static ServiceDescriptor> {
        self.as_aio().services()
    }
}

/// The reflection service itself, both versions: it always describes itself.
const OWN_SERVICES: [&ServiceDescriptor; 2] = [&v1::SERVER_REFLECTION_SERVICE, &v1alpha::SERVER_REFLECTION_SERVICE];

/// The server reflection service, `grpc.reflection.v1.ServerReflection` and
/// `grpc.reflection.v1alpha.ServerReflection` in one servicer (register it with
/// [`add_reflection_servicer_to_server`](crate::add_reflection_servicer_to_server)).
///
/// It describes a fixed set of services, decoded once when it is made: the ones given to
/// [`new`](Self::new), or those registered on a server when
/// [`from_server`](Self::from_server) is called, plus the reflection service itself.
/// Cloning is cheap (the index is shared).
///
/// Each stream answers every request with one response, in order: `list_services`;
/// `file_by_filename`, `file_containing_symbol` and `file_containing_extension` with the
/// file's encoded `FileDescriptorProto` followed by those of its transitive dependencies not
/// yet sent on the stream; `all_extension_numbers_of_type`. What is not known is answered
/// with an `error_response` of NOT_FOUND, and the stream goes on.
#[derive(Clone)]
pub struct ReflectionServicer {
    index: Arc<DescriptorIndex>,
}

impl ReflectionServicer {
    /// A servicer that describes `services` (and itself).
    pub fn new(services: impl IntoIterator<Item = &'static ServiceDescriptor>) -> ReflectionServicer {
        let services: Vec<&'static ServiceDescriptor> = services.into_iter().chain(OWN_SERVICES).collect();
        ReflectionServicer {
            index: Arc::new(DescriptorIndex::new(services)),
        }
    }

    /// A servicer that describes the services registered on `server` now (and itself):
    /// call it after registering the other services. Works with an `rpc_aio::Server` and
    /// an `rpc_sync::Server`.
    pub fn from_server(server: &impl ServiceRegistry) -> ReflectionServicer {
        ReflectionServicer::new(server.registered_services())
    }

    /// The full names of the services described, sorted.
    pub fn service_names(&self) -> Vec<String> {
        self.index.services().map(str::to_owned).collect()
    }

    /// Answers one request; `sent` holds the files already sent on this stream.
    fn answer(&self, request: ServerReflectionRequest, sent: &mut HashSet<String>) -> ServerReflectionResponse {
        let index = &self.index;
        let files = |name: Option<&str>, what: String, sent: &mut HashSet<String>| match name
            .and_then(|name| index.file_with_dependencies(name, sent))
        {
            Some(file_descriptor_proto) => MessageResponse::FileDescriptorResponse(FileDescriptorResponse { file_descriptor_proto }),
            None => error(StatusCode::NotFound, format!("{what} not found")),
        };
        let response = match &request.message_request {
            None => error(
                StatusCode::InvalidArgument,
                "the request asks nothing (message_request is not set)".to_owned(),
            ),
            Some(MessageRequest::ListServices(_)) => MessageResponse::ListServicesResponse(ListServiceResponse {
                service: index.services().map(|name| ServiceResponse { name: name.to_owned() }).collect(),
            }),
            Some(MessageRequest::FileByFilename(name)) => files(Some(name), format!("file {name:?}"), sent),
            Some(MessageRequest::FileContainingSymbol(symbol)) => {
                files(index.file_containing_symbol(symbol), format!("symbol {symbol:?}"), sent)
            }
            Some(MessageRequest::FileContainingExtension(ext)) => files(
                index.file_containing_extension(&ext.containing_type, ext.extension_number),
                format!("extension {} of {:?}", ext.extension_number, ext.containing_type),
                sent,
            ),
            Some(MessageRequest::AllExtensionNumbersOfType(name)) => match index.extension_numbers(name) {
                Some(extension_number) => MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                    base_type_name: name.trim_start_matches('.').to_owned(),
                    extension_number,
                }),
                None => error(StatusCode::NotFound, format!("message type {name:?} not found")),
            },
        };
        ServerReflectionResponse {
            valid_host: request.host.clone(),
            original_request: Some(request),
            message_response: Some(response),
        }
    }

    /// The response stream of one ServerReflectionInfo call, in the v1 messages.
    fn answer_stream<Req, Resp>(&self, requests: RequestStream<Req>) -> ResponseStream<Resp>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        let servicer = self.clone();
        let mut sent = HashSet::new();
        ResponseStream::new(requests.map(move |request| {
            let request = request?;
            Ok(convert(&servicer.answer(convert(&request), &mut sent)))
        }))
    }
}

fn error(code: StatusCode, error_message: String) -> MessageResponse {
    MessageResponse::ErrorResponse(ErrorResponse {
        error_code: code.value(),
        error_message,
    })
}

/// Re-types a message between the two versions, whose messages are the same on the wire.
fn convert<A: Message, B: Message + Default>(message: &A) -> B {
    // Identical schemas: decoding what was just encoded cannot fail.
    B::decode(message.encode_to_vec().as_slice()).unwrap_or_default()
}

impl fmt::Debug for ReflectionServicer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReflectionServicer")
            .field("services", &self.service_names())
            .finish()
    }
}

impl v1::AsyncServerReflectionServicer for ReflectionServicer {
    async fn server_reflection_info(
        &self,
        requests: RequestStream<v1::ServerReflectionRequest>,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<v1::ServerReflectionResponse>, RpcError> {
        Ok(self.answer_stream(requests))
    }
}

impl v1alpha::AsyncServerReflectionServicer for ReflectionServicer {
    async fn server_reflection_info(
        &self,
        requests: RequestStream<v1alpha::ServerReflectionRequest>,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<v1alpha::ServerReflectionResponse>, RpcError> {
        Ok(self.answer_stream(requests))
    }
}
