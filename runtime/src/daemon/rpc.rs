//! JSON-RPC 2.0 over one connection (the Unix socket, or stdio): one request per line in, one
//! response or notification per line out. Requests are read in order and handed to the
//! sessions' mailboxes (a full mailbox stops the reading: backpressure); answers are written as
//! they come, so answers of different sessions may pass each other (match them by `id`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::actor::{Ask, Asked, Message};
use super::Daemon;
use crate::ext::{DesignTime, Envelope, Header};
use crate::RuntimeError;

/// The longest request line taken.
const MAX_LINE: usize = 16 << 20;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// No session by that id.
pub const NO_SESSION: i64 = -32001;
/// A step failed (a trap, a limit): the session goes on from its last good model.
pub const STEP_FAILED: i64 = -32002;
/// The morph cannot be loaded, compiled or instantiated as an extension.
pub const CANNOT_LOAD: i64 = -32003;
/// The daemon is shutting down.
pub const STOPPING: i64 = -32004;

/// A JSON-RPC error object, its message morph's own.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Json>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError { code, message: message.into(), data: None }
    }

    pub fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }

    pub fn no_session(id: &str) -> RpcError {
        RpcError::new(NO_SESSION, format!("no session {id:?}; `session.list` shows the sessions there are"))
    }

    pub fn stopping() -> RpcError {
        RpcError::new(STOPPING, "the daemon is shutting down")
    }

    /// A runtime error of session `id`: a failed step, or a morph that cannot be hosted.
    pub fn of_session(id: &str, e: &RuntimeError) -> RpcError {
        let code = if matches!(e, RuntimeError::Step { .. }) { STEP_FAILED } else { CANNOT_LOAD };
        RpcError { code, message: e.to_string(), data: Some(json!({ "session": id })) }
    }

    fn to_json(&self) -> Json {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }
}

/// Where a connection's lines go: its writer; and how many of its requests wait for an answer
/// (a connection that ends gets those answers before it closes).
#[derive(Clone)]
pub struct Notifier {
    lines: mpsc::UnboundedSender<String>,
    waiting: Arc<(std::sync::atomic::AtomicUsize, tokio::sync::Notify)>,
}

impl Notifier {
    pub fn notify(&self, method: &str, params: Json) {
        let _ = self.lines.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }).to_string());
    }

    fn respond(&self, id: Json, result: Result<Json, RpcError>) {
        let line = match result {
            Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
            Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
        };
        let _ = self.lines.send(line.to_string());
    }

    /// A request to be answered later: counted until the guard is dropped (answered, or
    /// dropped unanswered).
    fn expect(&self) -> Expected {
        self.waiting.0.fetch_add(1, Ordering::SeqCst);
        Expected(self.waiting.clone())
    }

    /// Until every request expected was answered.
    async fn answered(&self) {
        let (count, answered) = &*self.waiting;
        loop {
            let notified = answered.notified();
            if count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A request of a connection not answered yet.
pub struct Expected(Arc<(std::sync::atomic::AtomicUsize, tokio::sync::Notify)>);

impl Drop for Expected {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::SeqCst);
        self.0 .1.notify_waiters();
    }
}

/// Where an answer goes: a request's id on its connection, or a caller in the daemon.
pub enum Reply {
    Rpc { id: Json, to: Notifier, _expected: Expected },
    Here(oneshot::Sender<Result<Json, RpcError>>),
}

impl Reply {
    pub fn send(self, r: Result<Json, RpcError>) {
        match self {
            Reply::Rpc { id, to, _expected } => to.respond(id, r),
            Reply::Here(tx) => {
                let _ = tx.send(r);
            }
        }
    }
}

/// Serves one connection until it closes.
pub async fn serve<R, W>(d: Arc<Daemon>, reader: R, mut writer: W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let to = Notifier { lines: tx, waiting: Default::default() };
    let (finish, mut finished) = oneshot::channel::<()>();
    let writing = tokio::spawn(async move {
        loop {
            let (line, last) = tokio::select! {
                biased;
                line = rx.recv() => match line {
                    Some(line) => (line, false),
                    None => return,
                },
                _ = &mut finished => match rx.try_recv() {
                    Ok(line) => (line, true),
                    Err(_) => return,
                },
            };
            let mut batch = line;
            batch.push('\n');
            // Lines already waiting go out in the same write.
            while let Ok(more) = rx.try_recv() {
                batch.push_str(&more);
                batch.push('\n');
            }
            if writer.write_all(batch.as_bytes()).await.is_err() || writer.flush().await.is_err() || last {
                return;
            }
        }
    });
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match AsyncReadExt::take(&mut reader, MAX_LINE as u64 + 1).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) if line.len() > MAX_LINE => {
                to.respond(
                    Json::Null,
                    Err(RpcError::new(INVALID_REQUEST, format!("a request line is over {MAX_LINE} bytes"))),
                );
                break;
            }
            Ok(_) => {}
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let request: Json = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => {
                to.respond(Json::Null, Err(RpcError::new(PARSE_ERROR, format!("the line is not JSON: {e}"))));
                continue;
            }
        };
        dispatch(&d, request, &to).await;
    }
    // The client is done sending: its answers still go out, then the connection closes
    // (sessions keep running; their notifications have nowhere to go).
    to.answered().await;
    let _ = finish.send(());
    let _ = writing.await;
}

