//! The route guide servicer (all four method kinds) in both faces, over a small built-in
//! feature database.

use crate::pb::routeguide::{AsyncRouteGuideServicer, Feature, Point, Rectangle, RouteGuideServicer, RouteNote, RouteSummary};
use futures::StreamExt;
use rpc_core::{RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServicerContext};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The feature database: a few named places (coordinates in 1e-7 degrees).
pub fn features() -> Vec<Feature> {
    let places = [
        ("Patriots Path, Mendham, NJ 07945, USA", 407_838_351, -746_143_763),
        ("101 New Jersey 10, Whippany, NJ 07981, USA", 408_122_808, -743_999_179),
        ("U.S. 6, Shohola, PA 18458, USA", 413_628_156, -749_015_468),
        ("5 Conners Road, Kingston, NY 12401, USA", 419_999_544, -740_371_136),
        (
            "Mid Hudson Psychiatric Center, New Hampton, NY 10958, USA",
            414_008_389,
            -743_951_297,
        ),
        ("287 Flugertown Road, Livingston Manor, NY 12758, USA", 419_611_318, -746_524_769),
        ("4001 Tremley Point Road, Linden, NJ 07036, USA", 406_109_563, -742_186_778),
        ("352 South Mountain Road, Wallkill, NY 12589, USA", 416_802_456, -742_370_183),
    ];
    places
        .into_iter()
        .map(|(name, latitude, longitude)| Feature {
            name: name.to_owned(),
            location: Some(Point { latitude, longitude }),
        })
        .collect()
}

fn feature_at(db: &[Feature], point: &Point) -> Feature {
    db.iter()
        .find(|f| f.location.as_ref() == Some(point))
        .cloned()
        .unwrap_or_else(|| Feature {
            name: String::new(),
            location: Some(*point),
        })
}

fn in_rectangle(rect: &Rectangle, p: &Point) -> bool {
    let (lo, hi) = (rect.lo.unwrap_or_default(), rect.hi.unwrap_or_default());
    let (left, right) = (lo.longitude.min(hi.longitude), lo.longitude.max(hi.longitude));
    let (bottom, top) = (lo.latitude.min(hi.latitude), lo.latitude.max(hi.latitude));
    (left..=right).contains(&p.longitude) && (bottom..=top).contains(&p.latitude)
}

/// Great-circle distance in metres between two points.
pub fn distance(a: &Point, b: &Point) -> i32 {
    let factor = 1e7_f64;
    let radius = 6_371_000_f64;
    let (lat1, lat2) = ((a.latitude as f64 / factor).to_radians(), (b.latitude as f64 / factor).to_radians());
    let (lon1, lon2) = (
        (a.longitude as f64 / factor).to_radians(),
        (b.longitude as f64 / factor).to_radians(),
    );
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    (radius * 2.0 * h.sqrt().atan2((1.0 - h).sqrt())) as i32
}

/// Folds a route into its summary.
#[derive(Debug)]
struct Summary {
    start: Instant,
    summary: RouteSummary,
    previous: Option<Point>,
}

impl Summary {
    fn new() -> Summary {
        Summary {
            start: Instant::now(),
            summary: RouteSummary::default(),
            previous: None,
        }
    }

    fn add(&mut self, db: &[Feature], point: Point) {
        self.summary.point_count += 1;
        if !feature_at(db, &point).name.is_empty() {
            self.summary.feature_count += 1;
        }
        if let Some(prev) = self.previous {
            self.summary.distance += distance(&prev, &point);
        }
        self.previous = Some(point);
    }

    fn finish(mut self) -> RouteSummary {
        self.summary.elapsed_time = self.start.elapsed().as_secs() as i32;
        self.summary
    }
}

/// Notes received so far, shared by every RouteChat call.
type Notes = Arc<Mutex<Vec<RouteNote>>>;

fn chat(notes: &Notes, note: RouteNote) -> Vec<RouteNote> {
    let mut all = notes.lock().unwrap_or_else(|p| p.into_inner());
    let earlier = all.iter().filter(|n| n.location == note.location).cloned().collect();
    all.push(note);
    earlier
}

