//! Serving an http morph (`wasi:http/incoming-handler`) or a websocket morph
//! (`hayride:socket/websocket`): compiled once, pre-instantiated, a fresh instance per request
//! or connection, with limits on by default.
//!
//! Each request gets its own store under the run's sandbox policy, an epoch deadline (the guest
//! is interrupted at `--timeout`, answered 504) and, when set, fuel and a memory cap. A trap is
//! that request's 500 and is logged with its method and path; the server goes on. Requests in
//! flight are bounded: extra ones wait for a slot, then get 503.

mod body_progress;
mod channel_streams;
mod handlers;
mod listener;
mod output_log;
mod request_log;
mod settings;
mod swap;
mod ticker;
pub(crate) mod warm;
mod websocket;
mod write_deadline;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use wasmtime::Trap;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::engine::pool::MemoryReset;
use crate::engine::{Compiler, EngineSettings, Tier};
use crate::limits::Limits;
use crate::sandbox::{Morph, Sandbox};
use crate::store::{configure_store, Interruption, LimitWatch, StoreData};
use crate::RuntimeError;
use handlers::Handlers;
pub(crate) use listener::{accept_until, drain, ConnSettings, Service};
pub(crate) use output_log::OutputLog;
pub use request_log::REQUEST_LOG;
pub(crate) use request_log::{answered, failed, noted, plain};
use settings::settle;
pub use settings::{parse_address, DEFAULT_ADDR, DEFAULT_HEADER_TIMEOUT, DEFAULT_WRITE_TIMEOUT};
pub(crate) use ticker::{Ticker, TICK};
use warm::{Deadline, Made};
use websocket::is_websocket_upgrade;

/// Per-request deadline when the limits set none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to serve. The address and the two timeouts left `None` come from the morph's
/// `hayride:http/config.get()` when it exports one (as Hayride reads it), else the defaults
/// above; a flag always wins.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: Option<SocketAddr>,
    /// Requests handled at once; more wait for a slot.
    pub max_concurrency: usize,
    /// How long a request may wait for a slot before it gets 503.
    pub queue_timeout: Duration,
    /// How long requests in flight may take to finish after SIGINT/SIGTERM.
    pub grace: Duration,
    /// How long a client may take to send a request head (a slow client holds no connection
    /// forever); the morph's hayride:http/config read-timeout when it sets one.
    pub header_timeout: Option<Duration>,
    /// The largest request body: a larger Content-Length gets 413 before the guest runs; a
    /// streamed body that grows past it ends with a body-size error in the guest.
    pub max_body: usize,
    /// How long a response may wait for the client to take its bytes before the connection is
    /// dropped (the morph's hayride:http/config write-timeout when it sets one).
    pub write_timeout: Option<Duration>,
    /// A websocket connection with no frame either way for this long is closed.
    pub ws_idle: Duration,
    /// A request body that delivers less than `body_progress::MIN_BYTES` in this long, while
    /// the guest waits for it, ends that request.
    pub body_timeout: Duration,
    /// http instances kept made ahead of the requests that will take them (`pool.min`).
    pub min_ready: usize,
}

pub(crate) struct Server {
    handlers: std::sync::RwLock<Handlers>,
    /// The sandbox, its timeout always set: per request, the guest is interrupted after it and
    /// the client gets 504.
    sandbox: Sandbox,
    timeout: Duration,
    /// argv[0] the guest sees.
    argv: Vec<String>,
    opts: ServeOptions,
    /// Requests and websocket connections in flight share these.
    slots: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    /// The address the server listens on: the authority of an HTTP/1.0 request without Host.
    bound: SocketAddr,
    /// The app entry this server is (`morph up`), named in its request log lines.
    pub(crate) entry: Option<String>,
    /// What a request's store gets before the guest starts (`morph up`: the bridge to the
    /// app's other entries).
    pub(crate) store_setup: Option<StoreSetup>,
}

/// What a served store gets before its guest starts.
pub(crate) type StoreSetup = Arc<dyn Fn(&mut StoreData) + Send + Sync>;

pub(crate) type Answer = Response<HyperOutgoingBody>;

