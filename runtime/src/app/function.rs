//! A function entry: one export, called at `POST /call/<name>` with a JSON array of arguments
//! (one per parameter, mapped by the WIT type as `morph call` maps them) and answered with the
//! JSON result. Each call is a fresh instance, under the entry's grants, its deadline and its
//! limits: made for the call, or ahead of it when the entry keeps `pool.min` instances ready.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::Value as Json;
use tokio::sync::Semaphore;
use wasmtime::component::{Instance, InstancePre};

use super::AppEntry;
use crate::error::LimitHit;
use crate::host::app_funcs::{AppFuncsCtx, Bridge};
use crate::host::check_grants;
use crate::sandbox::{ExportFunc, Prepared, Sandbox, Session};
use crate::serve::warm::{Made, Warm};
use crate::serve::{plain, Answer, Ticker, DEFAULT_TIMEOUT};
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
    /// Instances each version keeps ready.
    min_ready: usize,
    name: String,
    queue_timeout: Duration,
    max_body: usize,
    /// Keeps the engines' epoch ticking: a call's deadline is checked at each tick.
    ticker: Arc<Ticker>,
    /// How its instances call other entries (`morph:app/funcs`).
    bridge: Arc<dyn Bridge>,
}

/// Why a call gave no result.
enum CallFailure {
    /// The pool stayed full past its queue timeout.
    Busy,
    /// The arguments are not a JSON array, or do not fit the export; the text says how.
    BadArguments(String),
    /// The morph trapped or hit a limit (`timed_out`: its timeout).
    Failed { timed_out: bool, why: String },
}

/// A compiled version of the entry's component, linked once, and its export.
struct Code {
    prepared: Prepared,
    /// Imports resolved once: a call only instantiates.
    pre: InstancePre<StoreData>,
    export: ExportFunc,
    /// Instances of this version made ahead of their calls.
    warm: Arc<Warm<Made<Instance>>>,
}

impl Code {
    /// `export` of `p`, callable with JSON and within `policy`'s grants.
    fn of(p: Prepared, export: &str, policy: &crate::policy::Policy, min_ready: usize) -> Result<Code, RuntimeError> {
        let f = p.find_export(export)?;
        f.check_callable()?;
        check_grants(&p.engine, &p.component, policy)?;
        let linker = build_linker(&p.engine, &p.component).map_err(RuntimeError::internal)?;
        let pre = linker.instantiate_pre(&p.component).map_err(|e| RuntimeError::Instantiate { source: e.into() })?;
        Ok(Code { prepared: p, pre, export: f, warm: Warm::new(min_ready) })
    }

    /// A fresh instance under `sandbox`, interrupted at the first epoch tick past its deadline
    /// (`timeout` from now, moved when a call takes it).
    async fn instance(&self, sandbox: &Sandbox, timeout: Duration) -> Result<Made<Instance>, RuntimeError> {
        let p = &self.prepared;
        let (mut store, watch, deadline) = sandbox.deadline_store(&p.engine, std::slice::from_ref(&p.name), timeout)?;
        match watch.within(self.pre.instantiate_async(&mut store)).await {
            Ok(instance) => Ok(Made { store, instance, watch, deadline }),
            Err(e) => Err(watch.classify(e, true)),
        }
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
        let code = Arc::new(Code::of(p, export, &entry.sandbox.policy, entry.pool_min)?);
        let timeout = entry.sandbox.limits.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut sandbox = entry.sandbox.clone();
        sandbox.limits.timeout = Some(timeout);
        let size = entry.pool_max.max(1);
        let entry = FunctionEntry {
            sandbox,
            timeout,
            code: std::sync::RwLock::new(code.clone()),
            export_name: export.to_string(),
            slots: Arc::new(Semaphore::new(size)),
            size,
            min_ready: entry.pool_min,
            name: entry.name.clone(),
            queue_timeout: entry.queue_timeout,
            max_body,
            ticker,
            bridge,
        };
        entry.warm_up(&code);
        Ok(entry)
    }

    /// Makes `code`'s ready instances, up to `pool.min`.
    fn warm_up(&self, code: &Arc<Code>) {
        let (sandbox, timeout, made_by) = (self.sandbox.clone(), self.timeout, code.clone());
        code.warm.fill(format!("entry `{}`", self.name), move || {
            let (sandbox, code) = (sandbox.clone(), made_by.clone());
            async move { code.instance(&sandbox, timeout).await }
        });
    }

    /// New calls run `p`; calls in flight finish on what they started with. Nothing changes
    /// when `p` lacks the export or needs a grant the entry does not have.
    pub(super) fn replace_code(&self, p: Prepared) -> Result<(), RuntimeError> {
        let code = Arc::new(Code::of(p, &self.export_name, &self.sandbox.policy, self.min_ready)?);
        self.ticker.add(code.prepared.engine.clone());
        self.warm_up(&code);
        *self.code.write().unwrap_or_else(|e| e.into_inner()) = code;
        Ok(())
    }

