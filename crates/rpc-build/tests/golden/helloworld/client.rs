//! Golden copy of the client stub of what rpc-build generates for `proto/helloworld.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// A service that greets people.
///
/// A client stub for `helloworld.Greeter`. It is generic over the channel: with a blocking channel each
/// call returns its outcome, with an async channel it returns a call object to `.await`.
///
/// Each method makes the multi-callable of its method on the channel (`Channel::unary_unary`
/// and its siblings) and calls it: a stub call is a call of that multi-callable.
#[derive(Clone, Debug)]
pub struct GreeterStub<C> {
    channel: C,
}
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
impl<C: ::rpc_core::codegen::Channel> GreeterStub<C> {
    /// A stub that makes its calls on `channel`.
    pub fn new(channel: C) -> Self {
        Self { channel }
    }
    /// The channel the calls are made on.
    pub fn channel(&self) -> &C {
        &self.channel
    }
    /// The channel, consuming the stub.
    pub fn into_channel(self) -> C {
        self.channel
    }
    /// Answers a greeting with a greeting of its own.
    ///
    /// Calls `/helloworld.Greeter/SayHello` (unary-unary).
    pub fn say_hello(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<HelloRequest>,
    ) -> ::rpc_core::codegen::UnaryUnaryCall<C, HelloRequest, HelloReply> {
        ::rpc_core::codegen::UnaryUnaryCallable::call(
            &::rpc_core::codegen::Channel::unary_unary::<
                HelloRequest,
                HelloReply,
            >(&self.channel, &GREETER_SAY_HELLO),
            request.into_request(),
        )
    }
    /// Like [`Self::say_hello`], and also gives the finished call (its metadata and status).
    pub fn say_hello_with_call(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<HelloRequest>,
    ) -> ::rpc_core::codegen::UnaryUnaryWithCall<C, HelloRequest, HelloReply> {
        ::rpc_core::codegen::UnaryUnaryCallable::with_call(
            &::rpc_core::codegen::Channel::unary_unary::<
                HelloRequest,
                HelloReply,
            >(&self.channel, &GREETER_SAY_HELLO),
            request.into_request(),
        )
    }
    /// Like [`Self::say_hello`], but runs the call in the background and returns a handle on it.
    pub fn say_hello_future(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<HelloRequest>,
    ) -> ::rpc_core::codegen::UnaryUnaryFuture<C, HelloRequest, HelloReply> {
        ::rpc_core::codegen::UnaryUnaryCallable::future(
            &::rpc_core::codegen::Channel::unary_unary::<
                HelloRequest,
                HelloReply,
            >(&self.channel, &GREETER_SAY_HELLO),
            request.into_request(),
        )
    }
}
