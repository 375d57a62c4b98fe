//! GraphQL over HTTP: one operation per request, JSON in and out.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use futures::FutureExt;
use serde::Deserialize;
use tracing::Instrument;
use tracing::field::Empty;

use crate::admission;
use crate::documents::{self, Refusal};
use crate::domain::idempotency::{self, Claim};
use crate::error::{AppError, code};
use crate::graphql::context::{self, Auth, RequestInfo};
use crate::graphql::{completion, limits};
use crate::http::{Http, client};

use sha2::Digest;

mod multipart;

const MISSING_QUERY: &str =
    "send a GraphQL operation: {\"query\": ..., \"variables\": ..., \"operationName\": ...}";

/// The media type of GraphQL over HTTP's own responses.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// Set on a response given again for a repeated `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const X_REQUEST_ID: &str = "x-request-id";

/// How the answer is written, by the request's `Accept` (GraphQL over HTTP, "Accept").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    /// `application/json`: every GraphQL result is HTTP 200 (the legacy behaviour, and
    /// what a client that says nothing, or `*/*`, gets).
    Json,
    /// `application/graphql-response+json`: a request error (a document that does not
    /// parse or validate, variables that do not fit) is HTTP 400, without `data`.
    GraphqlResponse,
}

impl Media {
    /// `application/graphql-response+json` when the client lists it at least as high as
    /// anything else it accepts; `application/json` otherwise.
    fn negotiate(headers: &HeaderMap) -> Media {
        let mut best_other = 0.0_f32;
        let mut graphql_response = 0.0_f32;
        for range in headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
        {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if essence == GRAPHQL_RESPONSE_JSON {
                graphql_response = graphql_response.max(q);
            } else {
                best_other = best_other.max(q);
            }
        }
        if graphql_response > 0.0 && graphql_response >= best_other {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Media::Json => HeaderValue::from_static("application/json"),
            Media::GraphqlResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
        }
    }
}

/// How to answer this request: its media type and its request ID (for
/// `extensions.requestId` of internal errors).
#[derive(Clone)]
struct Reply {
    media: Media,
    request_id: Option<String>,
}

impl Reply {
    fn new(headers: &HeaderMap) -> Self {
        Reply {
            media: Media::negotiate(headers),
            // Set (or checked) by the request-ID layers before any handler runs.
            request_id: headers
                .get(X_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// A GraphQL error response outside execution (bad JSON, a batch, a mutation over GET).
    fn refuse(&self, status: StatusCode, code: &str, message: &str) -> Response {
        let mut error = ServerError::new(message, None);
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code);
        error.extensions = Some(extensions);
        self.send(status, async_graphql::Response::from_errors(vec![error]))
    }

    /// A refusal with an error of ours (its code, its `field`).
    fn app_error(&self, status: StatusCode, err: AppError) -> Response {
        let error: async_graphql::Error = err.into();
        self.send(
            status,
            async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())]),
        )
    }

    /// The status GraphQL over HTTP gives a result: with `application/graphql-response+json`,
    /// 400 when nothing ran (no `data` and only errors without a path: the document did
    /// not parse or validate, the variables did not fit, a limit refused it).
    fn status_of(&self, response: &async_graphql::Response) -> StatusCode {
        if self.media == Media::GraphqlResponse && is_request_error(response) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        }
    }

    /// Writes `response` with `status`, in the negotiated media type.
    fn send(&self, status: StatusCode, mut response: async_graphql::Response) -> Response {
        self.tag_internal(&mut response);
        let written = if self.media == Media::GraphqlResponse && is_request_error(&response) {
            // The spec: a request error has no `data` entry at all.
            serde_json::to_value(&response).and_then(|mut body| {
                if let Some(object) = body.as_object_mut() {
                    object.remove("data");
                }
                serde_json::to_string(&body)
            })
        } else {
            serde_json::to_string(&response)
        };
        match written {
            Ok(body) => self.raw(status, body),
            Err(err) => {
                tracing::error!(error = %err, "writing a response");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    fn raw(&self, status: StatusCode, body: String) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, self.media.content_type())],
            body,
        )
            .into_response()
    }

    /// Puts the request ID in every INTERNAL_SERVER_ERROR, so an app's bug report finds
    /// the log lines of its request.
    fn tag_internal(&self, response: &mut async_graphql::Response) {
        let Some(request_id) = &self.request_id else {
            return;
        };
        for error in &mut response.errors {
            if let Some(extensions) = &mut error.extensions
                && extensions.get("code")
                    == Some(&async_graphql::Value::from(code::INTERNAL_SERVER_ERROR))
            {
                extensions.set("requestId", request_id.as_str());
            }
        }
    }
}

