//! The HTTP surface: `/graphql`, `/graphql/ws`, calendars, share links' pages and app-link
//! files, health, metrics.

mod calendar;
pub mod client;
mod graphql;
mod health;
mod media;
mod pages;
mod request_id;
pub mod server;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

use crate::config::Config;
use crate::documents::Documents;
use crate::graphql::KithSchema;
use crate::metrics::Metrics;
use crate::state::AppState;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Smaller responses are sent as they are: compressing them saves less than it costs.
pub const COMPRESS_ABOVE_BYTES: u16 = 1024;

#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    pub schema: KithSchema,
    /// Persisted queries of this process, or the trusted documents.
    pub documents: Arc<Documents>,
}

/// The API port's routes; `/metrics` among them only in development without
/// `KITH_METRICS_LISTEN`.
pub fn router(state: AppState) -> Router {
    let schema = crate::graphql::schema(state.clone());
    let documents = Arc::new(Documents::new(state.config.trusted_documents.clone()));
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/events/{file}", get(calendar::event))
        .route("/calendar/{file}", get(calendar::feed))
        .route("/media/{name}", get(media::file))
        .route("/e/{id}", get(pages::event))
        .route("/g/{slug}", get(pages::group))
        .route("/u/{id}", get(pages::user))
        .route(
            "/.well-known/apple-app-site-association",
            get(pages::apple_app_site_association),
        )
        .route("/.well-known/assetlinks.json", get(pages::assetlinks))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if metrics_on_api_port(&state.config) {
        router = router.route(
            "/metrics",
            get(health::metrics).with_state(state.metrics.clone()),
        );
    }
    // gzip and br for bodies over 1 KiB, as `Accept-Encoding` allows; never images or
    // event streams. The WebSocket route is merged after, outside this layer.
    let compress = SizeAbove::new(COMPRESS_ABOVE_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    router
        .layer(CompressionLayer::new().compress_when(compress))
        .route("/graphql/ws", get(ws::upgrade))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost last: a client's X-Request-Id is checked, then kept or made, echoed on
        // the response, and set on the span every log line of the request is written in.
        .layer(axum::middleware::from_fn(request_id::in_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(request_id::MakeRequestIdV7))
        .layer(axum::middleware::from_fn(request_id::drop_unfit))
        .with_state(Http {
            state,
            schema,
            documents,
        })
}

/// Whether the API port serves `/metrics`. Production keeps it off the public port: it
/// tells anyone which operations run and how often.
fn metrics_on_api_port(config: &Config) -> bool {
    config.metrics_listen.is_none() && !config.is_production()
}

/// `/metrics` alone, for the listener at `KITH_METRICS_LISTEN`.
pub fn metrics_router(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(metrics)
}
