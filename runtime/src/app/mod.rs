//! `morph up`: an app of several morphs behind one address, each a declared entry with its own
//! grants, limits and pool. http entries answer on their route prefixes (the longest prefix
//! wins; the morph sees the whole path), function entries at `POST /call/<name>` with a JSON
//! array of arguments (the mapping of `morph call`); `GET /healthz` and `GET /metrics`
//! (Prometheus) are the app's own.

mod function;
mod metrics;
mod process;
mod reload;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::engine::pool::MemoryReset;
use crate::engine::EngineSettings;
use crate::host::app_funcs::{AppFuncsCtx, Bridge};
use crate::sandbox::{Morph, Prepared, Sandbox};
use crate::serve::{accept_until, drain, plain, Answer, ConnSettings, ServeOptions, Server, Service};
use crate::RuntimeError;
use function::FunctionEntry;
use metrics::{EntryMetrics, Sample};
use process::ProcessEntry;
pub use reload::{Loader, Reload, Reloads, Source};

/// One declared entry, its component loaded.
pub struct AppEntry {
    /// Unique in the app: the log's and the metrics' label, `/call/<name>` for a function.
    pub name: String,
    pub kind: EntryKind,
    pub bytes: Arc<[u8]>,
    /// sha256 of `bytes`, as `sha256:<hex>`.
    pub digest: String,
    /// The file or reference it was loaded from, for messages.
    pub origin: PathBuf,
    /// Its grants and limits.
    pub sandbox: Sandbox,
    /// Instances running at once; more wait up to `queue_timeout`, then get 503.
    pub pool_max: usize,
    /// Instances made ahead of the requests or calls that will take them.
    pub pool_min: usize,
    pub queue_timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum EntryKind {
    /// wasi:http (or websocket) requests under a path prefix.
    Http { route: String },
    /// One export, called with JSON at `POST /call/<name>`.
    Function { export: String },
    /// A command run with `args` from the start, restarted when it fails.
    Process { args: Vec<String> },
}

/// How the app's listener treats connections (the flags of `morph serve`).
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub addr: SocketAddr,
    pub grace: Duration,
    pub header_timeout: Duration,
    pub write_timeout: Duration,
    pub max_body: usize,
    pub body_timeout: Duration,
    pub ws_idle: Duration,
}

/// An entry ready to answer.
enum Running {
    Http {
        route: String,
        server: Arc<Server>,
    },
    Function(Box<FunctionEntry>),
    /// Supervised on a task of its own; it answers no requests.
    Process(Box<ProcessEntry>),
}

struct Answering {
    name: String,
    running: Running,
    metrics: EntryMetrics,
    /// What a reload compiles the new version under.
    sandbox: Sandbox,
    /// The sha256 of the version served now.
    digest: std::sync::Mutex<String>,
}

struct App {
    entries: Vec<Answering>,
    ticker: Arc<crate::serve::Ticker>,
}