/// One request: its answer goes to `to` (none for a notification).
async fn dispatch(d: &Arc<Daemon>, request: Json, to: &Notifier) {
    let id = request.get("id").cloned();
    let Some(method) =
        request.get("method").and_then(Json::as_str).filter(|_| request.get("jsonrpc") == Some(&json!("2.0")))
    else {
        let e =
            RpcError::new(INVALID_REQUEST, "not a JSON-RPC 2.0 request: {\"jsonrpc\":\"2.0\",\"id\":…,\"method\":…}");
        return to.respond(id.unwrap_or(Json::Null), Err(e));
    };
    let params = request.get("params").cloned().unwrap_or(json!({}));
    let reply = match id {
        Some(id) => Reply::Rpc { id, to: to.clone(), _expected: to.expect() },
        // A notification: carried out, not answered.
        None => Reply::Here(oneshot::channel().0),
    };
    let p = Params(&params);
    let session_ask = |ask: Ask| async {
        let session = p.text("session")?;
        d.ask(&session, Asked { ask, notify: Some(to.clone()) }).await;
        Ok::<(), RpcError>(())
    };
    let outcome = match method {
        "ext.open" => {
            return match open_params(&p) {
                Ok(open) => d.open(open, reply, to.clone()),
                Err(e) => reply.send(Err(e)),
            }
        }
        "ext.send" => match p.message() {
            Ok(msg) => session_ask(Ask::Send { msg, reply }).await,
            Err(e) => Err(e),
        },
        "ext.capabilities" => session_ask(Ask::Capabilities { reply }).await,
        "ext.call" => match call_params(&p) {
            Ok((which, input)) => session_ask(Ask::Call { which, input, reply }).await,
            Err(e) => Err(e),
        },
        "session.snapshot" => session_ask(Ask::Snapshot { reply }).await,
        "session.close" => {
            let session = p.text("session");
            match session {
                Ok(s) if d.casts.has(&s) => return reply.send(d.casts.stop(&s)),
                Ok(s) if d.is_suspended(&s) => return reply.send(d.close_suspended(&s)),
                _ => session_ask(Ask::Close { reply }).await,
            }
        }
        "session.list" => return reply.send(Ok(d.list())),
        "cast.start" => {
            let started = match cast_params(&p) {
                Ok(c) => d.casts.start(d, c).await,
                Err(e) => Err(e),
            };
            return reply.send(started);
        }
        "cast.status" => return reply.send(p.text("session").and_then(|s| d.casts.status(&s))),
        "cast.stop" => return reply.send(p.text("session").and_then(|s| d.casts.stop(&s))),
        "cast.list" => return reply.send(Ok(d.casts.list())),
        other => {
            let known = "ext.open, ext.send, ext.capabilities, ext.call, session.list, session.close, \
                         session.snapshot, cast.start, cast.status, cast.stop, cast.list";
            return reply.send(Err(RpcError::new(METHOD_NOT_FOUND, format!("no method {other:?}; known: {known}"))));
        }
    };
    // Only a params error is left to answer here; the session answers everything else.
    if let Err(e) = outcome {
        to.respond(request.get("id").cloned().unwrap_or(Json::Null), Err(e));
    }
}

/// A request's params, read with errors that name the field.
struct Params<'a>(&'a Json);

impl Params<'_> {
    fn text(&self, key: &str) -> Result<String, RpcError> {
        self.opt_text(key)?.ok_or_else(|| RpcError::params(format!("params.{key} is missing (a string)")))
    }

    fn opt_text(&self, key: &str) -> Result<Option<String>, RpcError> {
        match self.0.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(RpcError::params(format!("params.{key} must be a string, not {other}"))),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, RpcError> {
        match self.0.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| RpcError::params(format!("params.{key} must be a list of strings"))),
            Some(other) => Err(RpcError::params(format!("params.{key} must be a list of strings, not {other}"))),
        }
    }

    /// `msg` (JSON) or `msg-base64` (bytes).
    fn message(&self) -> Result<Message, RpcError> {
        match (self.0.get("msg"), self.opt_text("msg-base64")?) {
            (Some(m), None) => Ok(Message::Json(m.clone())),
            (None, Some(b)) => base64(&b, "msg-base64").map(Message::Bytes),
            _ => Err(RpcError::params("give params.msg (JSON) or params.msg-base64 (bytes), one of them")),
        }
    }
}

