//! What an extension asks its host to do, and the host doing it. After every step the
//! extension's `commands` envelope is run once and its `subscriptions` envelope replaces the
//! running subscriptions (TEA: a subscription that stays the same keeps running, one that is
//! gone stops). Both are JSON arrays of objects tagged by `"type"`:
//!
//! commands      `{"type":"log","level":"info","message":"…"}`
//!               `{"type":"emit","event":…}` (the event goes to the client)
//!               `{"type":"http","method":"GET","url":"…","headers":{…},"body":"…","msg":"Tag"}`
//!               (with `--allow-net`; the response comes back as the message
//!               `{"type":"Tag","status":200,"headers":{…},"body":"…"}` or `{"type":"Tag","error":"…"}`)
//! subscriptions `{"type":"timer","every-ms":N,"msg":…}` (`msg` is sent every N ms)
//!               `{"type":"file-watch","path":"/guest/dir","msg":"Tag"}` (inside a granted `--dir`;
//!               each change comes as `{"type":"Tag","path":"/guest/dir/f","change":"created"}`,
//!               change being created, modified or removed)
//!
//! A message produced here reaches the extension through `update`, as a message from the user
//! does.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::tea::json_content;
use super::Envelope;
use crate::host::morphir::{ExtSettings, LogLevel};
use crate::policy::{DirGrant, Policy};

/// How often a file-watch looks at its directory.
const WATCH_POLL: Duration = Duration::from_millis(100);
/// The most files one file-watch follows; past it, changes deeper in are not seen.
const WATCH_MAX_FILES: usize = 10_000;
/// The shortest timer period: a smaller `every-ms` is raised to it.
const MIN_TIMER: Duration = Duration::from_millis(1);
/// The most of an http response body delivered to the extension.
const HTTP_MAX_BODY: usize = 1 << 20;

/// One thing an extension asked for in its `commands`.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Log { level: LogLevel, message: String },
    Emit(Json),
    Http(HttpRequest),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The message type the response comes back as.
    pub msg: String,
}

/// One subscription an extension keeps while its model says so.
#[derive(Debug, Clone, PartialEq)]
pub enum Subscription {
    Timer { every: Duration, msg: Json },
    FileWatch { path: String, msg: String },
}

/// The items of a commands or subscriptions envelope: a JSON array (a lone object counts as
/// one; empty content or `null` as none). What is not is a warning, naming `what`.
fn items(e: &Envelope, what: &str, warnings: &mut Vec<String>) -> Vec<Json> {
    if e.content.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    match json_content(e) {
        Some(Json::Array(items)) => items,
        Some(Json::Null) => Vec::new(),
        Some(o @ Json::Object(_)) => vec![o],
        Some(other) => {
            warnings.push(format!("{what} are {other}, not a JSON array of {{\"type\": …}} objects; ignored"));
            Vec::new()
        }
        None => {
            warnings.push(format!("{what} are not JSON ({}); ignored", e.content_type));
            Vec::new()
        }
    }
}

fn tag(item: &Json) -> &str {
    item.get("type").and_then(Json::as_str).unwrap_or("")
}

fn text(item: &Json, key: &str) -> Option<String> {
    item.get(key).and_then(Json::as_str).map(str::to_string)
}

/// The commands of a step; what cannot be run is a warning.
pub fn parse_commands(e: &Envelope) -> (Vec<Command>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut commands = Vec::new();
    for (i, item) in items(e, "the commands", &mut warnings).into_iter().enumerate() {
        let n = i + 1;
        let command = match tag(&item) {
            "log" => Some(Command::Log {
                level: LogLevel::from_case(item.get("level").and_then(Json::as_str).unwrap_or("info")),
                message: text(&item, "message").unwrap_or_default(),
            }),
            "emit" => Some(Command::Emit(item.get("event").cloned().unwrap_or(Json::Null))),
            "http" => match (text(&item, "url"), text(&item, "msg")) {
                (Some(url), Some(msg)) => Some(Command::Http(HttpRequest {
                    method: text(&item, "method").unwrap_or_else(|| "GET".into()).to_ascii_uppercase(),
                    url,
                    headers: item
                        .get("headers")
                        .and_then(Json::as_object)
                        .map(|h| {
                            h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
                        })
                        .unwrap_or_default(),
                    body: text(&item, "body"),
                    msg,
                })),
                _ => {
                    warnings.push(format!("command #{n} (http) needs \"url\" and \"msg\"; ignored"));
                    None
                }
            },
            other => {
                warnings.push(format!("command #{n} has type {other:?}; known: log, emit, http; ignored"));
                None
            }
        };
        commands.extend(command);
    }
    (commands, warnings)
}

