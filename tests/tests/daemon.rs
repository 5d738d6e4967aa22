//! `morph daemon`: extension sessions as actors over JSON-RPC (Unix socket and stdio), their
//! effects, eviction and persistence across a restart; Hayride's cast API on `--addr` with a
//! bearer token; `morph cast --detach` and `morph sessions`. Guests: the counter template
//! (built with the real Rust toolchain) and tests/guests/rust-ext-effects.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::project::{build, new_project};
use common::*;
use serde_json::{json, Value};

fn effects_guest() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| rust_guest_with_wit("rust-ext-effects", "extension")).clone()
}

/// The counter template's component, built once.
fn counter() -> PathBuf {
    static BUILT: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    let (_, wasm) = BUILT.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        let (parent, dir) = new_project(home.path(), "counter", &["--world", "extension"]);
        let r = build(home.path(), &dir);
        assert_eq!(r.code, 0, "{r:?}");
        let wasm = dir.join("target/morph/counter.wasm");
        let kept = home.path().join("counter.wasm");
        std::fs::copy(&wasm, &kept).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
        drop(parent);
        (home, kept)
    });
    wasm.clone()
}

/// A running daemon; killed when dropped.
struct Daemon {
    child: Child,
    socket: PathBuf,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Daemon {
    fn start(home: &Path, extra: &[&str]) -> Daemon {
        let socket = home.join("d.sock");
        let mut child = Command::new(morph_bin())
            .args(["daemon", "--socket", path_str(&socket)])
            .args(extra)
            .env("MORPH_HOME", home)
            .env("MORPH_COMPILER", "optimized")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let seen = stderr.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Some(Ok(line)) = lines.next() {
                if line.starts_with("listening on") || line.starts_with("hayride api on") {
                    let _ = tx.send(line.clone());
                }
                seen.lock().unwrap().push_str(&(line + "\n"));
            }
            let _ = tx.send(String::new());
        });
        let first = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        assert!(first.starts_with("listening on"), "the daemon did not start: {}", stderr.lock().unwrap());
        if extra.contains(&"--addr") {
            let api = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert!(api.starts_with("hayride api on"), "{api}");
            *stderr.lock().unwrap() += &format!("API={api}\n");
        }
        Daemon { child, socket, stderr }
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket)
    }

    fn api_addr(&self) -> String {
        let log = self.stderr.lock().unwrap();
        log.lines().find_map(|l| l.strip_prefix("API=hayride api on http://")).unwrap().to_string()
    }

    fn terminate(mut self) -> String {
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the daemon did not drain and exit 0 on SIGTERM: {status:?}");
        std::thread::sleep(Duration::from_millis(100));
        let log = self.stderr.lock().unwrap().clone();
        log
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSON-RPC client over the socket: requests answered in order of their ids; notifications
/// kept.
struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next: u64,
    notifications: Vec<Value>,
    /// Answers read while waiting for another (answers of different sessions may pass each
    /// other).
    early: std::collections::HashMap<u64, Value>,
}

