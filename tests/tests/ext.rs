//! `morph ext`: the `morph new --world extension` template (a TEA counter built with the real
//! Rust toolchain) driven through info/run/session, and hand-written WAT extensions for a trap in
//! `update`, non-JSON content and the design-time calls.

mod common;

use std::path::PathBuf;

use common::project::{build, morph_at, morph_at_input, new_project, toolchain_present};
use common::*;
use serde_json::Value;

/// The counter template, built once per test binary; gives (home, project dir).
fn counter() -> &'static (tempfile::TempDir, PathBuf, tempfile::TempDir) {
    static BUILT: std::sync::OnceLock<(tempfile::TempDir, PathBuf, tempfile::TempDir)> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        let (parent, dir) = new_project(home.path(), "counter", &["--world", "extension"]);
        build(home.path(), &dir);
        (home, dir, parent)
    })
}

/// `morph ext ARGS` in the counter project (so the extension argument may be left out).
fn ext(args: &[&str]) -> Run {
    let (home, dir, _) = counter();
    let mut all = vec!["ext"];
    all.extend_from_slice(args);
    morph_at(home.path(), dir, &all)
}

fn ext_input(args: &[&str], stdin: &str) -> Run {
    let (home, dir, _) = counter();
    let mut all = vec!["ext"];
    all.extend_from_slice(args);
    morph_at_input(home.path(), dir, &all, stdin)
}

fn counts(doc: &Value) -> Vec<i64> {
    doc["steps"].as_array().unwrap().iter().map(|s| s["model"]["content"]["count"].as_i64().unwrap()).collect()
}

