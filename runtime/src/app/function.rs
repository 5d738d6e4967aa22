//! A function entry: one export, called at `POST /call/<name>` with a JSON array of arguments
//! (one per parameter, mapped by the WIT type as `morph call` maps them) and answered with the
//! JSON result. Each call is a fresh instance from the entry's pool, under its grants, its
//! deadline and its limits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::Value as Json;
use tokio::sync::Semaphore;
use wasmtime::component::InstancePre;

use super::AppEntry;
use crate::error::LimitHit;
use crate::host::app_funcs::{AppFuncsCtx, Bridge};
use crate::host::check_grants;
use crate::sandbox::{ExportFunc, Prepared, Sandbox, Session};
use crate::serve::{plain, Answer, Ticker, DEFAULT_TIMEOUT, REQUEST_LOG};
use crate::store::{build_linker, StoreData};
use crate::RuntimeError;

pub(super) struct FunctionEntry {
    /// Its timeout always set: the deadline of each call.
    sandbox: Sandbox,
    timeout: Duration,
    /// What a call runs; replaced by a reload, while calls in flight keep the one they took.
    code: std::sync::RwLock<Arc<Code>>,
    export_name: String,
    slots: Arc<Semaphore>,
    size: usize,
    queue_timeout: Duration,
    max_body: usize,
    /// Keeps the engines' epoch ticking: a call's deadline is checked at each tick.
    ticker: Arc<Ticker>,
    /// How its instances call other entries (`morph:app/funcs`).
    bridge: Arc<dyn Bridge>,
}

/// A compiled version of the entry's component, linked once, and its export.
struct Code {
    prepared: Prepared,
    /// Imports resolved once: a call only instantiates.
    pre: InstancePre<StoreData>,
    export: ExportFunc,
}

impl Code {
    /// `export` of `p`, callable with JSON and within `policy`'s grants.
    fn of(p: Prepared, export: &str, policy: &crate::policy::Policy) -> Result<Code, RuntimeError> {
        let f = p.find_export(export)?;
        f.check_callable()?;
        check_grants(&p.engine, &p.component, policy)?;
        let linker = build_linker(&p.engine, &p.component).map_err(RuntimeError::internal)?;
        let pre = linker.instantiate_pre(&p.component).map_err(|e| RuntimeError::Instantiate { source: e.into() })?;
        Ok(Code { prepared: p, pre, export: f })
    }
}

impl FunctionEntry {
    /// The entry for `export` of `p`; an export that is not there, cannot be called with JSON,
    /// or imports what the entry's grants do not allow fails here, at start.
    pub(super) fn new(
        entry: &AppEntry,
        p: Prepared,
        export: &str,
        max_body: usize,
        ticker: Arc<Ticker>,
        bridge: Arc<dyn Bridge>,
    ) -> Result<FunctionEntry, RuntimeError> {
        let code = Code::of(p, export, &entry.sandbox.policy)?;
        let timeout = entry.sandbox.limits.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut sandbox = entry.sandbox.clone();
        sandbox.limits.timeout = Some(timeout);
        let size = entry.pool_max.max(1);
        Ok(FunctionEntry {
            sandbox,
            timeout,
            code: std::sync::RwLock::new(Arc::new(code)),
            export_name: export.to_string(),
            slots: Arc::new(Semaphore::new(size)),
            size,
            queue_timeout: entry.queue_timeout,
            max_body,
            ticker,
            bridge,
        })
    }

    /// New calls run `p`; calls in flight finish on what they started with. Nothing changes
    /// when `p` lacks the export or needs a grant the entry does not have.
    pub(super) fn replace_code(&self, p: Prepared) -> Result<(), RuntimeError> {
        let code = Code::of(p, &self.export_name, &self.sandbox.policy)?;
        self.ticker.add(code.prepared.engine.clone());
        *self.code.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(code);
        Ok(())
    }

