//! `Printer`: writes services, messages, enums and their parts as indented proto source.

use super::options::{option_entries, quote};
use prost_reflect::{
    Cardinality, EnumDescriptor, EnumValueDescriptor, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
    OneofDescriptor, ServiceDescriptor, Syntax,
};
use prost_types::field_descriptor_proto::Type;
use prost_types::{FieldDescriptorProto, FileDescriptorProto};

/// The largest field number, written `max` in ranges.
const MAX_FIELD_NUMBER: i32 = 536_870_911;

/// Accumulates proto source, two spaces per nesting level.
#[derive(Default)]
pub(super) struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    pub(super) fn finish(self) -> String {
        self.out
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Opens a block: `header {`, one level deeper.
    fn open(&mut self, header: &str) {
        self.line(&format!("{header} {{"));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }

    /// The leading (doc) comment of the element at `path` in `file`, as `//` lines.
    fn comments(&mut self, file: &FileDescriptorProto, path: &[i32]) {
        let Some(info) = &file.source_code_info else { return };
        let Some(comment) = info
            .location
            .iter()
            .find(|l| l.path == path)
            .and_then(|l| l.leading_comments.as_deref())
        else {
            return;
        };
        // `//` comments keep their text after the slashes; block comments lose the
        // indentation of their continuation lines: one space after `//` either way.
        for text in comment.strip_suffix('\n').unwrap_or(comment).split('\n') {
            let text = text.trim_end();
            if text.is_empty() || text.starts_with(' ') {
                self.line(&format!("//{text}"));
            } else {
                self.line(&format!("// {text}"));
            }
        }
    }

    /// `option name = value;` lines for an options message.
    fn option_lines(&mut self, options: &prost_reflect::DynamicMessage) {
        for (name, value) in option_entries(options) {
            self.line(&format!("option {name} = {value};"));
        }
    }

    pub(super) fn service(&mut self, service: &ServiceDescriptor) {
        self.comments(service.parent_file_descriptor_proto(), service.path());
        self.open(&format!("service {}", service.name()));
        self.option_lines(&service.options());
        let mut methods: Vec<MethodDescriptor> = service.methods().collect();
        methods.sort_by(|a, b| a.name().cmp(b.name()));
        for method in &methods {
            self.method(method);
        }
        self.close();
    }

    pub(super) fn method(&mut self, method: &MethodDescriptor) {
        self.comments(method.parent_service().parent_file_descriptor_proto(), method.path());
        let stream = |yes: bool| if yes { "stream " } else { "" };
        let signature = format!(
            "rpc {} ( {}.{} ) returns ( {}.{} )",
            method.name(),
            stream(method.is_client_streaming()),
            method.input().full_name(),
            stream(method.is_server_streaming()),
            method.output().full_name(),
        );
        let options = option_entries(&method.options());
        if options.is_empty() {
            self.line(&format!("{signature};"));
        } else {
            self.open(&signature);
            for (name, value) in options {
                self.line(&format!("option {name} = {value};"));
            }
            self.close();
        }
    }

    pub(super) fn message(&mut self, message: &MessageDescriptor) {
        self.comments(message.parent_file_descriptor_proto(), message.path());
        self.open(&format!("message {}", message.name()));
        self.message_body(message);
        self.close();
    }

    fn message_body(&mut self, message: &MessageDescriptor) {
        self.option_lines(&message.options());

        // Fields by number; a (real) oneof where its lowest-numbered field is.
        let mut fields: Vec<FieldDescriptor> = message.fields().collect();
        fields.sort_by_key(FieldDescriptor::number);
        let mut oneofs_done: Vec<OneofDescriptor> = Vec::new();
        for field in &fields {
            match field.containing_oneof().filter(|o| !o.is_synthetic()) {
                Some(oneof) => {
                    if !oneofs_done.contains(&oneof) {
                        self.oneof(&oneof);
                        oneofs_done.push(oneof);
                    }
                }
                None => self.field(field),
            }
        }

        // Nested messages (not map entries nor group types), then enums, by name.
        let group_types: Vec<MessageDescriptor> = fields
            .iter()
            .filter(|f| f.is_group())
            .filter_map(|f| f.kind().as_message().cloned())
            .collect();
        let mut nested: Vec<MessageDescriptor> = message
            .child_messages()
            .filter(|m| !m.is_map_entry() && !group_types.contains(m))
            .collect();
        nested.sort_by(|a, b| a.name().cmp(b.name()));
        for child in &nested {
            self.message(child);
        }
        let mut enums: Vec<EnumDescriptor> = message.child_enums().collect();
        enums.sort_by(|a, b| a.name().cmp(b.name()));
        for child in &enums {
            self.enumeration(child);
        }

        let proto = message.descriptor_proto();
        let mut ranges: Vec<(i32, i32)> = proto.extension_range.iter().map(|r| (r.start(), r.end() - 1)).collect();
        ranges.sort();
        if !ranges.is_empty() {
            self.line(&format!("extensions {};", ranges_text(&ranges, MAX_FIELD_NUMBER)));
        }

        let extensions: Vec<ExtensionDescriptor> = message.child_extensions().collect();
        self.extend_blocks(extensions);

        let mut reserved: Vec<(i32, i32)> = proto.reserved_range.iter().map(|r| (r.start(), r.end() - 1)).collect();
        reserved.sort();
        if !reserved.is_empty() {
            self.line(&format!("reserved {};", ranges_text(&reserved, MAX_FIELD_NUMBER)));
        }
        let mut names: Vec<&String> = proto.reserved_name.iter().collect();
        names.sort();
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|n| quote(n.as_bytes())).collect();
            self.line(&format!("reserved {};", names.join(", ")));
        }
    }

    /// `extend` blocks for `extensions`, one per extended type (in order of first
    /// appearance), each with its fields by number.
    fn extend_blocks(&mut self, extensions: Vec<ExtensionDescriptor>) {
        let mut groups: Vec<(MessageDescriptor, Vec<ExtensionDescriptor>)> = Vec::new();
        for extension in extensions {
            let extendee = extension.containing_message();
            match groups.iter_mut().find(|(m, _)| *m == extendee) {
                Some((_, members)) => members.push(extension),
                None => groups.push((extendee, vec![extension])),
            }
        }
        for (_, mut members) in groups {
            members.sort_by_key(ExtensionDescriptor::number);
            self.extend_block(&members);
        }
    }

    /// One `extend` block; `extensions` share their extended type.
    pub(super) fn extend_block(&mut self, extensions: &[ExtensionDescriptor]) {
        let Some(first) = extensions.first() else { return };
        self.open(&format!("extend .{}", first.containing_message().full_name()));
        for extension in extensions {
            self.comments(extension.parent_file_descriptor_proto(), extension.path());
            let syntax = extension.parent_file().syntax();
            let proto = extension.field_descriptor_proto();
            let label = label(syntax, proto, false, extension.cardinality());
            let ty = type_name(proto, extension.kind(), extension.is_map());
            // An extension's JSON name is its bracketed full name, never written in source.
            self.field_line(label, &ty, extension.name(), extension.number(), proto, &extension.options(), None);
        }
        self.close();
    }

    pub(super) fn field(&mut self, field: &FieldDescriptor) {
        self.comments(field.parent_file().file_descriptor_proto(), field.path());
        let proto = field.field_descriptor_proto();
        let in_oneof = field.containing_oneof().is_some_and(|o| !o.is_synthetic());
        let syntax = field.parent_file().syntax();
        let label = if field.is_map() {
            ""
        } else {
            label(syntax, proto, in_oneof, field.cardinality())
        };
        if field.is_group() {
            if let Kind::Message(group) = field.kind() {
                self.open(&format!("{label}group {} = {}", group.name(), field.number()));
                self.message_body(&group);
                self.close();
            }
            return;
        }
        let ty = type_name(proto, field.kind(), field.is_map());
        self.field_line(
            label,
            &ty,
            field.name(),
            field.number(),
            proto,
            &field.options(),
            Some(field.json_name()),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn field_line(
        &mut self,
        label: &str,
        ty: &str,
        name: &str,
        number: u32,
        proto: &FieldDescriptorProto,
        options: &prost_reflect::DynamicMessage,
        json_name: Option<&str>,
    ) {
        let mut bracket: Vec<String> = Vec::new();
        if let Some(default) = &proto.default_value {
            bracket.push(format!("default = {}", default_text(proto, default)));
        }
        if let Some(json_name) = json_name
            && proto.json_name.is_some()
            && json_name != default_json_name(name)
        {
            bracket.push(format!("json_name = {}", quote(json_name.as_bytes())));
        }
        bracket.extend(option_entries(options).into_iter().map(|(k, v)| format!("{k} = {v}")));
        let bracket = if bracket.is_empty() {
            String::new()
        } else {
            format!(" [{}]", bracket.join(", "))
        };
        self.line(&format!("{label}{ty} {name} = {number}{bracket};"));
    }

    pub(super) fn oneof(&mut self, oneof: &OneofDescriptor) {
        self.comments(oneof.parent_message().parent_file_descriptor_proto(), oneof.path());
        self.open(&format!("oneof {}", oneof.name()));
        self.option_lines(&oneof.options());
        let mut fields: Vec<FieldDescriptor> = oneof.fields().collect();
        fields.sort_by_key(FieldDescriptor::number);
        for field in &fields {
            self.field(field);
        }
        self.close();
    }

    pub(super) fn enumeration(&mut self, enumeration: &EnumDescriptor) {
        self.comments(enumeration.parent_file_descriptor_proto(), enumeration.path());
        self.open(&format!("enum {}", enumeration.name()));
        self.option_lines(&enumeration.options());
        // By number; aliases (one number, several names) in the order they were declared.
        let proto = enumeration.enum_descriptor_proto();
        let declared = |v: &EnumValueDescriptor| proto.value.iter().position(|p| p.name() == v.name());
        let mut values: Vec<EnumValueDescriptor> = enumeration.values().collect();
        values.sort_by_key(|v| (v.number(), declared(v)));
        for value in &values {
            self.enum_value(value);
        }
        let mut reserved: Vec<(i32, i32)> = proto.reserved_range.iter().map(|r| (r.start(), r.end())).collect();
        reserved.sort();
        if !reserved.is_empty() {
            self.line(&format!("reserved {};", ranges_text(&reserved, i32::MAX)));
        }
        let mut names: Vec<&String> = proto.reserved_name.iter().collect();
        names.sort();
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|n| quote(n.as_bytes())).collect();
            self.line(&format!("reserved {};", names.join(", ")));
        }
        self.close();
    }

    pub(super) fn enum_value(&mut self, value: &EnumValueDescriptor) {
        self.comments(value.parent_enum().parent_file_descriptor_proto(), value.path());
        let options: Vec<String> = option_entries(&value.options())
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let bracket = if options.is_empty() {
            String::new()
        } else {
            format!(" [{}]", options.join(", "))
        };
        self.line(&format!("{} = {}{bracket};", value.name(), value.number()));
    }
}

