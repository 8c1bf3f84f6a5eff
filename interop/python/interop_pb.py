"""The grpc.testing messages and stubs, generated at run time from proto/grpc/testing with
grpcio-tools (so nothing generated is checked in), plus the paths the peers share.

The protos are copied under the import prefix `rpcinterop/` first, because modules
generated for `grpc/testing/*.proto` would be named `grpc.testing...` and clash with the
installed `grpc` package. Only the Python module names change: the proto package, service
and message names on the wire stay `grpc.testing.*`.
"""

import atexit
import importlib
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto", "grpc", "testing"))
TESTDATA = os.path.normpath(os.path.join(HERE, "..", "testdata"))
PROTOS = ("empty.proto", "messages.proto", "test.proto")


def _generate():
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="rpc-interop-pb-")
    atexit.register(shutil.rmtree, out, True)
    package_dir = os.path.join(out, "rpcinterop", "grpc", "testing")
    os.makedirs(package_dir)
    for name in PROTOS:
        with open(os.path.join(PROTO_DIR, name), encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r'import "grpc/testing/', 'import "rpcinterop/grpc/testing/', text)
        with open(os.path.join(package_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["grpc_tools.protoc", "-I" + out, "-I" + well_known, "--python_out=" + out, "--grpc_python_out=" + out]
    args += ["rpcinterop/grpc/testing/" + name for name in PROTOS]
    if protoc.main(args) != 0:
        raise SystemExit("grpc_tools.protoc could not compile " + PROTO_DIR)
    sys.path.insert(0, out)


_generate()
empty_pb2 = importlib.import_module("rpcinterop.grpc.testing.empty_pb2")
messages_pb2 = importlib.import_module("rpcinterop.grpc.testing.messages_pb2")
# The service's own descriptor (test_pb2_grpc imports only the message modules): loaded so
# the default descriptor pool, which server reflection serves from, has the service.
test_pb2 = importlib.import_module("rpcinterop.grpc.testing.test_pb2")
test_pb2_grpc = importlib.import_module("rpcinterop.grpc.testing.test_pb2_grpc")


def read_testdata(name):
    """The bytes of a file in interop/testdata (test-only TLS material)."""
    with open(os.path.join(TESTDATA, name), "rb") as f:
        return f.read()


def parse_bool(value):
    """gRPC's boolean flag forms: `--flag`, `--flag=true`, `--flag=false`."""
    return str(value).lower() in ("", "1", "true", "yes")
