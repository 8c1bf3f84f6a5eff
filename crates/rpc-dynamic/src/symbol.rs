//! Looking up symbols in a pool: a method by `package.Service/Method` (or
//! `package.Service.Method`, as grpcurl accepts), and any named element of a schema.

use crate::error::Error;
use prost_reflect::{
    DescriptorPool, EnumDescriptor, EnumValueDescriptor, ExtensionDescriptor, FieldDescriptor, FileDescriptor, MessageDescriptor,
    MethodDescriptor, OneofDescriptor, ServiceDescriptor,
};
use std::fmt;

/// The four kinds of gRPC method, by which sides stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl MethodKind {
    /// The kind of `method`.
    pub fn of(method: &MethodDescriptor) -> MethodKind {
        match (method.is_client_streaming(), method.is_server_streaming()) {
            (false, false) => MethodKind::Unary,
            (false, true) => MethodKind::ServerStreaming,
            (true, false) => MethodKind::ClientStreaming,
            (true, true) => MethodKind::BidiStreaming,
        }
    }

    /// Whether the client sends a stream of requests.
    pub fn client_streams(self) -> bool {
        matches!(self, MethodKind::ClientStreaming | MethodKind::BidiStreaming)
    }

    /// Whether the server sends a stream of responses.
    pub fn server_streams(self) -> bool {
        matches!(self, MethodKind::ServerStreaming | MethodKind::BidiStreaming)
    }
}

impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MethodKind::Unary => "unary",
            MethodKind::ServerStreaming => "server-streaming",
            MethodKind::ClientStreaming => "client-streaming",
            MethodKind::BidiStreaming => "bidi-streaming",
        })
    }
}

/// A method found by name: its descriptor, kind, message types and HTTP/2 path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    descriptor: MethodDescriptor,
}

impl Method {
    /// Wraps a method descriptor.
    pub fn new(descriptor: MethodDescriptor) -> Method {
        Method { descriptor }
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &MethodDescriptor {
        &self.descriptor
    }

    /// Which sides stream.
    pub fn kind(&self) -> MethodKind {
        MethodKind::of(&self.descriptor)
    }

    /// The request message type.
    pub fn input(&self) -> MessageDescriptor {
        self.descriptor.input()
    }

    /// The response message type.
    pub fn output(&self) -> MessageDescriptor {
        self.descriptor.output()
    }

    /// The full name with a dot, `package.Service.Method`.
    pub fn full_name(&self) -> &str {
        self.descriptor.full_name()
    }

    /// The path a call is sent to, `/package.Service/Method`.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.descriptor.parent_service().full_name(), self.descriptor.name())
    }
}

/// Splits a method name into service and method: `pkg.Svc/Method`, `pkg.Svc.Method`, with
/// an optional leading `/` or `.`.
///
/// # Errors
/// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) when either part is empty.
pub fn split_method_name(name: &str) -> Result<(&str, &str), Error> {
    let trimmed = name.trim().trim_start_matches(['/', '.']);
    let split = trimmed.rfind('/').or_else(|| trimmed.rfind('.'));
    match split {
        Some(at) if at > 0 && at + 1 < trimmed.len() => Ok((&trimmed[..at], &trimmed[at + 1..])),
        _ => Err(Error::invalid_name(format!(
            "{name:?} is not a method name: expected package.Service/Method or package.Service.Method"
        ))),
    }
}

/// Finds a method by `package.Service/Method` or `package.Service.Method`.
///
/// ```
/// # fn main() -> Result<(), rpc_dynamic::Error> {
/// use rpc_dynamic::{MethodKind, find_method};
/// # let dir = std::env::temp_dir().join("rpc-dynamic-doc-method");
/// # std::fs::create_dir_all(&dir).unwrap();
/// # std::fs::write(dir.join("g.proto"), "syntax = \"proto3\"; package g; message M {} service S { rpc Go(M) returns (stream M); }").unwrap();
/// let pool = rpc_dynamic::load_protos(&["g.proto"], &[&dir])?;
/// let method = find_method(&pool, "g.S/Go")?;
/// assert_eq!(method.kind(), MethodKind::ServerStreaming);
/// assert_eq!(method.path(), "/g.S/Go");
/// assert_eq!(find_method(&pool, "g.S.Go")?, method);
/// assert!(find_method(&pool, "g.S/Stop").unwrap_err().is_not_found());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) for a malformed name;
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown service or method.
pub fn find_method(pool: &DescriptorPool, name: &str) -> Result<Method, Error> {
    let (service_name, method_name) = split_method_name(name)?;
    let service = pool
        .get_service_by_name(service_name)
        .ok_or_else(|| Error::not_found(format!("service {service_name:?} not found")))?;
    service
        .methods()
        .find(|m| m.name() == method_name)
        .map(Method::new)
        .ok_or_else(|| Error::not_found(format!("service {service_name:?} does not include a method named {method_name:?}")))
}