/// The label written before a field: proto2 always has one (except in a oneof); proto3
/// only `repeated` and explicit `optional`.
fn label(syntax: Syntax, proto: &FieldDescriptorProto, in_oneof: bool, cardinality: Cardinality) -> &'static str {
    if in_oneof {
        return "";
    }
    match (cardinality, syntax) {
        (Cardinality::Repeated, _) => "repeated ",
        (Cardinality::Required, _) => "required ",
        (Cardinality::Optional, Syntax::Proto2) => "optional ",
        (Cardinality::Optional, _) if proto.proto3_optional() => "optional ",
        (Cardinality::Optional, _) => "",
    }
}

/// The field's type as written: a scalar keyword, `.pkg.Type`, or `map<K, V>`.
fn type_name(proto: &FieldDescriptorProto, kind: Kind, is_map: bool) -> String {
    if is_map && let Kind::Message(entry) = &kind {
        let key = entry.map_entry_key_field();
        let value = entry.map_entry_value_field();
        return format!(
            "map<{}, {}>",
            type_name(key.field_descriptor_proto(), key.kind(), false),
            type_name(value.field_descriptor_proto(), value.kind(), false)
        );
    }
    match kind {
        Kind::Message(m) => format!(".{}", m.full_name()),
        Kind::Enum(e) => format!(".{}", e.full_name()),
        _ => scalar_name(proto.r#type()).to_owned(),
    }
}

fn scalar_name(ty: Type) -> &'static str {
    match ty {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        // Named types are written by name above.
        Type::Group | Type::Message | Type::Enum => "",
    }
}

