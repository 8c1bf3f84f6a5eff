//! Serving a service described at run time: [`DynamicService`] takes a service of a
//! descriptor pool and one behaviour per method over `DynamicMessage`s (or their JSON),
//! and registers them on an rpc-aio or rpc-sync server, where reflection describes it as
//! it describes generated services.

use crate::codec::DynamicCodec;
use crate::error::Error;
use crate::symbol::{Method, MethodKind};
use prost::Message;
use prost_reflect::{DescriptorPool, FileDescriptor, ServiceDescriptor};
use rpc_aio::RpcMethodHandler;
use rpc_core::codec::{Decoder, Encoder};
use rpc_core::codegen::{self, MethodHandler};
use rpc_core::{RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServicerContext};
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

/// A server a [`DynamicService`] can be registered on: `rpc_aio::Server` and
/// `rpc_sync::Server`.
pub trait HandlerRegistry: codegen::Server {
    /// Registers `handler` at `path` (the server's `add_method_handler`).
    fn register_handler(&self, path: &str, handler: RpcMethodHandler);
}

impl HandlerRegistry for rpc_aio::Server {
    fn register_handler(&self, path: &str, handler: RpcMethodHandler) {
        self.add_method_handler(path, handler);
    }
}

impl HandlerRegistry for rpc_sync::Server {
    fn register_handler(&self, path: &str, handler: RpcMethodHandler) {
        self.add_method_handler(path, handler);
    }
}

/// A service of a descriptor pool served with behaviours over dynamic messages: no
/// generated code. Methods given no behaviour answer UNIMPLEMENTED, as an unknown method
/// does.
///
/// Behaviours are made with [`unary_unary`], [`unary_stream`], [`stream_unary`],
/// [`stream_stream`] (async) or their namesakes in [`blocking`](crate::blocking) (run on
/// the server's worker pool); either kind works on either server. Their message types
/// are `DynamicMessage` or `String` (proto3 JSON), for requests and responses separately.
/// They run as the servers run any handler of their kind: an async behaviour's future on
/// the runtime, dropped when its RPC is cancelled or its deadline passes; a blocking one
/// on a worker, with `context.is_active()` turning false then.
///
/// Registered with [`add_to_server`](Self::add_to_server), the service is listed by the
/// server's `services()`, so reflection enabled afterwards describes it (its file and
/// every file it imports).
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = rpc_dynamic::load_protos(&["helloworld.proto"], &["proto"])?;
/// let service = rpc_dynamic::DynamicService::new(&pool, "helloworld.Greeter")?.method(
///     "SayHello",
///     rpc_dynamic::unary_unary(|request: String, _context| async move {
///         // `request` is `{"name": "..."}`; answer in JSON too.
///         let name: serde_json::Value = serde_json::from_str(&request).unwrap_or_default();
///         Ok(serde_json::json!({ "message": format!("Hello {}", name["name"].as_str().unwrap_or("")) }).to_string())
///     }),
/// )?;
/// let server = rpc_aio::server(rpc_core::ServerOptions::default());
/// service.add_to_server(&server);
/// rpc_reflection::enable_server_reflection(&server);
/// server.add_insecure_port("127.0.0.1:50051")?;
/// server.start().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DynamicService {
    service: ServiceDescriptor,
    handlers: Vec<(String, RpcMethodHandler)>,
    /// What the servers' registries (and so reflection) learn: made once, kept for the
    /// life of the process (the registries hold `'static` descriptors).
    described: Arc<OnceLock<&'static codegen::ServiceDescriptor>>,
}

impl fmt::Debug for DynamicService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicService")
            .field("service", &self.service.full_name())
            .field("methods", &self.handlers.iter().map(|(path, _)| path).collect::<Vec<_>>())
            .finish()
    }
}

impl DynamicService {
    /// The service `name` (`package.Service`) of `pool`, with no behaviours yet.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the pool has no such service.
    pub fn new(pool: &DescriptorPool, name: &str) -> Result<DynamicService, Error> {
        let service = pool
            .get_service_by_name(name.trim_start_matches('.'))
            .ok_or_else(|| Error::not_found(format!("service {name:?} not found")))?;
        Ok(DynamicService {
            service,
            handlers: Vec::new(),
            described: Arc::new(OnceLock::new()),
        })
    }

    /// The service's descriptor.
    pub fn descriptor(&self) -> &ServiceDescriptor {
        &self.service
    }

    /// Serves the method `name` (as in the proto, `SayHello`) with `behaviour`. Giving a
    /// method a behaviour again replaces the first.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a method the service lacks;
    /// [`ErrorKind::WrongKind`](crate::ErrorKind::WrongKind) for a behaviour of another
    /// kind than the method (a unary behaviour for a streaming method).
    pub fn method<Req, Resp>(mut self, name: &str, behaviour: MethodHandler<Req, Resp>) -> Result<DynamicService, Error>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        DynamicCodec: Decoder<Req> + Encoder<Resp>,
    {
        let method = self.service.methods().find(|m| m.name() == name).map(Method::new).ok_or_else(|| {
            Error::not_found(format!(
                "service {:?} does not include a method named {name:?}",
                self.service.full_name()
            ))
        })?;
        if codegen_kind(method.kind()) != behaviour.kind() {
            return Err(Error::wrong_kind(format!(
                "method {:?} is a {} method; the behaviour given is {:?}",
                method.full_name(),
                method.kind(),
                behaviour.kind()
            )));
        }
        let handler = RpcMethodHandler::with_codec(behaviour, DynamicCodec::for_server(&method));
        let path = method.path();
        self.handlers.retain(|(p, _)| *p != path);
        self.handlers.push((path, handler));
        Ok(self)
    }