fn base64(text: &str, key: &str) -> Result<Vec<u8>, RpcError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| RpcError::params(format!("params.{key} is not base64: {e}")))
}

/// What `ext.open` asks for.
pub struct Open {
    pub source: String,
    pub session_id: Option<String>,
    pub content_type: String,
    pub init: Json,
    /// (name, TYPE:VALUE).
    pub env_vars: Vec<(String, String)>,
}

fn open_params(p: &Params) -> Result<Open, RpcError> {
    let source = match (p.opt_text("path")?, p.opt_text("id")?) {
        (Some(s), None) | (None, Some(s)) => s,
        _ => return Err(RpcError::params("give params.path (a file) or params.id (a registry id), one of them")),
    };
    let content_type = p.opt_text("content-type")?.unwrap_or_else(|| crate::ext::tea::JSON_TYPE.to_string());
    let init = p.0.get("init").cloned().unwrap_or(json!({}));
    // {"name": "TYPE:VALUE"}, or ["name=TYPE:VALUE"] as --env-var takes them.
    let env_vars = match p.0.get("env-vars") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Object(o)) => o
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| RpcError::params("params.env-vars values must be strings: \"TYPE:VALUE\""))?,
        Some(Json::Array(_)) => p
            .strings("env-vars")?
            .into_iter()
            .map(|a| match a.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(RpcError::params(format!("params.env-vars item {a:?}: use NAME=TYPE:VALUE"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(RpcError::params(format!("params.env-vars must be an object or a list, not {other}")))
        }
    };
    // Checked here so a bad one is the open's error, not the session's.
    let mut check = crate::host::morphir::ExtSettings::default();
    for (k, v) in &env_vars {
        check.set_typed(k, v).map_err(RpcError::params)?;
    }
    Ok(Open { source, session_id: p.opt_text("session-id")?, content_type, init, env_vars })
}

fn call_params(p: &Params) -> Result<(DesignTime, Envelope), RpcError> {
    let which = match p.text("function")?.as_str() {
        "frontend-compile" => DesignTime::FrontendCompile,
        "backend-generate" => DesignTime::BackendGenerate,
        other => {
            return Err(RpcError::params(format!(
                "params.function {other:?}: use frontend-compile or backend-generate"
            )))
        }
    };
    let (content, default_type) = match (p.0.get("input"), p.opt_text("input-base64")?) {
        (Some(v), None) => (serde_json::to_vec(v).unwrap_or_default(), crate::ext::tea::JSON_TYPE),
        (None, Some(b)) => (base64(&b, "input-base64")?, "application/octet-stream"),
        _ => return Err(RpcError::params("give params.input (JSON) or params.input-base64 (bytes), one of them")),
    };
    let content_type = p.opt_text("content-type")?.unwrap_or_else(|| default_type.to_string());
    let header = Header { seqnum: 0, session_id: crate::ext::tea::new_session_id(), kind: Some("input".into()) };
    Ok((which, Envelope { header, content_type, content }))
}

/// What `cast.start` (and `POST /v1/cast`) asks for: Hayride's `cast` record.
pub struct CastRequest {
    pub name: String,
    pub function: String,
    pub args: Vec<String>,
    pub envs: Vec<(String, String)>,
}

fn cast_params(p: &Params) -> Result<CastRequest, RpcError> {
    let envs = match p.0.get("envs") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Array(kv) if kv.len() == 2 => Some((kv[0].as_str()?.to_string(), kv[1].as_str()?.to_string())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| RpcError::params("envs must be a list of [name, value] pairs of strings"))?,
        Some(Json::Object(o)) => {
            o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
        }
        Some(other) => {
            return Err(RpcError::params(format!("envs must be a list of [name, value] pairs, not {other}")))
        }
    };
    Ok(CastRequest {
        name: p.text("name")?,
        function: p.opt_text("function")?.unwrap_or_default(),
        args: p.strings("args")?,
        envs,
    })
}

/// [`cast_params`] of a JSON object (the REST API's `data.cast`).
pub(super) fn cast_of(v: &Json) -> Result<CastRequest, RpcError> {
    cast_params(&Params(v))
}
