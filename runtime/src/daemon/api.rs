//! Hayride's server API on `--addr`, for casts: `POST /v1/cast`, `GET /v1/sessions`,
//! `POST /v1/sessions/status`, `POST /v1/sessions/kill` (and `/stop`), bodies in Hayride's
//! `{"data": …}` shapes. Every request carries `Authorization: Bearer <token>`, compared in
//! constant time; an error is `{"error": "…"}` with 400 (a bad body), 401, 404 or 405.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value as Json};
use tokio::net::TcpListener;

use super::rpc::{cast_of, NO_SESSION};
use super::Daemon;

/// The largest request body taken.
const MAX_BODY: usize = 1 << 20;

pub(super) async fn serve(d: Arc<Daemon>, listener: TcpListener, token: String) {
    let token: Arc<[u8]> = token.into_bytes().into();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (d, token) = (d.clone(), token.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (d, token) = (d.clone(), token.clone());
                async move { Ok::<_, std::convert::Infallible>(answer(&d, &token, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

fn reply(status: StatusCode, body: Json) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, json!({ "error": message.into() }))
}

/// Whether the request carries the bearer token (compared in constant time).
fn authorized(req: &Request<Incoming>, token: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let given = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    given.as_bytes().ct_eq(token).into()
}

async fn answer(d: &Arc<Daemon>, token: &[u8], req: Request<Incoming>) -> Response<Full<Bytes>> {
    if !authorized(&req, token) {
        let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token (Authorization: Bearer <token>)");
        r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Bearer"));
        return r;
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let known = ["/v1/cast", "/v1/sessions", "/v1/sessions/status", "/v1/sessions/kill", "/v1/sessions/stop"];
    if !known.contains(&path.as_str()) {
        return error(StatusCode::NOT_FOUND, format!("no route {path}; the API has {}", known.join(", ")));
    }
    if path == "/v1/sessions" {
        if method != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "use GET /v1/sessions");
        }
        let sessions: Vec<Json> = d.casts.running().into_iter().map(|(pkg, id)| json!([pkg, id])).collect();
        return reply(StatusCode::OK, json!({ "data": { "sessions": { "sessions": sessions } } }));
    }
    if method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, format!("use POST {path}"));
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")),
    };
    let body: Json = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let data = &body["data"];
    if path == "/v1/cast" {
        let Some(cast) = data.get("cast") else {
            return error(StatusCode::BAD_REQUEST, "the body needs data.cast: {\"data\": {\"cast\": {\"name\": …}}}");
        };
        let started = match cast_of(cast) {
            Ok(c) => d.casts.start(d, c).await,
            Err(e) => Err(e),
        };
        return match started {
            Ok(v) => reply(StatusCode::OK, json!({ "data": v })),
            Err(e) => error(StatusCode::BAD_REQUEST, e.message),
        };
    }
    let Some(id) = data.get("session-id").and_then(Json::as_str) else {
        return error(StatusCode::BAD_REQUEST, "the body needs data.session-id: {\"data\": {\"session-id\": \"…\"}}");
    };
    let result = if path == "/v1/sessions/status" { d.casts.status(id) } else { d.casts.stop(id) };
    match result {
        Ok(mut v) => {
            v["session-id"] = json!(id);
            reply(StatusCode::OK, json!({ "data": v }))
        }
        Err(e) if e.code == NO_SESSION => error(StatusCode::NOT_FOUND, e.message),
        Err(e) => error(StatusCode::BAD_REQUEST, e.message),
    }
}
