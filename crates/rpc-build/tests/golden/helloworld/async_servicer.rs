//! Golden copy of the async servicer of what rpc-build generates for `proto/helloworld.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// A service that greets people.
///
/// The server side of `helloworld.Greeter`, with async handlers: implement the methods with `async fn`.
///
/// Register one with [`add_greeter_servicer_to_server`]. Methods left out answer UNIMPLEMENTED.
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
pub trait AsyncGreeterServicer: Send + Sync + 'static {
    /// Answers a greeting with a greeting of its own.
    ///
    /// Serves `/helloworld.Greeter/SayHello` (unary-unary). Unless overridden, it answers UNIMPLEMENTED.
    fn say_hello(
        &self,
        request: HelloRequest,
        context: &::rpc_core::codegen::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<HelloReply, ::rpc_core::codegen::Error>,
    > + Send {
        let _ = (request, context);
        async {
            ::core::result::Result::Err(
                ::rpc_core::codegen::Error::unimplemented("Method not implemented!"),
            )
        }
    }
}
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
impl<T: AsyncGreeterServicer> AsyncGreeterServicer for ::std::sync::Arc<T> {
    fn say_hello(
        &self,
        request: HelloRequest,
        context: &::rpc_core::codegen::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<HelloReply, ::rpc_core::codegen::Error>,
    > + Send {
        T::say_hello(self, request, context)
    }
}
