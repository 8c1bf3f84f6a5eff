//! The `prost_build::ServiceGenerator` that writes, for each service, the method and
//! service descriptors, the stub, the blocking and async servicer traits and the
//! registration function, all written against the codegen path only.

use crate::descriptor_set::byte_string_literal;
use crate::names::{camel, ident, shouty, snake};
use prost_build::{Comments, Method, Service, ServiceGenerator};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Names of the stub's own functions, which generated call methods must not take.
const STUB_OWN: &[&str] = &["new", "channel", "into_channel"];

/// Method names come from the proto, so clippy's naming conventions (`new` returns `Self`,
/// `into_*` takes `self`, ...) cannot be expected of them.
const ALLOW_RPC_NAMES: &str = "#[allow(clippy::wrong_self_convention, clippy::new_ret_no_self, clippy::should_implement_trait)]";

/// Writes the rpc items of every service into its package's module.
#[derive(Debug)]
pub(crate) struct RpcServiceGenerator {
    /// The path generated code imports from, e.g. `::rpc_core::codegen`.
    codegen: String,
    /// The encoded descriptor set of each package, for `FILE_DESCRIPTOR_SET`.
    descriptor_sets: BTreeMap<String, Vec<u8>>,
}

impl RpcServiceGenerator {
    pub(crate) fn new(codegen: String, descriptor_sets: BTreeMap<String, Vec<u8>>) -> RpcServiceGenerator {
        RpcServiceGenerator { codegen, descriptor_sets }
    }
}

/// The four kinds, as the codegen contract names them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    UnaryUnary,
    UnaryStream,
    StreamUnary,
    StreamStream,
}

impl Kind {
    fn of(method: &Method) -> Kind {
        match (method.client_streaming, method.server_streaming) {
            (false, false) => Kind::UnaryUnary,
            (false, true) => Kind::UnaryStream,
            (true, false) => Kind::StreamUnary,
            (true, true) => Kind::StreamStream,
        }
    }

    fn variant(self) -> &'static str {
        match self {
            Kind::UnaryUnary => "UnaryUnary",
            Kind::UnaryStream => "UnaryStream",
            Kind::StreamUnary => "StreamUnary",
            Kind::StreamStream => "StreamStream",
        }
    }

    /// The `Channel` method that makes a multi-callable of this kind.
    fn channel_fn(self) -> &'static str {
        match self {
            Kind::UnaryUnary => "unary_unary",
            Kind::UnaryStream => "unary_stream",
            Kind::StreamUnary => "stream_unary",
            Kind::StreamStream => "stream_stream",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::UnaryUnary => "unary-unary",
            Kind::UnaryStream => "unary-stream",
            Kind::StreamUnary => "stream-unary",
            Kind::StreamStream => "stream-stream",
        }
    }
}

/// Everything generated for one service, named.
struct ServiceNames {
    /// `helloworld.Greeter`.
    full_name: String,
    /// `Greeter`.
    camel: String,
    /// `greeter`.
    snake: String,
    /// `GREETER`.
    shouty: String,
}

impl ServiceNames {
    fn new(service: &Service) -> ServiceNames {
        let full_name = if service.package.is_empty() {
            service.proto_name.clone()
        } else {
            format!("{}.{}", service.package, service.proto_name)
        };
        ServiceNames {
            full_name,
            camel: camel(&service.proto_name),
            snake: snake(&service.proto_name),
            shouty: shouty(&service.proto_name),
        }
    }
}

/// Everything generated for one method, named.
struct MethodNames<'a> {
    method: &'a Method,
    kind: Kind,
    /// The function name, `say_hello` (a raw identifier where needed).
    func: String,
    /// The stub's call method, which avoids the stub's own function names.
    stub_func: String,
    /// The stub's call-method base, for `_with_call` / `_future`.
    stub_base: String,
    /// `GREETER_SAY_HELLO`.
    descriptor: String,
    /// `/helloworld.Greeter/SayHello`.
    path: String,
}

