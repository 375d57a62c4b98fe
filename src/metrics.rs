//! Prometheus metrics: GraphQL requests and their latency, per operation name.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Operation names are chosen by clients; past this many distinct names, new ones are
/// counted as `other`, so a client cannot grow the server's memory without bound.
const MAX_OPERATION_NAMES: usize = 256;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Every SQL statement run, for spotting N+1 queries.
    pub sql_statements: IntCounter,
    names: Arc<Mutex<HashSet<String>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "kith_graphql_requests_total",
                "GraphQL requests by operation name and outcome",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kith_graphql_request_duration_seconds",
                "Time to answer a GraphQL request, by operation name",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["operation"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(latency.clone()))
            .expect("registered once");
        let sql_statements = IntCounter::new("kith_sql_statements_total", "SQL statements run")
            .expect("valid metric");
        registry
            .register(Box::new(sql_statements.clone()))
            .expect("registered once");
        Metrics {
            registry,
            requests,
            latency,
            sql_statements,
            names: Arc::default(),
        }
    }

    fn label(&self, operation: &str) -> String {
        let valid = !operation.is_empty()
            && operation.len() <= 64
            && operation
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return "other".into();
        }
        let mut names = self.names.lock().expect("metrics lock is never poisoned");
        if names.contains(operation) || names.len() < MAX_OPERATION_NAMES {
            names.insert(operation.to_owned());
            operation.to_owned()
        } else {
            "other".into()
        }
    }

    /// Records one request; `operation` is `anonymous` for unnamed operations.
    pub fn observe(&self, operation: &str, ok: bool, seconds: f64) {
        let label = self.label(operation);
        let outcome = if ok { "ok" } else { "error" };
        self.requests
            .with_label_values(&[label.as_str(), outcome])
            .inc();
        self.latency
            .with_label_values(&[label.as_str()])
            .observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding does not fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}
