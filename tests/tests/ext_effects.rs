//! What an extension asks its host for, run by `morph ext run`/`session`: timers delivering
//! their message through `update`, file watches inside a granted directory, http commands only
//! with `--allow-net`, log and emit commands, and `--until-idle`. The extension is
//! tests/guests/rust-ext-effects (a real wit-bindgen component).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

pub fn effects_guest() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| rust_guest_with_wit("rust-ext-effects", "extension")).clone()
}

fn ext_run(extra: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let guest = effects_guest();
    let mut args = vec!["ext", "run", path_str(&guest), "--json"];
    args.extend_from_slice(extra);
    morph_in(home.path(), &args)
}

fn last_model(doc: &Value) -> Value {
    doc["steps"].as_array().unwrap().last().unwrap()["model"]["content"].clone()
}

#[test]
fn a_timer_delivers_its_ticks_until_the_model_stops_subscribing() {
    let started = Instant::now();
    let r = ext_run(&["--msg", r#"{"type":"Ticks","limit":4,"every-ms":30}"#, "--until-idle"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    let steps = doc["steps"].as_array().unwrap();
    // init, the Ticks message, then four ticks from the timer, each through update.
    assert_eq!(steps.len(), 6, "{doc:#}");
    for (i, tick) in steps[2..].iter().enumerate() {
        assert_eq!(tick["source"], "timer");
        assert_eq!(tick["message"], "Tick");
        assert_eq!(tick["model"]["content"]["ticks"], i as i64 + 1);
    }
    assert_eq!(last_model(&doc)["ticks"], 4);
    assert_eq!(steps[5]["subscriptions"]["content"], serde_json::json!([]));
    // Four periods of 30 ms: not at once, not stuck.
    assert!(started.elapsed() >= Duration::from_millis(120), "{:?}", started.elapsed());
}

#[test]
fn without_until_idle_a_run_ends_after_its_messages() {
    let r = ext_run(&["--msg", r#"{"type":"Ticks","limit":4,"every-ms":10}"#]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["steps"].as_array().unwrap().len(), 2);
}

#[test]
fn log_and_emit_commands_run_and_unknown_ones_are_named() {
    let cmds = r#"{"type":"Do","commands":[{"type":"emit","event":{"done":1}},{"type":"log","level":"warn","message":"half way"},{"type":"launch"}]}"#;
    let r = ext_run(&["--msg", cmds]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["steps"][1]["events"], serde_json::json!([{ "done": 1 }]));
    assert!(r.stderr.contains("warn: half way"), "{}", r.stderr);
    assert!(r.stderr.contains("command #3 has type \"launch\"; known: log, emit, http"), "{}", r.stderr);
    // Quiet keeps the extension's warnings out.
    let quiet = ext_run(&["--msg", cmds, "-q"]);
    assert!(!quiet.stderr.contains("half way"), "{}", quiet.stderr);
}

/// A one-request HTTP server on a free port; gives its URL and the request it received.
fn one_shot_server(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/thing", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut sent = vec![0; length];
        reader.read_exact(&mut sent).unwrap();
        head.push_str(&String::from_utf8_lossy(&sent));
        let reply = format!("HTTP/1.1 201 Created\r\nx-answer: yes\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        conn.write_all(reply.as_bytes()).unwrap();
        head
    });
    (url, handle)
}

#[test]
fn an_http_command_needs_allow_net_and_its_response_comes_back_as_a_message() {
    let (url, server) = one_shot_server("made it");
    let cmd = format!(
        r#"{{"type":"Do","commands":[{{"type":"http","method":"post","url":"{url}","headers":{{"x-from":"ext"}},"body":"payload","msg":"Got"}}]}}"#
    );
    let denied = ext_run(&["--msg", &cmd, "--until-idle"]);
    assert_eq!(denied.code, 0, "{denied:?}");
    let seen = &last_model(&denied.json())["seen"][0];
    assert_eq!(seen["type"], "Got");
    assert!(seen["error"].as_str().unwrap().contains("--allow-net"), "{seen}");
    assert!(denied.stderr.contains("refused: the network is not granted"), "{}", denied.stderr);

    let r = ext_run(&["--msg", &cmd, "--until-idle", "--allow-net"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    let seen = &last_model(&doc)["seen"][0];
    assert_eq!(seen["type"], "Got");
    assert_eq!(seen["status"], 201);
    assert_eq!(seen["body"], "made it");
    assert_eq!(seen["headers"]["x-answer"], "yes");
    assert_eq!(doc["steps"][2]["source"], "http");
    let request = server.join().unwrap();
    assert!(request.starts_with("POST /thing HTTP/1.1"), "{request}");
    assert!(request.contains("x-from: ext") && request.ends_with("payload"), "{request}");
}

#[test]
fn a_file_watch_sees_changes_in_a_granted_dir_only() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let guest = effects_guest();
    let grant = format!("{}::/data", data.path().display());
    let mut child = Command::new(morph_bin())
        .args(["ext", "session", path_str(&guest), "--dir", &grant, "--until-idle"])
        .env("MORPH_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["step"], "init");
    writeln!(stdin, r#"{{"type":"Watch","path":"/data"}}"#).unwrap();
    assert_eq!(next()["model"]["content"]["watch"], "/data");
    // The watch has looked once before the file is written.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(data.path().join("note.txt"), "hi").unwrap();
    let change = next();
    assert_eq!(change["source"], "file-watch", "{change}");
    assert_eq!(
        change["message"],
        serde_json::json!({"type": "Changed", "path": "/data/note.txt", "change": "created"})
    );
    std::fs::remove_file(data.path().join("note.txt")).unwrap();
    assert_eq!(next()["message"]["change"], "removed");
    // Unsubscribing and closing stdin: nothing is pending, so --until-idle ends the session.
    writeln!(stdin, r#"{{"type":"Watch","path":null}}"#).unwrap();
    drop(stdin);
    assert_eq!(next()["subscriptions"]["content"], serde_json::json!([]));
    assert!(child.wait().unwrap().success());

    let outside = ext_run(&["--msg", r#"{"type":"Watch","path":"/etc"}"#]);
    assert_eq!(outside.code, 0, "{outside:?}");
    assert!(outside.stderr.contains("file-watch of /etc is outside every granted directory"), "{}", outside.stderr);
}

#[test]
fn a_trap_in_a_delivered_step_ends_a_run_as_a_message_would() {
    let r = ext_run(&["--msg", r#"{"type":"Do","commands":[]}"#, "--msg", r#""Trap""#, "--until-idle"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.json()["error"].as_str().unwrap().contains("update (seqnum 2)"), "{}", r.stdout);
}
