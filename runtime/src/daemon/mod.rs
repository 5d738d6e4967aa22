//! `morph daemon`: a long-lived host for Morphir extension sessions (JSON-RPC over a Unix
//! socket or stdio) and Hayride's casts (its REST API on `--addr`). Each extension session is
//! an actor (`actor`): a task that owns its instance, model and env vars behind a bounded
//! mailbox. Sessions share the daemon's grants and limits (no request widens them) and its
//! compiled code (one compile per morph, whatever the number of sessions).

mod actor;
mod api;
mod casts;
pub mod rpc;
mod snapshot;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::sync::{mpsc, watch};

use crate::ext::PreparedExtension;
use crate::host::morphir::LogLevel;
use crate::sandbox::Sandbox;
use crate::RuntimeError;
use actor::{Asked, Begin, Identity};
use rpc::{Notifier, Open, Reply, RpcError};
pub use snapshot::Snapshot;

/// How long a shutdown waits for sessions to finish their step.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// What `morph daemon` was told.
pub struct DaemonOptions {
    pub sandbox: Sandbox,
    pub home: morph_registry_client::Home,
    /// The Unix socket to listen on (mode 0600).
    pub socket: Option<PathBuf>,
    /// Hayride's REST API on this address, each request with `Authorization: Bearer <token>`.
    pub addr: Option<(SocketAddr, String)>,
    /// Where session snapshots survive a restart.
    pub state: Option<PathBuf>,
    /// A session idle this long is evicted (its snapshot kept).
    pub idle: Duration,
    /// The extensions' log lines shown.
    pub log_level: LogLevel,
}

/// A session of the daemon: live (an actor's mailbox) or put away (its snapshot).
enum Slot {
    Live { tx: mpsc::Sender<Asked>, source: String },
    Suspended(Snapshot),
}

pub struct Daemon {
    pub(crate) sandbox: Sandbox,
    pub(crate) home: morph_registry_client::Home,
    pub(crate) state: Option<PathBuf>,
    pub(crate) idle: Duration,
    pub(crate) log_level: LogLevel,
    sessions: Mutex<HashMap<String, Slot>>,
    /// Compiled morphs by source: every session of one morph shares its code.
    code: tokio::sync::Mutex<HashMap<String, (String, PreparedExtension)>>,
    casts: casts::Casts,
    pub(crate) stopping: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
}

/// What a daemon listens on, bound (so errors come before anything runs).
pub struct Bound {
    unix: Option<(tokio::net::UnixListener, PathBuf)>,
    tcp: Option<(tokio::net::TcpListener, String)>,
}

impl Bound {
    /// The TCP address bound, when there is one.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }
}

impl Daemon {
    /// A daemon under `opts`; the snapshots under `--state` are its sessions, put away until
    /// asked for.
    pub fn new(opts: &DaemonOptions) -> Arc<Daemon> {
        let (stop, stopping) = watch::channel(false);
        let mut sessions = HashMap::new();
        if let Some(state) = &opts.state {
            for s in snapshot::load_all(state) {
                sessions.insert(s.session_id.clone(), Slot::Suspended(s));
            }
        }
        Arc::new(Daemon {
            sandbox: opts.sandbox.clone(),
            home: opts.home.clone(),
            state: opts.state.clone(),
            idle: opts.idle,
            log_level: opts.log_level,
            sessions: Mutex::new(sessions),
            code: Default::default(),
            casts: Default::default(),
            stopping,
            stop,
        })
    }