    fn current(&self) -> Arc<Code> {
        self.code.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// One call from outside, start to finish, with its log line.
    pub(super) async fn answer(&self, name: &str, req: Request<Incoming>) -> Answer {
        let started = Instant::now();
        let path = req.uri().path().to_string();
        // An answer that is not a failure of the morph: one log line, the text to the client.
        let reply = |status: StatusCode, text: String| {
            crate::serve::answered(Some(name), "POST", &path, status, started.elapsed());
            plain(status, &(text + "\n"))
        };
        if req.method() != hyper::Method::POST {
            let mut answer = reply(StatusCode::METHOD_NOT_ALLOWED, "call a function entry with POST".into());
            answer.headers_mut().insert(hyper::header::ALLOW, hyper::header::HeaderValue::from_static("POST"));
            return answer;
        }
        let body = match http_body_util::Limited::new(req.into_body(), self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                let why = format!("the arguments are larger than {} bytes", self.max_body);
                return reply(StatusCode::PAYLOAD_TOO_LARGE, why);
            }
            Err(e) => return reply(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}")),
        };
        match self.invoke(&body, 0).await {
            Ok(json) => {
                let mut answer = reply(StatusCode::OK, json.to_string());
                answer
                    .headers_mut()
                    .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
                answer
            }
            Err(CallFailure::Busy) => {
                reply(StatusCode::SERVICE_UNAVAILABLE, "too many calls in flight; try again".into())
            }
            Err(CallFailure::BadArguments(why)) => reply(StatusCode::BAD_REQUEST, why),
            Err(CallFailure::Failed { timed_out, why }) => {
                let status = if timed_out { StatusCode::GATEWAY_TIMEOUT } else { StatusCode::INTERNAL_SERVER_ERROR };
                crate::serve::failed(Some(name), status, "POST", &path, &why)
            }
        }
    }

    /// A call from another entry (`morph:app/funcs`) at nesting `depth`: the JSON result, or
    /// why it failed.
    pub(super) async fn call_json(&self, name: &str, args: &str, depth: u32) -> Result<String, String> {
        match self.invoke(args.as_bytes(), depth).await {
            Ok(json) => Ok(json.to_string()),
            Err(CallFailure::Busy) => Err(format!("entry `{name}` has too many calls in flight")),
            Err(CallFailure::BadArguments(why)) => Err(why),
            Err(CallFailure::Failed { why, .. }) => Err(format!("entry `{name}`: {why}")),
        }
    }

    /// The one path of every call: a slot of the pool, the JSON arguments checked against the
    /// export, a fresh instance at nesting `depth`, the JSON result.
    async fn invoke(&self, args: &[u8], depth: u32) -> Result<Json, CallFailure> {
        let Ok(Ok(_slot)) = tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await else {
            return Err(CallFailure::Busy);
        };
        let code = self.current();
        let Ok(Json::Array(args)) = serde_json::from_slice::<Json>(args) else {
            return Err(CallFailure::BadArguments(format!(
                "the arguments must be a JSON array with one value per parameter of {}",
                code.export.signature()
            )));
        };
        let values = code.export.args_from_json(&args).map_err(|e| CallFailure::BadArguments(e.to_string()))?;
        match tokio::time::timeout(self.timeout + crate::serve::TICK * 5, self.run(&code, &values, depth)).await {
            Ok(Ok(result)) => Ok(result.map_or(Json::Null, |v| v.to_json())),
            Ok(Err(e)) => Err(CallFailure::Failed {
                timed_out: matches!(e, RuntimeError::Limit(LimitHit::Timeout { .. })),
                why: e.to_string(),
            }),
            Err(_) => Err(CallFailure::Failed {
                timed_out: true,
                why: format!("no result within its timeout {:?}", self.timeout),
            }),
        }
    }

    /// An instance, ready or made now, and the call.
    async fn run(
        &self,
        code: &Arc<Code>,
        values: &[crate::Value],
        depth: u32,
    ) -> Result<Option<crate::Value>, RuntimeError> {
        let made = match code.warm.take() {
            Some(ahead) => {
                self.warm_up(code);
                ahead.start(self.timeout, self.sandbox.limits.fuel)?
            }
            None => code.instance(&self.sandbox, self.timeout).await?,
        };
        let mut session = Session { store: made.store, instance: made.instance, watch: made.watch };
        session.store.data_mut().app = AppFuncsCtx { bridge: Some(self.bridge.clone()), depth };
        session.call(&code.export, values).await
    }

    /// Instances running now, the pool's size, and instances made ahead and waiting.
    pub(super) fn occupancy(&self) -> (usize, usize, usize) {
        (self.size - self.slots.available_permits(), self.size, self.current().warm.ready())
    }

    /// Waits for the calls in flight to finish.
    pub(super) async fn drained(&self) {
        let _ = self.slots.acquire_many(self.size as u32).await;
    }
}