/// Nothing ran: no data, and no error belongs to a field.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// What becomes of an `Idempotency-Key`'s claim once its request has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Something may have run: the answer is kept and replayed, errors included, so a
    /// retry never runs it again.
    Keep,
    /// Nothing ran (a request error, or every root field null): a retry may run.
    Release,
    /// Stopped mid-run (over the time budget): whether it committed is unknown, so the
    /// claim is left to answer CONFLICT until it is abandoned (`idempotency`).
    Leave,
}

fn settle(response: &async_graphql::Response) -> Settle {
    let nothing_ran = match &response.data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(fields) => {
            fields.values().all(|v| *v == async_graphql::Value::Null)
        }
        _ => false,
    };
    if nothing_ran {
        Settle::Release
    } else {
        Settle::Keep
    }
}

/// The parameters of a GraphQL-over-HTTP request, from a JSON body, a multipart request or
/// a query string.
#[derive(Default)]
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<serde_json::Value>,
    extensions: Option<serde_json::Value>,
    /// Files of a multipart request, each with the variable it fills
    /// (`variables.input.file`).
    uploads: Vec<(String, async_graphql::UploadValue)>,
}

/// The body of `POST /graphql`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Who is asking, by the `Authorization` header (see `admission`). A header that is not a
/// bearer token is a bad token, not no token: the app is told to sign in again.
async fn auth(http: &Http, headers: &HeaderMap, reply: &Reply) -> Result<Auth, Response> {
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
            Err(reply.refuse(
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

/// Whether the request came by a method that may change things (POST) or not (GET).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// The SHA-256 of what a request asks: its document, operation name and variables. Two
/// requests with one `Idempotency-Key` are "the same" when these are.
fn request_hash(document: &str, params: &Params) -> String {
    let mut asked = serde_json::json!([document, params.operation_name, params.variables]);
    if !params.uploads.is_empty()
        && let Some(asked) = asked.as_array_mut()
    {
        // The same key with another picture is another request.
        asked.push(serde_json::json!(
            params
                .uploads
                .iter()
                .map(|(path, upload)| [
                    path.clone(),
                    hex::encode(sha2::Sha256::digest(&upload.content))
                ])
                .collect::<Vec<_>>()
        ));
    }
    documents::sha256_hex(&asked.to_string())
}

async fn execute(
    http: &Http,
    headers: &HeaderMap,
    peer: SocketAddr,
    params: Params,
    method: Method,
) -> Response {
    let started = Instant::now();
    let reply = Reply::new(headers);
    let (document, mut request, selected) = match document_of(http, &reply, &params, &method) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let is_mutation = matches!(selected, Some((OperationType::Mutation, _)));
    let operation = selected.map_or_else(|| "anonymous".to_owned(), |(_, name)| name);
    // Only a mutation has anything to protect from a second run.
    let idempotency_key = match headers.get(IDEMPOTENCY_KEY) {
        Some(raw) if is_mutation => match idempotency::parse_key(raw.as_bytes()) {
            Ok(key) => Some(key),
            Err(err) => return reply.app_error(StatusCode::BAD_REQUEST, err),
        },
        _ => None,
    };
    if let Err(error) = limits::check_request(&mut request) {
        http.state
            .metrics
            .observe(&operation, false, started.elapsed().as_secs_f64());
        let response = with_codes(async_graphql::Response::from_errors(vec![error]));
        return reply.send(reply.status_of(&response), response);
    }
    let span = tracing::info_span!("graphql", operation = %operation, member = Empty);
    let auth = match auth(http, headers, &reply).instrument(span.clone()).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if let Auth::Member(claims) = &auth {
        span.record("member", tracing::field::display(claims.sub));
    }
    let client = client::key(peer, headers, &http.state.config.trusted_proxies);
    let claim = match idempotency_key {
        None => None,
        Some(key) => {
            let asked = Asked {
                document: &document,
                params: &params,
                operation: &operation,
                started,
            };
            match claim_key(http, &reply, (&auth, client.as_str()), key, asked)
                .instrument(span.clone())
                .await
            {
                Ok(scope_and_key) => Some(scope_and_key),
                Err(response) => return response,
            }
        }
    };
    let info = RequestInfo {
        auth,
        client,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let request = context::prepare(request, &http.state, info);
    let claimed = claim.is_some();
    let run = run(
        http.clone(),
        request,
        document,
        params.operation_name,
        operation,
        started,
        reply,
        claim,
    )
    .instrument(span);
    if !claimed {
        return run.await;
    }
    // A claimed request runs to its end even if the client goes away meanwhile (a phone
    // in a tunnel): its response must be kept for the retry, which must not run it again.
    match tokio::spawn(run).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a request's task ended abnormally");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The document a request runs (sent, persisted or trusted), as a request, with the
/// operation it selects; or the answer refusing it (no document, an unknown hash, a
/// mutation over GET).
// The refusal is the response itself, sent at once: boxing it would buy nothing.
#[allow(clippy::type_complexity, clippy::result_large_err)]
fn document_of(
    http: &Http,
    reply: &Reply,
    params: &Params,
    method: &Method,
) -> Result<
    (
        Arc<str>,
        async_graphql::Request,
        Option<(OperationType, String)>,
    ),
    Response,
> {
    let persisted = params
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("persistedQuery"));
    let document = match http
        .documents
        .resolve(params.query.as_deref().unwrap_or(""), persisted)
    {
        Ok(document) => document,
        Err(Refusal::Missing) => {
            return Err(reply.refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, MISSING_QUERY));
        }
        // HTTP 200, as Apollo's clients expect: they answer it by sending the document.
        Err(Refusal::NotFound) => {
            return Err(reply.refuse(
                StatusCode::OK,
                code::PERSISTED_QUERY_NOT_FOUND,
                documents::NOT_FOUND_MESSAGE,
            ));
        }
        Err(Refusal::BadInput(message)) => {
            return Err(reply.refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message));
        }
    };
    let mut request = async_graphql::Request::new(&*document).variables(
        params
            .variables
            .clone()
            .map(async_graphql::Variables::from_json)
            .unwrap_or_default(),
    );
    request.operation_name = params.operation_name.clone();
    for (path, upload) in &params.uploads {
        // Held in memory (`bytes::Bytes`): cloning it shares the bytes.
        if let Ok(upload) = upload.try_clone() {
            request.set_upload(path, upload);
        }
    }
    let kept = http.documents.parsed(&document);
    let was_kept = kept.is_some();
    if let Some(parsed) = kept {
        request.set_parsed_query(parsed);
    }
    let selected = selected_operation(&mut request);
    if !was_kept && let Ok(parsed) = request.parsed_query() {
        http.documents.keep_parsed(&document, parsed);
    }
    if *method == Method::Get
        && matches!(
            selected,
            Some((OperationType::Mutation | OperationType::Subscription, _))
        )
    {
        let mut response = reply.refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_USER_INPUT,
            "GET /graphql runs queries only; send mutations with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Err(response);
    }
    Ok((document, request, selected))
}

/// What was asked, for an idempotency claim.
struct Asked<'a> {
    document: &'a str,
    params: &'a Params,
    operation: &'a str,
    started: Instant,
}

/// Claims an idempotency key for this member (or client): `Ok` to run the request, or the
/// answer to send instead (the kept response of an earlier run, or CONFLICT).
async fn claim_key(
    http: &Http,
    reply: &Reply,
    (auth, client): (&Auth, &str),
    key: String,
    asked: Asked<'_>,
) -> Result<(String, String), Response> {
    let scope = match auth {
        Auth::Member(claims) => format!("member:{}", claims.sub),
        _ => format!("client:{client}"),
    };
    let hash = request_hash(asked.document, asked.params);
    match idempotency::claim(&http.state.db, &scope, &key, &hash, Utc::now()).await {
        Ok(Claim::Run) => Ok((scope, key)),
        Ok(Claim::Replay { status, body }) => {
            http.state.metrics.observe(
                asked.operation,
                true,
                asked.started.elapsed().as_secs_f64(),
            );
            let mut response =
                reply.raw(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            response
                .headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Err(response)
        }
        Err(err) => {
            let status = match (&err, reply.media) {
                (AppError::Conflict(_), Media::GraphqlResponse) => StatusCode::CONFLICT,
                (AppError::Internal(_), _) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::OK,
            };
            Err(reply.app_error(status, err))
        }
    }
}

/// Executes a prepared request within the time budget, and keeps (or releases) its
/// idempotency claim.
#[allow(clippy::too_many_arguments)]
async fn run(
    http: Http,
    request: async_graphql::Request,
    document: std::sync::Arc<str>,
    operation_name: Option<String>,
    operation: String,
    started: Instant,
    reply: Reply,
    claim: Option<(String, String)>,
) -> Response {
    let running = catch_panic(http.schema.execute(request));
    let outcome = tokio::time::timeout(limits::REQUEST_BUDGET, running).await;
    let (status, response, stopped) = match outcome {
        Ok(Ok(mut response)) => {
            completion::complete(&mut response, &document, operation_name.as_deref());
            let response = with_codes(response);
            (reply.status_of(&response), response, false)
        }
        Ok(Err(panic)) => {
            tracing::error!(panic, "a resolver panicked");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                internal_error("internal server error"),
                false,
            )
        }
        Err(_) => {
            tracing::warn!("stopped: over the request's time budget");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                internal_error(&format!(
                    "the request did not finish within {} seconds and was stopped; try again, or ask for less at once",
                    limits::REQUEST_BUDGET.as_secs()
                )),
                true,
            )
        }
    };
    let succeeded = status == StatusCode::OK && response.is_ok();
    http.state
        .metrics
        .observe(&operation, succeeded, started.elapsed().as_secs_f64());
    let settled = if stopped {
        Settle::Leave
    } else {
        settle(&response)
    };
    let mut answer = reply.send(status, response);
    if let Some((scope, key)) = claim {
        let kept = if settled == Settle::Leave {
            Ok(())
        } else if settled == Settle::Release {
            idempotency::release(&http.state.db, &scope, &key).await
        } else {
            let body = axum::body::to_bytes(std::mem::take(answer.body_mut()), usize::MAX)
                .await
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            let kept =
                idempotency::keep(&http.state.db, &scope, &key, status.as_u16(), &body).await;
            *answer.body_mut() = axum::body::Body::from(body);
            kept
        };
        if let Err(err) = kept {
            tracing::error!(error = ?err.into_anyhow(), "keeping an idempotent response");
        }
    }
    if stopped {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    answer
}

/// A response of one INTERNAL_SERVER_ERROR outside execution (a panic, the time budget).
fn internal_error(message: &str) -> async_graphql::Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code::INTERNAL_SERVER_ERROR);
    error.extensions = Some(extensions);
    async_graphql::Response::from_errors(vec![error])
}

