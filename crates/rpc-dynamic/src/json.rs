//! Proto3 JSON in and out of [`DynamicMessage`]s, with the canonical forms of the
//! well-known types (Timestamp, Duration, Any, Struct, Value, wrappers, FieldMask, Empty),
//! formatted the way grpcurl prints responses.

use crate::error::Error;
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions, Value};
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use serde_json::value::RawValue;
use std::collections::BTreeSet;
use std::io::{self, Read};

/// How messages are printed as JSON and parsed from it.
///
/// The defaults are grpcurl's `-format json`: lowerCamelCase JSON names, fields with their
/// default value left out (grpcurl's `-emit-defaults` is [`emit_defaults`](Self::emit_defaults)),
/// enums by name, 64-bit integers as strings, two-space indentation; unknown fields in
/// input are an error (grpcurl's `-allow-unknown-fields` is
/// [`allow_unknown_fields`](Self::allow_unknown_fields)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonOptions {
    emit_defaults: bool,
    use_proto_names: bool,
    enums_as_numbers: bool,
    compact: bool,
    allow_unknown_fields: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions::new()
    }
}

impl JsonOptions {
    /// The defaults (grpcurl's).
    pub const fn new() -> JsonOptions {
        JsonOptions {
            emit_defaults: false,
            use_proto_names: false,
            enums_as_numbers: false,
            compact: false,
            allow_unknown_fields: false,
        }
    }

    /// Print fields that hold their default value too (grpcurl's `-emit-defaults`).
    /// Fields with explicit presence (message fields, `optional`, oneof members) are printed
    /// only when set, as the proto3 JSON mapping says.
    pub const fn emit_defaults(mut self, yes: bool) -> JsonOptions {
        self.emit_defaults = yes;
        self
    }

    /// Print field names as written in the `.proto` (`snake_case`) instead of their
    /// lowerCamelCase JSON names. Parsing accepts both forms either way.
    pub const fn use_proto_names(mut self, yes: bool) -> JsonOptions {
        self.use_proto_names = yes;
        self
    }

    /// Print enum values as numbers instead of names.
    pub const fn enums_as_numbers(mut self, yes: bool) -> JsonOptions {
        self.enums_as_numbers = yes;
        self
    }

    /// Print on one line instead of indenting by two spaces.
    pub const fn compact(mut self, yes: bool) -> JsonOptions {
        self.compact = yes;
        self
    }

    /// Ignore fields the message type does not have when parsing, instead of failing.
    pub const fn allow_unknown_fields(mut self, yes: bool) -> JsonOptions {
        self.allow_unknown_fields = yes;
        self
    }

    fn serialize_options(&self) -> SerializeOptions {
        SerializeOptions::new()
            .skip_default_fields(!self.emit_defaults)
            .use_proto_field_name(self.use_proto_names)
            .use_enum_numbers(self.enums_as_numbers)
    }

    fn deserialize_options(&self) -> DeserializeOptions {
        DeserializeOptions::new().deny_unknown_fields(!self.allow_unknown_fields)
    }
}

/// Parses one JSON value as a message of type `descriptor`. Both the JSON names and the
/// proto names of fields are accepted; `Any` values name their type with `@type`, which
/// must be in the descriptor's pool.
///
/// # Errors
/// [`ErrorKind::Json`](crate::ErrorKind::Json) with the position and reason: malformed
/// JSON, an unknown field, a value of the wrong type, text after the value.
pub fn message_from_json(descriptor: &MessageDescriptor, json: &str, options: &JsonOptions) -> Result<DynamicMessage, Error> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize_with_options(descriptor.clone(), &mut deserializer, &options.deserialize_options())
        .map_err(|e| Error::json(format!("invalid JSON for {}: {e}", descriptor.full_name())))?;
    deserializer
        .end()
        .map_err(|e| Error::json(format!("invalid JSON for {}: {e}", descriptor.full_name())))?;
    Ok(message)
}

