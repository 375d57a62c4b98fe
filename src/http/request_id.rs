//! `X-Request-Id`: the client's, when it is a sane token, else a new UUIDv7; sent back on
//! the response, set on the tracing span of the request (so every log line of it carries
//! it), and written into `extensions.requestId` of an INTERNAL_SERVER_ERROR (see
//! `graphql::Reply`), so an app's bug report leads to its log lines.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

const X_REQUEST_ID: &str = "x-request-id";
/// The longest request ID taken from a client.
const MAX_LEN: usize = 128;

/// Whether a client's request ID is kept: 1–128 of `A-Z a-z 0-9 . _ -`. Anything else
/// could forge log lines or carry far more than an ID.
pub fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Removes a client's request ID that is not sane (or several), so one is made instead.
pub async fn drop_unfit(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let values = headers.get_all(X_REQUEST_ID);
    let mut values = values.iter();
    let fit = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(one), None) => is_sane(one.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !fit {
        headers.remove(X_REQUEST_ID);
    }
    next.run(request).await
}

/// New request IDs: UUIDv7, so they sort by time.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeRequestIdV7;

impl MakeRequestId for MakeRequestIdV7 {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::now_v7().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Runs the request inside a span that names its ID, method and path.
pub async fn in_span(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    next.run(request).instrument(span).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tokens_are_taken() {
        assert!(is_sane(b"abc-123_X.y"));
        assert!(is_sane("a".repeat(128).as_bytes()));
        assert!(!is_sane(b""));
        assert!(!is_sane("a".repeat(129).as_bytes()));
        assert!(!is_sane(b"has space"));
        assert!(!is_sane(b"new\nline"));
        assert!(!is_sane(b"quote\""));
    }
}
