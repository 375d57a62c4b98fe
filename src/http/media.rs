//! `GET /media/{name}`: stored photos' files. A name is content-derived, so what it names
//! never changes: it is cached for a year, `immutable`. Only names the store could have
//! made are looked up; anything else (`..`, another folder) is 404 without touching disk.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::Http;
use crate::media::store;
pub use crate::media::store::CACHE_FOREVER;

pub async fn file(State(http): State<Http>, Path(name): Path<String>) -> Response {
    if !store::is_valid_name(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match http.state.media.store.get(&name).await {
        Ok(Some(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(store::content_type(&name)),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(CACHE_FOREVER),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, name, "reading a media file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