/// Compiles every entry (in parallel, through the cache), then serves them on `opts.addr`
/// until `shutdown` completes, and lets requests in flight finish (up to `opts.grace`). An entry
/// that cannot be compiled, or whose export is missing, fails the start naming the entry.
pub async fn up(
    entries: Vec<AppEntry>,
    opts: AppOptions,
    reloads: Option<Reloads>,
    listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), RuntimeError> {
    let prepared = prepare_all(&entries).await?;
    let listener =
        TcpListener::bind(opts.addr).await.map_err(|source| RuntimeError::Listen { addr: opts.addr, source })?;
    let bound = listener.local_addr().map_err(RuntimeError::internal)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let ticker = Arc::new(crate::serve::Ticker::start(prepared.iter().map(|p| p.engine.clone()).collect()));
    let bridge = Arc::new(AppBridge::default());
    let mut answering = Vec::new();
    let mut servers = Vec::new();
    for (entry, p) in entries.into_iter().zip(prepared) {
        let in_entry =
            |source| RuntimeError::Step { step: format!("entry `{}`", entry.name), source: Box::new(source) };
        let running = match &entry.kind {
            EntryKind::Http { route } => {
                let server =
                    http_server(&entry, &p, &opts, bound, stop_rx.clone(), bridge.clone()).map_err(in_entry)?;
                servers.push(server.clone());
                Running::Http { route: route.clone(), server }
            }
            EntryKind::Process { args } => Running::Process(Box::new(ProcessEntry::new(
                entry.name.clone(),
                entry.sandbox.clone(),
                args.clone(),
                p,
                ticker.clone(),
            ))),
            EntryKind::Function { export } => Running::Function(Box::new(
                FunctionEntry::new(&entry, p, export, opts.max_body, ticker.clone(), bridge.clone())
                    .map_err(in_entry)?,
            )),
        };
        answering.push(Answering {
            name: entry.name,
            running,
            metrics: EntryMetrics::default(),
            sandbox: entry.sandbox,
            digest: std::sync::Mutex::new(entry.digest),
        });
    }
    let app = Arc::new(App { entries: answering, ticker: ticker.clone() });
    let _ = bridge.app.set(Arc::downgrade(&app));
    if let Some(reloads) = reloads {
        tokio::spawn(app.clone().reload_on(reloads));
    }
    listening(bound);
    // Processes start once the app listens: their first lines follow the address, and a
    // process may call the app.
    for entry in &app.entries {
        if let Running::Process(process) = &entry.running {
            process.start();
        }
    }
    let conn =
        ConnSettings { max_buf: 64 * 1024, header_timeout: opts.header_timeout, write_timeout: opts.write_timeout };
    let routing = app.clone();
    let service: Service = Arc::new(move |req| Box::pin(routing.clone().route(req)));
    let connections = accept_until(listener, conn, service, stop_rx, shutdown).await;
    let _ = stop_tx.send(true);
    // One grace period for everything in flight: requests, calls, and processes stopping.
    let _ = tokio::time::timeout(opts.grace, async {
        let processes = async {
            for entry in &app.entries {
                if let Running::Process(p) = &entry.running {
                    p.stop().await;
                }
            }
        };
        let requests = async {
            drain(connections, opts.grace, servers).await;
            for entry in &app.entries {
                if let Running::Function(f) = &entry.running {
                    f.drained().await;
                }
            }
        };
        tokio::join!(processes, requests);
    })
    .await;
    Ok(())
}

/// An http or websocket entry: `serve`'s server for it, its log lines and metrics named by
/// the entry, its requests' stores given the bridge to the app's other entries.
fn http_server(
    entry: &AppEntry,
    p: &Prepared,
    opts: &AppOptions,
    bound: SocketAddr,
    stop: watch::Receiver<bool>,
    bridge: Arc<AppBridge>,
) -> Result<Arc<Server>, RuntimeError> {
    let serve_opts = ServeOptions {
        addr: Some(bound),
        max_concurrency: entry.pool_max,
        queue_timeout: entry.queue_timeout,
        grace: opts.grace,
        header_timeout: Some(opts.header_timeout),
        max_body: opts.max_body,
        write_timeout: Some(opts.write_timeout),
        ws_idle: opts.ws_idle,
        body_timeout: opts.body_timeout,
        min_ready: entry.pool_min,
    };
    let mut server = Server::new(&entry.sandbox, p, serve_opts, bound, stop)?;
    server.entry = Some(entry.name.clone());
    let bridge: Arc<dyn Bridge> = bridge;
    server.store_setup = Some(Arc::new(move |data| data.app = AppFuncsCtx { bridge: Some(bridge.clone()), depth: 0 }));
    let server = Arc::new(server);
    server.start_warm();
    Ok(server)
}

/// Every entry compiled, in parallel.
async fn prepare_all(entries: &[AppEntry]) -> Result<Vec<Prepared>, RuntimeError> {
    let jobs: Vec<_> = entries
        .iter()
        .map(|e| {
            let served = matches!(e.kind, EntryKind::Http { .. });
            let source = Source { bytes: e.bytes.clone(), digest: e.digest.clone(), origin: e.origin.clone() };
            tokio::task::spawn_blocking({
                let (sandbox, name) = (e.sandbox.clone(), e.name.clone());
                move || prepare(&sandbox, &name, &source, served)
            })
        })
        .collect();
    let mut prepared = Vec::new();
    for (job, entry) in jobs.into_iter().zip(entries) {
        let p = job.await.map_err(RuntimeError::internal)?.map_err(|source| RuntimeError::Step {
            step: format!("entry `{}`", entry.name),
            source: Box::new(source),
        })?;
        prepared.push(p);
    }
    Ok(prepared)
}

