//! Morphir extensions as core modules (the Extism plug-in ABI): the `morph new --world extension
//! --core` template (Rust, extism-pdk, built by cargo for wasm32-unknown-unknown) driven through
//! `ext run`, `ext session`, `ext info`, validate, inspect and the daemon, beside the component
//! template; a hand-written plug-in (tests/fixtures/plugin-modes.wat) for what a misbehaving
//! one gets.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::project::{build, morph_at, morph_at_input, new_project};
use common::*;
use serde_json::{json, Value};

type Built = (tempfile::TempDir, PathBuf, tempfile::TempDir);

/// The core counter template, with one line a user might add (a message that panics), built once
/// per test binary; gives (home, project dir).
fn core_counter() -> &'static Built {
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        let (parent, dir) = new_project(home.path(), "corectr", &["--world", "extension", "--core"]);
        let lib = dir.join("src/lib.rs");
        let src = std::fs::read_to_string(&lib).unwrap();
        let edited = src.replace(r#""Reset" => 0,"#, r#""Reset" => 0, "Boom" => panic!("boom"),"#);
        assert_ne!(src, edited, "the template has the Reset arm the test extends");
        std::fs::write(&lib, edited).unwrap();
        let r = build(home.path(), &dir);
        assert_eq!(r.code, 0, "{r:?}");
        (home, dir, parent)
    })
}

/// The component counter template, for the comparison.
fn component_counter() -> &'static Built {
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        let (parent, dir) = new_project(home.path(), "compctr", &["--world", "extension"]);
        build(home.path(), &dir);
        (home, dir, parent)
    })
}

fn in_project(built: &Built, args: &[&str]) -> Run {
    morph_at(built.0.path(), &built.1, args)
}

fn core_wasm() -> String {
    path_str(&core_counter().1.join("target/morph/corectr.wasm")).to_string()
}

fn modes() -> String {
    path_str(&fixture("plugin-modes.wat")).to_string()
}

fn ext_modes(args: &[&str], stdin: Option<&str>) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut all = vec!["ext"];
    all.extend_from_slice(args);
    morph_with(home.path(), &all, &[], stdin)
}

#[test]
fn the_core_counter_gives_the_models_the_component_counter_gives() {
    let args = [
        "ext",
        "run",
        "--json",
        "--session-id",
        "same",
        "--init",
        r#"{"count":5}"#,
        "--env-var",
        "step=u16:3",
        "--msg",
        r#""Increment""#,
        "--msg",
        r#"{"type":"Decrement"}"#,
        "--msg",
        r#""Increment""#,
        "--msg",
        r#""Unknown""#,
        "--msg",
        r#""Reset""#,
    ];
    let core = in_project(core_counter(), &args);
    assert_eq!(core.code, 0, "{core:?}");
    let component = in_project(component_counter(), &args);
    assert_eq!(component.code, 0, "{component:?}");
    let (core, component) = (core.json(), component.json());
    let counts: Vec<i64> =
        core["steps"].as_array().unwrap().iter().map(|s| s["model"]["content"]["count"].as_i64().unwrap()).collect();
    assert_eq!(counts, [5, 8, 5, 8, 8, 0]);
    for part in ["seqnum", "step", "message", "model", "commands", "subscriptions"] {
        let pick = |doc: &Value| doc["steps"].as_array().unwrap().iter().map(|s| s[part].clone()).collect::<Vec<_>>();
        assert_eq!(pick(&core), pick(&component), "{part} differs between the core and the component counter");
    }
}

