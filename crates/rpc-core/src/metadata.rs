//! `Metadata`: the ordered multimap of gRPC headers and trailers, with validation of keys and values.

use bytes::Bytes;
use std::fmt;

/// Header names that the HTTP/2 transport owns; applications may not send them as metadata.
const TRANSPORT_KEYS: &[&str] = &[
    "content-type",
    "te",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Why a metadata key or value was refused.
///
/// Every variant names the offending key, so the message alone says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The key is the empty string.
    #[error("metadata key is empty")]
    EmptyKey,
    /// The key has an upper-case ASCII letter (gRPC keys are lower-case).
    #[error("metadata key {key:?} has an upper-case letter; keys must be lower-case")]
    UppercaseKey {
        /// The refused key.
        key: String,
    },
    /// The key has a character outside `0-9 a-z _ . -`.
    #[error("metadata key {key:?} has the character {ch:?}; keys may hold only 0-9, a-z, '_', '.' and '-'")]
    InvalidKeyCharacter {
        /// The refused key.
        key: String,
        /// The first character that is not allowed.
        ch: char,
    },
    /// The key starts with `grpc-`, which gRPC reserves for itself.
    #[error("metadata key {key:?} is reserved: keys starting with \"grpc-\" belong to gRPC")]
    ReservedKey {
        /// The refused key.
        key: String,
    },
    /// The key is a header that the HTTP/2 transport sets itself.
    #[error("metadata key {key:?} is reserved for the HTTP/2 transport")]
    TransportKey {
        /// The refused key.
        key: String,
    },
    /// A text value holds a byte outside printable ASCII (0x20..=0x7e).
    #[error(
        "metadata value for {key:?} has byte {byte:#04x} at index {index}; text values must be printable ASCII (use a -bin key for binary data)"
    )]
    InvalidTextValue {
        /// The key the value was for.
        key: String,
        /// The first byte that is not allowed.
        byte: u8,
        /// Its index in the value.
        index: usize,
    },
    /// A text value was given for a `-bin` key.
    #[error("metadata key {key:?} ends in -bin and takes a binary value, not text")]
    TextValueForBinaryKey {
        /// The refused key.
        key: String,
    },
    /// A binary value was given for a key that does not end in `-bin`.
    #[error("metadata key {key:?} takes a text value; binary values need a key ending in -bin")]
    BinaryValueForTextKey {
        /// The refused key.
        key: String,
    },
}

/// One metadata value: text for ordinary keys, bytes for `-bin` keys.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum MetadataValue {
    /// A printable-ASCII value, for keys that do not end in `-bin`.
    Text(String),
    /// Arbitrary bytes, for keys that end in `-bin` (base64 on the wire).
    Binary(Bytes),
}

impl MetadataValue {
    /// The value as text, if it is a text value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::Text(s) => Some(s),
            MetadataValue::Binary(_) => None,
        }
    }

    /// The value's bytes (the text's bytes for a text value).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            MetadataValue::Text(s) => s.as_bytes(),
            MetadataValue::Binary(b) => b,
        }
    }

    /// Whether this is a binary value.
    pub fn is_binary(&self) -> bool {
        matches!(self, MetadataValue::Binary(_))
    }
}

impl fmt::Debug for MetadataValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataValue::Text(s) => fmt::Debug::fmt(s, f),
            MetadataValue::Binary(b) => write!(f, "b{:?}", b),
        }
    }
}

impl From<&str> for MetadataValue {
    fn from(s: &str) -> Self {
        MetadataValue::Text(s.to_owned())
    }
}
impl From<String> for MetadataValue {
    fn from(s: String) -> Self {
        MetadataValue::Text(s)
    }
}
impl From<&String> for MetadataValue {
    fn from(s: &String) -> Self {
        MetadataValue::Text(s.clone())
    }
}
impl From<Bytes> for MetadataValue {
    fn from(b: Bytes) -> Self {
        MetadataValue::Binary(b)
    }
}
impl From<Vec<u8>> for MetadataValue {
    fn from(b: Vec<u8>) -> Self {
        MetadataValue::Binary(b.into())
    }
}
impl From<&[u8]> for MetadataValue {
    fn from(b: &[u8]) -> Self {
        MetadataValue::Binary(Bytes::copy_from_slice(b))
    }
}
impl<const N: usize> From<&[u8; N]> for MetadataValue {
    fn from(b: &[u8; N]) -> Self {
        MetadataValue::Binary(Bytes::copy_from_slice(b))
    }
}

/// Checks a metadata key: lower-case `[0-9a-z_.-]`, not reserved.
pub fn validate_key(key: &str) -> Result<(), MetadataError> {
    if key.is_empty() {
        return Err(MetadataError::EmptyKey);
    }
    if let Some(ch) = key.chars().find(|c| !is_key_char(*c)) {
        return Err(if ch.is_ascii_uppercase() {
            MetadataError::UppercaseKey { key: key.to_owned() }
        } else {
            MetadataError::InvalidKeyCharacter { key: key.to_owned(), ch }
        });
    }
    if key.starts_with("grpc-") && key != RETRY_PUSHBACK_KEY {
        return Err(MetadataError::ReservedKey { key: key.to_owned() });
    }
    if TRANSPORT_KEYS.contains(&key) {
        return Err(MetadataError::TransportKey { key: key.to_owned() });
    }
    Ok(())
}

