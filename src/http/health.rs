//! Liveness and readiness for orchestrators and load balancers.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::http::Http;
use crate::metrics::Metrics;

/// 200 while the process runs; touches no dependency, so a slow database never gets a
/// healthy process restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the database answers within two seconds; 503 otherwise and while shutting down.
pub async fn readyz(State(http): State<Http>) -> (StatusCode, &'static str) {
    if http.state.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match tokio::time::timeout(Duration::from_secs(2), http.state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Prometheus text, on the API port (development) or the metrics listener.
pub async fn metrics(
    State(metrics): State<Metrics>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}