/// Whether a POST body is declared JSON. GraphQL over HTTP: a request without a media type
/// the server supports is refused (a browser form's `text/plain` cannot reach a mutation).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// `POST /graphql` with `{query, variables, operationName, extensions}`, or a multipart
/// request with a file (`multipart::read`). A JSON array (a batch) is refused.
pub async fn post(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let reply = Reply::new(&headers);
    if multipart::is_multipart(&headers) {
        // Only a member uploads: anyone else is turned away before 15 MiB are read into
        // memory, and so is everyone while enough uploads are held already (they wait).
        match auth(&http, &headers, &reply).await {
            Ok(Auth::Member(_)) => {}
            Ok(_) => {
                let refusal = reply.refuse(
                    StatusCode::UNAUTHORIZED,
                    code::UNAUTHENTICATED,
                    "sign in to upload a file",
                );
                return multipart::refuse_unread(request.into_body(), refusal).await;
            }
            Err(refusal) => return refusal,
        }
        let Ok(_held) = http.state.media.uploads.clone().acquire_owned().await else {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        };
        let params = match multipart::read(&reply, &headers, request.into_body()).await {
            Ok(params) => params,
            Err(refusal) => return refusal,
        };
        return execute(&http, &headers, peer, params, Method::Post).await;
    }
    // The 1 MiB limit (`DefaultBodyLimit`) holds for everything but a multipart upload.
    let body: Result<Bytes, BytesRejection> =
        <Bytes as axum::extract::FromRequest<()>>::from_request(request, &()).await;
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return reply.refuse(
                rejection.status(),
                code::BAD_USER_INPUT,
                &format!(
                    "unreadable request body (at most {} bytes): {rejection}",
                    crate::http::MAX_BODY_BYTES
                ),
            );
        }
    };
    if !is_json(&headers) {
        return reply.refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_USER_INPUT,
            "send the operation as JSON, with Content-Type: application/json",
        );
    }
    match params_of_json(&reply, &body) {
        Ok(params) => execute(&http, &headers, peer, params, Method::Post).await,
        Err(refusal) => refusal,
    }
}

