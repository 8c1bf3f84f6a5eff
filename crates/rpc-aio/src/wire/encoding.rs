//! Encoding messages on the thread that made them: a blocking handler's worker that pulls
//! its response iterator, or the thread that pulls a blocking client's request iterator.
//! Made on one thread and freed on another (the connection's, after encoding), each
//! message took the allocator's slow path on both: about a tenth of the blocking server's
//! CPU in 1 KiB server streaming. Encoded where it was made, a message is freed there, and
//! the connection gets the encoded messages side by side in a few shared buffers.

use super::frame::FrameEncoder;
use bytes::BytesMut;
use rpc_core::RpcError;
use rpc_core::codec::Encoder;
use std::any::Any;
use std::sync::Arc;

/// A hook run on each message before it is encoded (an interceptor's).
pub(crate) type MessageHook = Arc<dyn Fn(&mut (dyn Any + Send)) + Send + Sync>;

/// Runs `hooks` (outermost first) on `message`, innermost first.
#[inline]
pub(crate) fn run_hooks(hooks: &[MessageHook], message: &mut (dyn Any + Send)) {
    for hook in hooks.iter().rev() {
        hook(message);
    }
}

/// Messages smaller than this (encoded, with the frame prefix) are left to the connection
/// to encode: they cost it little, and with empty messages the connection then sent faster
/// than one thread produced, so on one core each message woke it (2.5 times the CPU).
const ENCODE_MIN: usize = 256;

/// Messages larger than this are left to the connection too: each needed a buffer of its
/// own (up to 128 KiB for a 64 KiB message, past glibc's threshold for mapping memory
/// afresh), and the blocking server streamed 64 KiB messages at 0.59-0.60 of tonic in the
/// full run of 2026-12-04 against 0.68-0.70 with the connection encoding them.
const ENCODE_MAX: usize = 16 * 1024;

/// Whether messages of `size` bytes (the last one's, encoded; 0 before the first) are
/// better encoded where they are made than by the connection.
pub(crate) fn encode_away(size: usize) -> bool {
    (ENCODE_MIN..=ENCODE_MAX).contains(&size)
}

/// How much room an encoding buffer takes at a time; the connection frees each once it
/// has sent what is in it.
const ENCODE_ROOM: usize = 64 * 1024;

/// The encoding of a stream's messages away from its connection: the connection's encoder
/// settings, the method's codec and the interceptors' hooks.
pub(crate) struct Encoding<T> {
    encoder: FrameEncoder,
    codec: Arc<dyn Encoder<T>>,
    hooks: Vec<MessageHook>,
    buf: BytesMut,
}

impl<T: Send + 'static> Encoding<T> {
    pub(crate) fn new(encoder: FrameEncoder, codec: Arc<dyn Encoder<T>>, hooks: Vec<MessageHook>) -> Encoding<T> {
        Encoding {
            encoder,
            codec,
            hooks,
            buf: BytesMut::new(),
        }
    }

    /// Runs the hooks (innermost first) and encodes `message` (`plain`: uncompressed); the
    /// encoded message shares a buffer with the ones before it.
    pub(crate) fn encode(&mut self, mut message: T, plain: bool) -> Result<BytesMut, RpcError> {
        run_hooks(&self.hooks, &mut message);
        if self.buf.capacity() == 0 {
            // When the room runs short meanwhile, `BytesMut` takes back the room of a
            // buffer the connection has let go, or makes new room of this size.
            self.buf = BytesMut::with_capacity(ENCODE_ROOM);
        }
        self.encoder.encode(&*self.codec, message, plain, &mut self.buf)?;
        Ok(self.buf.split())
    }
}