fn is_key_char(c: char) -> bool {
    matches!(c, '0'..='9' | 'a'..='z' | '_' | '.' | '-')
}

/// Checks that `value` suits `key` (binary for `-bin` keys, printable ASCII otherwise).
pub fn validate_value(key: &str, value: &MetadataValue) -> Result<(), MetadataError> {
    let binary_key = key.ends_with("-bin");
    match value {
        MetadataValue::Text(_) if binary_key => Err(MetadataError::TextValueForBinaryKey { key: key.to_owned() }),
        MetadataValue::Binary(_) if !binary_key => Err(MetadataError::BinaryValueForTextKey { key: key.to_owned() }),
        MetadataValue::Text(s) => match s.bytes().enumerate().find(|(_, b)| !(0x20..=0x7e).contains(b)) {
            Some((index, byte)) => Err(MetadataError::InvalidTextValue {
                key: key.to_owned(),
                byte,
                index,
            }),
            None => Ok(()),
        },
        MetadataValue::Binary(_) => Ok(()),
    }
}

/// An ordered multimap of metadata: the headers or trailers of a call.
///
/// Order is kept, repeated keys are kept, and every key and value is
/// validated when it is added: an invalid one is an error at that call.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: Vec<(String, MetadataValue)>,
}

impl Metadata {
    /// An empty map.
    pub fn new() -> Self {
        Metadata::default()
    }

    /// Builds a map from `(key, value)` pairs, validating each.
    pub fn from_pairs<K, V, I>(pairs: I) -> Result<Self, MetadataError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<MetadataValue>,
    {
        let mut md = Metadata::new();
        for (k, v) in pairs {
            md.add(k.as_ref(), v)?;
        }
        Ok(md)
    }

    /// Appends a value for `key`, keeping any values already there.
    pub fn add(&mut self, key: &str, value: impl Into<MetadataValue>) -> Result<(), MetadataError> {
        let value = value.into();
        validate_key(key)?;
        validate_value(key, &value)?;
        self.entries.push((key.to_owned(), value));
        Ok(())
    }

    /// Builder form of [`Metadata::add`].
    pub fn with(mut self, key: &str, value: impl Into<MetadataValue>) -> Result<Self, MetadataError> {
        self.add(key, value)?;
        Ok(self)
    }

    /// Replaces every value of `key` with `values` (validated before anything changes).
    pub fn set_all<V, I>(&mut self, key: &str, values: I) -> Result<(), MetadataError>
    where
        I: IntoIterator<Item = V>,
        V: Into<MetadataValue>,
    {
        validate_key(key)?;
        let values: Vec<MetadataValue> = values.into_iter().map(Into::into).collect();
        for v in &values {
            validate_value(key, v)?;
        }
        self.entries.retain(|(k, _)| k != key);
        self.entries.extend(values.into_iter().map(|v| (key.to_owned(), v)));
        Ok(())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The first value of `key` as text.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(MetadataValue::as_str)
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a MetadataValue> + 'a {
        self.entries.iter().filter(move |(k, _)| k == key).map(|(_, v)| v)
    }

    /// Removes every value of `key`; returns how many were removed.
    pub fn remove(&mut self, key: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != key);
        before - self.entries.len()
    }

    /// Whether `key` has at least one value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Number of entries (a key with two values counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &MetadataValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Appends every entry of `other` (already valid, so this cannot fail).
    pub fn extend(&mut self, other: Metadata) {
        self.entries.extend(other.entries);
    }

    /// Appends an entry without validating it: for the engine, which reads metadata off
    /// the wire where HTTP/2 has already checked the header's syntax (gRPC's key rules are
    /// stricter than what peers may send, and a received entry is kept, not refused).
    #[doc(hidden)]
    pub fn push_received(&mut self, key: String, value: MetadataValue) {
        self.entries.push((key, value));
    }

    /// A map with room for `n` entries.
    #[doc(hidden)]
    pub fn with_capacity(n: usize) -> Metadata {
        Metadata {
            entries: Vec::with_capacity(n),
        }
    }
}

/// The trailing metadata key a server sets to push back on retries (gRFC A6): the
/// milliseconds to wait before retrying, or a negative number for "do not retry". The one
/// `grpc-` key applications may set.
pub const RETRY_PUSHBACK_KEY: &str = "grpc-retry-pushback-ms";

/// The request header that counts the attempts before this one (gRFC A6); servers see it
/// in the invocation metadata.
pub const PREVIOUS_ATTEMPTS_KEY: &str = "grpc-previous-rpc-attempts";

/// Whether a received header belongs to the protocol rather than to the application (the
/// retry keys of gRFC A6 belong to the application: it sees them).
pub fn is_protocol_key(key: &str) -> bool {
    (key.starts_with("grpc-") && key != RETRY_PUSHBACK_KEY && key != PREVIOUS_ATTEMPTS_KEY)
        || key.starts_with(':')
        || TRANSPORT_KEYS.contains(&key)
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'a str, &'a MetadataValue);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a MetadataValue)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}
