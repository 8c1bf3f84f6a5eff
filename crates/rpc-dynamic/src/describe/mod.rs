//! Rendering a symbol as `.proto` source text, the way `grpcurl describe` shows it:
//! a heading line (`helloworld.Greeter is a service:`) and the element's definition, with
//! fully qualified type names, doc comments when the descriptors carry source info, and
//! the elements of a message in a fixed order.

mod options;
mod printer;

use crate::symbol::Symbol;
use printer::Printer;
use prost_reflect::{Kind, MessageDescriptor};

/// `symbol` as grpcurl's `describe` prints it: `NAME is a KIND:` on the first line, then
/// its definition as proto source ([`proto_source`]), ending in a newline.
///
/// The kind is "a service", "a method", "a message", "a field", "a one-of", "an enum",
/// "an enum value", "an extension", or "the type of a group field" (then the group field
/// is shown).
///
/// ```
/// # fn main() -> Result<(), rpc_dynamic::Error> {
/// # let dir = std::env::temp_dir().join("rpc-dynamic-doc-describe");
/// # std::fs::create_dir_all(&dir).unwrap();
/// # std::fs::write(dir.join("hello.proto"), "syntax = \"proto3\"; package hello;\
/// #   message Req { string name = 1; } message Rep { string message = 1; }\
/// #   service Greeter { rpc SayHello(Req) returns (Rep); }").unwrap();
/// let pool = rpc_dynamic::load_protos(&["hello.proto"], &[&dir])?;
/// let greeter = rpc_dynamic::find_symbol(&pool, "hello.Greeter")?;
/// assert_eq!(
///     rpc_dynamic::describe(&greeter),
///     "hello.Greeter is a service:\n\
///      service Greeter {\n  rpc SayHello ( .hello.Req ) returns ( .hello.Rep );\n}\n"
/// );
/// # Ok(()) }
/// ```
pub fn describe(symbol: &Symbol) -> String {
    let (article_kind, shown) = match symbol {
        Symbol::Message(m) => match group_field_of(m) {
            Some(field) => ("the type of a group field".to_owned(), Symbol::Field(field)),
            None => ("a message".to_owned(), symbol.clone()),
        },
        _ => {
            let kind = symbol.kind_name();
            // "a one-of": the sound, not the letter, picks the article.
            let article = if kind.starts_with(['a', 'e', 'i', 'u']) { "an" } else { "a" };
            (format!("{article} {kind}"), symbol.clone())
        }
    };
    format!("{} is {article_kind}:\n{}", symbol.full_name(), proto_source(&shown))
}

/// The definition of `symbol` as proto source text, ending in a newline: a service with
/// its methods, a message with its fields, nested types, extension ranges, extensions
/// and reserved names; a single field, method, oneof, enum value; an extension inside its
/// `extend` block.
///
/// Type names are fully qualified with a leading dot (`.pkg.Message`), as grpcurl
/// prints them. Methods are sorted by name; in a message, options come first, then the
/// fields by number (a oneof where its first field is), nested messages and enums by
/// name, extension ranges, extensions, reserved ranges and reserved names. Doc comments
/// (leading comments) are kept when the descriptors carry source info.
pub fn proto_source(symbol: &Symbol) -> String {
    let mut printer = Printer::default();
    match symbol {
        Symbol::Service(s) => printer.service(s),
        Symbol::Method(m) => printer.method(m),
        Symbol::Message(m) => printer.message(m),
        Symbol::Field(f) => printer.field(f),
        Symbol::Oneof(o) => printer.oneof(o),
        Symbol::Enum(e) => printer.enumeration(e),
        Symbol::EnumValue(v) => printer.enum_value(v),
        Symbol::Extension(x) => printer.extend_block(std::slice::from_ref(x)),
    }
    printer.finish()
}

/// The group field whose type `message` is, if it is a group's type.
fn group_field_of(message: &MessageDescriptor) -> Option<prost_reflect::FieldDescriptor> {
    let siblings_parent = message.parent_message()?;
    siblings_parent
        .fields()
        .find(|f| f.is_group() && matches!(f.kind(), Kind::Message(m) if m == *message))
}
