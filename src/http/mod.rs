//! The HTTP surface: `/graphql`, `/graphql/ws`, calendars, health, metrics.

mod calendar;
mod graphql;
mod health;
pub mod server;
mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::config::Config;
use crate::graphql::KithSchema;
use crate::metrics::Metrics;
use crate::state::AppState;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    pub schema: KithSchema,
}

/// The API port's routes; `/metrics` among them only in development without
/// `KITH_METRICS_LISTEN`.
pub fn router(state: AppState) -> Router {
    let schema = crate::graphql::schema(state.clone());
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/events/{file}", get(calendar::event))
        .route("/calendar/{file}", get(calendar::feed))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if metrics_on_api_port(&state.config) {
        router = router.route(
            "/metrics",
            get(health::metrics).with_state(state.metrics.clone()),
        );
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Http { state, schema })
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
