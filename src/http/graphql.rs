//! GraphQL over HTTP: one operation per request, JSON in and out.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use futures::FutureExt;
use serde::Deserialize;
use tracing::Instrument;
use tracing::field::Empty;

use crate::admission;
use crate::error::code;
use crate::graphql::context::{self, Auth, RequestInfo};
use crate::graphql::{completion, limits};
use crate::http::Http;

const MISSING_QUERY: &str =
    "send a GraphQL operation: {\"query\": ..., \"variables\": ..., \"operationName\": ...}";

/// A GraphQL error response outside execution (bad JSON, a batch, a mutation over GET).
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    (
        status,
        Json(async_graphql::Response::from_errors(vec![error])),
    )
        .into_response()
}

/// Who is asking, by the `Authorization` header (see `admission`). A header that is not a
/// bearer token is a bad token, not no token: the app is told to sign in again.
async fn auth(http: &Http, headers: &HeaderMap) -> Result<Auth, Response> {
    let token = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(admission::bearer)
                .unwrap_or(""),
        ),
    };
    match admission::admit(&http.state, token).await {
        Ok(admitted) => Ok(admitted.into()),
        Err(err) => {
            tracing::error!(error = ?err, "checking a session");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                "the database is not answering; try again",
            ))
        }
    }
}

/// The type and name of the operation that will run, when the document parses.
fn selected_operation(request: &mut async_graphql::Request) -> Option<(OperationType, String)> {
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    match (&doc.operations, wanted) {
        (DocumentOperations::Single(op), wanted) => {
            Some((op.node.ty, wanted.unwrap_or_else(|| "anonymous".into())))
        }
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name.as_str()).map(|op| (op.node.ty, name.clone()))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(name, op)| (op.node.ty, name.to_string())),
        _ => None,
    }
}

/// Gives every error a code. Resolver errors carry theirs; what async-graphql finds before
/// running anything (a syntax error, an unknown field, a bad variable, a query too deep or
/// too costly) is the client's to fix: BAD_USER_INPUT.
pub(crate) fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code::BAD_USER_INPUT);
        }
    }
    response
}

/// Runs `work`; a panic inside it becomes `Err` with the panic's message, for the log.
async fn catch_panic<T>(work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned())
        })
}

async fn execute(
    http: &Http,
    headers: &HeaderMap,
    peer: SocketAddr,
    mut request: async_graphql::Request,
    method_allows_writes: bool,
) -> Response {
    let started = Instant::now();
    let selected = selected_operation(&mut request);
    if !method_allows_writes
        && matches!(
            selected,
            Some((OperationType::Mutation | OperationType::Subscription, _))
        )
    {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_USER_INPUT,
            "GET /graphql runs queries only; send mutations with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let operation = selected.map_or_else(|| "anonymous".to_owned(), |(_, name)| name);
    if let Err(error) = limits::check_request(&mut request) {
        http.state
            .metrics
            .observe(&operation, false, started.elapsed().as_secs_f64());
        return Json(with_codes(async_graphql::Response::from_errors(vec![
            error,
        ])))
        .into_response();
    }
    let span = tracing::info_span!("graphql", operation = %operation, member = Empty);
    let auth = match auth(http, headers).instrument(span.clone()).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Auth::Member(claims) = &auth {
        span.record("member", tracing::field::display(claims.sub));
    }
    let info = RequestInfo {
        auth,
        client: peer.ip().to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
    let request = context::prepare(request, &http.state, info);
    let running = catch_panic(http.schema.execute(request).instrument(span.clone()));
    let outcome = tokio::time::timeout(limits::REQUEST_BUDGET, running).await;
    let response = match outcome {
        Ok(Ok(mut response)) => {
            completion::complete(&mut response, &query, operation_name.as_deref());
            with_codes(response)
        }
        Ok(Err(panic)) => {
            span.in_scope(|| tracing::error!(panic, "a resolver panicked"));
            http.state
                .metrics
                .observe(&operation, false, started.elapsed().as_secs_f64());
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_SERVER_ERROR,
                "internal server error",
            );
        }
        Err(_) => {
            span.in_scope(|| tracing::warn!("stopped: over the request's time budget"));
            http.state
                .metrics
                .observe(&operation, false, started.elapsed().as_secs_f64());
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                &format!(
                    "the request did not finish within {} seconds and was stopped; try again, or ask for less at once",
                    limits::REQUEST_BUDGET.as_secs()
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return response;
        }
    };
    http.state.metrics.observe(
        &operation,
        response.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    Json(response).into_response()
}

/// `POST /graphql` with `{query, variables, operationName}`. A JSON array (a batch) is refused.
pub async fn post(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return refuse(
                rejection.status(),
                code::BAD_USER_INPUT,
                &format!(
                    "unreadable request body (at most {} bytes): {rejection}",
                    crate::http::MAX_BODY_BYTES
                ),
            );
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the body must be JSON: {\"query\": ..., \"variables\": ..., \"operationName\": ...}",
            );
        }
    };
    if value.is_array() {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "batched requests are not supported: send one operation per request",
        );
    }
    let request = match serde_json::from_value::<async_graphql::Request>(value) {
        Ok(request) if !request.query.trim().is_empty() => request,
        _ => return refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, MISSING_QUERY),
    };
    execute(&http, &headers, peer, request, true).await
}

/// The query string of `GET /graphql`, named as GraphQL over HTTP names them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    /// JSON, as a string.
    variables: Option<String>,
}

/// `GET /graphql?query=...`: queries only. A browser in development gets GraphiQL.
pub async fn get(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "unreadable query string",
        );
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        if wants_html && !http.state.config.is_production() {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .subscription_endpoint("/graphql/ws")
                    .finish(),
            )
            .into_response();
        }
        return refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, MISSING_QUERY);
    };
    let variables = match params
        .variables
        .map(|v| serde_json::from_str(&v))
        .transpose()
    {
        Ok(variables) => variables.unwrap_or_default(),
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "`variables` must be a JSON object",
            );
        }
    };
    let mut request = async_graphql::Request::new(query).variables(variables);
    request.operation_name = params.operation_name;
    execute(&http, &headers, peer, request, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_caught_with_its_message() {
        let caught = catch_panic(async { panic!("index out of bounds") }).await;
        assert_eq!(caught.unwrap_err(), "index out of bounds");
        assert_eq!(catch_panic(async { 7 }).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn refusals_carry_a_code_and_no_data() {
        let response = refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "nope");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["message"], "nope");
    }
}
