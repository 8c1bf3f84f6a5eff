//! The options set on an element (`deprecated = true`, custom `(my.option) = "x"`), as
//! `name = value` pairs in proto syntax, and C-style quoting of strings.

use prost_reflect::{DynamicMessage, Kind, MapKey, Value};

/// The options set in `options` (a `*Options` message): the standard ones by name, then
/// custom options (extensions) as `(.full.name)`, each group sorted by name. A repeated
/// option gives one pair per value. Options whose values the pool cannot describe are
/// left out.
pub(super) fn option_entries(options: &DynamicMessage) -> Vec<(String, String)> {
    let mut standard: Vec<(String, String)> = Vec::new();
    for (field, value) in options.fields() {
        if field.name() == "uninterpreted_option" {
            continue;
        }
        push_values(&mut standard, field.name().to_owned(), &field.kind(), value);
    }
    standard.sort_by(|a, b| a.0.cmp(&b.0));
    let mut custom: Vec<(String, String)> = Vec::new();
    for (extension, value) in options.extensions() {
        push_values(&mut custom, format!("(.{})", extension.full_name()), &extension.kind(), value);
    }
    custom.sort_by(|a, b| a.0.cmp(&b.0));
    standard.extend(custom);
    standard
}

fn push_values(entries: &mut Vec<(String, String)>, name: String, kind: &Kind, value: &Value) {
    match value {
        Value::List(items) => {
            for item in items {
                entries.push((name.clone(), value_text(kind, item)));
            }
        }
        other => entries.push((name, value_text(kind, other))),
    }
}

/// A value in proto (text format) syntax.
fn value_text(kind: &Kind, value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(x) => float_text(f64::from(*x)),
        Value::F64(x) => float_text(*x),
        Value::String(s) => quote(s.as_bytes()),
        Value::Bytes(b) => quote(b),
        Value::EnumNumber(n) => match kind.as_enum().and_then(|e| e.get_value(*n)) {
            Some(v) => v.name().to_owned(),
            None => n.to_string(),
        },
        Value::Message(m) => message_text(m),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|v| value_text(kind, v)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(entries) => {
            let mut items: Vec<(&MapKey, &Value)> = entries.iter().collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            let value_kind = kind
                .as_message()
                .map(|entry| entry.map_entry_value_field().kind())
                .unwrap_or_else(|| kind.clone());
            let items: Vec<String> = items
                .into_iter()
                .map(|(k, v)| format!("{{ key:{} value:{} }}", key_text(k), value_text(&value_kind, v)))
                .collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => quote(s.as_bytes()),
    }
}

/// A message value in compact text format: `{ name:value name:value }`.
fn message_text(message: &DynamicMessage) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (field, value) in message.fields() {
        let kind = field.kind();
        let name = if field.is_group() {
            kind.as_message().map_or_else(|| field.name().to_owned(), |m| m.name().to_owned())
        } else {
            field.name().to_owned()
        };
        match value {
            Value::List(items) => {
                for item in items {
                    parts.push(format!("{name}:{}", value_text(&kind, item)));
                }
            }
            other => parts.push(format!("{name}:{}", value_text(&kind, other))),
        }
    }
    for (extension, value) in message.extensions() {
        parts.push(format!("[{}]:{}", extension.full_name(), value_text(&extension.kind(), value)));
    }
    if parts.is_empty() {
        "{ }".to_owned()
    } else {
        format!("{{ {} }}", parts.join(" "))
    }
}

fn float_text(x: f64) -> String {
    if x.is_nan() {
        "nan".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".to_owned() } else { "-inf".to_owned() }
    } else {
        x.to_string()
    }
}

/// `bytes` as a double-quoted proto string literal: `\n`, `\r`, `\t`, `\"`, `\'`, `\\`
/// escaped, other bytes outside printable ASCII as three-digit octal.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_quotes_controls_and_non_ascii() {
        assert_eq!(quote(br#"hi "there""#), r#""hi \"there\"""#);
        assert_eq!(quote(b"a\nb\\"), r#""a\nb\\""#);
        assert_eq!(quote(&[1, 2, b'x', 0xff]), r#""\001\002x\377""#);
    }

    #[test]
    fn floats_use_proto_spellings() {
        assert_eq!(float_text(f64::INFINITY), "inf");
        assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
        assert_eq!(float_text(f64::NAN), "nan");
        assert_eq!(float_text(-1.5), "-1.5");
    }
}
