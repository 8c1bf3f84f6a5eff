"""A gRPC Python interop client, the third-party peer of rpc's interop tests:
`python interop_client.py --server_port 8080 [--use_tls --use_test_ca] --test_case all`.

Prints one line per case and `N passed, M failed`; exits non-zero if any case failed.
The cases follow gRPC's interop test descriptions (as rpc's clients do). gRPC Python
cannot compress single messages of a call, so client_compressed_streaming compresses
the whole call, as rpc's clients do.
"""

import argparse
import os
import queue
import sys

import grpc

from interop_pb import messages_pb2, empty_pb2, test_pb2_grpc, read_testdata, parse_bool

ALL = [
    "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
    "status_code_and_message", "special_status_message", "custom_metadata", "unimplemented_method",
    "unimplemented_service", "cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server",
    "client_compressed_unary", "server_compressed_unary", "client_compressed_streaming", "server_compressed_streaming",
]
TIMEOUT = 20
ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"


class Failure(Exception):
    pass


def ensure(condition, why):
    if not condition:
        raise Failure(why)


def payload(size):
    return messages_pb2.Payload(body=b"\0" * size)


def check_payload(p, size):
    ensure(len(p.body) == size, "expected a payload of %d bytes, got %d" % (size, len(p.body)))
    ensure(p.body == b"\0" * size, "the payload is not all zeros")


def expect_error(call, code, details=None):
    try:
        result = call()
    except grpc.RpcError as e:
        ensure(e.code() == code, "expected %s, got %s: %r" % (code, e.code(), e.details()))
        if details is not None:
            ensure(e.details() == details, "expected details %r, got %r" % (details, e.details()))
        return
    raise Failure("expected %s, the call succeeded with %.120r" % (code, result))