/// Reads a stream of JSON values (concatenated, or separated by whitespace such as
/// newlines, as grpcurl reads `-d @`) and parses each as a message of type `descriptor`.
///
/// The iterator ends at the end of input; after an error it yields nothing more.
pub fn messages_from_json<R: Read>(descriptor: &MessageDescriptor, reader: R, options: &JsonOptions) -> JsonMessages<R> {
    JsonMessages {
        descriptor: descriptor.clone(),
        options: *options,
        values: Some(serde_json::Deserializer::from_reader(reader).into_iter()),
        count: 0,
    }
}

/// The messages of a JSON stream; made by [`messages_from_json`].
pub struct JsonMessages<R: Read> {
    descriptor: MessageDescriptor,
    options: JsonOptions,
    values: Option<serde_json::StreamDeserializer<'static, serde_json::de::IoRead<R>, Box<RawValue>>>,
    count: usize,
}

impl<R: Read> std::fmt::Debug for JsonMessages<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonMessages")
            .field("type", &self.descriptor.full_name())
            .field("read", &self.count)
            .finish()
    }
}

impl<R: Read> Iterator for JsonMessages<R> {
    type Item = Result<DynamicMessage, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.values.as_mut()?.next()?;
        self.count += 1;
        let result = match raw {
            Ok(raw) => message_from_json(&self.descriptor, raw.get(), &self.options),
            Err(e) => Err(Error::json(format!("invalid JSON input: {e}"))),
        }
        .map_err(|e| Error::json(format!("request {}: {e}", self.count)));
        if result.is_err() {
            self.values = None;
        }
        Some(result)
    }
}

/// Prints `message` as JSON: two-space indented in grpcurl's layout (an empty object or
/// array spans an indented blank line, `{\n  \n}`), or on one line with
/// [`compact`](JsonOptions::compact). Integral doubles print without a fraction (`1`).
///
/// ```
/// # fn main() -> Result<(), rpc_dynamic::Error> {
/// use rpc_dynamic::{JsonOptions, message_from_json, message_to_json};
/// let pool = prost_reflect::DescriptorPool::global();
/// let timestamp = pool.get_message_by_name("google.protobuf.Timestamp").unwrap();
/// let message = message_from_json(&timestamp, r#""2024-01-02T03:04:05.5Z""#, &JsonOptions::new())?;
/// assert_eq!(message_to_json(&message, &JsonOptions::new())?, r#""2024-01-02T03:04:05.500Z""#);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ErrorKind::Json`](crate::ErrorKind::Json) when an `Any` holds a type that is not in
/// the message's pool (see [`unresolved_any_types`]), or its payload does not decode.
pub fn message_to_json(message: &DynamicMessage, options: &JsonOptions) -> Result<String, Error> {
    let mut out = Vec::new();
    let result = if options.compact {
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoLayout::new(CompactFormatter, false));
        message.serialize_with_options(&mut serializer, &options.serialize_options())
    } else {
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut out, GoLayout::new(PrettyFormatter::with_indent(INDENT.as_bytes()), true));
        message.serialize_with_options(&mut serializer, &options.serialize_options())
    };
    result.map_err(|e| Error::json(format!("cannot print {} as JSON: {e}", message.descriptor().full_name())))?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(out).map_err(|e| Error::json(format!("JSON output is not UTF-8: {e}")))
}

/// A JSON formatter for grpcurl's layout, around serde_json's: integral floating-point
/// numbers without a fraction (`1`, not `1.0`), as the Go and C++ tools print them; and,
/// when indenting, an empty object or array opened over an indented blank line
/// (`{\n    \n  }`), as grpcurl prints them. Everything else is the wrapped formatter's.
struct GoLayout<F> {
    inner: F,
    /// Whether empty containers get grpcurl's blank line (the indenting layout).
    pretty: bool,
    /// For each open object or array: whether it has a member yet.
    open: Vec<bool>,
}