/// The parameters of a JSON object `{query, variables, operationName, extensions}`.
// The refusal is the response itself, sent at once: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
fn params_of_json(reply: &Reply, body: &[u8]) -> Result<Params, Response> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => {
            return Err(reply.refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "the body must be JSON: {\"query\": ..., \"variables\": ..., \"operationName\": ...}",
            ));
        }
    };
    if value.is_array() {
        return Err(reply.refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "batched requests are not supported: send one operation per request",
        ));
    }
    match serde_json::from_value::<Body>(value) {
        Ok(body) => Ok(Params {
            query: body.query,
            operation_name: body.operation_name,
            variables: body.variables.map(serde_json::Value::Object),
            extensions: body.extensions.map(serde_json::Value::Object),
            uploads: Vec::new(),
        }),
        Err(_) => Err(reply.refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "the body must be a JSON object: {\"query\": string, \"variables\": object, \"operationName\": string, \"extensions\": object}",
        )),
    }
}

/// The query string of `GET /graphql`, named as GraphQL over HTTP names them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    /// JSON, as a string.
    variables: Option<String>,
    /// JSON, as a string: how a persisted query goes over GET (and through a CDN).
    extensions: Option<String>,
}

/// `GET /graphql?query=...` (or `?extensions=` with a persisted query): queries only. A
/// browser in development gets GraphiQL.
pub async fn get(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let reply = Reply::new(&headers);
    let Ok(Query(params)) = params else {
        return reply.refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "unreadable query string",
        );
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let no_query = params.query.as_deref().is_none_or(|q| q.trim().is_empty());
    if no_query && params.extensions.is_none() && wants_html && !http.state.config.is_production() {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .finish(),
        )
        .into_response();
    }
    // Err names the parameter that is not a JSON object.
    let json_object = |name: &'static str, text: Option<String>| match text
        .map(|t| serde_json::from_str::<serde_json::Value>(&t))
        .transpose()
    {
        Ok(None) => Ok(None),
        Ok(Some(value)) if value.is_object() => Ok(Some(value)),
        _ => Err(name),
    };
    let parsed = json_object("variables", params.variables)
        .and_then(|v| json_object("extensions", params.extensions).map(|e| (v, e)));
    let (variables, extensions) = match parsed {
        Ok(parsed) => parsed,
        Err(name) => {
            return reply.refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                &format!("`{name}` must be a JSON object"),
            );
        }
    };
    let params = Params {
        query: params.query,
        operation_name: params.operation_name,
        variables,
        extensions,
        uploads: Vec::new(),
    };
    execute(&http, &headers, peer, params, Method::Get).await
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
        let reply = Reply {
            media: Media::Json,
            request_id: None,
        };
        let response = reply.refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "nope");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["message"], "nope");
    }

    #[test]
    fn graphql_response_json_is_chosen_when_the_client_prefers_it() {
        let negotiate = |accept: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(accept) = accept {
                headers.insert(header::ACCEPT, accept.parse().unwrap());
            }
            Media::negotiate(&headers)
        };
        assert_eq!(negotiate(None), Media::Json);
        assert_eq!(negotiate(Some("*/*")), Media::Json);
        assert_eq!(negotiate(Some("application/json")), Media::Json);
        assert_eq!(
            negotiate(Some("application/graphql-response+json")),
            Media::GraphqlResponse
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Media::GraphqlResponse
        );
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Media::Json
        );
        assert_eq!(
            negotiate(Some("application/graphql-response+json;q=0")),
            Media::Json
        );
    }
}