/// The route guide as a blocking servicer.
#[derive(Debug, Default)]
pub struct BlockingRouteGuide {
    db: Vec<Feature>,
    notes: Notes,
}

impl BlockingRouteGuide {
    /// A route guide over [`features`].
    pub fn new() -> Self {
        BlockingRouteGuide {
            db: features(),
            notes: Notes::default(),
        }
    }
}

impl RouteGuideServicer for BlockingRouteGuide {
    fn get_feature(&self, request: Point, _context: &ServicerContext) -> Result<Feature, RpcError> {
        Ok(feature_at(&self.db, &request))
    }

    fn list_features(&self, request: Rectangle, _context: &ServicerContext) -> Result<ResponseIterator<Feature>, RpcError> {
        let found: Vec<Feature> = self
            .db
            .iter()
            .filter(|f| f.location.is_some_and(|p| in_rectangle(&request, &p)))
            .cloned()
            .collect();
        Ok(ResponseIterator::from_messages(found))
    }

    fn record_route(&self, requests: RequestIterator<Point>, _context: &ServicerContext) -> Result<RouteSummary, RpcError> {
        let mut summary = Summary::new();
        for point in requests {
            summary.add(&self.db, point?);
        }
        Ok(summary.finish())
    }

    fn route_chat(
        &self,
        requests: RequestIterator<RouteNote>,
        _context: &ServicerContext,
    ) -> Result<ResponseIterator<RouteNote>, RpcError> {
        let notes = self.notes.clone();
        // Lazy: each incoming note is answered as it arrives, on the worker thread.
        let replies = requests.flat_map(move |note| match note {
            Ok(note) => chat(&notes, note).into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        });
        Ok(ResponseIterator::new(replies))
    }
}

/// The route guide as an async servicer.
#[derive(Debug, Default)]
pub struct AsyncRouteGuide {
    db: Vec<Feature>,
    notes: Notes,
}

impl AsyncRouteGuide {
    /// A route guide over [`features`].
    pub fn new() -> Self {
        AsyncRouteGuide {
            db: features(),
            notes: Notes::default(),
        }
    }
}

impl AsyncRouteGuideServicer for AsyncRouteGuide {
    async fn get_feature(&self, request: Point, _context: &ServicerContext) -> Result<Feature, RpcError> {
        Ok(feature_at(&self.db, &request))
    }

    async fn list_features(&self, request: Rectangle, _context: &ServicerContext) -> Result<ResponseStream<Feature>, RpcError> {
        let found: Vec<Feature> = self
            .db
            .iter()
            .filter(|f| f.location.is_some_and(|p| in_rectangle(&request, &p)))
            .cloned()
            .collect();
        Ok(ResponseStream::from_messages(found))
    }

    async fn record_route(&self, mut requests: RequestStream<Point>, _context: &ServicerContext) -> Result<RouteSummary, RpcError> {
        let mut summary = Summary::new();
        while let Some(point) = requests.message().await? {
            summary.add(&self.db, point);
        }
        Ok(summary.finish())
    }

    async fn route_chat(
        &self,
        requests: RequestStream<RouteNote>,
        _context: &ServicerContext,
    ) -> Result<ResponseStream<RouteNote>, RpcError> {
        let notes = self.notes.clone();
        let replies = requests.flat_map(move |note| {
            let batch = match note {
                Ok(note) => chat(&notes, note).into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(batch)
        });
        Ok(ResponseStream::new(replies))
    }
}

/// The notes a client sends in the route chat demo: two rounds over three places, so every
/// note after the first round is answered with the earlier one at its place.
pub fn chat_notes() -> Vec<RouteNote> {
    let places = [(0, 1), (0, 2), (1, 1)];
    (0..2)
        .flat_map(|round| {
            places.into_iter().map(move |(latitude, longitude)| RouteNote {
                location: Some(Point { latitude, longitude }),
                message: format!("round {round} at ({latitude}, {longitude})"),
            })
        })
        .collect()
}