    fn current(&self) -> Arc<Code> {
        self.code.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// One call, start to finish, with its log line.
    pub(super) async fn answer(&self, name: &str, req: Request<Incoming>) -> Answer {
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let (status, answer, error) = self.call(req).await;
        let ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
        match error {
            Some(why) => {
                tracing::error!(target: REQUEST_LOG, entry = name, method = "POST", path, status, error = why)
            }
            None => tracing::info!(target: REQUEST_LOG, entry = name, method = "POST", path, status, ms),
        }
        answer
    }

    /// The answer, its status, and for a failure of the morph the reason for the log (the
    /// client gets the status's reason only, as under `morph serve`).
    async fn call(&self, req: Request<Incoming>) -> (u16, Answer, Option<String>) {
        let client_error = |status: StatusCode, text: String| (status.as_u16(), plain(status, &(text + "\n")), None);
        if req.method() != hyper::Method::POST {
            let (status, mut answer, why) =
                client_error(StatusCode::METHOD_NOT_ALLOWED, "call a function entry with POST".to_string());
            answer.headers_mut().insert(hyper::header::ALLOW, hyper::header::HeaderValue::from_static("POST"));
            return (status, answer, why);
        }
        let Ok(Ok(_slot)) = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await else {
            return client_error(StatusCode::SERVICE_UNAVAILABLE, "too many calls in flight; try again".to_string());
        };
        let body = match http_body_util::Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return client_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the arguments are larger than {} bytes", self.max_body),
                )
            }
            Err(e) => return client_error(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}")),
        };
        let code = self.current();
        let signature = code.export.signature();
        let args = match serde_json::from_slice::<Json>(&body) {
            Ok(Json::Array(args)) => args,
            _ => {
                return client_error(
                    StatusCode::BAD_REQUEST,
                    format!("the body must be a JSON array with one value per parameter of {signature}"),
                )
            }
        };
        let values = match code.export.args_from_json(&args) {
            Ok(v) => v,
            Err(e) => return client_error(StatusCode::BAD_REQUEST, e.to_string()),
        };
        let outcome = tokio::time::timeout(self.timeout + crate::serve::TICK * 5, self.run(&code, &values, 0)).await;
        let failed = |status: StatusCode, why: String| {
            let text = format!("{}\n", status.canonical_reason().unwrap_or("error"));
            (status.as_u16(), plain(status, &text), Some(why))
        };
        match outcome {
            Ok(Ok(result)) => {
                let json = result.map_or(Json::Null, |v| v.to_json());
                let mut answer = plain(StatusCode::OK, &format!("{json}\n"));
                answer
                    .headers_mut()
                    .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
                (200, answer, None)
            }
            Ok(Err(e @ RuntimeError::Limit(LimitHit::Timeout { .. }))) => {
                failed(StatusCode::GATEWAY_TIMEOUT, e.to_string())
            }
            Ok(Err(e)) => failed(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            Err(_) => failed(StatusCode::GATEWAY_TIMEOUT, format!("no result within its timeout {:?}", self.timeout)),
        }
    }

    /// A fresh instance, interrupted at the first epoch tick past the deadline, and the call.
    async fn run(
        &self,
        code: &Code,
        values: &[crate::Value],
        depth: u32,
    ) -> Result<Option<crate::Value>, RuntimeError> {
        let deadline = Instant::now() + self.timeout;
        let p = &code.prepared;
        let (mut store, watch) =
            self.sandbox.served_store(&p.engine, std::slice::from_ref(&p.name), move || Instant::now() >= deadline)?;
        store.data_mut().app = AppFuncsCtx { bridge: Some(self.bridge.clone()), depth };
        let instance = match watch.within(code.pre.instantiate_async(&mut store)).await {
            Ok(instance) => instance,
            Err(e) => return Err(watch.classify(e, true)),
        };
        let mut session = Session { store, instance, watch };
        session.call(&code.export, values).await
    }

    /// A call from another entry (`morph:app/funcs`) at nesting `depth`: JSON arguments in,
    /// the JSON result or why it failed out, through this entry's pool, limits and grants.
    pub(super) async fn call_json(&self, name: &str, args: &str, depth: u32) -> Result<String, String> {
        let Ok(Ok(_slot)) = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await else {
            return Err(format!("entry `{name}` has too many calls in flight"));
        };
        let code = self.current();
        let Ok(Json::Array(args)) = serde_json::from_str::<Json>(args) else {
            return Err(format!("the arguments must be a JSON array for {}", code.export.signature()));
        };
        let values = code.export.args_from_json(&args).map_err(|e| e.to_string())?;
        match tokio::time::timeout(self.timeout + crate::serve::TICK * 5, self.run(&code, &values, depth)).await {
            Ok(Ok(result)) => Ok(result.map_or(Json::Null, |v| v.to_json()).to_string()),
            Ok(Err(e)) => Err(format!("entry `{name}`: {e}")),
            Err(_) => Err(format!("entry `{name}` gave no result within its timeout {:?}", self.timeout)),
        }
    }

    /// Instances running now, and the pool's size.
    pub(super) fn occupancy(&self) -> (usize, usize) {
        (self.size - self.slots.available_permits(), self.size)
    }

    /// Waits for the calls in flight to finish, up to `grace`.
    pub(super) async fn drained(&self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.slots.acquire_many(self.size as u32)).await;
    }
}
