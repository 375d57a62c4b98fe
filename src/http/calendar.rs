//! `/events/{id}.ics` and `/calendar/{feedToken}.ics`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::{calendars, events};
use crate::graphql::ids::{self, Kind};
use crate::http::Http;

fn ics(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

fn internal(err: crate::error::AppError) -> Response {
    tracing::error!(error = ?err, "calendar");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// One event, by its GraphQL ID.
pub async fn event(State(http): State<Http>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let Some((Kind::Event, uuid)) = ids::decode_any(id) else {
        return not_found();
    };
    match events::find(&http.state.db, uuid).await {
        Ok(Some(event)) => ics(calendars::event_ics(&event)),
        Ok(None) => not_found(),
        Err(err) => internal(err),
    }
}

/// A member's private feed; an unknown token is 404.
pub async fn feed(State(http): State<Http>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    match calendars::feed_ics(&http.state.db, token).await {
        Ok(Some(body)) => ics(body),
        Ok(None) => not_found(),
        Err(err) => internal(err),
    }
}
