//! The request log (one event per request or websocket connection, which the binary renders)
//! and the plain answers that go with it.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::{Response, StatusCode};

use super::Answer;

/// The tracing target of the request log: one event per request or websocket connection, with
/// `method`, `path`, `status` and `ms` (info) or `error` (error), and `entry` under `morph up`;
/// or a `line` of an entry's (its output, or what happened to it: a reload).
pub const REQUEST_LOG: &str = "morph::serve";

/// Something that happened to an entry, in the log beside its requests (shown without `-v`).
pub(crate) fn noted(entry: &str, line: &str) {
    tracing::info!(target: REQUEST_LOG, entry, line);
}

/// A request answered, in the log.
pub(crate) fn answered(entry: Option<&str>, method: &str, path: &str, status: StatusCode, took: Duration) {
    let ms = (took.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(target: REQUEST_LOG, entry, method, path, status = status.as_u16(), ms);
}

/// A request the morph failed: the reason goes to the log, the client gets the status's.
pub(crate) fn failed(entry: Option<&str>, status: StatusCode, method: &str, path: &str, why: &str) -> Answer {
    tracing::error!(target: REQUEST_LOG, entry, method, path, status = status.as_u16(), error = why);
    plain(status, &format!("{}\n", status.canonical_reason().unwrap_or("error")))
}

/// A text answer.
pub(crate) fn plain(status: StatusCode, text: &str) -> Answer {
    let body = Full::new(bytes::Bytes::from(text.to_string())).map_err(|never| match never {}).boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}