class Pipe:
    """Requests written one at a time into a streaming call."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is Pipe._END:
            raise StopIteration()
        return item

    def add(self, request):
        self._queue.put(request)

    def close(self):
        self._queue.put(Pipe._END)


def large_request(**extra):
    return messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828), **extra)


def duplex_request(response_size, payload_size):
    return messages_pb2.StreamingOutputCallRequest(
        response_parameters=(messages_pb2.ResponseParameters(size=response_size),), payload=payload(payload_size)
    )


def status_request(cls, message):
    return cls(response_status=messages_pb2.EchoStatus(code=2, message=message))


def check_echoed(initial, trailing):
    ensure(ECHO_INITIAL in list(initial), "initial metadata %r" % (initial,))
    ensure(ECHO_TRAILING in list(trailing), "trailing metadata %r" % (trailing,))


class Client:
    def __init__(self, channel):
        self.stub = test_pb2_grpc.TestServiceStub(channel)
        self.unimplemented = test_pb2_grpc.UnimplementedServiceStub(channel)

    def empty_unary(self):
        ensure(self.stub.EmptyCall(empty_pb2.Empty(), timeout=TIMEOUT) == empty_pb2.Empty(), "non-empty response")

    def large_unary(self):
        check_payload(self.stub.UnaryCall(large_request(), timeout=TIMEOUT).payload, 314159)

    def client_streaming(self):
        requests = [messages_pb2.StreamingInputCallRequest(payload=payload(n)) for n in (27182, 8, 1828, 45904)]
        response = self.stub.StreamingInputCall(iter(requests), timeout=TIMEOUT)
        ensure(response.aggregated_payload_size == 74922, "aggregated %d" % response.aggregated_payload_size)

    def _check_stream(self, responses, sizes):
        responses = list(responses)
        ensure(len(responses) == len(sizes), "expected %d responses, got %d" % (len(sizes), len(responses)))
        for response, size in zip(responses, sizes):
            check_payload(response.payload, size)

    def server_streaming(self):
        sizes = (31415, 9, 2653, 58979)
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=n) for n in sizes]
        )
        self._check_stream(self.stub.StreamingOutputCall(request, timeout=TIMEOUT), sizes)

    def ping_pong(self):
        pipe = Pipe()
        call = self.stub.FullDuplexCall(pipe, timeout=TIMEOUT)
        try:
            for response_size, payload_size in zip((31415, 9, 2653, 58979), (27182, 8, 1828, 45904)):
                pipe.add(duplex_request(response_size, payload_size))
                check_payload(next(call).payload, response_size)
        finally:
            pipe.close()
        ensure(next(call, None) is None, "a response after the last round")

    def empty_stream(self):
        ensure(list(self.stub.FullDuplexCall(iter([]), timeout=TIMEOUT)) == [], "expected no response")

    def _status(self, message):
        request = status_request(messages_pb2.SimpleRequest, message)
        expect_error(lambda: self.stub.UnaryCall(request, timeout=TIMEOUT), grpc.StatusCode.UNKNOWN, message)
        request = status_request(messages_pb2.StreamingOutputCallRequest, message)
        call = self.stub.FullDuplexCall(iter([request]), timeout=TIMEOUT)
        expect_error(lambda: list(call), grpc.StatusCode.UNKNOWN, message)

    def status_code_and_message(self):
        self._status("test status message")

    def special_status_message(self):
        request = status_request(messages_pb2.SimpleRequest, SPECIAL)
        expect_error(lambda: self.stub.UnaryCall(request, timeout=TIMEOUT), grpc.StatusCode.UNKNOWN, SPECIAL)

    def custom_metadata(self):
        metadata = (ECHO_INITIAL, ECHO_TRAILING)
        response, call = self.stub.UnaryCall.with_call(large_request(), metadata=metadata, timeout=TIMEOUT)
        check_payload(response.payload, 314159)
        check_echoed(call.initial_metadata(), call.trailing_metadata())
        call = self.stub.FullDuplexCall(iter([duplex_request(314159, 271828)]), metadata=metadata, timeout=TIMEOUT)
        self._check_stream(call, (314159,))
        check_echoed(call.initial_metadata(), call.trailing_metadata())

    def unimplemented_method(self):
        expect_error(lambda: self.stub.UnimplementedCall(empty_pb2.Empty(), timeout=TIMEOUT), grpc.StatusCode.UNIMPLEMENTED)

    def unimplemented_service(self):
        call = lambda: self.unimplemented.UnimplementedCall(empty_pb2.Empty(), timeout=TIMEOUT)
        expect_error(call, grpc.StatusCode.UNIMPLEMENTED)

    def cancel_after_begin(self):
        pipe = Pipe()
        future = self.stub.StreamingInputCall.future(pipe, timeout=TIMEOUT)
        future.cancel()
        pipe.close()
        ensure(future.cancelled(), "the future is not cancelled")
        ensure(future.code() == grpc.StatusCode.CANCELLED, "the call reports %s" % future.code())

    def cancel_after_first_response(self):
        pipe = Pipe()
        call = self.stub.FullDuplexCall(pipe, timeout=TIMEOUT)
        pipe.add(duplex_request(31415, 27182))
        check_payload(next(call).payload, 31415)
        call.cancel()
        expect_error(lambda: next(call), grpc.StatusCode.CANCELLED)
        pipe.close()

    def timeout_on_sleeping_server(self):
        pipe = Pipe()
        call = self.stub.FullDuplexCall(pipe, timeout=0.001)
        pipe.add(messages_pb2.StreamingOutputCallRequest(payload=payload(27182)))
        expect_error(lambda: next(call), grpc.StatusCode.DEADLINE_EXCEEDED)
        pipe.close()

    def client_compressed_unary(self):
        probe = large_request(expect_compressed=messages_pb2.BoolValue(value=True))
        expect_error(lambda: self.stub.UnaryCall(probe, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT)
        for compressed in (True, False):
            request = large_request(expect_compressed=messages_pb2.BoolValue(value=compressed))
            compression = grpc.Compression.Gzip if compressed else grpc.Compression.NoCompression
            check_payload(self.stub.UnaryCall(request, compression=compression, timeout=TIMEOUT).payload, 314159)

    def server_compressed_unary(self):
        for compressed in (True, False):
            request = large_request(response_compressed=messages_pb2.BoolValue(value=compressed))
            check_payload(self.stub.UnaryCall(request, timeout=TIMEOUT).payload, 314159)

    def client_compressed_streaming(self):
        def message(expect, size):
            return messages_pb2.StreamingInputCallRequest(
                payload=payload(size), expect_compressed=messages_pb2.BoolValue(value=expect)
            )

        probe = lambda: self.stub.StreamingInputCall(iter([message(True, 27182)]), timeout=TIMEOUT)
        expect_error(probe, grpc.StatusCode.INVALID_ARGUMENT)
        # gRPC Python has no per-message write flags, but its core sends a message uncompressed
        # when compressing would not make it smaller: random bytes do not shrink, so the second
        # message (whose size is all the server checks) goes out uncompressed, as the case wants.
        incompressible = message(False, 0)
        incompressible.payload.body = os.urandom(45904)
        requests = iter([message(True, 27182), incompressible])
        response = self.stub.StreamingInputCall(requests, compression=grpc.Compression.Gzip, timeout=TIMEOUT)
        ensure(response.aggregated_payload_size == 73086, "aggregated %d" % response.aggregated_payload_size)

    def server_compressed_streaming(self):
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[
                messages_pb2.ResponseParameters(size=31415, compressed=messages_pb2.BoolValue(value=True)),
                messages_pb2.ResponseParameters(size=92653, compressed=messages_pb2.BoolValue(value=False)),
            ]
        )
        self._check_stream(self.stub.StreamingOutputCall(request, timeout=TIMEOUT), (31415, 92653))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server_host", default="127.0.0.1")
    parser.add_argument("--server_port", type=int, default=8080)
    parser.add_argument("--server_host_override", default="foo.test.google.fr")
    parser.add_argument("--use_tls", nargs="?", const="true", default="false")
    parser.add_argument("--use_test_ca", nargs="?", const="true", default="false")
    parser.add_argument("--test_case", default="large_unary")
    args = parser.parse_args()

    names = ALL if args.test_case == "all" else [n.strip() for n in args.test_case.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown or not names:
        print("unknown test case(s): %r" % unknown, file=sys.stderr)
        return 1
    target = "%s:%d" % (args.server_host, args.server_port)
    # Loopback peers: never through an HTTP proxy the environment may name.
    options = [("grpc.enable_http_proxy", 0)]
    if parse_bool(args.use_tls):
        roots = read_testdata("ca.pem") if parse_bool(args.use_test_ca) else None
        options.append(("grpc.ssl_target_name_override", args.server_host_override))
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(roots), options)
    else:
        channel = grpc.insecure_channel(target, options)
    client = Client(channel)
    passed = failed = 0
    for name in names:
        try:
            getattr(client, name)()
            passed += 1
            print("PASS " + name, flush=True)
        except Exception as e:  # a case fails on any error; the run goes on
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, str(e).replace("\n", " ")), flush=True)
    channel.close()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