#[test]
fn the_counter_counts_through_init_and_updates_keeping_the_model() {
    let r = ext(&[
        "run",
        "--json",
        "--session-id",
        "s-42",
        "--msg",
        r#""Increment""#,
        "--msg",
        r#"{"type":"Increment"}"#,
        "--msg",
        r#""Reset""#,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(counts(&doc), vec![0, 1, 2, 0]);
    assert_eq!(doc["session-id"], "s-42");
    for (i, step) in doc["steps"].as_array().unwrap().iter().enumerate() {
        assert_eq!(step["seqnum"], i as u64, "seqnum counts messages: {step}");
        assert_eq!(step["step"], if i == 0 { "init" } else { "update" });
        for part in ["model", "commands", "subscriptions"] {
            // The template answers with the header it was sent: so these are the host's stamps.
            assert_eq!(step[part]["seqnum"], i as u64, "{part} of step {i}: {step}");
            assert_eq!(step[part]["session-id"], "s-42", "{part} of step {i}: {step}");
        }
        assert_eq!(step["model"]["kind"], "model");
        assert_eq!(step["commands"]["content"], serde_json::json!([]));
    }
    assert!(r.stderr.contains("info: counter starts at 0, step 1"), "runtime.log reaches stderr: {r:?}");
    assert!(!r.stderr.contains("debug:"), "debug lines only with -v: {r:?}");
}

#[test]
fn init_flags_and_the_human_output() {
    let r = ext(&["run", "--init", r#"{"count":5}"#, "--msg", r#""Increment""#]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("#0 init {\"count\":5}\n  model          {\"count\":5}"), "{}", r.stdout);
    assert!(r.stdout.contains("#1 update \"Increment\"\n  model          {\"count\":6}"), "{}", r.stdout);
    assert!(r.stdout.contains("  subscriptions  []"), "{}", r.stdout);
    let flags = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(flags.path(), r#"{"count":9}"#).unwrap();
    let at = format!("@{}", flags.path().display());
    let r = ext(&["run", "--json", "--init", &at]);
    assert_eq!(counts(&r.json()), vec![9], "{r:?}");
}

#[test]
fn a_session_id_is_made_up_once_per_run_when_not_given() {
    let ids = |r: &Run| -> Vec<String> {
        let doc = r.json();
        let mut ids: Vec<String> = doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["model"]["session-id"].as_str().unwrap().to_string())
            .collect();
        ids.push(doc["session-id"].as_str().unwrap().to_string());
        ids
    };
    let a = ids(&ext(&["run", "--json", "--msg", r#""Increment""#]));
    let b = ids(&ext(&["run", "--json"]));
    assert!(a.iter().all(|id| id == &a[0]) && !a[0].is_empty(), "{a:?}");
    assert_ne!(a[0], b[0], "each run its own session");
}

#[test]
fn env_vars_reach_the_extension_and_what_it_sets_persists() {
    let r =
        ext(&["-v", "run", "--json", "--env-var", "step=u8:2", "--msg", r#""Increment""#, "--msg", r#""Increment""#]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(counts(&r.json()), vec![0, 2, 4]);
    assert!(r.stderr.contains("info: counter starts at 0, step 2"), "{r:?}");
    assert!(r.stderr.contains("debug: Increment: 0 -> 2 (previous message: none)"), "{r:?}");
    assert!(
        r.stderr.contains("debug: Increment: 2 -> 4 (previous message: Increment)"),
        "set-env-var in one update is read by the next: {r:?}"
    );
    for (typed, want) in [("step=s64:-3", -3), ("step=u64:3", 3), ("step=v-s16:-3", -3), ("step=text:3", 3)] {
        let r = ext(&["run", "--json", "--env-var", typed, "--msg", r#""Increment""#]);
        assert_eq!(counts(&r.json())[1], want, "{typed}: {r:?}");
    }
    let r = ext(&["-q", "run", "--msg", r#""Bogus""#]);
    assert!(!r.stderr.contains("info:") && !r.stderr.contains("warn:"), "-q shows errors only: {r:?}");
    let r = ext(&["run", "--msg", r#""Bogus""#]);
    assert!(r.stderr.contains("warn: unknown message \"Bogus\""), "{r:?}");
}

#[test]
fn info_prints_the_capabilities() {
    let r = ext(&["info"]);
    assert_eq!(r.code, 0, "{r:?}");
    let caps: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(caps["name"], "counter");
    assert!(caps["messages"].as_array().unwrap().contains(&Value::from("Increment")));
}

#[test]
fn a_session_reads_json_lines_and_survives_a_bad_line() {
    let r = ext_input(
        &["session", "--session-id", "live"],
        "\"Increment\"\nthis is not json\n\n\"Increment\"\n{\"type\":\"Decrement\"}\n",
    );
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5, "init, 3 updates, 1 error: {}", r.stdout);
    let count = |v: &Value| v["model"]["content"]["count"].as_i64();
    assert_eq!(count(&lines[0]), Some(0));
    assert_eq!(count(&lines[1]), Some(1));
    assert_eq!(lines[2]["line"], 2);
    assert!(lines[2]["error"].as_str().unwrap().contains("line 2 is not JSON"), "{}", lines[2]);
    assert_eq!(count(&lines[3]), Some(2), "the model survived the bad line");
    assert_eq!(count(&lines[4]), Some(1));
    assert_eq!(lines[4]["seqnum"], 3, "a bad line is not a message");
    assert_eq!(lines[4]["model"]["session-id"], "live");
}

/// A WAT extension (fixture) with a home of its own.
fn wat_ext(args: &[&str], stdin: Option<&str>) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut all = vec!["ext"];
    all.extend_from_slice(args);
    morph_with(home.path(), &all, &[], stdin)
}

fn trap_ext() -> String {
    path_str(&fixture("extension-trap.wat")).to_string()
}

#[test]
fn a_trap_in_update_names_the_step_and_ends_a_run_with_exit_1() {
    let f = trap_ext();
    let r = wat_ext(&["run", &f, "--msg", r#"{"n":1}"#, "--msg", r#""boom""#, "--msg", r#"{"n":3}"#], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("#1 update {\"n\":1}"), "the steps before the trap are shown: {r:?}");
    assert!(!r.stdout.contains("{\"n\":3}"), "no step after it: {r:?}");
    assert!(r.stderr.contains("in update (seqnum 2)") && r.stderr.contains("unreachable"), "{r:?}");
    let r = wat_ext(&["run", &f, "--json", "--msg", r#""boom""#], None);
    assert_eq!(r.code, 1, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["steps"].as_array().unwrap().len(), 1);
    assert!(doc["error"].as_str().unwrap().contains("in update (seqnum 1)"), "{doc}");
}

#[test]
fn a_session_goes_on_after_a_trap_with_the_last_good_model() {
    let f = trap_ext();
    let r = wat_ext(&["session", &f], Some("{\"n\":1}\n\"boom\"\n{\"n\":3}\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_eq!(lines[0]["model"]["content"], serde_json::json!({}), "init's flags are the first model");
    assert_eq!(lines[1]["model"]["content"]["n"], 1);
    assert_eq!((lines[2]["line"].as_u64(), lines[2]["seqnum"].as_u64()), (Some(2), Some(2)));
    let err = lines[2]["error"].as_str().unwrap();
    assert!(err.contains("in update (seqnum 2)") && err.contains("unreachable"), "{err}");
    assert_eq!(lines[3]["model"]["content"]["n"], 3, "a fresh instance took over");
    assert_eq!(lines[3]["seqnum"], 3);
}

#[test]
fn content_that_is_not_json_is_sent_as_given_and_shown_base64() {
    let f = trap_ext();
    let r = wat_ext(&["run", &f, "--json", "--content-type", "text/plain", "--msg", "hello"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let step = &r.json()["steps"][1];
    assert_eq!(step["message"]["base64"], "aGVsbG8=", "{step}");
    // The fixture labels the echoed model JSON; its bytes are not, so they are shown as base64.
    assert_eq!(step["model"]["content-base64"], "aGVsbG8=", "{step}");
    let r = wat_ext(&["info", &f], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("\"name\": \"trap-ext\""), "{r:?}");
}

#[test]
fn bad_input_is_refused_with_exit_2_and_the_fix() {
    let f = trap_ext();
    let r = wat_ext(&["run", &f, "--msg", "Increment"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--msg #1 is not JSON") && r.stderr.contains("--content-type"), "{r:?}");
    let r = wat_ext(&["run", &f, "--env-var", "step=2"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("NAME=TYPE:VALUE"), "{r:?}");
    let hello = path_str(&example("hello.wat")).to_string();
    let r = wat_ext(&["run", &hello], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("does not export morphir:ext/program"), "{r:?}");
    let r = wat_ext(&["info", "/nonexistent/ext.wasm"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("/nonexistent/ext.wasm"), "{r:?}");
}

#[test]
fn design_time_calls_take_a_file_and_give_the_output_content() {
    let f = path_str(&fixture("design-time.wat")).to_string();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("model.json");
    std::fs::write(&input, r#"{"module":"Counter"}"#).unwrap();
    let inp = path_str(&input).to_string();
    let r = wat_ext(&["call", &f, "frontend-compile", "--input", &inp, "--json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let env = r.json();
    assert_eq!(env["kind"], "ir");
    assert_eq!(env["content"], serde_json::json!({"ir": {"module": "Counter"}}), "{env}");
    let out = dir.path().join("gen.txt");
    let r = wat_ext(
        &["call", &f, "backend-generate", "--input", &inp, "--content-type", "application/json", "-o", path_str(&out)],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), br#"generated from {"module":"Counter"}"#);
    let r = wat_ext(&["call", &trap_ext(), "frontend-compile", "--input", &inp], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("does not export morphir:ext/design-time-frontend"), "{r:?}");
}

#[test]
fn limits_apply_to_each_step_and_are_named() {
    let f = trap_ext();
    let r = wat_ext(&["run", &f, "--fuel", "5"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("in init (seqnum 0)") && r.stderr.contains("--fuel 5"), "{r:?}");
    // 400 units cover one step, not forty: the fuel is refilled for each step.
    let msgs: Vec<String> = (1..=40).map(|i| format!("{{\"n\":{i}}}")).collect();
    let mut args = vec!["run", f.as_str(), "--fuel", "400"];
    for m in &msgs {
        args.extend(["--msg", m.as_str()]);
    }
    let r = wat_ext(&args, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("#40 update {\"n\":40}"), "{r:?}");
}

/// The counter of another language's template behaves as the Rust one: counts, init flags,
/// stamps, env vars both ways and log levels.
fn template_counter_behaves(lang: &str, name: &str) {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), name, &["--lang", lang, "--world", "extension"]);
    build(home.path(), &dir);
    let msgs = ["--msg", r#""Increment""#, "--msg", r#"{"type":"Increment"}"#, "--msg", r#""Reset""#];
    let mut args = vec!["ext", "run", "--json", "--session-id", "s-1"];
    args.extend(msgs);
    let r = morph_at(home.path(), &dir, &args);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(counts(&doc), vec![0, 1, 2, 0], "{lang}");
    for (i, step) in doc["steps"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            (step["model"]["seqnum"].as_u64(), step["model"]["session-id"].as_str()),
            (Some(i as u64), Some("s-1"))
        );
    }
    let r = morph_at(home.path(), &dir, &["ext", "run", "--json", "--init", r#"{"count":5}"#]);
    assert_eq!(counts(&r.json()), vec![5], "{lang}: {r:?}");
    let r = morph_at(
        home.path(),
        &dir,
        &[
            "-v",
            "ext",
            "run",
            "--json",
            "--env-var",
            "step=s32:-3",
            "--msg",
            r#""Increment""#,
            "--msg",
            r#""Increment""#,
        ],
    );
    assert_eq!(counts(&r.json()), vec![0, -3, -6], "{lang}: {r:?}");
    assert!(r.stderr.contains("info: counter starts at 0, step -3"), "{lang}: {r:?}");
    assert!(r.stderr.contains("debug: Increment: -3 -> -6 (previous message: Increment)"), "{lang}: {r:?}");
}

#[test]
fn the_python_template_counter_behaves_the_same() {
    if toolchain_present("componentize-py", "Python") {
        template_counter_behaves("python", "py-counter");
    }
}

#[test]
fn the_js_template_counter_behaves_the_same() {
    if toolchain_present("jco", "JS") {
        template_counter_behaves("js", "js-counter");
    }
}

#[test]
fn a_line_that_is_not_utf8_is_that_line_s_error() {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(morph_bin())
        .args(["ext", "session", &trap_ext()])
        .env("MORPH_HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{\"n\":1}\n{\"n\":\"\xff\xfe\"}\n{\"n\":3}\n").unwrap();
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_eq!(lines[2]["line"], 2);
    assert!(lines[2]["error"].as_str().unwrap().contains("not UTF-8"), "{}", lines[2]);
    assert_eq!(lines[3]["model"]["content"]["n"], 3, "the session went on");
}

#[test]
fn the_go_template_counter_behaves_the_same() {
    if toolchain_present("go", "Go") {
        template_counter_behaves("go", "go-counter");
    }
}
