//! `morph up`: an app of declared entries behind one address — a Rust http entry
//! (tests/guests/rust-http), the Rust reactor template as a function entry, and WAT function
//! entries (tests/fixtures/types.wat: `add`, `trap`, `spin`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::project::{build, morph_at, new_project};
use common::served::Served;
use common::*;

/// One request on a fresh connection: (status, body).
fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let status = reply.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return (status, body.to_string());
    }
    let (mut rest, mut decoded) = (body, String::new());
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        decoded.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    (status, decoded)
}

fn write_app(dir: &Path, entries: &str) {
    std::fs::write(dir.join("morph.toml"), entries).unwrap();
}

/// One `[[entry]]` table: its name, kind and source, then `more` lines (`export = "add"`…).
fn entry(name: &str, kind: &str, source: &Path, more: &[&str]) -> String {
    let mut table = format!("[[entry]]\nname = \"{name}\"\nkind = \"{kind}\"\nsource = \"{}\"\n", source.display());
    for line in more {
        table.push_str(line);
        table.push('\n');
    }
    table + "\n"
}

#[test]
fn an_app_serves_each_entry_on_its_route_with_its_own_limits() {
    let home = tempfile::tempdir().unwrap();
    let (app_dir, greeter) = new_project(home.path(), "greeter", &["--world", "reactor"]);
    build(home.path(), &greeter);
    let web = rust_guest("rust-http");
    let types = fixture("types.wat");
    let greeter_wasm = greeter.join("target/morph/greeter.wasm");
    let app_toml = [
        entry("web", "http", &web, &["route = \"/\""]),
        entry("greet", "function", &greeter_wasm, &["export = \"greet\""]),
        entry("add", "function", &types, &["export = \"add\""]),
        entry("boom", "function", &types, &["export = \"trap\""]),
        entry("spin", "function", &types, &["export = \"spin\"", "timeout = \"300ms\""]),
    ];
    write_app(app_dir.path(), &app_toml.concat());
    let app = Served::start_app(app_dir.path());
    let a = app.addr.as_str();

    assert_eq!(request(a, "GET", "/", ""), (200, "hello from morph serve\n".into()));
    assert_eq!(request(a, "POST", "/call/greet", r#"["app"]"#), (200, "\"Hello, app!\"\n".into()));
    assert_eq!(request(a, "POST", "/call/add", "[2, 3]"), (200, "5\n".into()));

    // Arguments that do not fit are the client's error, told how.
    let (status, body) = request(a, "POST", "/call/add", r#"["two", 3]"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("argument"), "{body}");
    let (status, body) = request(a, "POST", "/call/add", "[1]");
    assert!(status == 400 && body.contains("takes 2 argument"), "{status} {body}");
    let (status, body) = request(a, "POST", "/call/add", "2, 3");
    assert!(
        status == 400 && body.contains("JSON array") && body.contains("add: func(a: u32, b: u32) -> u32"),
        "{body}"
    );
    assert_eq!(request(a, "GET", "/call/add", "").0, 405);
    assert_eq!(request(a, "POST", "/call/nope", "[]").0, 404);

    // A trap, a runaway and an http trap each fail their own request; the others go on.
    assert_eq!(request(a, "POST", "/call/boom", "[]").0, 500);
    let started = Instant::now();
    assert_eq!(request(a, "POST", "/call/spin", "[]").0, 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the entry's 300ms timeout stopped it: {:?}",
        started.elapsed()
    );
    assert_eq!(request(a, "GET", "/trap", "").0, 500);
    assert_eq!(request(a, "POST", "/call/add", "[40, 2]"), (200, "42\n".into()));
    assert_eq!(request(a, "GET", "/", "").0, 200);

    assert_eq!(request(a, "GET", "/healthz", ""), (200, "ok\n".into()));
    let (status, metrics) = request(a, "GET", "/metrics", "");
    assert_eq!(status, 200);
    for line in [
        "morph_requests_total{entry=\"add\",status=\"2xx\"} 2",
        "morph_requests_total{entry=\"add\",status=\"4xx\"} 4",
        "morph_traps_total{entry=\"boom\"} 1",
        "morph_timeouts_total{entry=\"spin\"} 1",
        "morph_traps_total{entry=\"web\"} 1",
        "morph_request_duration_seconds_count{entry=\"greet\"} 1",
        "morph_pool_in_use{entry=\"add\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    app.wait_for("[add] POST /call/add 200", Duration::from_secs(5));
    let trap_line = app.wait_for("[boom] POST /call/boom", Duration::from_secs(5));
    assert!(trap_line.contains("error") && trap_line.contains("trap"), "{trap_line}");
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slow.wasm"), wat::parse_str(SLOW_ADD).unwrap()).unwrap();
    let app_toml = [
        entry("web", "http", &rust_guest("rust-http"), &["route = \"/\""]),
        entry("add", "function", Path::new("slow.wasm"), &["export = \"add\"", "timeout = \"60s\""]),
    ];
    write_app(dir.path(), &app_toml.concat());
    let mut app = Served::start_app(dir.path());
    // An http request and a function call in flight, each in its own entry's pool.
    let addr = app.addr.clone();
    let slow = std::thread::spawn(move || request(&addr, "GET", "/slow", ""));
    let addr = app.addr.clone();
    let call = std::thread::spawn(move || request(&addr, "POST", "/call/add", "[400, 2]"));
    std::thread::sleep(Duration::from_millis(150));
    app.signal("TERM");
    assert_eq!(slow.join().unwrap().0, 200, "the request in flight finished");
    assert_eq!(call.join().unwrap(), (200, "402\n".into()), "the call in flight finished");
    let status = app.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_pin_that_does_not_match_refuses_the_start() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wasm = fixture_wasm(&fixture("types.wat"), dir.path());
    let digest = common::registry::sha256(&std::fs::read(&wasm).unwrap());
    let entry = |pin: &str| {
        format!("[[entry]]\nname = \"add\"\nkind = \"function\"\nsource = \"types.wasm\"\nexport = \"add\"\nsha256 = \"{pin}\"\n")
    };
    write_app(dir.path(), &entry(&"0".repeat(64)));
    let r = morph_at(home.path(), dir.path(), &["up", "--addr", "127.0.0.1:0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("entry `add`") && r.stderr.contains("sha256"), "{r:?}");
    assert!(r.stderr.contains(digest.trim_start_matches("sha256:")), "the actual digest is named: {r:?}");

    // The right pin starts; `sha256:` is optional.
    write_app(dir.path(), &entry(&digest));
    let app = Served::start_app(dir.path());
    assert_eq!(request(&app.addr, "POST", "/call/add", "[1, 1]"), (200, "2\n".into()));
}

#[test]
fn a_bad_entry_fails_the_start_naming_the_entry_and_the_field() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let types = fixture("types.wat");
    for (entry, says) in [
        (
            format!(
                "name = \"add\"\nkind = \"function\"\nsource = \"{}\"\nexport = \"add\"\ntimeout = \"soon\"",
                types.display()
            ),
            "entry `add`, field `timeout`",
        ),
        (
            format!("name = \"add\"\nkind = \"function\"\nsource = \"{}\"\nexport = \"subtract\"", types.display()),
            "entry `add`",
        ),
        ("name = \"gone\"\nkind = \"function\"\nsource = \"missing.wasm\"\nexport = \"f\"".to_string(), "entry `gone`"),
        (
            format!("name = \"web\"\nkind = \"http\"\nsource = \"{}\"\nroute = \"api\"", types.display()),
            "entry `web`, field `route`",
        ),
        (
            format!(
                "name = \"add\"\nkind = \"function\"\nsource = \"{}\"\nexport = \"add\"\nallow = [\"everything\"]",
                types.display()
            ),
            "entry `add`",
        ),
    ] {
        write_app(dir.path(), &format!("[[entry]]\n{entry}\n"));
        let r = morph_at(home.path(), dir.path(), &["up", "--addr", "127.0.0.1:0"]);
        assert_eq!(r.code, 2, "{entry}: {r:?}");
        assert!(r.stderr.contains(says), "{entry}: {r:?}");
        assert!(!r.stderr.contains("panicked"), "{r:?}");
    }
    // The missing export lists what there is.
    write_app(
        dir.path(),
        &format!(
            "[[entry]]\nname = \"add\"\nkind = \"function\"\nsource = \"{}\"\nexport = \"subtract\"\n",
            types.display()
        ),
    );
    let r = morph_at(home.path(), dir.path(), &["up", "--addr", "127.0.0.1:0"]);
    assert!(r.stderr.contains("no export `subtract`") && r.stderr.contains("add"), "{r:?}");
    write_app(dir.path(), "[package]\nid = \"local:x@0.1.0\"\nlanguage = \"rust\"\nworld = \"x\"\n");
    let r = morph_at(home.path(), dir.path(), &["up"]);
    assert!(r.code == 2 && r.stderr.contains("declares no [[entry]]"), "{r:?}");
}

/// A component whose `add` multiplies: the "new version" of types.wat's `add`.
const MULTIPLYING_ADD: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (export "add" (func $add)))"#;

/// An `add` that first counts down from `a` million: a call that takes seconds for `a` in the
/// thousands.
const SLOW_ADD: &str = r#"(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32) (local $n i64)
      (local.set $n (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 1000000)))
      (block $done
        (loop $l
          (br_if $done (i64.eqz (local.get $n)))
          (local.set $n (i64.sub (local.get $n) (i64.const 1)))
          (br $l)))
      (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (export "add" (func $add)))"#;

/// Waits until `POST /call/add [3, 4]` answers `want`.
fn wait_for_add(addr: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = request(addr, "POST", "/call/add", "[3, 4]");
        if got == (200, want.to_string()) {
            return;
        }
        assert!(Instant::now() < deadline, "still {got:?}, waiting for {want:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn watch_and_sighup_swap_in_a_new_version_and_keep_the_old_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("add.wasm");
    std::fs::copy(fixture_wasm(&fixture("types.wat"), dir.path()), &source).unwrap();
    write_app(
        dir.path(),
        "[[entry]]\nname = \"add\"\nkind = \"function\"\nsource = \"add.wasm\"\nexport = \"add\"\ntimeout = \"60s\"\n",
    );

    // --watch: a rebuilt file is swapped in; a call in flight finishes on the version it started on.
    std::fs::write(&source, wat::parse_str(SLOW_ADD).unwrap()).unwrap();
    let app = Served::start_app_with(dir.path(), &["--watch"]);
    assert_eq!(request(&app.addr, "POST", "/call/add", "[3, 4]"), (200, "7\n".into()));
    let addr = app.addr.clone();
    let in_flight = std::thread::spawn(move || request(&addr, "POST", "/call/add", "[2000, 4]"));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&source, wat::parse_str(MULTIPLYING_ADD).unwrap()).unwrap();
    wait_for_add(&app.addr, "12\n");
    assert_eq!(in_flight.join().unwrap(), (200, "2004\n".into()), "the old version's answer");
    // A broken build is refused, logged, and the last good version goes on answering.
    std::fs::write(&source, b"\0asm truncated").unwrap();
    let line = app.wait_for("entry `add`", Duration::from_secs(20));
    assert!(line.contains("previous version"), "{line}");
    assert_eq!(request(&app.addr, "POST", "/call/add", "[3, 4]"), (200, "12\n".into()));
    drop(app);

    // Without --watch, a change waits for SIGHUP.
    std::fs::copy(fixture_wasm(&fixture("types.wat"), dir.path()), &source).unwrap();
    let app = Served::start_app(dir.path());
    std::fs::write(&source, wat::parse_str(MULTIPLYING_ADD).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(request(&app.addr, "POST", "/call/add", "[3, 4]"), (200, "7\n".into()), "no reload without a signal");
    app.signal("HUP");
    wait_for_add(&app.addr, "12\n");
    assert!(app.child.id() > 0);
}

#[test]
fn watch_follows_a_registry_version_bump_and_restarts_a_changed_process() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let register = |file: &Path, id: &str| {
        let r = morph_in(home.path(), &["register", path_str(file), "--package", id, "--no-precompile"]);
        assert_eq!(r.code, 0, "{r:?}");
    };
    register(&fixture("types.wat"), "local:adder@1.0.0");
    std::fs::write(dir.path().join("worker.wasm"), wat::parse_str(SPINNING_COMMAND).unwrap()).unwrap();
    let app_toml = [
        entry("add", "function", Path::new("local:adder"), &["export = \"add\""]),
        entry("worker", "process", Path::new("worker.wasm"), &["args = [\"again\"]"]),
    ];
    write_app(dir.path(), &app_toml.concat());
    let app = Served::start_app_at(home.path(), dir.path(), &["--watch"]);
    assert_eq!(request(&app.addr, "POST", "/call/add", "[3, 4]"), (200, "7\n".into()));

    // A newer version registered under the id is what the entry serves next.
    let multiplying = dir.path().join("multiplying.wasm");
    std::fs::write(&multiplying, wat::parse_str(MULTIPLYING_ADD).unwrap()).unwrap();
    register(&multiplying, "local:adder@1.1.0");
    wait_for_add(&app.addr, "12\n");

    // The spinning worker rebuilt as the hello command: the old one is stopped, the new one runs.
    std::fs::copy(rust_guest("rust-hello"), dir.path().join("worker.wasm")).unwrap();
    app.wait_for_all(
        &["[worker] hello, again, from rust", "[worker] reloaded, now serving sha256:"],
        Duration::from_secs(30),
    );
}

#[test]
fn entries_call_each_other_through_morph_app_funcs() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let caller = rust_guest("rust-app-caller");
    let types = fixture("types.wat");
    let app_toml = [
        entry("add", "function", &types, &["export = \"add\""]),
        entry("spin", "function", &types, &["export = \"spin\"", "timeout = \"300ms\""]),
        entry("relay", "function", &caller, &["export = \"relay\""]),
        entry("again", "function", &caller, &["export = \"again\""]),
        entry("front", "http", &caller, &["route = \"/relay\"", "pool = { min = 1 }"]),
    ];
    write_app(dir.path(), &app_toml.concat());
    let app = Served::start_app(dir.path());
    let a = app.addr.as_str();
    let relay = |name: &str, args: &str| {
        let body = serde_json::to_string(&serde_json::json!([name, args])).unwrap();
        let (status, answer) = request(a, "POST", "/call/relay", &body);
        assert_eq!(status, 200, "{answer}");
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    assert_eq!(relay("add", "[2, 3]"), serde_json::json!({"ok": "5"}));
    let err = relay("nope", "[]")["err"].as_str().unwrap().to_string();
    assert!(err.contains("no function entry `nope`") && err.contains("add"), "{err}");
    let err = relay("add", r#"["x", 1]"#)["err"].as_str().unwrap().to_string();
    assert!(err.contains("argument"), "{err}");
    // The callee's own limits apply to a call from another entry.
    let err = relay("spin", "[]")["err"].as_str().unwrap().to_string();
    assert!(err.contains("timeout") || err.contains("--timeout"), "{err}");
    // A cycle ends at the depth bound, as an error the caller sees, not a hang or a crash.
    let (status, answer) = request(a, "POST", "/call/again", "[]");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("nest deeper than 8"), "{answer}");
    // An http entry calls a function entry the same way.
    assert_eq!(request(a, "GET", "/relay/add?%5B20%2C%2022%5D", ""), (200, "42\n".into()));
    let (status, answer) = request(a, "GET", "/relay/nope?%5B%5D", "");
    assert!(status == 502 && answer.contains("no function entry `nope`"), "{status} {answer}");
    let (_, metrics) = request(a, "GET", "/metrics", "");
    assert!(metrics.contains("morph_requests_total{entry=\"add\",status=\"2xx\"} 2"), "{metrics}");
    assert!(metrics.contains("morph_requests_total{entry=\"front\",status=\"2xx\"} 1"), "{metrics}");

    // Outside morph up, the interface is there but every call says where it is answered.
    let r = morph_in(home.path(), &["call", path_str(&caller), "relay", "\"add\"", "\"[1, 2]\""]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("answered by `morph up`"), "{r:?}");
}

/// `count` adds one to a global and returns it: 1 on every call that gets an instance of its own.
const COUNTER: &str = r#"(component
  (core module $m
    (global $n (mut i32) (i32.const 0))
    (func (export "count") (result i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (global.get $n)))
  (core instance $i (instantiate $m))
  (func $count (result u32) (canon lift (core func $i "count")))
  (export "count" (func $count)))"#;

/// Waits until /metrics has `line`.
fn wait_for_metric(addr: &str, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, metrics) = request(addr, "GET", "/metrics", "");
        if metrics.contains(line) {
            return;
        }
        assert!(Instant::now() < deadline, "no {line} in:\n{metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn pool_min_keeps_instances_made_ahead_and_each_serves_one_request() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("counter.wasm"), wat::parse_str(COUNTER).unwrap()).unwrap();
    let app_toml = [
        entry("count", "function", Path::new("counter.wasm"), &["export = \"count\"", "pool = { min = 3, max = 4 }"]),
        entry("web", "http", &rust_guest("rust-http"), &["route = \"/\"", "pool = { min = 2 }"]),
    ];
    write_app(dir.path(), &app_toml.concat());
    let app = Served::start_app(dir.path());
    let a = app.addr.as_str();
    wait_for_metric(a, "morph_pool_ready{entry=\"count\"} 3");
    wait_for_metric(a, "morph_pool_ready{entry=\"web\"} 2");
    // Calls take the instances made ahead and more are made; none is used twice.
    for _ in 0..10 {
        assert_eq!(request(a, "POST", "/call/count", "[]"), (200, "1\n".into()));
        assert_eq!(request(a, "GET", "/", ""), (200, "hello from morph serve\n".into()));
    }
    wait_for_metric(a, "morph_pool_ready{entry=\"count\"} 3");
    wait_for_metric(a, "morph_pool_ready{entry=\"web\"} 2");
}

/// A command that computes forever.
const SPINNING_COMMAND: &str = r#"(component
  (core module $m (func (export "run") (result i32) (loop $l (br $l)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $cli (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli)))"#;

#[test]
fn process_entries_are_supervised_and_run_on_demand() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.wasm"), wat::parse_str(SPINNING_COMMAND).unwrap()).unwrap();
    let hello = rust_guest("rust-hello");
    let app_toml = [
        entry("failing", "process", &fixture("exit-code.wat"), &[]),
        entry("worker", "process", Path::new("spin.wasm"), &[]),
        entry("hello", "process", &hello, &["args = [\"app\"]"]),
        entry("add", "function", &fixture("types.wat"), &["export = \"add\""]),
    ];
    write_app(dir.path(), &app_toml.concat());
    let mut app = Served::start_app(dir.path());
    // A process's output is the log's, line by line, under its entry's name; a command that
    // fails is started again, after a pause that grows.
    let lines = app.wait_for_all(
        &[
            "hello, app, from rust",
            "process `failing` exited with code 42; restarting in 1s",
            "process `failing` exited with code 42; restarting in 2s",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(lines[0], "[hello] hello, app, from rust");
    // The spinning worker does not hold up the app, and SIGTERM stops it.
    assert_eq!(request(&app.addr, "POST", "/call/add", "[1, 2]"), (200, "3\n".into()));
    app.signal("TERM");
    let status = app.child.wait().unwrap();
    assert!(status.success(), "stopped in time, the worker interrupted: {status:?}");

    // --run: one entry's command, its arguments after --, its exit code passed through.
    let r = morph_at(home.path(), dir.path(), &["up", "--run", "hello", "--", "again"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello, again, from rust\n"), "{r:?}");
    let r = morph_at(home.path(), dir.path(), &["up", "--run", "failing"]);
    assert_eq!(r.code, 42, "{r:?}");
    let r = morph_at(home.path(), dir.path(), &["up", "--run", "nobody"]);
    assert!(r.code == 2 && r.stderr.contains("no entry `nobody`") && r.stderr.contains("worker"), "{r:?}");
}

#[test]
fn a_websocket_entry_answers_on_its_route_beside_an_http_one() {
    let dir = tempfile::tempdir().unwrap();
    write_app(
        dir.path(),
        &format!(
            "[[entry]]\nname = \"web\"\nkind = \"http\"\nsource = \"{}\"\n\n[[entry]]\nname = \"chat\"\nkind = \"websocket\"\nroute = \"/chat\"\nsource = \"{}\"\n",
            rust_guest("rust-http").display(),
            rust_guest_with_wit("rust-ws", "hayride-ws").display()
        ),
    );
    let app = Served::start_app(dir.path());
    let (mut client, response) =
        tungstenite::connect(format!("ws://{}/chat", app.addr)).expect("the websocket entry accepts the upgrade");
    assert_eq!(response.status(), 101);
    client.send(tungstenite::Message::text("hi")).unwrap();
    let echoed = loop {
        match client.read().unwrap() {
            tungstenite::Message::Text(t) => break t.to_string(),
            _ => continue,
        }
    };
    assert_eq!(echoed, "echo: hi");
    assert_eq!(request(&app.addr, "GET", "/", ""), (200, "hello from morph serve\n".into()));
    // The guest returns on `bye`; the connection's log line names the entry.
    client.send(tungstenite::Message::text("bye")).unwrap();
    let line = app.wait_for("WEBSOCKET /chat", Duration::from_secs(10));
    assert!(line.starts_with("[chat] "), "{line}");
}