impl Sandbox {
    /// Compiles `morph` for serving and serves it until `shutdown` completes, then lets
    /// requests in flight finish (up to the grace period). `listening` is told the bound
    /// address once the socket accepts.
    pub async fn serve(
        &self,
        morph: Morph<'_>,
        opts: ServeOptions,
        listening: impl FnOnce(SocketAddr),
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RuntimeError> {
        self.serve_swapping(morph, opts, None, listening, shutdown).await
    }

    /// [`Sandbox::serve`], and each version that arrives on `swaps` (a rebuild, `--watch`) is
    /// compiled and served to new requests; requests in flight finish on the version they
    /// started with. A version that cannot be compiled or served leaves the old one serving.
    pub async fn serve_swapping(
        &self,
        morph: Morph<'_>,
        opts: ServeOptions,
        swaps: Option<tokio::sync::mpsc::UnboundedReceiver<crate::app::Source>>,
        listening: impl FnOnce(SocketAddr),
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RuntimeError> {
        // The pooling allocator (an instance per request) and epoch interruption (a deadline per
        // request) always; fuel when the limits ask for it. The pool resets memory the way that
        // suits this guest.
        let settings = EngineSettings {
            fuel: self.limits.fuel.is_some(),
            epoch: true,
            pool: Some(MemoryReset::for_guest(morph.bytes)),
            ..Default::default()
        };
        // A start on baseline code is followed by the optimized compile here, in this process,
        // and new requests switch to its code when it is ready.
        let here = Sandbox { optimize_later: None, ..self.clone() };
        let p = here.prepare_with(morph, settings)?;
        let upgrade =
            (p.tier == Tier::Baseline && self.compiler == Compiler::Auto && self.cache.is_some()).then(|| {
                let (bytes, digest, origin, name) = (
                    morph.bytes.to_vec(),
                    morph.digest.to_string(),
                    morph.origin.to_path_buf(),
                    morph.name.to_string(),
                );
                let cache = self.cache.clone();
                tokio::task::spawn_blocking(move || {
                    let m = Morph { bytes: &bytes, digest: &digest, origin: &origin, name: &name };
                    crate::engine::share::with_larger_share(|| {
                        crate::sandbox::compile(m, settings.at(Tier::Optimized), cache.as_deref(), None)
                    })
                })
            });
        let swapping = swaps.map(|rx| (rx, settings));
        serve(self, &p, upgrade, swapping, opts, listening, shutdown).await
    }

    /// A store for one served instance (a request or a websocket connection), interrupted at
    /// the first epoch tick at which `expired()` says so.
    pub(crate) fn served_store(
        &self,
        engine: &wasmtime::Engine,
        argv: &[String],
        expired: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Result<(wasmtime::Store<StoreData>, LimitWatch), RuntimeError> {
        let interruption = Interruption::Served(Box::new(expired));
        configure_store(engine, &self.policy, &self.limits, argv, self.runner(), interruption)
    }

    /// A served store whose deadline is `timeout` from now and can be moved: an instance made
    /// ahead of its request gets the request's.
    pub(crate) fn deadline_store(
        &self,
        engine: &wasmtime::Engine,
        argv: &[String],
        timeout: Duration,
    ) -> Result<(wasmtime::Store<StoreData>, LimitWatch, Deadline), RuntimeError> {
        let deadline = Deadline::after(timeout);
        let expired = deadline.clone();
        let (store, watch) = self.served_store(engine, argv, move || expired.passed())?;
        Ok((store, watch, deadline))
    }
}

async fn serve(
    sandbox: &Sandbox,
    p: &crate::sandbox::Prepared,
    upgrade: Option<tokio::task::JoinHandle<Result<crate::sandbox::Prepared, RuntimeError>>>,
    swapping: Option<(tokio::sync::mpsc::UnboundedReceiver<crate::app::Source>, EngineSettings)>,
    opts: ServeOptions,
    listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), RuntimeError> {
    let settled = settle(sandbox, p, &opts).await?;
    let listener =
        TcpListener::bind(settled.addr).await.map_err(|source| RuntimeError::Listen { addr: settled.addr, source })?;
    let bound = listener.local_addr().map_err(RuntimeError::internal)?;
    let ticker = Arc::new(Ticker::start(vec![p.engine.clone()]));
    let (stop_tx, stop_rx) = watch::channel(false);
    let grace = opts.grace;
    let server = Arc::new(Server::new(sandbox, p, opts, bound, stop_rx.clone())?);
    server.start_warm();
    listening(bound);
    if let Some(upgrade) = upgrade {
        server.clone().switch_when_ready(upgrade, ticker.clone());
    }
    if let Some((swaps, settings)) = swapping {
        server.clone().swap_on(swaps, settings, ticker.clone());
    }
    let conn = ConnSettings {
        max_buf: settled.max_header_bytes.max(8192),
        header_timeout: settled.header_timeout,
        write_timeout: settled.write_timeout,
    };
    let answering = server.clone();
    let service: Service = Arc::new(move |req| Box::pin(answering.clone().answer(req)));
    let connections = accept_until(listener, conn, service, stop_rx, shutdown).await;
    let _ = stop_tx.send(true);
    drain(connections, grace, [server]).await;
    Ok(())
}

impl Server {
    /// A server for `p` under `sandbox`, its timeout always set (per request, the guest is
    /// interrupted after it and the client gets 504).
    pub(crate) fn new(
        sandbox: &Sandbox,
        p: &crate::sandbox::Prepared,
        opts: ServeOptions,
        bound: SocketAddr,
        stop: watch::Receiver<bool>,
    ) -> Result<Server, RuntimeError> {
        let timeout = sandbox.limits.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let sandbox =
            Sandbox { limits: Limits { timeout: Some(timeout), ..sandbox.limits.clone() }, ..sandbox.clone() };
        let handlers = Handlers::of(p, &sandbox.policy, opts.min_ready)?;
        Ok(Server {
            handlers: std::sync::RwLock::new(handlers),
            sandbox,
            timeout,
            argv: vec![p.name.clone()],
            slots: Arc::new(Semaphore::new(opts.max_concurrency.max(1))),
            opts,
            stop,
            bound,
            entry: None,
            store_setup: None,
        })
    }

    /// Starts making instances of the code served now ahead of their requests.
    pub(crate) fn start_warm(self: &Arc<Self>) {
        self.warm_up(&self.handlers());
    }

    /// Makes `handlers`' http instances ahead of their requests, up to `min_ready`.
    fn warm_up(self: &Arc<Self>, handlers: &Handlers) {
        let Some(pre) = handlers.http.clone() else { return };
        let (server, whose) =
            (self.clone(), self.entry.as_ref().map_or("morph serve".into(), |e| format!("entry `{e}`")));
        handlers.warm.fill(whose, move || {
            let (server, pre) = (server.clone(), pre.clone());
            async move {
                let (mut store, watch, deadline) = server.request_store(pre.engine())?;
                match watch.within(pre.instantiate_async(&mut store)).await {
                    Ok(instance) => Ok(Made { store, instance, watch, deadline }),
                    Err(e) => Err(watch.classify(e, true)),
                }
            }
        });
    }

    /// A store for one request's guest: its deadline the timeout from now (moved when the
    /// request takes an instance made ahead), the app's setup applied.
    fn request_store(
        &self,
        engine: &wasmtime::Engine,
    ) -> Result<(wasmtime::Store<StoreData>, LimitWatch, Deadline), RuntimeError> {
        let (mut store, watch, deadline) = self.sandbox.deadline_store(engine, &self.argv, self.timeout)?;
        if let Some(setup) = &self.store_setup {
            setup(store.data_mut());
        }
        Ok((store, watch, deadline))
    }

    /// Requests (and websocket connections) in flight, how many may be, and http instances
    /// made ahead and waiting.
    pub(crate) fn occupancy(&self) -> (usize, usize, usize) {
        let size = self.opts.max_concurrency.max(1);
        (size - self.slots.available_permits(), size, self.handlers().warm.ready())
    }

    /// The handlers new requests run.
    fn handlers(&self) -> Handlers {
        self.handlers.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// One request, start to finish, with its log line.
    pub(crate) async fn answer(self: Arc<Self>, mut req: Request<Incoming>) -> Answer {
        let started = Instant::now();
        let method = req.method().to_string();
        let path = req.uri().path_and_query().map_or("/".to_string(), |p| p.to_string());
        if let Err(refused) = self.settle_authority(&mut req) {
            self.log(&method, &path, refused.status(), started.elapsed());
            return *refused;
        }
        let slot = tokio::time::timeout(self.opts.queue_timeout, self.slots.clone().acquire_owned()).await;
        let response = match slot {
            Ok(Ok(slot)) => {
                if is_websocket_upgrade(&req) {
                    self.upgrade(req, slot, &path)
                } else {
                    self.handle(req, &method, &path, slot).await
                }
            }
            _ => plain(StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; try again\n"),
        };
        self.log(&method, &path, response.status(), started.elapsed());
        response
    }

    /// Gives the request the authority the guest reads: its URI's, its Host header's, or for
    /// HTTP/1.0 (where Host is optional) the server's own address. HTTP/1.1 without Host, or a
    /// Host that is not text, is the client's error (400), as RFC 9112 says.
    fn settle_authority(&self, req: &mut Request<Incoming>) -> Result<(), Box<Answer>> {
        if req.uri().authority().is_some() {
            return Ok(());
        }
        match req.headers().get(hyper::header::HOST) {
            Some(host) if host.to_str().is_ok_and(|h| !h.is_empty()) => Ok(()),
            Some(_) => Err(Box::new(plain(StatusCode::BAD_REQUEST, "the Host header is not a valid host\n"))),
            None if req.version() <= hyper::Version::HTTP_10 => {
                let mut parts = req.uri().clone().into_parts();
                parts.scheme = Some(hyper::http::uri::Scheme::HTTP);
                parts.authority = self.bound.to_string().parse().ok();
                if parts.path_and_query.is_none() {
                    parts.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
                }
                *req.uri_mut() = hyper::Uri::from_parts(parts).map_err(|_| {
                    Box::new(plain(StatusCode::BAD_REQUEST, "the request target is not a valid path\n"))
                })?;
                Ok(())
            }
            None => Err(Box::new(plain(StatusCode::BAD_REQUEST, "an HTTP/1.1 request needs a Host header\n"))),
        }
    }

    /// Runs the guest for one request; its task keeps `slot` until the guest is done, which may
    /// be after the response head, while the body streams.
    async fn handle(
        self: &Arc<Self>,
        req: Request<Incoming>,
        method: &str,
        path: &str,
        slot: OwnedSemaphorePermit,
    ) -> Answer {
        let handlers = self.handlers();
        let Some(pre) = handlers.http.clone() else {
            return plain(
                StatusCode::UPGRADE_REQUIRED,
                "this morph serves websockets only; connect with a websocket client\n",
            );
        };
        let max = self.opts.max_body as u64;
        let declared =
            req.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request body is larger than {max} bytes\n"));
        }
        let window = self.opts.body_timeout;
        let req = req.map(|body| {
            let progressing = body_progress::Progressing::new(body, window, declared);
            http_body_util::Limited::new(progressing, self.opts.max_body).map_err(move |e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    ErrorCode::HttpRequestBodySize(Some(max))
                } else if e.is::<body_progress::Stalled>() {
                    ErrorCode::ConnectionReadTimeout
                } else {
                    ErrorCode::HttpProtocolError
                }
            })
        });
        // Past the timeout the guest traps (504).
        let made = match handlers.warm.take() {
            Some(ahead) => {
                self.warm_up(&handlers);
                ahead.start(self.timeout, self.sandbox.limits.fuel).map(|m| (m.store, m.watch, Some(m.instance)))
            }
            None => self.request_store(pre.engine()).map(|(store, watch, _)| (store, watch, None)),
        };
        let (mut store, limit_watch, made_ahead) = match made {
            Ok(made) => made,
            Err(e) => return self.fail(StatusCode::INTERNAL_SERVER_ERROR, method, path, &e.to_string()),
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
            .and_then(|r| Ok((r, store.data_mut().http().new_response_outparam(sender)?)));
        let (incoming, outparam) = match prepared {
            Ok(pair) => pair,
            Err(e) => return self.fail(StatusCode::INTERNAL_SERVER_ERROR, method, path, &format!("{e:#}")),
        };
        // The guest runs in its own task: it may go on streaming the body after the headers.
        let task = tokio::task::spawn(async move {
            let _slot = slot;
            let proxy = match made_ahead {
                Some(proxy) => proxy,
                None => pre.instantiate_async(&mut store).await?,
            };
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, outparam).await
        });
        // Interruption covers guest code; the wall-clock timer also covers a guest waiting on I/O.
        match tokio::time::timeout(self.timeout + TICK * 5, receiver).await {
            Ok(Ok(Ok(response))) => response,
            Ok(Ok(Err(code))) => self.fail(StatusCode::INTERNAL_SERVER_ERROR, method, path, &format!("{code:?}")),
            Ok(Err(_)) => {
                // The guest ended without a response: find out why, in the terms `run` uses.
                let (status, why) = match task.await {
                    Ok(Ok(())) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "the morph returned without setting a response".to_string())
                    }
                    Ok(Err(e)) => {
                        let interrupted = matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt));
                        let why = limit_watch.classify(e, false).to_string();
                        let status =
                            if interrupted { StatusCode::GATEWAY_TIMEOUT } else { StatusCode::INTERNAL_SERVER_ERROR };
                        (status, why)
                    }
                    Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the request task failed: {e}")),
                };
                self.fail(status, method, path, &why)
            }
            Err(_) => {
                task.abort();
                self.fail(
                    StatusCode::GATEWAY_TIMEOUT,
                    method,
                    path,
                    &format!("no response within --timeout {:?}", self.timeout),
                )
            }
        }
    }

    fn fail(&self, status: StatusCode, method: &str, path: &str, why: &str) -> Answer {
        request_log::failed(self.entry.as_deref(), status, method, path, why)
    }

    fn log(&self, method: &str, path: &str, status: StatusCode, took: Duration) {
        request_log::answered(self.entry.as_deref(), method, path, status, took);
    }
}