impl<'a> MethodNames<'a> {
    fn new(service: &ServiceNames, method: &'a Method) -> MethodNames<'a> {
        let base = snake(&method.proto_name);
        let stub_base = if STUB_OWN.contains(&base.as_str()) {
            format!("call_{base}")
        } else {
            base.clone()
        };
        MethodNames {
            method,
            kind: Kind::of(method),
            func: ident(&base),
            stub_func: ident(&stub_base),
            stub_base,
            descriptor: format!("{}_{}", service.shouty, shouty(&method.proto_name)),
            path: format!("/{}/{}", service.full_name, method.proto_name),
        }
    }
}

/// Appends the proto comments of an item as doc lines (detached comments are dropped).
fn proto_docs(comments: &Comments, buf: &mut String) {
    let attached = Comments {
        leading_detached: Vec::new(),
        ..comments.clone()
    };
    attached.append_with_indent(0, buf);
}

fn has_docs(comments: &Comments) -> bool {
    !comments.leading.is_empty() || !comments.trailing.is_empty()
}

/// Appends one doc line of our own.
fn doc(buf: &mut String, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            buf.push_str("///\n");
        } else {
            let _ = writeln!(buf, "/// {line}");
        }
    }
}

impl ServiceGenerator for RpcServiceGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        let names = ServiceNames::new(&service);
        let methods: Vec<MethodNames<'_>> = service.methods.iter().map(|m| MethodNames::new(&names, m)).collect();
        let out = Writer {
            cg: &self.codegen,
            service: &service,
            names: &names,
            methods: &methods,
        };
        out.descriptors(buf);
        out.stub(buf);
        out.blocking_servicer(buf);
        out.async_servicer(buf);
        out.registration(buf);
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        let bytes = self.descriptor_sets.get(package).map(Vec::as_slice).unwrap_or_default();
        doc(
            buf,
            "The encoded `FileDescriptorSet` of this package's proto files and everything they import\n\
             (without source info), for reflection.",
        );
        let _ = writeln!(buf, "pub const FILE_DESCRIPTOR_SET: &[u8] = {};", byte_string_literal(bytes));
    }
}

/// Writes the items of one service.
struct Writer<'a> {
    cg: &'a str,
    service: &'a Service,
    names: &'a ServiceNames,
    methods: &'a [MethodNames<'a>],
}