/// A default value as written in source: strings quoted, bytes (already escaped in the
/// descriptor) quoted, enums, numbers and booleans bare.
fn default_text(proto: &FieldDescriptorProto, default: &str) -> String {
    match proto.r#type() {
        Type::String => quote(default.as_bytes()),
        Type::Bytes => format!("\"{default}\""),
        _ => default.to_owned(),
    }
}

/// protoc's JSON name for a field: lowerCamelCase of the name (underscores removed, the
/// letter after each capitalised).
pub(crate) fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `a to b, c` with inclusive ends; an end at `max` (the largest number there can be) is `max`.
fn ranges_text(ranges: &[(i32, i32)], max: i32) -> String {
    ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else if end >= max {
                format!("{start} to max")
            } else {
                format!("{start} to {end}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_lower_camel_case() {
        assert_eq!(default_json_name("renamed_field"), "renamedField");
        assert_eq!(default_json_name("name"), "name");
        assert_eq!(default_json_name("a_b_c"), "aBC");
    }

    #[test]
    fn ranges_use_to_and_max() {
        assert_eq!(
            ranges_text(&[(7, 8), (9, 9), (1000, MAX_FIELD_NUMBER)], MAX_FIELD_NUMBER),
            "7 to 8, 9, 1000 to max"
        );
    }
}