/// The subscriptions of a model, each with its key (the subscription's JSON: the same
/// subscription after the next step is the same key, and keeps running).
pub fn parse_subscriptions(e: &Envelope) -> (Vec<(String, Subscription)>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut subs = Vec::new();
    for (i, item) in items(e, "the subscriptions", &mut warnings).into_iter().enumerate() {
        let n = i + 1;
        let sub = match tag(&item) {
            "timer" => match item.get("every-ms").and_then(Json::as_u64) {
                Some(ms) => Some(Subscription::Timer {
                    every: Duration::from_millis(ms).max(MIN_TIMER),
                    msg: item.get("msg").cloned().unwrap_or(Json::Null),
                }),
                None => {
                    warnings.push(format!("subscription #{n} (timer) needs \"every-ms\": a whole number; ignored"));
                    None
                }
            },
            "file-watch" => match (text(&item, "path"), text(&item, "msg")) {
                (Some(path), Some(msg)) => Some(Subscription::FileWatch { path, msg }),
                _ => {
                    warnings.push(format!("subscription #{n} (file-watch) needs \"path\" and \"msg\"; ignored"));
                    None
                }
            },
            other => {
                warnings.push(format!("subscription #{n} has type {other:?}; known: timer, file-watch; ignored"));
                None
            }
        };
        if let Some(sub) = sub {
            subs.push((item.to_string(), sub));
        }
    }
    (subs, warnings)
}

/// A message the host made for the extension (a tick, a change, a response).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// What made it: `timer`, `file-watch` or `http`.
    pub source: &'static str,
    pub msg: Json,
}

impl Delivery {
    /// The message as the bytes `update` gets.
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.msg).unwrap_or_default()
    }
}