impl<F> GoLayout<F> {
    fn new(inner: F, pretty: bool) -> Self {
        GoLayout {
            inner,
            pretty,
            open: Vec::new(),
        }
    }

    /// Before an empty container's closing bracket: a line indented one level deeper,
    /// then the closing bracket's own indentation.
    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let depth = self.open.len();
        let had_members = self.open.pop().unwrap_or(true);
        if self.pretty && !had_members {
            writer.write_all(b"\n")?;
            writer.write_all(INDENT.repeat(depth).as_bytes())?;
            writer.write_all(b"\n")?;
            writer.write_all(INDENT.repeat(depth.saturating_sub(1)).as_bytes())?;
        }
        Ok(())
    }

    fn member(&mut self) {
        if let Some(top) = self.open.last_mut() {
            *top = true;
        }
    }
}

/// One level of indentation.
const INDENT: &str = "  ";

/// Below this, an integral double prints exactly as an integer (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

macro_rules! delegate {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<W: ?Sized + io::Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> io::Result<()> {
                self.inner.$method(writer $(, $arg)*)
            }
        )*
    };
}

impl<F: Formatter> Formatter for GoLayout<F> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        if value.fract() == 0.0 && value.abs() < EXACT_INTEGER_LIMIT {
            // Exact: |value| < 2^53 fits an i64 without rounding.
            write!(writer, "{}", value as i64)
        } else {
            self.inner.write_f64(writer, value)
        }
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        if value.fract() == 0.0 && value.abs() < 16_777_216.0 {
            write!(writer, "{}", value as i64)
        } else {
            self.inner.write_f32(writer, value)
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.push(false);
        self.inner.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer)?;
        self.inner.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.member();
        self.inner.begin_array_value(writer, first)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.push(false);
        self.inner.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer)?;
        self.inner.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.member();
        self.inner.begin_object_key(writer, first)
    }

    delegate!(end_array_value(), end_object_key(), begin_object_value(), end_object_value(),);
}

/// The message types named by the `Any` values inside `message` (at any depth, including
/// inside `Any` payloads that can be decoded) that its pool does not know, sorted.
///
/// Printing such a message as JSON fails; a client can fetch these types (by reflection,
/// [`ReflectionClient::add_symbols`](crate::ReflectionClient::add_symbols)) and decode the
/// message again with the larger pool.
pub fn unresolved_any_types(message: &DynamicMessage) -> BTreeSet<String> {
    let mut missing = BTreeSet::new();
    walk_any(message, &mut missing, 0);
    missing
}

/// Bounds the walk: protobuf itself refuses messages nested deeper than 100.
const MAX_DEPTH: usize = 100;

fn walk_any(message: &DynamicMessage, missing: &mut BTreeSet<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let descriptor = message.descriptor();
    if descriptor.full_name() == "google.protobuf.Any" {
        let Ok(any) = message.transcode_to::<prost_types::Any>() else {
            return;
        };
        let name = any.type_url.rsplit_once('/').map_or(any.type_url.as_str(), |(_, name)| name);
        if name.is_empty() {
            return;
        }
        match descriptor.parent_pool().get_message_by_name(name) {
            Some(inner) => {
                if let Ok(inner) = DynamicMessage::decode(inner, any.value.as_slice()) {
                    walk_any(&inner, missing, depth + 1);
                }
            }
            None => {
                missing.insert(name.to_owned());
            }
        }
        return;
    }
    for (_, value) in message.fields() {
        walk_value(value, missing, depth + 1);
    }
}

fn walk_value(value: &Value, missing: &mut BTreeSet<String>, depth: usize) {
    match value {
        Value::Message(m) => walk_any(m, missing, depth),
        Value::List(items) => items.iter().for_each(|v| walk_value(v, missing, depth)),
        Value::Map(entries) => entries.values().for_each(|v| walk_value(v, missing, depth)),
        _ => {}
    }
}
