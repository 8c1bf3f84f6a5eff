"""A gRPC Python interop server (grpc.testing.TestService), the third-party peer of
rpc's interop tests: `python interop_server.py --port 0 [--use_tls]`.

Prints `listening on PORT` once serving; serves until SIGINT or SIGTERM.

Like gRPC Python's own interop server, it cannot see whether a request arrived
compressed (the CompressedRequest feature): `expect_compressed` is not checked.
"""

import argparse
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


def payload(size):
    return messages_pb2.Payload(body=b"\0" * size)


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        echo_metadata(context)
        echo_status(request, context)
        if request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def CacheableUnaryCall(self, request, context):
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

    def StreamingOutputCall(self, request, context):
        echo_metadata(context)
        if any(p.compressed.value for p in request.response_parameters):
            context.set_compression(grpc.Compression.Gzip)
        yield from self._replies(request, context)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = sum(len(request.payload.body) for request in request_iterator)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request in request_iterator:
            yield from self._replies(request, context)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        requests = list(request_iterator)
        for request in requests:
            yield from self._replies(request, context)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--use_tls", nargs="?", const="true", default="false")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
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
