"""A gRPC Python interop server (grpc.testing.TestService), the third-party peer of
rpc's interop tests: `python interop_server.py --port 0 [--use_tls] [--reflection]`.

Prints `listening on PORT` once serving; serves until SIGINT or SIGTERM.

It is as strict as gRPC's official interop servers about compressed requests (the
CompressedRequest feature): each request message's `expect_compressed` must match how that
message came. gRPC Python's own interop server cannot tell; this one runs its core with
`grpc.per_message_decompression` off, so messages reach the deserializers as they came over
the wire, and the deserializers decompress the gzip ones themselves and say which were.
"""

import argparse
import gzip
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

from interop_pb import messages_pb2, empty_pb2, test_pb2_grpc, read_testdata, parse_bool

ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"
CODES = {code.value[0]: code for code in grpc.StatusCode}


def echo_metadata(context):
    metadata = dict(context.invocation_metadata())
    if ECHO_INITIAL in metadata:
        context.send_initial_metadata(((ECHO_INITIAL, metadata[ECHO_INITIAL]),))
    if ECHO_TRAILING in metadata:
        context.set_trailing_metadata(((ECHO_TRAILING, metadata[ECHO_TRAILING]),))


def echo_status(request, context):
    status = request.response_status
    if request.HasField("response_status") and status.code != 0:
        context.abort(CODES.get(status.code, grpc.StatusCode.UNKNOWN), status.message)


GZIP_MAGIC = b"\x1f\x8b"


class Received:
    """A request message and whether it came compressed on the wire."""

    def __init__(self, message, compressed):
        self.message = message
        self.compressed = compressed


def deserializer(message_type):
    """Decodes one request as it came: gzip-compressed messages (the interop cases compress
    with gzip) are decompressed here, since the core hands them over untouched."""

    def deserialize(data):
        compressed = data[:2] == GZIP_MAGIC
        if compressed:
            data = gzip.decompress(data)
        return Received(message_type.FromString(data), compressed)

    return deserialize


def check_compressed(received, context):
    """INVALID_ARGUMENT unless the message came as its `expect_compressed` says."""
    request = received.message
    if not request.HasField("expect_compressed"):
        return
    if request.expect_compressed.value and not received.compressed:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Expected compressed request but it was not compressed")
    if not request.expect_compressed.value and received.compressed:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Expected uncompressed request but it was compressed")


def payload(size):
    return messages_pb2.Payload(body=b"\0" * size)


class TestService(test_pb2_grpc.TestServiceServicer):
    """Its methods take `Received` requests (see `deserializer`)."""

    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, received, context):
        request = received.message
        echo_metadata(context)
        check_compressed(received, context)
        echo_status(request, context)
        if request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def CacheableUnaryCall(self, received, context):
        echo_metadata(context)
        return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(body=str(time.time_ns()).encode()))

    def _replies(self, request, context):
        echo_status(request, context)
        for parameters in request.response_parameters:
            if parameters.interval_us:
                time.sleep(parameters.interval_us / 1e6)
            if parameters.HasField("compressed") and not parameters.compressed.value:
                context.disable_next_message_compression()
            yield messages_pb2.StreamingOutputCallResponse(payload=payload(parameters.size))

    def StreamingOutputCall(self, received, context):
        request = received.message
        echo_metadata(context)
        if any(p.compressed.value for p in request.response_parameters):
            context.set_compression(grpc.Compression.Gzip)
        yield from self._replies(request, context)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = 0
        for received in request_iterator:
            check_compressed(received, context)
            total += len(received.message.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for received in request_iterator:
            yield from self._replies(received.message, context)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        requests = [received.message for received in request_iterator]
        for request in requests:
            yield from self._replies(request, context)


def handlers(service):
    """The TestService's method handlers, with deserializers that see compressed messages."""
    m = messages_pb2
    unary = grpc.unary_unary_rpc_method_handler
    streaming_out = grpc.unary_stream_rpc_method_handler
    streaming_in = grpc.stream_unary_rpc_method_handler
    duplex = grpc.stream_stream_rpc_method_handler
    table = {
        "EmptyCall": unary(service.EmptyCall, deserializer(empty_pb2.Empty), empty_pb2.Empty.SerializeToString),
        "UnaryCall": unary(service.UnaryCall, deserializer(m.SimpleRequest), m.SimpleResponse.SerializeToString),
        "CacheableUnaryCall": unary(
            service.CacheableUnaryCall, deserializer(m.SimpleRequest), m.SimpleResponse.SerializeToString
        ),
        "StreamingOutputCall": streaming_out(
            service.StreamingOutputCall,
            deserializer(m.StreamingOutputCallRequest),
            m.StreamingOutputCallResponse.SerializeToString,
        ),
        "StreamingInputCall": streaming_in(
            service.StreamingInputCall,
            deserializer(m.StreamingInputCallRequest),
            m.StreamingInputCallResponse.SerializeToString,
        ),
        "FullDuplexCall": duplex(
            service.FullDuplexCall,
            deserializer(m.StreamingOutputCallRequest),
            m.StreamingOutputCallResponse.SerializeToString,
        ),
        "HalfDuplexCall": duplex(
            service.HalfDuplexCall,
            deserializer(m.StreamingOutputCallRequest),
            m.StreamingOutputCallResponse.SerializeToString,
        ),
    }
    return grpc.method_handlers_generic_handler("grpc.testing.TestService", table)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--use_tls", nargs="?", const="true", default="false")
    parser.add_argument(
        "--reflection",
        action="store_true",
        help="also serve server reflection (needs the grpcio-reflection package)",
    )
    args = parser.parse_args()

    # Messages reach the deserializers as they came, so each one's compression is visible.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16),
        handlers=[handlers(TestService())],
        options=[("grpc.per_message_decompression", 0)],
    )
    if args.reflection:
        from grpc_reflection.v1alpha import reflection

        reflection.enable_server_reflection(("grpc.testing.TestService", reflection.SERVICE_NAME), server)
    address = "127.0.0.1:%d" % args.port
    if parse_bool(args.use_tls):
        credentials = grpc.ssl_server_credentials(((read_testdata("server1.key"), read_testdata("server1.pem")),))
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    server.start()
    print("listening on %d (%s)" % (port, "tls" if parse_bool(args.use_tls) else "plaintext"), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.stop(1).wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