impl Client {
    fn connect(socket: &Path) -> Client {
        let s = UnixStream::connect(socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Client {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
            next: 1,
            notifications: Vec::new(),
            early: Default::default(),
        }
    }

    fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next;
        self.next += 1;
        writeln!(self.writer, "{}", json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).unwrap();
        id
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    /// The answer to request `id` (an object with `result` or `error`).
    fn answer(&mut self, id: u64) -> Value {
        if let Some(v) = self.early.remove(&id) {
            return v;
        }
        loop {
            let v = self.read();
            match v.get("id").and_then(Value::as_u64) {
                Some(got) if got == id => return v,
                Some(other) => {
                    self.early.insert(other, v);
                }
                None => self.notifications.push(v),
            }
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        let a = self.answer(id);
        assert!(a.get("error").is_none(), "{method} failed: {a}");
        a["result"].clone()
    }

    fn notification(&mut self, within: Duration) -> Value {
        if !self.notifications.is_empty() {
            return self.notifications.remove(0);
        }
        self.reader.get_ref().set_read_timeout(Some(within)).unwrap();
        let v = self.read();
        self.reader.get_ref().set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        v
    }
}

fn count(step: &Value) -> i64 {
    step["model"]["content"]["count"].as_i64().unwrap()
}

#[test]
fn ten_sessions_from_two_clients_keep_exact_models_while_one_traps() {
    let home = tempfile::tempdir().unwrap();
    let d = Daemon::start(home.path(), &[]);
    let (counter, effects) = (counter(), effects_guest());
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let (socket, counter, effects) = (d.socket.clone(), counter.clone(), effects.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(&socket);
                let ids: Vec<String> = (0..5).map(|i| format!("c{c}-s{i}")).collect();
                for (i, id) in ids.iter().enumerate() {
                    // Client 0's first session is the one that traps.
                    let path = if c == 0 && i == 0 { &effects } else { &counter };
                    let first = client
                        .call("ext.open", json!({ "path": path, "session-id": id, "init": { "count": 100 * i } }));
                    assert_eq!(first["step"], "init");
                    assert_eq!(first["session"], id.as_str());
                }
                // Messages to all five, pipelined: 20 rounds, the answers read at the end.
                let mut sent = Vec::new();
                for round in 0..20 {
                    for id in &ids {
                        let msg = if id == "c0-s0" && round == 10 { json!("Trap") } else { json!("Increment") };
                        sent.push((client.send("ext.send", json!({ "session": id, "msg": msg })), id.clone(), msg));
                    }
                }
                let mut last = std::collections::BTreeMap::new();
                for (rid, id, msg) in sent {
                    let a = client.answer(rid);
                    if msg == json!("Trap") {
                        assert_eq!(a["error"]["code"], -32002, "{a}");
                        assert!(a["error"]["message"].as_str().unwrap().contains("trapped"), "{a}");
                    } else {
                        assert!(a.get("error").is_none(), "{a}");
                        last.insert(id, a["result"].clone());
                    }
                }
                last
            })
        })
        .collect();
    for (c, t) in clients.into_iter().enumerate() {
        let last = t.join().unwrap();
        for i in 0..5 {
            let id = format!("c{c}-s{i}");
            let step = &last[&id];
            let trapped = c == 0 && i == 0;
            // The counter template starts at --init's count; the effects guest too. The trap cost
            // one step: 19 increments landed, on the last good model.
            let expect = if trapped { 19 } else { 100 * i as i64 + 20 };
            assert_eq!(count(step), expect, "{id}: {step}");
            assert_eq!(step["seqnum"], 20, "{id}");
            assert_eq!(step["model"]["session-id"], id.as_str(), "the host stamps each envelope");
        }
    }
    let list = d.client().call("session.list", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 10, "{list}");
}

#[test]
fn a_timer_and_a_file_watch_deliver_through_update_as_notifications() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let grant = format!("{}::/data", data.path().display());
    let d = Daemon::start(home.path(), &["--dir", &grant]);
    let mut c = d.client();
    c.call("ext.open", json!({ "path": effects_guest(), "session-id": "t" }));
    c.call("ext.send", json!({ "session": "t", "msg": { "type": "Ticks", "limit": 5, "every-ms": 20 } }));
    for n in 1..=5 {
        let step = c.notification(Duration::from_secs(10));
        assert_eq!(step["method"], "ext.step", "{step}");
        assert_eq!(step["params"]["source"], "timer");
        assert_eq!(step["params"]["session"], "t");
        assert_eq!(step["params"]["model"]["content"]["ticks"], n);
    }
    // The fifth tick ended the subscription: no sixth.
    let snapshot = c.call("session.snapshot", json!({ "session": "t" }));
    assert_eq!(snapshot["seqnum"], 6);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.call("session.snapshot", json!({ "session": "t" }))["seqnum"], 6);

    c.call("ext.send", json!({ "session": "t", "msg": { "type": "Watch", "path": "/data" } }));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(data.path().join("in.txt"), "x").unwrap();
    let step = c.notification(Duration::from_secs(10));
    assert_eq!(step["params"]["source"], "file-watch", "{step}");
    assert_eq!(step["params"]["message"], json!({ "type": "Changed", "path": "/data/in.txt", "change": "created" }));

    // An emit command reaches the client as an event.
    let cmds = json!({ "type": "Do", "commands": [{ "type": "emit", "event": { "saved": true } }] });
    let r = c.call("ext.send", json!({ "session": "t", "msg": cmds }));
    assert_eq!(r["events"], json!([{ "saved": true }]));
    let event = c.notification(Duration::from_secs(10));
    assert_eq!(
        event,
        json!({ "jsonrpc": "2.0", "method": "ext.event", "params": { "session": "t", "event": { "saved": true } } })
    );
}

