//! `POST /graphql` as a multipart request (the GraphQL multipart request specification,
//! what Apollo iOS and Apollo Kotlin send for an `Upload`): an `operations` part (the JSON
//! a plain POST would carry, with `null` where the file goes), a `map` part naming the
//! variable each file fills, then the file.
//!
//! The 1 MiB limit stays for the JSON parts; one file of up to 15 MiB is read on top, into
//! memory (processing reads it whole anyway). A larger file is 413 with BAD_USER_INPUT on
//! its variable (`input.file`).
//!
//! A form of a web page may post `multipart/form-data` to another site without asking
//! (it is a "simple" request, no CORS preflight). Apps authenticate with a bearer token,
//! which no such form can carry, but so that no request is ever run from a form, a
//! multipart request must carry a header a form cannot set: `Apollo-Require-Preflight` or
//! `X-Apollo-Operation-Name` (what Apollo Server requires, and Apollo's clients send).

use std::collections::HashMap;

use async_graphql::UploadValue;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use multer::{Constraints, Multipart, SizeLimit};

use super::{Params, Reply, params_of_json};
use crate::error::{AppError, code};
use crate::http::MAX_BODY_BYTES;
use crate::media::MAX_UPLOAD_BYTES;

/// Room for the `map` part.
const MAX_MAP_BYTES: u64 = 16 * 1024;
/// After a refusal, what is still read (and dropped) so the client hears the answer
/// rather than a reset connection; beyond it the connection is closed.
const DRAIN_BYTES: usize = 32 * 1024 * 1024;
/// Headers that a web page's form cannot send (see the module's comment).
const PREFLIGHT_HEADERS: [&str; 2] = ["apollo-require-preflight", "x-apollo-operation-name"];

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// A file part, before it is matched with its variable.
struct File {
    name: String,
    filename: String,
    content_type: Option<String>,
    content: Bytes,
}

/// Reads a multipart request into the parameters it carries, uploads included, or the
/// answer that refuses it.
// The refusal is the response itself, sent at once: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
pub async fn read(reply: &Reply, headers: &HeaderMap, body: Body) -> Result<Params, Response> {
    let bad = |message: &str| reply.refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, message);
    if !PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return Err(bad(
            "a multipart request must carry an Apollo-Require-Preflight or X-Apollo-Operation-Name header",
        ));
    }
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| bad("multipart/form-data needs a boundary"))?;
    let limits = SizeLimit::new()
        .whole_stream((MAX_UPLOAD_BYTES + MAX_BODY_BYTES) as u64 + MAX_MAP_BYTES)
        .per_field(MAX_UPLOAD_BYTES as u64)
        .for_field("operations", MAX_BODY_BYTES as u64)
        .for_field("map", MAX_MAP_BYTES);
    let mut stream = body.into_data_stream();
    let mut operations = None;
    let mut map: Option<HashMap<String, Vec<String>>> = None;
    let mut files = Vec::new();
    let outcome = {
        let mut multipart = Multipart::with_constraints(
            &mut stream,
            boundary,
            Constraints::new().size_limit(limits),
        );
        async {
            while let Some(field) = multipart.next_field().await? {
                match field.name() {
                    Some("operations") => operations = Some(field.bytes().await?),
                    Some("map") => {
                        let bytes = field.bytes().await?;
                        match serde_json::from_slice(&bytes) {
                            Ok(parsed) => map = Some(parsed),
                            Err(_) => {
                                return Ok(Err("`map` must be a JSON object of arrays of paths"));
                            }
                        }
                    }
                    Some(name) => {
                        if !files.is_empty() {
                            return Ok(Err("send one file per request"));
                        }
                        let name = name.to_owned();
                        let filename = field.file_name().unwrap_or_default().to_owned();
                        let content_type = field.content_type().map(ToString::to_string);
                        let content = field.bytes().await?;
                        files.push(File {
                            name,
                            filename,
                            content_type,
                            content,
                        });
                    }
                    None => {}
                }
            }
            Ok::<_, multer::Error>(Ok(()))
        }
        .await
    };
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(message)) => {
            drain(&mut stream).await;
            return Err(bad(message));
        }
        Err(err) => {
            let too_large = matches!(
                err,
                multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. }
            );
            drain(&mut stream).await;
            if !too_large {
                return Err(bad(&format!("unreadable multipart request: {err}")));
            }
            let field = match &err {
                multer::Error::FieldSizeExceeded {
                    field_name: Some(name),
                    ..
                } if name != "operations" && name != "map" => map
                    .as_ref()
                    .and_then(|m| m.get(name))
                    .and_then(|paths| paths.first())
                    .map(|path| variable_field(path))
                    .unwrap_or_else(|| "file".to_owned()),
                _ => "file".to_owned(),
            };
            return Err(reply.app_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::bad_input(
                    field,
                    format!(
                        "the file is larger than {} MiB, or the operation than {} KiB",
                        MAX_UPLOAD_BYTES / (1024 * 1024),
                        MAX_BODY_BYTES / 1024
                    ),
                ),
            ));
        }
    }
    let operations = operations.ok_or_else(|| bad("the `operations` part is missing"))?;
    let mut params = params_of_json(reply, &operations)?;
    let mut map = map.ok_or_else(|| bad("the `map` part is missing"))?;
    for file in files {
        let Some(paths) = map.remove(&file.name) else {
            continue;
        };
        let [path] = paths.as_slice() else {
            return Err(bad("a file must fill exactly one variable"));
        };
        params.uploads.push((
            path.clone(),
            UploadValue {
                filename: file.filename,
                content_type: file.content_type,
                content: file.content,
            },
        ));
    }
    if !map.is_empty() {
        return Err(bad("`map` names a file the request does not carry"));
    }
    Ok(params)
}

/// `variables.input.file` as errors name it: `input.file`.
fn variable_field(path: &str) -> String {
    path.strip_prefix("variables.").unwrap_or(path).to_owned()
}

/// `refusal`, once the body is read and dropped (up to [`DRAIN_BYTES`]), so the client
/// hears it.
pub async fn refuse_unread(body: Body, refusal: Response) -> Response {
    drain(&mut body.into_data_stream()).await;
    refusal
}

/// Reads what is left of a refused body, up to [`DRAIN_BYTES`].
async fn drain(stream: &mut axum::body::BodyDataStream) {
    let mut read = 0;
    while read < DRAIN_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_named_as_errors_name_them() {
        assert_eq!(variable_field("variables.input.file"), "input.file");
        assert_eq!(variable_field("0"), "0");
    }

    #[test]
    fn only_multipart_form_data_is_multipart() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=x".parse().unwrap(),
        );
        assert!(is_multipart(&headers));
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(!is_multipart(&headers));
    }
}
