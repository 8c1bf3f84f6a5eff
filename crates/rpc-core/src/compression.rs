//! `Compression`: the message compression algorithms a channel, server or call may use.

use std::fmt;

/// A message compression algorithm (`grpc-encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (the default).
    #[default]
    NoCompression,
    /// DEFLATE (`deflate`).
    Deflate,
    /// gzip (`gzip`).
    Gzip,
    /// Zstandard (`zstd`); an extra beyond gRPC Python's set.
    Zstd,
}

impl Compression {
    /// The `grpc-encoding` name, e.g. `"gzip"`; `"identity"` for no compression.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::NoCompression => "identity",
            Compression::Deflate => "deflate",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Parses a `grpc-encoding` name.
    pub fn from_name(name: &str) -> Option<Compression> {
        match name {
            "identity" => Some(Compression::NoCompression),
            "deflate" => Some(Compression::Deflate),
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