/// One entry's code: http entries for serving (the instance pool, a deadline per request),
/// functions with a deadline per call; both on the epoch the app ticks.
fn prepare(sandbox: &Sandbox, name: &str, source: &Source, served: bool) -> Result<Prepared, RuntimeError> {
    let morph = Morph { bytes: &source.bytes, digest: &source.digest, origin: &source.origin, name };
    let settings = EngineSettings {
        fuel: sandbox.limits.fuel.is_some(),
        epoch: true,
        pool: served.then(|| MemoryReset::for_guest(&source.bytes)),
        ..Default::default()
    };
    sandbox.prepare_with(morph, settings)
}

impl App {
    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Answer {
        let path = req.uri().path().to_string();
        match path.as_str() {
            "/healthz" => return plain(StatusCode::OK, "ok\n"),
            "/metrics" => return self.metrics(),
            _ => {}
        }
        let started = Instant::now();
        let (entry, answer) = if let Some(name) = path.strip_prefix("/call/") {
            match self.entries.iter().find(|e| e.name == name && matches!(e.running, Running::Function(_))) {
                Some(e) => {
                    let Running::Function(f) = &e.running else { unreachable!("matched above") };
                    (Some(e), f.answer(&e.name, req).await)
                }
                None => (None, plain(StatusCode::NOT_FOUND, &format!("no function entry `{name}`\n"))),
            }
        } else {
            match self.http_entry_for(&path) {
                Some((e, server)) => (Some(e), server.clone().answer(req).await),
                None => (None, plain(StatusCode::NOT_FOUND, &format!("no entry serves {path}\n"))),
            }
        };
        if let Some(e) = entry {
            e.metrics.record(answer.status().as_u16(), started.elapsed());
        }
        answer
    }

    /// The http entry whose route is the longest prefix of `path` (on a segment boundary).
    fn http_entry_for(&self, path: &str) -> Option<(&Answering, &Arc<Server>)> {
        self.entries
            .iter()
            .filter_map(|e| match &e.running {
                Running::Http { route, server } if route_matches(route, path) => Some((e, server, route.len())),
                _ => None,
            })
            .max_by_key(|(_, _, len)| *len)
            .map(|(e, server, _)| (e, server))
    }

    fn metrics(&self) -> Answer {
        let samples: Vec<Sample<'_>> = self
            .entries
            .iter()
            .map(|e| {
                let (in_use, size, ready) = match &e.running {
                    Running::Http { server, .. } => server.occupancy(),
                    Running::Function(f) => f.occupancy(),
                    Running::Process(_) => (0, 0, 0),
                };
                Sample { entry: &e.name, metrics: &e.metrics, in_use, size, ready }
            })
            .collect();
        let mut answer = plain(StatusCode::OK, &metrics::render(&samples));
        answer.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        answer
    }
}

/// `morph:app/funcs` for the app's entries: a call by name to one of its function entries.
#[derive(Default)]
struct AppBridge {
    /// Set once the app is built (its entries are built with the bridge).
    app: std::sync::OnceLock<std::sync::Weak<App>>,
}

impl Bridge for AppBridge {
    fn call(
        &self,
        name: String,
        args: String,
        depth: u32,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<String, String>> + Send>> {
        let app = self.app.get().and_then(std::sync::Weak::upgrade);
        Box::pin(async move {
            let app = app.ok_or_else(|| "the app is stopping".to_string())?;
            let entry = app.entries.iter().find(|e| e.name == name);
            let Some((e, Running::Function(f))) = entry.map(|e| (e, &e.running)) else {
                let names: Vec<&str> = app
                    .entries
                    .iter()
                    .filter(|e| matches!(e.running, Running::Function(_)))
                    .map(|e| e.name.as_str())
                    .collect();
                return Err(format!("no function entry `{name}`; the app has: {}", names.join(", ")));
            };
            let started = Instant::now();
            let result = f.call_json(&name, &args, depth).await;
            e.metrics.record(if result.is_ok() { 200 } else { 500 }, started.elapsed());
            result
        })
    }
}

/// `/api` serves `/api` and `/api/...`, not `/apis`; `/` serves everything.
fn route_matches(route: &str, path: &str) -> bool {
    let route = route.trim_end_matches('/');
    route.is_empty() || path == route || path.strip_prefix(route).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::route_matches;

    #[test]
    fn routes_match_on_segment_boundaries() {
        assert!(route_matches("/", "/anything"));
        assert!(route_matches("/api", "/api"));
        assert!(route_matches("/api", "/api/users"));
        assert!(route_matches("/api/", "/api/users"));
        assert!(!route_matches("/api", "/apis"));
        assert!(!route_matches("/api", "/"));
    }
}