/// Any named element of a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Symbol {
    /// A service.
    Service(ServiceDescriptor),
    /// A method of a service.
    Method(MethodDescriptor),
    /// A message type (a group's type too).
    Message(MessageDescriptor),
    /// A field of a message.
    Field(FieldDescriptor),
    /// A oneof of a message.
    Oneof(OneofDescriptor),
    /// An enum type.
    Enum(EnumDescriptor),
    /// A value of an enum.
    EnumValue(EnumValueDescriptor),
    /// An extension field.
    Extension(ExtensionDescriptor),
}

impl Symbol {
    /// The fully qualified name, without a leading dot. An enum value is named under its
    /// enum (`pkg.Enum.VALUE`), as grpcurl names it, although protobuf scopes it beside
    /// the enum (`pkg.VALUE`).
    pub fn full_name(&self) -> String {
        match self {
            Symbol::Service(s) => s.full_name().to_owned(),
            Symbol::Method(m) => m.full_name().to_owned(),
            Symbol::Message(m) => m.full_name().to_owned(),
            Symbol::Field(f) => f.full_name().to_owned(),
            Symbol::Oneof(o) => o.full_name().to_owned(),
            Symbol::Enum(e) => e.full_name().to_owned(),
            Symbol::EnumValue(v) => format!("{}.{}", v.parent_enum().full_name(), v.name()),
            Symbol::Extension(x) => x.full_name().to_owned(),
        }
    }

    /// What kind of element this is, in words: "service", "method", "message", "field",
    /// "one-of", "enum", "enum value" or "extension".
    pub fn kind_name(&self) -> &'static str {
        match self {
            Symbol::Service(_) => "service",
            Symbol::Method(_) => "method",
            Symbol::Message(_) => "message",
            Symbol::Field(_) => "field",
            Symbol::Oneof(_) => "one-of",
            Symbol::Enum(_) => "enum",
            Symbol::EnumValue(_) => "enum value",
            Symbol::Extension(_) => "extension",
        }
    }

    /// The file that defines the element.
    pub fn parent_file(&self) -> FileDescriptor {
        match self {
            Symbol::Service(s) => s.parent_file(),
            Symbol::Method(m) => m.parent_service().parent_file(),
            Symbol::Message(m) => m.parent_file(),
            Symbol::Field(f) => f.parent_file(),
            Symbol::Oneof(o) => o.parent_message().parent_file(),
            Symbol::Enum(e) => e.parent_file(),
            Symbol::EnumValue(v) => v.parent_file(),
            Symbol::Extension(x) => x.parent_file(),
        }
    }
}

/// Finds any named element: a service, method, message, field, oneof, enum, enum value or
/// extension, by its fully qualified name (a leading dot is allowed).
///
/// Enum values are found both under their enum (`pkg.Enum.VALUE`) and, as protobuf scopes
/// them, beside it (`pkg.VALUE`).
///
/// # Errors
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when nothing has that name.
pub fn find_symbol(pool: &DescriptorPool, name: &str) -> Result<Symbol, Error> {
    let name = name.trim().trim_start_matches('.');
    if name.is_empty() {
        return Err(Error::invalid_name("an empty symbol name"));
    }
    lookup(pool, name).ok_or_else(|| Error::not_found(format!("symbol not found: {name}")))
}

fn lookup(pool: &DescriptorPool, name: &str) -> Option<Symbol> {
    if let Some(s) = pool.get_service_by_name(name) {
        return Some(Symbol::Service(s));
    }
    if let Some(m) = pool.get_message_by_name(name) {
        return Some(Symbol::Message(m));
    }
    if let Some(e) = pool.get_enum_by_name(name) {
        return Some(Symbol::Enum(e));
    }
    if let Some(x) = pool.get_extension_by_name(name) {
        return Some(Symbol::Extension(x));
    }
    let (parent, last) = name.rsplit_once('.').unwrap_or(("", name));
    if let Some(service) = pool.get_service_by_name(parent) {
        return service.methods().find(|m| m.name() == last).map(Symbol::Method);
    }
    if let Some(message) = pool.get_message_by_name(parent) {
        if let Some(field) = message.get_field_by_name(last) {
            return Some(Symbol::Field(field));
        }
        // Synthetic oneofs (proto3 `optional`) are an implementation detail, not a symbol.
        if let Some(oneof) = message.oneofs().find(|o| o.name() == last && !o.is_synthetic()) {
            return Some(Symbol::Oneof(oneof));
        }
        // Else perhaps a value of an enum nested in the message (below).
    }
    if let Some(enumeration) = pool.get_enum_by_name(parent) {
        return enumeration.get_value_by_name(last).map(Symbol::EnumValue);
    }
    // An enum value in its C++-style scope: a sibling of its enum.
    pool.all_enums()
        .filter(|e| enum_scope(e) == parent)
        .find_map(|e| e.get_value_by_name(last))
        .map(Symbol::EnumValue)
}

/// The scope an enum's values live in: the enum's parent message or package.
fn enum_scope(e: &EnumDescriptor) -> &str {
    e.full_name().rsplit_once('.').map(|(scope, _)| scope).unwrap_or("")
}
