// Command grpc_go_server is the grpc-go side of the rpc benchmark: it serves
// /bench.Bench/Call, the unary method h2load posts to, and echoes the request
// message as the Rust servers of the harness do.
//
// It builds in GOPATH mode against Debian's golang-google-grpc-dev, with no
// generated code: the service is registered by hand with a grpc.ServiceDesc,
// and a codec that passes message bytes through (the echoed bytes of a
// bench.Payload are a bench.Payload), so neither protoc nor the protobuf
// runtime's generated types are needed.
//
// Usage:
//
//	grpc_go_server [-port N] [-procs N]
//
// It listens on 127.0.0.1 (port 0 picks one), prints "port N" and what it runs
// on one line of standard output, and serves until its standard input closes
// (so it never outlives the harness that started it) or it is killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"runtime"

	"google.golang.org/grpc"
)

// rawCodec hands message bytes to the handler and back without decoding them.
// It satisfies both grpc.Codec (String), which grpc.CustomCodec takes in the
// grpc-go of Debian 12 (1.33), and encoding.Codec (Name).
type rawCodec struct{}

// Marshal returns the bytes a *[]byte points to.
func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	p, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return *p, nil
}

// Unmarshal copies data into the *[]byte v (grpc-go may reuse its buffer).
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

// Name is the codec's name (encoding.Codec).
func (rawCodec) Name() string { return "raw" }

// String is the codec's name (grpc.Codec).
func (rawCodec) String() string { return "raw" }

// benchServer is what the hand-written service descriptor dispatches to.
type benchServer interface {
	// Call answers one unary call with its response message.
	Call(ctx context.Context, request []byte) ([]byte, error)
}

// echo answers Call with its request, as the tonic, rpc-aio and rpc-sync
// servers of the harness do.
type echo struct{}

func (echo) Call(_ context.Context, request []byte) ([]byte, error) {
	return request, nil
}

// callHandler decodes the request with the server's codec, runs the
// interceptor chain if any, and calls benchServer.Call.
func callHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	var request []byte
	if err := dec(&request); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, req interface{}) (interface{}, error) {
		response, err := srv.(benchServer).Call(ctx, *req.(*[]byte))
		if err != nil {
			return nil, err
		}
		return &response, nil
	}
	if interceptor == nil {
		return call(ctx, &request)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/bench.Bench/Call"}
	return interceptor(ctx, &request, info, call)
}

// benchDesc is bench.Bench of proto/bench.proto, reduced to its unary method.
var benchDesc = grpc.ServiceDesc{
	ServiceName: "bench.Bench",
	HandlerType: (*benchServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Call", Handler: callHandler}},
	Streams:     []grpc.StreamDesc{},
	Metadata:    "proto/bench.proto",
}

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0 picks a free one)")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0 keeps Go's default: the CPUs this process may run on)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}

	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc_go_server:", err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.CustomCodec(rawCodec{}))
	server.RegisterService(&benchDesc, echo{})

	fmt.Printf("port %d grpc-go %s, %s, GOMAXPROCS %d\n",
		lis.Addr().(*net.TCPAddr).Port, grpc.Version, runtime.Version(), runtime.GOMAXPROCS(0))
	os.Stdout.Sync()

	go func() {
		_, _ = io.Copy(ioutil.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := server.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "grpc_go_server:", err)
		os.Exit(1)
	}
}