impl Writer<'_> {
    fn descriptors(&self, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        doc(buf, &format!("The full name of the `{}` service.", n.full_name));
        let _ = writeln!(buf, "pub const {}_SERVICE_NAME: &str = {:?};", n.shouty, n.full_name);
        for m in self.methods {
            doc(
                buf,
                &format!("The `{}` method of `{}` ({}).", m.method.proto_name, n.full_name, m.kind.describe()),
            );
            let _ = writeln!(
                buf,
                "pub static {}: {cg}::MethodDescriptor = {cg}::MethodDescriptor {{ service: {}_SERVICE_NAME, name: {:?}, path: {:?}, kind: {cg}::MethodKind::{} }};",
                m.descriptor,
                n.shouty,
                m.method.proto_name,
                m.path,
                m.kind.variant()
            );
        }
        doc(
            buf,
            &format!("The `{}` service: its methods and the descriptors of its proto files.", n.full_name),
        );
        let list: Vec<String> = self.methods.iter().map(|m| format!("&{}", m.descriptor)).collect();
        let _ = writeln!(
            buf,
            "pub static {}_SERVICE: {cg}::ServiceDescriptor = {cg}::ServiceDescriptor {{ name: {}_SERVICE_NAME, methods: &[{}], file_descriptor_set: FILE_DESCRIPTOR_SET }};",
            n.shouty,
            n.shouty,
            list.join(", ")
        );
    }

    fn stub(&self, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        proto_docs(&self.service.comments, buf);
        if has_docs(&self.service.comments) {
            buf.push_str("///\n");
        }
        doc(
            buf,
            &format!(
                "A client stub for `{}`. It is generic over the channel: with a blocking channel each\n\
                 call returns its outcome, with an async channel it returns a call object to `.await`.\n\n\
                 Each method makes the multi-callable of its method on the channel (`Channel::unary_unary`\n\
                 and its siblings) and calls it: a stub call is a call of that multi-callable.",
                n.full_name
            ),
        );
        let _ = writeln!(buf, "#[derive(Clone, Debug)]\npub struct {}Stub<C> {{ channel: C }}", n.camel);
        let _ = writeln!(buf, "{ALLOW_RPC_NAMES}\nimpl<C: {cg}::Channel> {}Stub<C> {{", n.camel);
        doc(buf, "A stub that makes its calls on `channel`.");
        let _ = writeln!(buf, "pub fn new(channel: C) -> Self {{ Self {{ channel }} }}");
        doc(buf, "The channel the calls are made on.");
        let _ = writeln!(buf, "pub fn channel(&self) -> &C {{ &self.channel }}");
        doc(buf, "The channel, consuming the stub.");
        let _ = writeln!(buf, "pub fn into_channel(self) -> C {{ self.channel }}");
        for m in self.methods {
            self.stub_method(m, buf);
        }
        buf.push_str("}\n");
    }

    fn stub_method(&self, m: &MethodNames<'_>, buf: &mut String) {
        let cg = self.cg;
        let (input, output) = (&m.method.input_type, &m.method.output_type);
        let (arg, conv) = if m.method.client_streaming {
            (
                format!("requests: impl {cg}::IntoStreamingRequest<{input}>"),
                "requests.into_streaming_request()",
            )
        } else {
            (format!("request: impl {cg}::IntoRequest<{input}>"), "request.into_request()")
        };
        let (variant, channel_fn) = (m.kind.variant(), m.kind.channel_fn());
        // `Channel::<kind>` makes the method's multi-callable, `<Kind>Callable::<call>` calls
        // it; both are named by their traits so no proto name can shadow them.
        let emit = |buf: &mut String, func: &str, call: &str, alias: &str| {
            let _ = writeln!(
                buf,
                "pub fn {func}(&self, {arg}) -> {cg}::{variant}{alias}<C, {input}, {output}> {{ \
                 {cg}::{variant}Callable::{call}(&{cg}::Channel::{channel_fn}::<{input}, {output}>(&self.channel, &{}), {conv}) }}",
                m.descriptor
            );
        };
        proto_docs(&m.method.comments, buf);
        if has_docs(&m.method.comments) {
            buf.push_str("///\n");
        }
        doc(buf, &format!("Calls `{}` ({}).", m.path, m.kind.describe()));
        emit(buf, &m.stub_func, "call", "Call");
        if !m.method.server_streaming {
            // Intra-doc links cannot name a raw identifier: `[`Self::r#type`](Self::type)`.
            let single = match m.stub_func.strip_prefix("r#") {
                Some(bare) => format!("[`Self::{}`](Self::{bare})", m.stub_func),
                None => format!("[`Self::{}`]", m.stub_func),
            };
            doc(
                buf,
                &format!("Like {single}, and also gives the finished call (its metadata and status)."),
            );
            emit(buf, &format!("{}_with_call", m.stub_base), "with_call", "WithCall");
            doc(
                buf,
                &format!("Like {single}, but runs the call in the background and returns a handle on it."),
            );
            emit(buf, &format!("{}_future", m.stub_base), "future", "Future");
        }
    }

    /// The parameter list and the result type of a servicer method.
    fn servicer_signature(&self, m: &MethodNames<'_>, blocking: bool) -> (String, String) {
        let cg = self.cg;
        let (input, output) = (&m.method.input_type, &m.method.output_type);
        let (req_many, resp_many) = if blocking {
            ("ReqIter", "RespIter")
        } else {
            ("ReqStream", "RespStream")
        };
        let param = if m.method.client_streaming {
            format!("requests: {cg}::{req_many}<{input}>")
        } else {
            format!("request: {input}")
        };
        let out = if m.method.server_streaming {
            format!("{cg}::{resp_many}<{output}>")
        } else {
            output.clone()
        };
        (
            format!("{param}, context: &{cg}::Context"),
            format!("::core::result::Result<{out}, {cg}::Error>"),
        )
    }

    fn arg_name(m: &MethodNames<'_>) -> &'static str {
        if m.method.client_streaming { "requests" } else { "request" }
    }

    fn servicer_method_doc(&self, m: &MethodNames<'_>, buf: &mut String) {
        proto_docs(&m.method.comments, buf);
        if has_docs(&m.method.comments) {
            buf.push_str("///\n");
        }
        doc(
            buf,
            &format!(
                "Serves `{}` ({}). Unless overridden, it answers UNIMPLEMENTED.",
                m.path,
                m.kind.describe()
            ),
        );
    }

    fn blocking_servicer(&self, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        proto_docs(&self.service.comments, buf);
        if has_docs(&self.service.comments) {
            buf.push_str("///\n");
        }
        doc(
            buf,
            &format!(
                "The server side of `{}`, with blocking handlers (run on worker threads).\n\n\
                 Register one with [`add_{}_servicer_to_server`]. Methods left out answer UNIMPLEMENTED.",
                n.full_name, n.snake
            ),
        );
        let _ = writeln!(buf, "{ALLOW_RPC_NAMES}\npub trait {}Servicer: Send + Sync + 'static {{", n.camel);
        for m in self.methods {
            let (params, result) = self.servicer_signature(m, true);
            self.servicer_method_doc(m, buf);
            let _ = writeln!(
                buf,
                "fn {}(&self, {params}) -> {result} {{ let _ = ({}, context); ::core::result::Result::Err({cg}::Error::unimplemented(\"Method not implemented!\")) }}",
                m.func,
                Self::arg_name(m)
            );
        }
        buf.push_str("}\n");
        let _ = writeln!(
            buf,
            "{ALLOW_RPC_NAMES}\nimpl<T: {0}Servicer + ?Sized> {0}Servicer for ::std::sync::Arc<T> {{",
            n.camel
        );
        for m in self.methods {
            let (params, result) = self.servicer_signature(m, true);
            let _ = writeln!(
                buf,
                "fn {0}(&self, {params}) -> {result} {{ (**self).{0}({1}, context) }}",
                m.func,
                Self::arg_name(m)
            );
        }
        buf.push_str("}\n");
    }

    fn async_servicer(&self, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        proto_docs(&self.service.comments, buf);
        if has_docs(&self.service.comments) {
            buf.push_str("///\n");
        }
        doc(
            buf,
            &format!(
                "The server side of `{}`, with async handlers: implement the methods with `async fn`.\n\n\
                 Register one with [`add_{}_servicer_to_server`]. Methods left out answer UNIMPLEMENTED.",
                n.full_name, n.snake
            ),
        );
        let _ = writeln!(
            buf,
            "{ALLOW_RPC_NAMES}\npub trait Async{}Servicer: Send + Sync + 'static {{",
            n.camel
        );
        for m in self.methods {
            let (params, result) = self.servicer_signature(m, false);
            self.servicer_method_doc(m, buf);
            let _ = writeln!(
                buf,
                "fn {}(&self, {params}) -> impl ::core::future::Future<Output = {result}> + Send {{ let _ = ({}, context); async {{ ::core::result::Result::Err({cg}::Error::unimplemented(\"Method not implemented!\")) }} }}",
                m.func,
                Self::arg_name(m)
            );
        }
        buf.push_str("}\n");
        let _ = writeln!(
            buf,
            "{ALLOW_RPC_NAMES}\nimpl<T: Async{0}Servicer> Async{0}Servicer for ::std::sync::Arc<T> {{",
            n.camel
        );
        for m in self.methods {
            let (params, result) = self.servicer_signature(m, false);
            let _ = writeln!(
                buf,
                "fn {0}(&self, {params}) -> impl ::core::future::Future<Output = {result}> + Send {{ T::{0}(self, {1}, context) }}",
                m.func,
                Self::arg_name(m)
            );
        }
        buf.push_str("}\n");
    }

    fn registration(&self, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        doc(
            buf,
            &format!(
                "Puts a `{}` servicer on a server. Implemented for every [`{1}Servicer`] (`M` =\n\
                 `{cg}::Blocking`) and every [`Async{1}Servicer`] (`M` = `{cg}::Async`);\n\
                 a type that implements both traits names the one meant: `add_{2}_servicer_to_server::<{cg}::Async>(..)`.",
                n.full_name, n.camel, n.snake
            ),
        );
        let _ = writeln!(buf, "pub trait {}ServicerKind<M> {{", n.camel);
        doc(
            buf,
            "Registers every method of the service, and the service descriptor, on `server`.",
        );
        let _ = writeln!(buf, "fn add_to_server<S: {cg}::Server>(self, server: &S);\n}}");
        for blocking in [true, false] {
            let (marker, prefix) = if blocking { ("Blocking", "") } else { ("Async", "Async") };
            let _ = writeln!(
                buf,
                "impl<T: {prefix}{0}Servicer> {0}ServicerKind<{cg}::{marker}> for T {{",
                n.camel
            );
            let _ = writeln!(buf, "fn add_to_server<S: {cg}::Server>(self, server: &S) {{");
            let _ = writeln!(buf, "let servicer = ::std::sync::Arc::new(self);");
            for m in self.methods {
                self.register_method(m, blocking, buf);
            }
            let _ = writeln!(
                buf,
                "let _ = servicer;\nserver.add_service_descriptor(&{}_SERVICE);\n}}\n}}",
                n.shouty
            );
        }
        doc(
            buf,
            &format!(
                "Registers `servicer` for every method of `{}` on `server` (either face). The servicer\n\
                 may implement [`{1}Servicer`] or [`Async{1}Servicer`]; an `Arc` of one works too.",
                n.full_name, n.camel
            ),
        );
        let _ = writeln!(
            buf,
            "pub fn add_{}_servicer_to_server<M>(servicer: impl {}ServicerKind<M>, server: &impl {cg}::Server) {{ servicer.add_to_server(server) }}",
            n.snake, n.camel
        );
    }

    fn register_method(&self, m: &MethodNames<'_>, blocking: bool, buf: &mut String) {
        let (cg, n) = (self.cg, self.names);
        let (input, output) = (&m.method.input_type, &m.method.output_type);
        let arg = Self::arg_name(m);
        let variant = format!("{}{}", if blocking { "Blocking" } else { "Async" }, m.kind.variant());
        let (req_many, resp_many) = if blocking {
            ("ReqIter", "RespIter")
        } else {
            ("ReqStream", "RespStream")
        };
        let in_ty = if m.method.client_streaming {
            format!("{cg}::{req_many}<{input}>")
        } else {
            input.clone()
        };
        let out_ty = if m.method.server_streaming {
            format!("{cg}::{resp_many}<{output}>")
        } else {
            output.clone()
        };
        let closure = if blocking {
            format!(
                "move |{arg}: {in_ty}, context: &{cg}::Context| {}Servicer::{}(&*servicer, {arg}, context)",
                n.camel, m.func
            )
        } else {
            format!(
                "move |{arg}: {in_ty}, context: {cg}::Context| -> {cg}::BoxFuture<::core::result::Result<{out_ty}, {cg}::Error>> {{ \
                 let servicer = servicer.clone(); \
                 ::std::boxed::Box::pin(async move {{ Async{}Servicer::{}(&*servicer, {arg}, &context).await }}) }}",
                n.camel, m.func
            )
        };
        let _ = writeln!(
            buf,
            "{{ let servicer = servicer.clone(); server.add_method(&{}, {cg}::MethodHandler::{variant}(::std::sync::Arc::new({closure}))); }}",
            m.descriptor
        );
    }
}