#[test]
fn a_restarted_daemon_takes_a_session_up_at_its_model_and_seqnum() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let args = ["--state", path_str(&state)];
    let d = Daemon::start(home.path(), &args);
    let mut c = d.client();
    c.call("ext.open", json!({ "path": counter(), "session-id": "keep", "env-vars": { "step": "u8:5" } }));
    for _ in 0..3 {
        c.call("ext.send", json!({ "session": "keep", "msg": "Increment" }));
    }
    drop(c);
    d.terminate();
    assert!(state.join("keep.json").is_file());

    let d = Daemon::start(home.path(), &args);
    let mut c = d.client();
    let list = c.call("session.list", json!({}));
    assert_eq!(list[0]["state"], "suspended", "{list}");
    // The env var set at open (step 5) came back with it.
    let step = c.call("ext.send", json!({ "session": "keep", "msg": "Increment" }));
    assert_eq!((count(&step), step["seqnum"].as_u64()), (20, Some(4)), "{step}");
    assert_eq!(step["model"]["session-id"], "keep");
    // Closing forgets it, file and all.
    assert_eq!(c.call("session.close", json!({ "session": "keep" }))["closed"], true);
    assert!(!state.join("keep.json").exists());
    let gone = c.send("ext.send", json!({ "session": "keep", "msg": "Increment" }));
    assert_eq!(c.answer(gone)["error"]["code"], -32001);
}

