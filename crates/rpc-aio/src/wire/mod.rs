//! The gRPC wire format, shared by the client and the server: message frames with a
//! compressed flag each ([`frame`]), the compression algorithms ([`compression`]), and
//! metadata and status as HTTP/2 headers ([`headers`], [`status`]). Nothing here knows
//! which side it serves.

pub(crate) mod compression;
pub(crate) mod count;
pub(crate) mod encoding;
pub(crate) mod frame;
pub(crate) mod headers;
pub(crate) mod status;