    /// Binds the socket and the address of `opts`.
    pub async fn bind(opts: &DaemonOptions) -> Result<Bound, RuntimeError> {
        let unix = match &opts.socket {
            Some(path) => Some((bind_socket(path)?, path.clone())),
            None => None,
        };
        let tcp = match &opts.addr {
            Some((addr, token)) => {
                let l = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| RuntimeError::Listen { addr: *addr, source })?;
                Some((l, token.clone()))
            }
            None => None,
        };
        Ok(Bound { unix, tcp })
    }

    /// Serves what `bound` listens on, and `stdio` (a connection on stdin/stdout, whose end
    /// ends the daemon) when asked, until `shutdown`; then drains: every session finishes its
    /// step, writes its snapshot (under `--state`) and closes; casts are killed.
    pub async fn serve(self: Arc<Self>, bound: Bound, stdio: bool, shutdown: impl std::future::Future<Output = ()>) {
        let mut tasks = Vec::new();
        if let Some((listener, path)) = bound.unix {
            let d = self.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let Ok((conn, _)) = listener.accept().await else { continue };
                    let (r, w) = conn.into_split();
                    tokio::spawn(rpc::serve(d.clone(), r, w));
                }
            }));
            tracing::info!("daemon: JSON-RPC on {}", path.display());
        }
        if let Some((listener, token)) = bound.tcp {
            tasks.push(tokio::spawn(api::serve(self.clone(), listener, token)));
        }
        let stdio_done = async {
            if stdio {
                rpc::serve(self.clone(), tokio::io::stdin(), tokio::io::stdout()).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = shutdown => {}
            _ = stdio_done => {}
        }
        for t in tasks {
            t.abort();
        }
        self.drain().await;
    }

    async fn drain(&self) {
        let _ = self.stop.send(true);
        self.casts.kill_all();
        // Each actor saves and ends at its next turn; their mailboxes closing says they did.
        let live: Vec<mpsc::Sender<Asked>> = self
            .sessions
            .lock()
            .unwrap()
            .values()
            .filter_map(|s| match s {
                Slot::Live { tx, .. } => Some(tx.clone()),
                Slot::Suspended(_) => None,
            })
            .collect();
        // A step still running past the grace (a guest spinning without --timeout) does not
        // hold the daemon: its session keeps its last snapshot.
        let all_closed = futures_util::future::join_all(live.iter().map(|tx| tx.closed()));
        if tokio::time::timeout(DRAIN_GRACE, all_closed).await.is_err() {
            tracing::warn!("daemon: a session was still in a step after {DRAIN_GRACE:?}; stopping without it");
        }
    }

    /// `ext.open`: a new session (init runs; `reply` gets its step), or one put away taken up
    /// again (`reply` gets where it stands).
    pub(crate) fn open(self: &Arc<Self>, open: Open, reply: Reply, notify: Notifier) {
        let id = open.session_id.clone().unwrap_or_else(crate::ext::tea::new_session_id);
        let mut sessions = self.sessions.lock().unwrap();
        match sessions.get(&id) {
            Some(Slot::Live { .. }) => {
                let e = format!("session {id:?} is open already; send to it, or close it first");
                return reply.send(Err(RpcError::params(e)));
            }
            Some(Slot::Suspended(s)) => {
                let answer = json!({ "session": id, "resumed": true, "seqnum": s.seqnum, "source": s.source });
                self.take_up(&mut sessions, &id, Some(notify));
                return reply.send(Ok(answer));
            }
            None => {}
        }
        let flags = match &open.init {
            Json::String(s) if !crate::ext::tea::is_json(&open.content_type) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).unwrap_or_default(),
        };
        let who = Identity { id: id.clone(), source: open.source.clone(), content_type: open.content_type };
        let begin = Begin::Open { flags, env_vars: open.env_vars, reply };
        let tx = actor::spawn(self.clone(), who, begin, Some(notify));
        sessions.insert(id, Slot::Live { tx, source: open.source });
    }

    /// Hands `asked` to session `id`, taking it up again first when it was put away.
    async fn ask(self: &Arc<Self>, id: &str, mut asked: Asked) {
        loop {
            let tx = {
                let mut sessions = self.sessions.lock().unwrap();
                match sessions.get(id) {
                    Some(Slot::Live { tx, .. }) => tx.clone(),
                    Some(Slot::Suspended(_)) => self.take_up(&mut sessions, id, asked.notify.clone()),
                    None => return asked.ask.reply().send(Err(RpcError::no_session(id))),
                }
            };
            match tx.send(asked).await {
                Ok(()) => return,
                // The session was put away (or ended) meanwhile: look again.
                Err(mpsc::error::SendError(back)) => asked = back,
            }
            if *self.stopping.borrow() {
                return asked.ask.reply().send(Err(RpcError::stopping()));
            }
            tokio::task::yield_now().await;
        }
    }

    /// Takes the session put away as `id` up again: an actor resumes it from its snapshot; its
    /// mailbox.
    fn take_up(
        self: &Arc<Self>,
        sessions: &mut HashMap<String, Slot>,
        id: &str,
        notify: Option<Notifier>,
    ) -> mpsc::Sender<Asked> {
        let Some(Slot::Suspended(s)) = sessions.remove(id) else { unreachable!("take_up of a session put away") };
        let who = Identity { id: id.to_string(), source: s.source.clone(), content_type: s.content_type.clone() };
        let source = who.source.clone();
        let tx = actor::spawn(self.clone(), who, Begin::Resume(s), notify);
        sessions.insert(id.to_string(), Slot::Live { tx: tx.clone(), source });
        tx
    }

    /// What session `id`'s slot becomes as its actor leaves it: put away, or gone.
    fn settle(&self, id: &str, slot: Option<Slot>) {
        let mut sessions = self.sessions.lock().unwrap();
        match slot {
            Some(s) => sessions.insert(id.to_string(), s),
            None => sessions.remove(id),
        };
    }

    pub(crate) fn is_suspended(&self, id: &str) -> bool {
        matches!(self.sessions.lock().unwrap().get(id), Some(Slot::Suspended(_)))
    }

    /// `session.close` of a session put away: its snapshot is dropped (and its file).
    pub(crate) fn close_suspended(&self, id: &str) -> Result<Json, RpcError> {
        let removed = self.sessions.lock().unwrap().remove(id);
        match removed {
            Some(Slot::Suspended(s)) => {
                if let Some(state) = &self.state {
                    snapshot::remove(state, id);
                }
                Ok(json!({ "session": id, "closed": true, "snapshot": s }))
            }
            Some(live) => {
                self.sessions.lock().unwrap().insert(id.to_string(), live);
                Err(RpcError::no_session(id))
            }
            None => Err(RpcError::no_session(id)),
        }
    }

    /// `session.list`: every session, extension and cast.
    pub(crate) fn list(&self) -> Json {
        let sessions = self.sessions.lock().unwrap();
        let mut out: Vec<Json> = sessions
            .iter()
            .map(|(id, slot)| match slot {
                Slot::Live { source, .. } => json!({ "session": id, "kind": "ext", "source": source, "state": "live" }),
                Slot::Suspended(s) => {
                    json!({ "session": id, "kind": "ext", "source": s.source, "state": "suspended", "seqnum": s.seqnum })
                }
            })
            .collect();
        out.sort_by(|a, b| a["session"].as_str().cmp(&b["session"].as_str()));
        if let Json::Array(casts) = self.casts.list() {
            out.extend(casts);
        }
        Json::Array(out)
    }

    /// The code of the morph at `source`, compiled once for all its sessions (again when the
    /// file changed).
    pub(crate) async fn prepared(&self, source: &str) -> Result<PreparedExtension, RuntimeError> {
        let home = self.home.clone();
        let arg = std::ffi::OsString::from(source);
        let src = morph_registry_client::source::load(&home, &arg, true, None, &|_| {})
            .await
            .map_err(|e| RuntimeError::Internal(format!("cannot load {source}: {e}")))?;
        let mut code = self.code.lock().await;
        if let Some((digest, p)) = code.get(source) {
            if *digest == src.digest {
                return Ok(p.clone());
            }
        }
        let sandbox = self.sandbox.clone();
        let digest = src.digest.clone();
        let prepared = tokio::task::spawn_blocking(move || sandbox.prepare_extension((&src).into()))
            .await
            .map_err(RuntimeError::internal)??;
        code.insert(source.to_string(), (digest, prepared.clone()));
        Ok(prepared)
    }
}

/// Listens on `path`, private to this user: its directory 0700, the socket 0600. A socket left
/// by a daemon that is gone is replaced; one a daemon answers on is not.
fn bind_socket(path: &std::path::Path) -> Result<tokio::net::UnixListener, RuntimeError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |action, source| RuntimeError::Io { action, path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
        if dir.file_name().is_some_and(|n| n == "run") {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            let busy = std::io::Error::new(std::io::ErrorKind::AddrInUse, "a morph daemon is listening there already");
            return Err(io("listen on", busy));
        }
        std::fs::remove_file(path).map_err(|e| io("replace the stale socket", e))?;
    }
    // Made private before anyone can connect: the umask covers the moment between bind and chmod.
    let old = unsafe { libc::umask(0o177) };
    let bound = tokio::net::UnixListener::bind(path);
    unsafe { libc::umask(old) };
    let listener = bound.map_err(|e| io("listen on", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| io("restrict", e))?;
    Ok(listener)
}
