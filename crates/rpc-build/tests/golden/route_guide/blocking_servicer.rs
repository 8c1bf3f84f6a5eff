//! Golden copy of the blocking servicer of what rpc-build generates for `proto/route_guide.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// Looks up features on a map and records routes travelled across it.
///
/// The server side of `routeguide.RouteGuide`, with blocking handlers (run on worker threads).
///
/// Register one with [`add_route_guide_servicer_to_server`]. Methods left out answer UNIMPLEMENTED.
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
pub trait RouteGuideServicer: Send + Sync + 'static {
    /// Returns the feature at a point, or a feature with an empty name when there is none.
    ///
    /// Serves `/routeguide.RouteGuide/GetFeature` (unary-unary). Unless overridden, it answers UNIMPLEMENTED.
    fn get_feature(
        &self,
        request: Point,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<Feature, ::rpc_core::codegen::Error> {
        let _ = (request, context);
        ::core::result::Result::Err(
            ::rpc_core::codegen::Error::unimplemented("Method not implemented!"),
        )
    }
    /// Streams every feature found inside a rectangle.
    ///
    /// Serves `/routeguide.RouteGuide/ListFeatures` (unary-stream). Unless overridden, it answers UNIMPLEMENTED.
    fn list_features(
        &self,
        request: Rectangle,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<
        ::rpc_core::codegen::RespIter<Feature>,
        ::rpc_core::codegen::Error,
    > {
        let _ = (request, context);
        ::core::result::Result::Err(
            ::rpc_core::codegen::Error::unimplemented("Method not implemented!"),
        )
    }
    /// Takes the points of a route as they are travelled and summarises the trip at the end.
    ///
    /// Serves `/routeguide.RouteGuide/RecordRoute` (stream-unary). Unless overridden, it answers UNIMPLEMENTED.
    fn record_route(
        &self,
        requests: ::rpc_core::codegen::ReqIter<Point>,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<RouteSummary, ::rpc_core::codegen::Error> {
        let _ = (requests, context);
        ::core::result::Result::Err(
            ::rpc_core::codegen::Error::unimplemented("Method not implemented!"),
        )
    }
    /// Exchanges notes while travelling: each note sent gets back the notes left earlier at
    /// the same point.
    ///
    /// Serves `/routeguide.RouteGuide/RouteChat` (stream-stream). Unless overridden, it answers UNIMPLEMENTED.
    fn route_chat(
        &self,
        requests: ::rpc_core::codegen::ReqIter<RouteNote>,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<
        ::rpc_core::codegen::RespIter<RouteNote>,
        ::rpc_core::codegen::Error,
    > {
        let _ = (requests, context);
        ::core::result::Result::Err(
            ::rpc_core::codegen::Error::unimplemented("Method not implemented!"),
        )
    }
}
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
impl<T: RouteGuideServicer + ?Sized> RouteGuideServicer for ::std::sync::Arc<T> {
    fn get_feature(
        &self,
        request: Point,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<Feature, ::rpc_core::codegen::Error> {
        (**self).get_feature(request, context)
    }
    fn list_features(
        &self,
        request: Rectangle,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<
        ::rpc_core::codegen::RespIter<Feature>,
        ::rpc_core::codegen::Error,
    > {
        (**self).list_features(request, context)
    }
    fn record_route(
        &self,
        requests: ::rpc_core::codegen::ReqIter<Point>,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<RouteSummary, ::rpc_core::codegen::Error> {
        (**self).record_route(requests, context)
    }
    fn route_chat(
        &self,
        requests: ::rpc_core::codegen::ReqIter<RouteNote>,
        context: &::rpc_core::codegen::Context,
    ) -> ::core::result::Result<
        ::rpc_core::codegen::RespIter<RouteNote>,
        ::rpc_core::codegen::Error,
    > {
        (**self).route_chat(requests, context)
    }
}
