//! Message compression: gzip, deflate (zlib) and zstd, applied to one message at a time,
//! and the `grpc-encoding` / `grpc-accept-encoding` negotiation.

use bytes::{BufMut, Bytes, BytesMut};
use rpc_core::Compression;
use std::io::{Read, Write};

/// What this library can decompress, for `grpc-accept-encoding` (identity is implied).
pub(crate) const ACCEPT_ENCODING: &str = "gzip,deflate,zstd";

/// Why a message could not be decompressed.
#[derive(Debug)]
pub(crate) enum DecompressError {
    /// It decompresses to more than the limit.
    TooLarge,
    /// The bytes are not valid for the algorithm.
    Corrupt(std::io::Error),
}

/// Appends `message` compressed with `compression` to `out`.
pub(crate) fn compress(compression: Compression, message: &[u8], out: &mut BytesMut) -> std::io::Result<()> {
    let mut writer = out.writer();
    match compression {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(&mut writer, flate2::Compression::default());
            e.write_all(message)?;
            e.finish()?;
        }
        Compression::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(&mut writer, flate2::Compression::default());
            e.write_all(message)?;
            e.finish()?;
        }
        Compression::Zstd => {
            let packed = zstd::bulk::compress(message, zstd::DEFAULT_COMPRESSION_LEVEL)?;
            writer.write_all(&packed)?;
        }
        Compression::NoCompression => writer.write_all(message)?,
    }
    Ok(())
}

/// Decompresses one message, refusing to produce more than `limit` bytes (so a small
/// "zip bomb" cannot exhaust memory).
pub(crate) fn decompress(compression: Compression, data: &[u8], limit: usize) -> Result<Bytes, DecompressError> {
    let cap = (limit as u64).saturating_add(1);
    let mut out = Vec::new();
    let read = match compression {
        Compression::Gzip => flate2::read::GzDecoder::new(data).take(cap).read_to_end(&mut out),
        Compression::Deflate => flate2::read::ZlibDecoder::new(data).take(cap).read_to_end(&mut out),
        Compression::Zstd => zstd::stream::read::Decoder::new(data).and_then(|d| d.take(cap).read_to_end(&mut out)),
        Compression::NoCompression => {
            out.extend_from_slice(data);
            Ok(out.len())
        }
    };
    read.map_err(DecompressError::Corrupt)?;
    if out.len() > limit {
        return Err(DecompressError::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// The compression to use for messages to a peer that sent `accepted`
/// (`grpc-accept-encoding`), when `chosen` is wanted: `None` if it is not accepted (then
/// messages go uncompressed).
pub(crate) fn negotiate(chosen: Compression, accepted: Option<&http::HeaderValue>) -> Option<Compression> {
    if chosen == Compression::NoCompression {
        return None;
    }
    let name = chosen.name();
    let accepted = accepted?.to_str().ok()?;
    accepted.split(',').any(|a| a.trim() == name).then_some(chosen)
}

/// The algorithm named by a `grpc-encoding` header: `Ok(None)` for none or `identity`,
/// `Err(name)` for one this library does not know.
pub(crate) fn from_header(value: Option<&http::HeaderValue>) -> Result<Option<Compression>, String> {
    let Some(value) = value else { return Ok(None) };
    let name = value.to_str().unwrap_or("(not text)").trim();
    match Compression::from_name(name) {
        Some(Compression::NoCompression) => Ok(None),
        Some(c) => Ok(Some(c)),
        None => Err(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips_and_the_limit_holds() {
        let message = b"hello hello hello hello hello".repeat(20);
        for c in [
            Compression::Gzip,
            Compression::Deflate,
            Compression::Zstd,
            Compression::NoCompression,
        ] {
            let mut packed = BytesMut::new();
            compress(c, &message, &mut packed).unwrap();
            assert_eq!(decompress(c, &packed, message.len()).unwrap(), message[..], "{c}");
            assert!(
                matches!(decompress(c, &packed, message.len() - 1), Err(DecompressError::TooLarge)),
                "{c}"
            );
        }
        assert!(matches!(
            decompress(Compression::Gzip, b"not gzip", 100),
            Err(DecompressError::Corrupt(_))
        ));
    }

    #[test]
    fn a_small_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 8 << 20];
        let mut packed = BytesMut::new();
        compress(Compression::Gzip, &zeros, &mut packed).unwrap();
        assert!(packed.len() < 64 << 10);
        assert!(matches!(
            decompress(Compression::Gzip, &packed, 4 << 20),
            Err(DecompressError::TooLarge)
        ));
    }

    #[test]
    fn negotiates_only_what_the_peer_accepts() {
        assert_eq!(negotiate(Compression::Gzip, None), None);
        let h = http::HeaderValue::from_static("identity, deflate,gzip");
        assert_eq!(negotiate(Compression::Gzip, Some(&h)), Some(Compression::Gzip));
        assert_eq!(negotiate(Compression::Zstd, Some(&h)), None);
        assert_eq!(negotiate(Compression::NoCompression, Some(&h)), None);
    }

    #[test]
    fn reads_the_encoding_header() {
        assert_eq!(from_header(None), Ok(None));
        assert_eq!(from_header(Some(&http::HeaderValue::from_static("identity"))), Ok(None));
        assert_eq!(
            from_header(Some(&http::HeaderValue::from_static("gzip"))),
            Ok(Some(Compression::Gzip))
        );
        assert_eq!(
            from_header(Some(&http::HeaderValue::from_static("snappy"))),
            Err("snappy".to_owned())
        );
    }
}