#[test]
fn the_core_counter_logs_and_keeps_env_vars_and_shows_its_capabilities() {
    let r = in_project(core_counter(), &["ext", "run", "-v", "--msg", r#""Increment""#, "--msg", r#""Increment""#]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("info: counter starts at 0, step 1"), "{r:?}");
    assert!(r.stderr.contains("debug: Increment: 0 -> 1 (previous message: none)"), "{r:?}");
    assert!(r.stderr.contains("debug: Increment: 1 -> 2 (previous message: Increment)"), "set_env_var persists: {r:?}");
    let quiet = in_project(core_counter(), &["ext", "run", "--msg", r#""Increment""#]);
    assert!(!quiet.stderr.contains("debug:"), "debug only with -v: {quiet:?}");
    let r = in_project(core_counter(), &["ext", "info", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let caps = r.json();
    assert_eq!(caps["kind"], "capabilities");
    assert_eq!(caps["content"]["name"], "corectr");
    assert_eq!(caps["content"]["messages"], json!(["Increment", "Decrement", "Reset"]));
}

#[test]
fn a_panic_in_update_is_recovered_in_a_session_with_the_last_good_model() {
    let stdin = "\"Increment\"\n\"Boom\"\n\"Increment\"\n";
    let built = core_counter();
    let r = morph_at_input(built.0.path(), &built.1, &["ext", "session", "--session-id", "s1"], stdin);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_eq!(lines[1]["model"]["content"]["count"], 1);
    let err = lines[2]["error"].as_str().unwrap();
    assert!(err.contains("in update (seqnum 2)") && err.contains("unreachable"), "{err}");
    assert_eq!((lines[2]["line"].as_u64(), lines[2]["seqnum"].as_u64()), (Some(2), Some(2)));
    assert_eq!(lines[3]["model"]["content"]["count"], 2, "a fresh instance goes on from the last good model");
    assert_eq!(lines[3]["model"]["session-id"], "s1");
    // A run ends at the failed step, exit 1.
    let r = in_project(built, &["ext", "run", "--msg", r#""Increment""#, "--msg", r#""Boom""#]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("in update (seqnum 2)"), "{r:?}");
}

#[test]
fn validate_and_inspect_read_the_module_as_an_extension_and_run_points_at_ext() {
    let wasm = core_wasm();
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["validate", &wasm, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!((v["kind"].as_str(), v["valid"].as_bool()), (Some("extension"), Some(true)), "{v}");
    let r = morph_in(home.path(), &["inspect", &wasm, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let info = r.json();
    assert_eq!(info["core-module"], true);
    let exports: Vec<&str> = info["exports"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    for e in ["init", "update", "subscriptions", "get_capabilities"] {
        assert!(exports.contains(&e), "{exports:?}");
    }
    let imports = info["imports"].as_array().unwrap();
    assert!(imports.iter().any(|i| i["module"] == "extism:host/user" && i["name"] == "set_env_var"), "{info}");
    assert!(imports.iter().all(|i| i["provided"] == true), "{info}");
    let r = morph_in(home.path(), &["run", &wasm]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("run it with `morph ext run`"), "{r:?}");
}

#[test]
fn an_envelope_that_is_not_one_names_the_step_and_the_export() {
    let f = modes();
    let r = ext_modes(&["run", &f, "--env-var", "mode=text:garbage", "--msg", "1"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("#0 init {}"), "init answered well: {r:?}");
    let want = "in update (seqnum 1): `update` returned 7 byte(s) that are not an envelope: it is not JSON";
    assert!(r.stderr.contains(want) && r.stderr.contains("\"garbage\""), "{r:?}");
    assert_eq!(r.stderr.matches("not an envelope").count(), 1, "said once: {r:?}");
    // In a session it is that line's error; the model stays the last good one.
    let r = ext_modes(&["session", &f, "--env-var", "mode=text:garbage"], Some("1\n2\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(lines[1]["error"].as_str().unwrap().contains("not an envelope"), "{}", lines[1]);
    // An error the plug-in sets is its message.
    let r = ext_modes(&["run", &f, "--env-var", "mode=text:error", "--msg", "1"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("`update` failed (it returned 1): the message was refused"), "{r:?}");
}

#[test]
fn an_import_morph_does_not_provide_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("wants-more.wat");
    std::fs::write(
        &wat,
        r#"(module
            (import "extism:host/env" "http_request" (func (param i64 i64) (result i64)))
            (import "env" "random_u32" (func (result i32)))
            (import "extism:host/env" "log_info" (func $log (param i64)))
            (func (export "init") (result i32) (call $log (i64.const 0)) (unreachable))
            (func (export "update") (result i32) i32.const 0)
            (func (export "subscriptions") (result i32) i32.const 0))"#,
    )
    .unwrap();
    let f = path_str(&wat).to_string();
    let r = ext_modes(&["run", &f], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("imports what morph does not provide"), "{r:?}");
    assert!(r.stderr.contains("extism:host/env#http_request") && r.stderr.contains("`http` command"), "{r:?}");
    assert!(r.stderr.contains("env#random_u32"), "{r:?}");
    assert!(!r.stderr.contains("unreachable") && r.stdout.is_empty(), "init never ran: {r:?}");
    let r = morph_in(dir.path(), &["validate", &f]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("not provided") && r.stdout.contains("env#random_u32"), "{r:?}");
}

#[test]
fn limits_apply_to_each_step_and_are_named() {
    let f = modes();
    let cases: [(&[&str], &str); 3] = [
        (&["--env-var", "mode=text:spin", "--timeout", "300ms"], "--timeout 300ms"),
        (&["--env-var", "mode=text:spin", "--fuel", "100000"], "--fuel 100000"),
        (&["--env-var", "mode=text:memory", "--max-memory", "16MiB"], "--max-memory 16MiB"),
    ];
    for (flags, named) in cases {
        let mut args = vec!["run", f.as_str(), "--msg", "1"];
        args.extend_from_slice(flags);
        let r = ext_modes(&args, None);
        assert_eq!(r.code, 1, "{flags:?}: {r:?}");
        assert!(r.stdout.contains("#0 init {}"), "init ran within the limit: {r:?}");
        assert!(r.stderr.contains("in update (seqnum 1)") && r.stderr.contains(named), "{flags:?}: {r:?}");
    }
    // The fuel one step needs, given once, covers every step: it is refilled for each.
    let one = ext_modes(&["run", &f, "--fuel", "20000"], None);
    assert_eq!(one.code, 0, "20000 units cover a step: {one:?}");
    let msgs: Vec<String> = (1..=40).map(|i| i.to_string()).collect();
    let mut args = vec!["run", f.as_str(), "--fuel", "20000"];
    for m in &msgs {
        args.extend(["--msg", m.as_str()]);
    }
    let r = ext_modes(&args, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("#40 update 40"), "{r:?}");
    let r = ext_modes(&["run", &f, "--fuel", "50"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("in init (seqnum 0)") && r.stderr.contains("--fuel 50"), "{r:?}");
}

#[test]
fn the_timeout_counts_each_step_not_the_wait_between_messages() {
    let home = tempfile::tempdir().unwrap();
    let wasm = core_wasm();
    let mut child = Command::new(morph_bin())
        .args(["ext", "session", &wasm, "--timeout", "1s"])
        .env("MORPH_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    for i in 1..=3 {
        // 3 × 0.6 s of waiting: longer than the timeout in all, none of it a step's.
        std::thread::sleep(Duration::from_millis(600));
        writeln!(stdin, "\"Increment\"").unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        let step: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(step["model"]["content"]["count"], i, "{line}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_daemon_session_hosts_the_core_counter() {
    let home = tempfile::tempdir().unwrap();
    let wasm = core_wasm();
    let input = format!(
        "{}\n{}\n{}\n",
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ext.open", "params": { "path": wasm, "session-id": "core" } }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "ext.send", "params": { "session": "core", "msg": "Increment" } }),
        json!({ "jsonrpc": "2.0", "id": 3, "method": "ext.send", "params": { "session": "core", "msg": "Increment" } }),
    );
    let r = morph_with(home.path(), &["daemon", "--stdio"], &[], Some(&input));
    assert_eq!(r.code, 0, "{r:?}");
    let answers: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let third = answers.iter().find(|a| a["id"] == 3).unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(third["result"]["model"]["content"]["count"], 2, "{third}");
}

#[test]
fn new_core_is_refused_where_there_is_no_such_template() {
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["new", "x", "--world", "cli", "--core"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("use it with --world extension"), "{r:?}");
    let r = morph_in(home.path(), &["new", "y", "--world", "extension", "--core", "--lang", "python"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("Rust template (extism-pdk) only"), "{r:?}");
}

/// tests/guests/go-ext-plugin built by the standard Go toolchain with Extism's Go PDK: a core
/// module that imports WASI preview 1 and exports `_initialize`.
fn go_plugin() -> Option<&'static PathBuf> {
    static BUILT: std::sync::OnceLock<Option<(tempfile::TempDir, PathBuf)>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !common::project::toolchain_present("go", "Go") {
                return None;
            }
            let out = tempfile::tempdir().unwrap();
            let wasm = out.path().join("go-ext-plugin.wasm");
            let status = Command::new("go")
                .args(["build", "-buildmode=c-shared", "-o"])
                .arg(&wasm)
                .arg(".")
                .current_dir(workspace_root().join("tests/guests/go-ext-plugin"))
                .env("GOOS", "wasip1")
                .env("GOARCH", "wasm")
                .status()
                .unwrap();
            assert!(status.success(), "go build of the Go PDK plug-in");
            Some((out, wasm))
        })
        .as_ref()
        .map(|(_, wasm)| wasm)
}

#[test]
fn a_go_pdk_plug_in_runs_in_the_sandbox_wasi_gives_it_nothing_unless_granted() {
    let Some(wasm) = go_plugin() else { return };
    let f = path_str(wasm).to_string();
    let r = ext_modes(&["run", &f, "--json", "--msg", r#""Increment""#, "--msg", r#""Increment""#], None);
    assert_eq!(r.code, 0, "{r:?}");
    let counts: Vec<i64> = r.json()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["model"]["content"]["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1, 2]);
    assert!(r.stderr.contains("info: go counter starts, GREETING=\n"), "no env without --env: {r:?}");
    let r = ext_modes(&["run", &f, "--env", "GREETING=hello"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("GREETING=hello"), "{r:?}");
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["validate", &f]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_design_time_call_reaches_a_core_module_and_a_missing_export_is_named() {
    let f = modes();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("model.json");
    std::fs::write(&input, r#"{"module":"Counter"}"#).unwrap();
    let r = ext_modes(&["call", &f, "frontend-compile", "--input", path_str(&input), "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let env = r.json();
    assert_eq!(env["kind"], "input", "the echoed envelope carries the host's stamp: {env}");
    assert_eq!(env["content"], json!({"module": "Counter"}), "{env}");
    let r = ext_modes(&["call", &f, "backend-generate", "--input", path_str(&input)], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no export `backend-generate`") && r.stderr.contains("frontend_compile"), "{r:?}");
    let r = ext_modes(&["info", &f], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no export `get-capabilities`"), "{r:?}");
}
