//! Maps `rpc_core::Compression` to tonic's compression encodings.

use rpc_core::Compression;
use tonic::codec::CompressionEncoding;

/// The tonic encoding for a compression algorithm (`None` for no compression).
pub(crate) fn to_tonic(c: Compression) -> Option<CompressionEncoding> {
    match c {
        Compression::NoCompression => None,
        Compression::Deflate => Some(CompressionEncoding::Deflate),
        Compression::Gzip => Some(CompressionEncoding::Gzip),
        Compression::Zstd => Some(CompressionEncoding::Zstd),
    }
}