/// A running subscription; dropping it stops it.
struct Running(JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The effects of one session: its subscriptions running, its http commands in flight, and
/// the messages they made waiting for `update`.
pub struct Effects {
    allow_net: bool,
    dirs: Vec<DirGrant>,
    subs: HashMap<String, Running>,
    in_flight: Arc<AtomicUsize>,
    tx: mpsc::UnboundedSender<Delivery>,
    rx: mpsc::UnboundedReceiver<Delivery>,
}

impl Effects {
    /// Effects under `policy`'s grants: http needs `--allow-net`, a file-watch a `--dir`.
    pub fn new(policy: &Policy) -> Effects {
        let (tx, rx) = mpsc::unbounded_channel();
        Effects {
            allow_net: policy.allow_net,
            dirs: policy.dirs.clone(),
            subs: HashMap::new(),
            in_flight: Arc::default(),
            tx,
            rx,
        }
    }

    /// Runs a step's commands (logging through `settings`); gives the events to emit, in order.
    pub fn run_commands(&mut self, commands: &Envelope, settings: &ExtSettings) -> Vec<Json> {
        let (commands, warnings) = parse_commands(commands);
        for w in warnings {
            tracing::warn!("extension: {w}");
        }
        let mut events = Vec::new();
        for c in commands {
            match c {
                Command::Log { level, message } => settings.log(level, &message),
                Command::Emit(event) => events.push(event),
                Command::Http(req) => self.http(req),
            }
        }
        events
    }

    /// Makes the running subscriptions those of `subs`.
    pub fn set_subscriptions(&mut self, subs: &Envelope) {
        let (wanted, warnings) = parse_subscriptions(subs);
        for w in warnings {
            tracing::warn!("extension: {w}");
        }
        let keys: std::collections::HashSet<&String> = wanted.iter().map(|(k, _)| k).collect();
        self.subs.retain(|k, _| keys.contains(k));
        for (key, sub) in wanted {
            if self.subs.contains_key(&key) {
                continue;
            }
            if let Some(task) = self.start(sub) {
                self.subs.insert(key, Running(task));
            }
        }
    }

    /// Stops every subscription (a closed or evicted session).
    pub fn stop(&mut self) {
        self.subs.clear();
    }

    /// Nothing running and nothing waiting: no subscription, no request in flight, no message.
    pub fn idle(&self) -> bool {
        self.subs.is_empty() && self.in_flight.load(Ordering::SeqCst) == 0 && self.rx.is_empty()
    }

    /// Whether any subscription runs.
    pub fn subscribed(&self) -> bool {
        !self.subs.is_empty()
    }

    /// The next message for the extension; pending while there is none (forever when idle).
    pub async fn next(&mut self) -> Delivery {
        match self.rx.recv().await {
            Some(d) => d,
            // `self` holds a sender, so the channel never closes.
            None => std::future::pending().await,
        }
    }

    fn start(&self, sub: Subscription) -> Option<JoinHandle<()>> {
        let tx = self.tx.clone();
        match sub {
            Subscription::Timer { every, msg } => Some(tokio::spawn(async move {
                let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    if tx.send(Delivery { source: "timer", msg: msg.clone() }).is_err() {
                        return;
                    }
                }
            })),
            Subscription::FileWatch { path, msg } => {
                let Some(host) = host_path(&self.dirs, &path) else {
                    tracing::warn!(
                        "extension: file-watch of {path} is outside every granted directory; grant it with \
                         --dir HOST::{path}"
                    );
                    return None;
                };
                Some(tokio::spawn(watch(host, path, msg, tx)))
            }
        }
    }

    fn http(&self, req: HttpRequest) {
        let tx = self.tx.clone();
        let tag = req.msg.clone();
        if !self.allow_net {
            tracing::warn!("extension: http command to {} refused: the network is not granted (--allow-net)", req.url);
            let msg = json!({ "type": tag, "error": "the network is not granted; run with --allow-net" });
            let _ = tx.send(Delivery { source: "http", msg });
            return;
        }
        let in_flight = self.in_flight.clone();
        in_flight.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let msg = match perform(&req).await {
                Ok(mut answer) => {
                    answer["type"] = json!(tag);
                    answer
                }
                Err(e) => json!({ "type": tag, "error": e }),
            };
            let _ = tx.send(Delivery { source: "http", msg });
            in_flight.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// The response of `req` as the message's fields (status, headers, body), or why there is none.
async fn perform(req: &HttpRequest) -> Result<Json, String> {
    let client = morph_registry_client::http_client().map_err(|e| e.to_string())?;
    let method =
        reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| format!("bad method {:?}", req.method))?;
    let mut b = client.request(method, &req.url);
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    if let Some(body) = &req.body {
        b = b.body(body.clone());
    }
    let mut resp = b.send().await.map_err(|e| format!("{} {}: {e}", req.method, req.url))?;
    let status = resp.status().as_u16();
    let headers: BTreeMap<String, String> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading the body of {}: {e}", req.url))? {
        if body.len() + chunk.len() > HTTP_MAX_BODY {
            return Err(format!("the response of {} is larger than {HTTP_MAX_BODY} bytes", req.url));
        }
        body.extend_from_slice(&chunk);
    }
    let mut answer = json!({ "status": status, "headers": headers });
    match String::from_utf8(body) {
        Ok(text) => answer["body"] = json!(text),
        Err(e) => answer["body-base64"] = json!(super::tea::base64_encode(e.as_bytes())),
    }
    Ok(answer)
}

/// The host path of guest path `guest`, when a granted directory holds it.
fn host_path(dirs: &[DirGrant], guest: &str) -> Option<PathBuf> {
    let guest = Path::new(guest);
    dirs.iter().find_map(|d| {
        let rest = guest.strip_prefix(&d.guest).ok()?;
        // Only names below the grant: no `..` out of it.
        rest.components().all(|c| matches!(c, std::path::Component::Normal(_))).then(|| d.host.join(rest))
    })
}

type Listing = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