#[test]
fn an_idle_session_is_evicted_and_taken_up_again_by_its_next_message() {
    let home = tempfile::tempdir().unwrap();
    // Opened by registry id: the eviction's snapshot names the id, and the resume loads it.
    let r = morph_in(home.path(), &["register", path_str(&counter()), "--package", "test:counter@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let d = Daemon::start(home.path(), &["--idle-timeout", "200ms", "-v"]);
    let mut c = d.client();
    c.call("ext.open", json!({ "id": "test:counter", "session-id": "nap" }));
    c.call("ext.send", json!({ "session": "nap", "msg": "Increment" }));
    std::thread::sleep(Duration::from_millis(700));
    let list = c.call("session.list", json!({}));
    assert_eq!((&list[0]["state"], &list[0]["source"]), (&json!("suspended"), &json!("test:counter")), "{list}");
    let step = c.call("ext.send", json!({ "session": "nap", "msg": "Increment" }));
    assert_eq!((count(&step), step["seqnum"].as_u64()), (2, Some(2)));
    assert_eq!(c.call("session.list", json!({}))[0]["state"], "live");
}

#[test]
fn bad_requests_get_json_rpc_errors_and_the_connection_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let d = Daemon::start(home.path(), &[]);
    let mut c = d.client();
    writeln!(c.writer, "this is not json").unwrap();
    assert_eq!(c.read()["error"]["code"], -32700);
    let id = c.send("ext.frobnicate", json!({}));
    let a = c.answer(id);
    assert_eq!(a["error"]["code"], -32601);
    assert!(a["error"]["message"].as_str().unwrap().contains("ext.open"), "{a}");
    let id = c.send("ext.open", json!({}));
    assert!(c.answer(id)["error"]["message"].as_str().unwrap().contains("params.path"));
    let id = c.send("ext.open", json!({ "path": counter(), "env-vars": { "n": "int:1" } }));
    assert!(c.answer(id)["error"]["message"].as_str().unwrap().contains("unknown type \"int\""));
    let missing = home.path().join("nope.wasm");
    let id = c.send("ext.open", json!({ "path": missing, "session-id": "x" }));
    let a = c.answer(id);
    assert_eq!(a["error"]["code"], -32003, "{a}");
    assert!(a["error"]["message"].as_str().unwrap().contains("nope.wasm"), "{a}");
    // The failed open left nothing behind, and the connection still works.
    assert_eq!(c.call("session.list", json!({})), json!([]));
    let id = c.send("ext.open", json!({ "path": counter(), "session-id": "x" }));
    assert!(c.answer(id).get("result").is_some());
    let again = c.send("ext.open", json!({ "path": counter(), "session-id": "x" }));
    assert!(c.answer(again)["error"]["message"].as_str().unwrap().contains("open already"));
}

#[test]
fn the_socket_is_private_and_stdio_speaks_the_same_protocol() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let d = Daemon::start(home.path(), &[]);
    assert_eq!(std::fs::metadata(&d.socket).unwrap().permissions().mode() & 0o777, 0o600);
    // A second daemon on the same socket is refused; the first keeps it.
    let r = morph_in(home.path(), &["daemon", "--socket", path_str(&d.socket)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("a morph daemon is listening there already"), "{}", r.stderr);
    d.client().call("session.list", json!({}));

    let input = format!(
        "{}\n{}\n",
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ext.open", "params": { "path": counter(), "session-id": "io" } }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "ext.send", "params": { "session": "io", "msg": "Increment" } })
    );
    let r = morph_with(home.path(), &["daemon", "--stdio"], &[], Some(&input));
    assert_eq!(r.code, 0, "{r:?}");
    let answers: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let two = answers.iter().find(|a| a["id"] == 2).unwrap();
    assert_eq!(count(&two["result"]), 1, "{two}");
}

/// An HTTP/1.1 request to the daemon's API; (status, JSON body).
fn api(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn hayride_api_casts_a_registry_morph_reports_and_kills() {
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let hello = rust_guest("rust-hello");
    assert_eq!(morph_in(home.path(), &["register", path_str(&hello), "--package", "test:hello@1.0.0"]).code, 0);
    let spin = fixture("spin.wat");
    assert_eq!(morph_in(home.path(), &["register", path_str(&spin), "--package", "test:spin@1.0.0"]).code, 0);
    let d = Daemon::start(home.path(), &["--addr", "127.0.0.1:0", "--token-file", path_str(&token)]);
    let addr = d.api_addr();
    let t = Some("s3cret");

    let (status, v) = api(
        &addr,
        "POST",
        "/v1/cast",
        t,
        r#"{"data":{"cast":{"name":"test:hello@1.0.0","function":"","args":["daemon"]}}}"#,
    );
    assert_eq!(status, 200, "{v}");
    let id = v["data"]["session-id"].as_str().unwrap().to_string();
    let status_body = json!({ "data": { "session-id": id } }).to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v) = api(&addr, "POST", "/v1/sessions/status", t, &status_body);
        assert_eq!(s, 200, "{v}");
        if v["data"]["active"] == false {
            assert_eq!(v["data"]["status"], "exited");
            assert_eq!(v["data"]["exit-code"], 0);
            break;
        }
        assert!(Instant::now() < deadline, "the cast never ended: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = std::fs::read_to_string(home.path().join("sessions").join(&id).join("stdout")).unwrap();
    assert_eq!(out, "hello, daemon, from rust\n");

    let (_, v) =
        api(&addr, "POST", "/v1/cast", t, r#"{"data":{"cast":{"name":"test:spin@1.0.0","function":"","args":[]}}}"#);
    let spinning = v["data"]["session-id"].as_str().unwrap().to_string();
    let (_, listed) = api(&addr, "GET", "/v1/sessions", t, "");
    assert_eq!(listed["data"]["sessions"]["sessions"], json!([["test:spin@1.0.0", spinning]]));
    let body = json!({ "data": { "session-id": spinning } }).to_string();
    let (s, v) = api(&addr, "POST", "/v1/sessions/kill", t, &body);
    assert_eq!((s, &v["data"]["status"]), (200, &json!("killed")), "{v}");
    let (_, v) = api(&addr, "POST", "/v1/sessions/status", t, &body);
    assert_eq!(v["data"]["active"], false);

    // Bad input, a missing session, and no or a wrong token.
    let (s, v) = api(&addr, "POST", "/v1/cast", t, r#"{"data":{}}"#);
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("data.cast"), "{v}");
    let (s, v) = api(&addr, "POST", "/v1/cast", t, r#"{"data":{"cast":{"name":"test:absent@1.0.0"}}}"#);
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("test:absent"), "{v}");
    let (s, _) = api(&addr, "POST", "/v1/sessions/status", t, r#"{"data":{"session-id":"nope"}}"#);
    assert_eq!(s, 404);
    assert_eq!(api(&addr, "GET", "/v1/sessions", None, "").0, 401);
    assert_eq!(api(&addr, "GET", "/v1/sessions", Some("s3cre"), "").0, 401);
}

#[test]
fn cast_detach_and_sessions_talk_to_the_running_daemon() {
    let home = tempfile::tempdir().unwrap();
    let socket = home.path().join("d.sock");
    let env = [("MORPH_DAEMON_SOCKET", path_str(&socket))];
    // No daemon: said so, and none is started.
    let r = morph_with(home.path(), &["sessions", "list"], &env, None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("start one with `morph daemon`"), "{}", r.stderr);
    assert!(!socket.exists());

    let hello = rust_guest("rust-hello");
    assert_eq!(morph_in(home.path(), &["register", path_str(&hello), "--package", "test:hello@1.0.0"]).code, 0);
    let spin = fixture("spin.wat");
    assert_eq!(morph_in(home.path(), &["register", path_str(&spin), "--package", "test:spin@1.0.0"]).code, 0);
    let _d = Daemon::start(home.path(), &[]);
    let r =
        morph_with(home.path(), &["cast", "--package", "test:hello@1.0.0", "--detach", "--args", "cli"], &env, None);
    assert_eq!(r.code, 0, "{r:?}");
    let id = r.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "a UUID-shaped session id: {id}");
    let logs = morph_with(home.path(), &["sessions", "logs", &id, "--follow"], &env, None);
    assert_eq!(logs.stdout, "hello, cli, from rust\n", "{logs:?}");
    let status = morph_with(home.path(), &["sessions", "status", &id], &env, None);
    assert_eq!(status.stdout.trim(), "exited (exit code 0)");

    let r = morph_with(home.path(), &["cast", "--package", "test:spin@1.0.0", "--detach"], &env, None);
    let spinning = r.stdout.trim().to_string();
    let list = morph_with(home.path(), &["sessions", "list", "--json"], &env, None).json();
    let row = list.as_array().unwrap().iter().find(|s| s["session"] == spinning.as_str()).unwrap().clone();
    assert_eq!(row["status"], "processing");
    let stopped = morph_with(home.path(), &["sessions", "stop", &spinning], &env, None);
    assert_eq!(stopped.stdout.trim(), "killed", "{stopped:?}");

    // Grants belong to the daemon: a detached cast cannot ask for more.
    let r = morph_with(home.path(), &["cast", "--package", "test:hello@1.0.0", "--detach", "--allow-net"], &env, None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("daemon's grants"), "{}", r.stderr);
}

#[test]
fn tcp_needs_a_token() {
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["daemon", "--addr", "127.0.0.1:0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--token-file"), "{}", r.stderr);
    let empty = home.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let r = morph_in(home.path(), &["daemon", "--addr", "127.0.0.1:0", "--token-file", path_str(&empty)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is empty"), "{}", r.stderr);
}