    /// Registers the behaviours on `server` (either face's) and records the service as
    /// served, for health and reflection. Registering a path again replaces its handler.
    pub fn add_to_server(&self, server: &impl HandlerRegistry) {
        for (path, handler) in &self.handlers {
            server.register_handler(path, handler.clone());
        }
        server.add_service_descriptor(self.described.get_or_init(|| describe(&self.service)));
    }
}

fn codegen_kind(kind: MethodKind) -> codegen::MethodKind {
    match kind {
        MethodKind::Unary => codegen::MethodKind::UnaryUnary,
        MethodKind::ServerStreaming => codegen::MethodKind::UnaryStream,
        MethodKind::ClientStreaming => codegen::MethodKind::StreamUnary,
        MethodKind::BidiStreaming => codegen::MethodKind::StreamStream,
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The service as generated code describes one, with the file that defines it and every
/// file that file imports, transitively (what reflection serves). Leaked: once per
/// `DynamicService` (and its clones).
fn describe(service: &ServiceDescriptor) -> &'static codegen::ServiceDescriptor {
    let name = leak(service.full_name().to_owned());
    let methods: Vec<&'static codegen::MethodDescriptor> = service
        .methods()
        .map(|m| {
            let method = Method::new(m.clone());
            &*Box::leak(Box::new(codegen::MethodDescriptor {
                service: name,
                name: leak(m.name().to_owned()),
                path: leak(method.path()),
                kind: codegen_kind(method.kind()),
            }))
        })
        .collect();
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    collect_files(service.parent_file(), &mut seen, &mut files);
    let set = prost_types::FileDescriptorSet { file: files }.encode_to_vec();
    Box::leak(Box::new(codegen::ServiceDescriptor {
        name,
        methods: Box::leak(methods.into_boxed_slice()),
        file_descriptor_set: Box::leak(set.into_boxed_slice()),
    }))
}

/// `file` after its imports, each file once (no recursion: import chains can be long).
fn collect_files(file: FileDescriptor, seen: &mut HashSet<String>, out: &mut Vec<prost_types::FileDescriptorProto>) {
    let mut stack = vec![(file, false)];
    while let Some((file, imports_done)) = stack.pop() {
        if imports_done {
            out.push(file.file_descriptor_proto().clone());
            continue;
        }
        if !seen.insert(file.name().to_owned()) {
            continue;
        }
        stack.push((file.clone(), true));
        stack.extend(file.dependencies().filter(|d| !seen.contains(d.name())).map(|d| (d, false)));
    }
}

/// An async unary behaviour for [`DynamicService::method`].
pub fn unary_unary<Req, Resp, F, Fut>(behaviour: F) -> MethodHandler<Req, Resp>
where
    F: Fn(Req, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, RpcError>> + Send + 'static,
{
    MethodHandler::AsyncUnaryUnary(Arc::new(move |r, c| Box::pin(behaviour(r, c))))
}

/// An async server-streaming behaviour for [`DynamicService::method`].
pub fn unary_stream<Req, Resp, F, Fut>(behaviour: F) -> MethodHandler<Req, Resp>
where
    F: Fn(Req, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, RpcError>> + Send + 'static,
{
    MethodHandler::AsyncUnaryStream(Arc::new(move |r, c| Box::pin(behaviour(r, c))))
}

/// An async client-streaming behaviour for [`DynamicService::method`].
pub fn stream_unary<Req, Resp, F, Fut>(behaviour: F) -> MethodHandler<Req, Resp>
where
    F: Fn(RequestStream<Req>, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, RpcError>> + Send + 'static,
{
    MethodHandler::AsyncStreamUnary(Arc::new(move |r, c| Box::pin(behaviour(r, c))))
}

/// An async bidi-streaming behaviour for [`DynamicService::method`].
pub fn stream_stream<Req, Resp, F, Fut>(behaviour: F) -> MethodHandler<Req, Resp>
where
    F: Fn(RequestStream<Req>, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, RpcError>> + Send + 'static,
{
    MethodHandler::AsyncStreamStream(Arc::new(move |r, c| Box::pin(behaviour(r, c))))
}

/// Blocking behaviours for [`DynamicService::method`], run on the server's worker pool.
pub(crate) mod blocking {
    use super::*;

    /// A blocking unary behaviour.
    pub fn unary_unary<Req, Resp, F>(behaviour: F) -> MethodHandler<Req, Resp>
    where
        F: Fn(Req, &ServicerContext) -> Result<Resp, RpcError> + Send + Sync + 'static,
    {
        MethodHandler::BlockingUnaryUnary(Arc::new(behaviour))
    }

    /// A blocking server-streaming behaviour.
    pub fn unary_stream<Req, Resp, F>(behaviour: F) -> MethodHandler<Req, Resp>
    where
        F: Fn(Req, &ServicerContext) -> Result<ResponseIterator<Resp>, RpcError> + Send + Sync + 'static,
    {
        MethodHandler::BlockingUnaryStream(Arc::new(behaviour))
    }

    /// A blocking client-streaming behaviour.
    pub fn stream_unary<Req, Resp, F>(behaviour: F) -> MethodHandler<Req, Resp>
    where
        F: Fn(RequestIterator<Req>, &ServicerContext) -> Result<Resp, RpcError> + Send + Sync + 'static,
    {
        MethodHandler::BlockingStreamUnary(Arc::new(behaviour))
    }

    /// A blocking bidi-streaming behaviour.
    pub fn stream_stream<Req, Resp, F>(behaviour: F) -> MethodHandler<Req, Resp>
    where
        F: Fn(RequestIterator<Req>, &ServicerContext) -> Result<ResponseIterator<Resp>, RpcError> + Send + Sync + 'static,
    {
        MethodHandler::BlockingStreamStream(Arc::new(behaviour))
    }
}
