//! How generated items are named: Rust-case conversions of proto names that always give
//! valid identifiers.

/// Rust's strict and reserved keywords, which need a raw identifier (`r#type`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum", "extern",
    "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers; they get a trailing underscore instead.
const NOT_RAW: &[&str] = &["crate", "self", "super", "Self"];

/// Splits a proto name (`SayHello`, `say_hello`, `HTTPGet`, `get2FA`) into lowercase words.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == '.' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_is_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `SayHello` -> `say_hello`, without keyword escaping (for use inside longer names).
pub(crate) fn snake(name: &str) -> String {
    words(name).join("_")
}

/// `SayHello` -> `SAY_HELLO`.
pub(crate) fn shouty(name: &str) -> String {
    snake(name).to_uppercase()
}

/// `say_hello` -> `SayHello`, without keyword escaping.
pub(crate) fn camel(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_uppercase().chain(cs).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// Makes a name usable as an identifier on its own: keywords become raw identifiers
/// (`r#type`), or get a trailing underscore where Rust allows no raw form (`self_`), and a
/// name starting with a digit gets a leading underscore.
pub(crate) fn ident(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() {
        format!("_{name}")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake("SayHello"), "say_hello");
        assert_eq!(snake("HTTPGet"), "http_get");
        assert_eq!(snake("get2FA"), "get2_fa");
        assert_eq!(snake("already_snake"), "already_snake");
        assert_eq!(shouty("RouteGuide"), "ROUTE_GUIDE");
        assert_eq!(camel("route_guide"), "RouteGuide");
        assert_eq!(camel("Health"), "Health");
    }

    #[test]
    fn keywords() {
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
        assert_eq!(ident("Self"), "Self_");
        assert_eq!(ident("say_hello"), "say_hello");
        assert_eq!(ident("2fa"), "_2fa");
    }
}
