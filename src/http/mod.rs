//! The HTTP surface: `/graphql`, `/graphql/ws`, calendars, health, metrics.

mod calendar;
mod graphql;
mod health;
pub mod server;
mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::graphql::KithSchema;
use crate::state::AppState;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Http {
    pub state: AppState,
    pub schema: KithSchema,
}

pub fn router(state: AppState) -> Router {
    let schema = crate::graphql::schema(state.clone());
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/events/{file}", get(calendar::event))
        .route("/calendar/{file}", get(calendar::feed))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Http { state, schema })
}
