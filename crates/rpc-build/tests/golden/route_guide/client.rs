//! Golden copy of the client stub of what rpc-build generates for `proto/route_guide.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// Looks up features on a map and records routes travelled across it.
///
/// A client stub for `routeguide.RouteGuide`. It is generic over the channel: with a blocking channel each
/// call returns its outcome, with an async channel it returns a call object to `.await`.
///
/// Each method makes the multi-callable of its method on the channel (`Channel::unary_unary`
/// and its siblings) and calls it: a stub call is a call of that multi-callable.
#[derive(Clone, Debug)]
pub struct RouteGuideStub<C> {
    channel: C,
}
#[allow(
    clippy::wrong_self_convention,
    clippy::new_ret_no_self,
    clippy::should_implement_trait
)]
impl<C: ::rpc_core::codegen::Channel> RouteGuideStub<C> {
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
    /// Returns the feature at a point, or a feature with an empty name when there is none.
    ///
    /// Calls `/routeguide.RouteGuide/GetFeature` (unary-unary).
    pub fn get_feature(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<Point>,
    ) -> ::rpc_core::codegen::UnaryUnaryCall<C, Point, Feature> {
        ::rpc_core::codegen::UnaryUnaryCallable::call(
            &::rpc_core::codegen::Channel::unary_unary::<
                Point,
                Feature,
            >(&self.channel, &ROUTE_GUIDE_GET_FEATURE),
            request.into_request(),
        )
    }
    /// Like [`Self::get_feature`], and also gives the finished call (its metadata and status).
    pub fn get_feature_with_call(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<Point>,
    ) -> ::rpc_core::codegen::UnaryUnaryWithCall<C, Point, Feature> {
        ::rpc_core::codegen::UnaryUnaryCallable::with_call(
            &::rpc_core::codegen::Channel::unary_unary::<
                Point,
                Feature,
            >(&self.channel, &ROUTE_GUIDE_GET_FEATURE),
            request.into_request(),
        )
    }
    /// Like [`Self::get_feature`], but runs the call in the background and returns a handle on it.
    pub fn get_feature_future(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<Point>,
    ) -> ::rpc_core::codegen::UnaryUnaryFuture<C, Point, Feature> {
        ::rpc_core::codegen::UnaryUnaryCallable::future(
            &::rpc_core::codegen::Channel::unary_unary::<
                Point,
                Feature,
            >(&self.channel, &ROUTE_GUIDE_GET_FEATURE),
            request.into_request(),
        )
    }
    /// Streams every feature found inside a rectangle.
    ///
    /// Calls `/routeguide.RouteGuide/ListFeatures` (unary-stream).
    pub fn list_features(
        &self,
        request: impl ::rpc_core::codegen::IntoRequest<Rectangle>,
    ) -> ::rpc_core::codegen::UnaryStreamCall<C, Rectangle, Feature> {
        ::rpc_core::codegen::UnaryStreamCallable::call(
            &::rpc_core::codegen::Channel::unary_stream::<
                Rectangle,
                Feature,
            >(&self.channel, &ROUTE_GUIDE_LIST_FEATURES),
            request.into_request(),
        )
    }
    /// Takes the points of a route as they are travelled and summarises the trip at the end.
    ///
    /// Calls `/routeguide.RouteGuide/RecordRoute` (stream-unary).
    pub fn record_route(
        &self,
        requests: impl ::rpc_core::codegen::IntoStreamingRequest<Point>,
    ) -> ::rpc_core::codegen::StreamUnaryCall<C, Point, RouteSummary> {
        ::rpc_core::codegen::StreamUnaryCallable::call(
            &::rpc_core::codegen::Channel::stream_unary::<
                Point,
                RouteSummary,
            >(&self.channel, &ROUTE_GUIDE_RECORD_ROUTE),
            requests.into_streaming_request(),
        )
    }
    /// Like [`Self::record_route`], and also gives the finished call (its metadata and status).
    pub fn record_route_with_call(
        &self,
        requests: impl ::rpc_core::codegen::IntoStreamingRequest<Point>,
    ) -> ::rpc_core::codegen::StreamUnaryWithCall<C, Point, RouteSummary> {
        ::rpc_core::codegen::StreamUnaryCallable::with_call(
            &::rpc_core::codegen::Channel::stream_unary::<
                Point,
                RouteSummary,
            >(&self.channel, &ROUTE_GUIDE_RECORD_ROUTE),
            requests.into_streaming_request(),
        )
    }
    /// Like [`Self::record_route`], but runs the call in the background and returns a handle on it.
    pub fn record_route_future(
        &self,
        requests: impl ::rpc_core::codegen::IntoStreamingRequest<Point>,
    ) -> ::rpc_core::codegen::StreamUnaryFuture<C, Point, RouteSummary> {
        ::rpc_core::codegen::StreamUnaryCallable::future(
            &::rpc_core::codegen::Channel::stream_unary::<
                Point,
                RouteSummary,
            >(&self.channel, &ROUTE_GUIDE_RECORD_ROUTE),
            requests.into_streaming_request(),
        )
    }
    /// Exchanges notes while travelling: each note sent gets back the notes left earlier at
    /// the same point.
    ///
    /// Calls `/routeguide.RouteGuide/RouteChat` (stream-stream).
    pub fn route_chat(
        &self,
        requests: impl ::rpc_core::codegen::IntoStreamingRequest<RouteNote>,
    ) -> ::rpc_core::codegen::StreamStreamCall<C, RouteNote, RouteNote> {
        ::rpc_core::codegen::StreamStreamCallable::call(
            &::rpc_core::codegen::Channel::stream_stream::<
                RouteNote,
                RouteNote,
            >(&self.channel, &ROUTE_GUIDE_ROUTE_CHAT),
            requests.into_streaming_request(),
        )
    }
}
