//! Kith: the GraphQL backend for in-person communities.
//!
//! `start` builds exactly what `kith serve` runs, so tests and benchmarks exercise the real
//! thing: `http` → `graphql` (parse, authorise, shape) → `domain` (decide, in one
//! transaction) → `entity` (rows).

mod admission;
pub mod auth;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod effects;
pub mod error;
pub mod graphql;
mod http;
mod jobs;
pub mod links;
pub mod live;
pub mod media;
pub mod metrics;
pub mod notify;
pub mod seed;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::state::AppState;

/// How long in-flight requests may take to finish once shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// How many connections the metrics listener keeps open at once: a scraper needs one.
const METRICS_CONNECTIONS: usize = 16;

/// A server ready to accept connections.
pub struct App {
    pub state: AppState,
    pub router: Router,
    /// The listener at `KITH_METRICS_LISTEN` and its router, bound by `start` so that an
    /// unusable address stops start-up like any bad setting.
    metrics: Option<(TcpListener, Router)>,
}

impl App {
    /// Where `/metrics` is served on a listener of its own (`KITH_METRICS_LISTEN`).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        let (listener, _) = self.metrics.as_ref()?;
        listener.local_addr().ok()
    }
}

/// Connects to the database, applies migrations, binds the metrics listener (if any) and
/// builds the router. Errors name the setting at fault (`DATABASE_URL: ...`).
pub async fn start(config: Config) -> anyhow::Result<App> {
    let metrics = metrics::Metrics::new();
    let statements = metrics.sql_statements.clone();
    let db = db::connect_counting(&config.database_url, move || statements.inc())
        .await
        .with_context(|| {
            format!(
                "DATABASE_URL: cannot open the database at {}",
                config::redact_url(&config.database_url)
            )
        })?;
    db::migrate(&db)
        .await
        .context("DATABASE_URL: migrations failed")?;
    let metrics_listener = match config.metrics_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("KITH_METRICS_LISTEN: cannot listen on {address}"))?,
        ),
        None if config.is_production() => {
            tracing::info!(
                "/metrics is not served: set KITH_METRICS_LISTEN to serve it on a port of its own"
            );
            None
        }
        None => None,
    };
    if let Some(trusted) = &config.trusted_documents {
        tracing::info!(
            "trusted documents: only the {} operations of {} run",
            trusted.len(),
            trusted.path.display()
        );
    }
    let state = AppState::new(config, db, metrics)?;
    state.bus().listen();
    state.connections.watch(state.bus());
    let router = http::router(state.clone());
    Ok(App {
        metrics: metrics_listener
            .map(|listener| (listener, http::metrics_router(state.metrics.clone()))),
        state,
        router,
    })
}

/// Serves (and runs the background `jobs`) until `shutdown` completes; then `/readyz` turns
/// 503 for the shutdown grace, no new connection is accepted, in-flight requests get
/// `DRAIN_TIMEOUT` to finish, and the pool is closed. Connections are bounded and timed
/// (see `http::server`).
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let App {
        state,
        router,
        metrics,
    } = app;
    let jobs = state
        .config
        .background_jobs
        .then(|| [jobs::spawn(state.clone()), jobs::spawn_push(state.clone())]);
    let mut listeners = vec![http::server::Listener {
        tcp: listener,
        router,
        max_connections: state.config.max_connections,
        name: "API",
    }];
    if let Some((tcp, router)) = metrics {
        if let Ok(address) = tcp.local_addr() {
            tracing::info!("serving /metrics on http://{address}");
        }
        listeners.push(http::server::Listener {
            tcp,
            router,
            max_connections: METRICS_CONNECTIONS,
            name: "metrics",
        });
    }
    tracing::info!(
        "at most {} connections at once (KITH_MAX_CONNECTIONS); request heads within {:?}, \
         bodies within {:?}",
        state.config.max_connections,
        state.config.header_timeout,
        state.config.body_timeout
    );
    let server = http::server::Server::start(
        listeners,
        http::server::Timeouts {
            header: state.config.header_timeout,
            body: state.config.body_timeout,
        },
    );
    shutdown.await;
    state.begin_shutdown();
    let grace = state.config.shutdown_grace;
    if !grace.is_zero() {
        tracing::info!("shutting down: /readyz answers 503; accepting requests for {grace:?} more");
        tokio::time::sleep(grace).await;
    }
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, server.drain())
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests did not finish within {DRAIN_TIMEOUT:?}; stopping anyway"
        );
    }
    for job in jobs.into_iter().flatten() {
        job.abort();
    }
    state.db.close_by_ref().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: called before the server starts, a SIGTERM that arrives as soon
/// as it answers (a supervisor, a test) stops it cleanly instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            let (term, interrupt) = signals;
            tokio::select! {
                () = next(term) => {},
                () = next(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