/// Every file under `root` (or `root` itself, a file) with its modification time and length.
fn list(root: &Path) -> Listing {
    let mut out = Listing::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if out.len() < WATCH_MAX_FILES {
            out.insert(p, (meta.modified().ok(), meta.len()));
        }
    }
    out
}

/// Polls `host` and sends a message for each file created, modified or removed, named by its
/// guest path.
async fn watch(host: PathBuf, guest: String, msg: String, tx: mpsc::UnboundedSender<Delivery>) {
    let scan =
        |root: PathBuf| async move { tokio::task::spawn_blocking(move || list(&root)).await.unwrap_or_default() };
    let mut seen = scan(host.clone()).await;
    let guest_of = |p: &Path| match p.strip_prefix(&host) {
        Ok(rest) if rest.as_os_str().is_empty() => guest.clone(),
        Ok(rest) => Path::new(&guest).join(rest).to_string_lossy().into_owned(),
        Err(_) => p.to_string_lossy().into_owned(),
    };
    loop {
        tokio::time::sleep(WATCH_POLL).await;
        let now = scan(host.clone()).await;
        let mut changes = Vec::new();
        for (p, stamp) in &now {
            match seen.get(p) {
                None => changes.push((p, "created")),
                Some(old) if old != stamp => changes.push((p, "modified")),
                _ => {}
            }
        }
        for p in seen.keys().filter(|p| !now.contains_key(*p)) {
            changes.push((p, "removed"));
        }
        for (p, change) in changes {
            let msg = json!({ "type": msg, "path": guest_of(p), "change": change });
            if tx.send(Delivery { source: "file-watch", msg }).is_err() {
                return;
            }
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::Header;

    fn envelope(content: &str) -> Envelope {
        Envelope {
            header: Header { seqnum: 0, session_id: String::new(), kind: None },
            content_type: "application/json".into(),
            content: content.as_bytes().to_vec(),
        }
    }

    #[test]
    fn commands_of_each_type_and_what_is_wrong_with_others() {
        let (c, w) = parse_commands(&envelope(
            r#"[{"type":"log","level":"warn","message":"m"},{"type":"emit","event":{"a":1}},
                {"type":"http","url":"http://x/","msg":"Got"},{"type":"http"},{"type":"launch"}]"#,
        ));
        assert_eq!(c[0], Command::Log { level: LogLevel::Warn, message: "m".into() });
        assert_eq!(c[1], Command::Emit(json!({"a": 1})));
        assert!(matches!(&c[2], Command::Http(r) if r.method == "GET" && r.msg == "Got"));
        assert_eq!(c.len(), 3);
        assert!(w[0].contains("#4 (http) needs \"url\" and \"msg\""), "{w:?}");
        assert!(w[1].contains("#5 has type \"launch\""), "{w:?}");
        assert!(parse_commands(&envelope("")).0.is_empty());
        assert!(parse_commands(&envelope("[]")).1.is_empty());
        assert!(parse_commands(&envelope("42")).1[0].contains("not a JSON array"));
    }

    #[test]
    fn subscriptions_are_keyed_by_what_they_say() {
        let e =
            envelope(r#"[{"type":"timer","every-ms":50,"msg":"Tick"},{"type":"file-watch","path":"/d","msg":"C"}]"#);
        let (s, w) = parse_subscriptions(&e);
        assert!(w.is_empty());
        assert_eq!(s[0].1, Subscription::Timer { every: Duration::from_millis(50), msg: json!("Tick") });
        assert_eq!(s[0].0, parse_subscriptions(&e).0[0].0);
        assert!(parse_subscriptions(&envelope(r#"[{"type":"timer"}]"#)).1[0].contains("every-ms"));
    }

    #[test]
    fn a_watched_path_must_be_inside_a_grant() {
        let dirs = vec![DirGrant { host: "/srv/data".into(), guest: "/data".into(), read_only: true }];
        assert_eq!(host_path(&dirs, "/data/in"), Some(PathBuf::from("/srv/data/in")));
        assert_eq!(host_path(&dirs, "/data"), Some(PathBuf::from("/srv/data")));
        assert_eq!(host_path(&dirs, "/data/../etc"), None);
        assert_eq!(host_path(&dirs, "/etc"), None);
    }
}
