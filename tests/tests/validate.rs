//! `morph validate` end to end: verdicts, reports by name, detection, and bad input.

mod common;

use common::*;

#[test]
fn a_command_morph_conforms_to_hayride_cli_detected() {
    let r = morph(&["validate", path_str(&example("hello.wat"))]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("hayride-cli"), "{r:?}");
    assert!(r.stdout.contains("detected: a command morph"), "says which world it picked: {r:?}");
    assert!(r.stdout.contains("valid: conforms"), "{r:?}");
}

#[test]
fn binary_and_text_forms_give_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fixture_wasm(&fixture("http-server.wat"), dir.path());
    let a = morph(&["--json", "validate", path_str(&wasm)]).json();
    let b = morph(&["--json", "validate", path_str(&fixture("http-server.wat"))]).json();
    assert_eq!(a["valid"], true);
    assert_eq!(a["world"], b["world"]);
    assert_eq!(a["conformance"], b["conformance"]);
}

#[test]
fn world_detection_by_kind() {
    for (file, kind, world) in [
        (example("hello.wat"), "command", "hayride-cli"),
        (fixture("http-server.wat"), "http", "hayride-server"),
        (fixture("websocket.wat"), "websocket", "hayride-ws"),
        (fixture("extension.wat"), "extension", "extension"),
        (fixture("reactor-db.wat"), "reactor", "hayride-db"),
        (fixture("reactor-plain.wat"), "reactor", "hayride-core"),
    ] {
        let file = file.display();
        let r = morph(&["--json", "validate", &file.to_string()]);
        let v = r.json();
        assert_eq!(v["kind"], kind, "{file}: {r:?}");
        assert_eq!(v["world_short"], world, "{file}: {r:?}");
        assert!(v["detected"].as_str().is_some_and(|d| !d.is_empty()), "{file}: {r:?}");
    }
}

#[test]
fn world_by_short_full_and_wit_dir_names() {
    let file = fixture("http-server.wat");
    let short = morph(&["--json", "validate", path_str(&file), "--world", "hayride-server"]);
    assert_eq!(short.code, 0, "{short:?}");
    let full = morph(&["--json", "validate", path_str(&file), "--world", "hayride:runtime/hayride-server@0.0.1"]);
    assert_eq!(full.code, 0, "{full:?}");
    assert_eq!(short.json()["world"], full.json()["world"]);
    assert!(short.json()["detected"].is_null(), "a given world is not 'detected'");

    // A user's WIT directory whose world needs an export the component lacks.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.wit"),
        "package acme:app@1.0.0;\ninterface admin { reset: func(force: bool) -> u32; }\nworld app { include hayride:runtime/hayride-server@0.0.1; export admin; }\n",
    )
    .unwrap();
    let r = morph(&["--json", "validate", path_str(&file), "--wit", path_str(dir.path()), "--world", "app"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json();
    assert_eq!(v["world"], "acme:app/app@1.0.0");
    let f = &v["conformance"][0];
    assert_eq!(f["kind"], "missing-export");
    assert_eq!(f["name"], "acme:app/admin@1.0.0");
    // The same directory's world is found without --world when it is the only one.
    let r = morph(&["--json", "validate", path_str(&file), "--wit", path_str(dir.path())]);
    assert_eq!(r.json()["world"], "acme:app/app@1.0.0", "{r:?}");
}

#[test]
fn missing_export_is_named() {
    let r = morph(&["validate", path_str(&example("hello.wat")), "--world", "hayride-server"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("missing export"), "{r:?}");
    assert!(r.stdout.contains("wasi:http/incoming-handler@0.2.0"), "{r:?}");
    assert!(r.stdout.contains("hayride:http/config@0.0.65"), "{r:?}");
}

#[test]
fn type_mismatch_names_the_function_field_and_both_types() {
    let r = morph(&["--json", "validate", path_str(&fixture("http-config-mismatch.wat"))]);
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json();
    let f = &v["conformance"][0];
    assert_eq!(f["kind"], "type-mismatch");
    assert_eq!(f["name"], "hayride:http/config@0.0.65#get");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("read-timeout") && msg.contains("expected `u32`, found `u64`"), "{msg}");
    assert!(!msg.contains("offset"), "no validator offsets: {msg}");
}

#[test]
fn extra_imports_the_runtime_provides_are_notes_unless_strict() {
    let file = fixture("command-rust-like.wat");
    let r = morph(&["--json", "validate", path_str(&file)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["conforms"], false);
    assert_eq!(v["runtime_compatible"], true);
    let notes: Vec<&str> = v["conformance"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(notes.contains(&"wasi:cli/terminal-stdout@0.2.0"), "{notes:?}");
    assert!(notes.contains(&"wasi:sockets/tcp@0.2.0"), "{notes:?}");
    assert!(v["conformance"].as_array().unwrap().iter().all(|f| f["severity"] == "note"));

    let strict = morph(&["validate", "--strict", path_str(&file)]);
    assert_eq!(strict.code, 1, "{strict:?}");
    assert!(strict.stdout.contains("error  extra import"), "{strict:?}");
}

#[test]
fn newer_wasi_patch_versions_are_accepted_by_semver() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("command-rust-like.wat")).unwrap().replace("@0.2.0\"", "@0.2.3\"");
    let file = dir.path().join("wasi-023.wat");
    std::fs::write(&file, text).unwrap();
    let r = morph(&["--json", "validate", path_str(&file), "--world", "hayride-cli"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["runtime_compatible"], true);
    // stdout@0.2.3 is the world's stdout@0.2.0: not an extra import.
    let names: Vec<&str> = v["conformance"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(!names.iter().any(|n| n.starts_with("wasi:cli/stdout")), "{names:?}");
    assert!(names.contains(&"wasi:cli/terminal-stdout@0.2.3"), "{names:?}");
}

#[test]
fn imports_nobody_provides_fail_runtime_compatibility() {
    let r = morph(&["validate", path_str(&fixture("command-unprovided.wat"))]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("not provided"), "{r:?}");
    assert!(r.stdout.contains("fixture:needs/secrets"), "{r:?}");
    assert!(r.stdout.contains("morph compose"), "says what to do: {r:?}");
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = wat::parse_file(example("hello.wat")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.wasm", vec![], "empty"),
        ("random.wasm", (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect(), "not WebAssembly"),
        ("truncated.wasm", good[..good.len() / 2].to_vec(), "truncated"),
        ("core.wasm", wat::parse_str("(module (func (export \"f\")))").unwrap(), "core WebAssembly module"),
        ("package.wasm", wit_package_bytes(), "WIT package"),
        ("broken.wat", b"(component (import \"x\" (func)".to_vec(), "not valid WebAssembly text"),
    ];
    for (name, bytes, says) in cases {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        // An encoded WIT package is a library: `inspect` describes it (tests/careless_input.rs),
        // `validate` cannot check it against a world.
        let commands: &[&str] = if name == "package.wasm" { &["validate"] } else { &["validate", "inspect"] };
        for &cmd in commands {
            let r = morph(&[cmd, path_str(&path)]);
            assert_eq!(r.code, 2, "{cmd} {name}: {r:?}");
            assert!(r.stderr.contains(name), "{cmd} {name} names the file: {r:?}");
            assert!(r.stderr.contains(says), "{cmd} {name} says `{says}`: {r:?}");
            assert!(!r.stderr.contains("panicked"), "{r:?}");
            assert!(r.stdout.is_empty(), "no result on stdout: {r:?}");
        }
    }
    let r = morph(&["validate", path_str(&d.join("missing.wasm"))]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("missing.wasm"), "{r:?}");
}

#[test]
fn invalid_code_is_caught_every_time() {
    // Bytes that validated before are not validated again; bytes that failed never count as
    // validated.
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("badbody.wat");
    std::fs::write(&bad, "(component (core module (func (result i32) i64.const 1)))").unwrap();
    for _ in 0..2 {
        let r = morph_in(home.path(), &["validate", path_str(&bad)]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("type mismatch"), "{r:?}");
    }
    let good = example("hello.wat");
    for _ in 0..2 {
        assert_eq!(morph_in(home.path(), &["validate", path_str(&good)]).code, 0);
    }
}

#[test]
fn a_file_changed_after_validating_is_validated_again() {
    // The "validated before" memory is keyed by the file's identity and times: rewriting it in
    // place with a broken body of the same size, even with its old modification time put back,
    // must not be waved through.
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.wasm");
    let good = wat::parse_str("(component (core module (func (result i32) i32.const 1)))").unwrap();
    let bad = wat::parse_str("(component (core module (func (result i32) i64.const 1)))").unwrap();
    assert_eq!(good.len(), bad.len());
    std::fs::write(&path, &good).unwrap();
    assert_eq!(morph_in(home.path(), &["validate", path_str(&path), "--world", "hayride-core"]).code, 0);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, &bad).unwrap();
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    let r = morph_in(home.path(), &["validate", path_str(&path), "--world", "hayride-core"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("type mismatch"), "{r:?}");
}

#[test]
fn unknown_world_exits_2_and_lists_the_known_ones() {
    let r = morph(&["validate", path_str(&example("hello.wat")), "--world", "hayride-nope"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("hayride-nope") && r.stderr.contains("hayride-server"), "{r:?}");
    let json = morph(&["--json", "validate", path_str(&example("hello.wat")), "--world", "hayride-nope"]);
    assert_eq!(json.code, 2);
    assert!(json.json()["error"].as_str().unwrap().contains("hayride-nope"));
}

#[test]
fn broken_wit_dir_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.wit"), "package a:b;\nworld w { import nope; }\n").unwrap();
    let r = morph(&["validate", path_str(&example("hello.wat")), "--wit", path_str(dir.path())]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bad.wit") || r.stderr.contains(path_str(dir.path())), "{r:?}");
}

/// An encoded WIT package (what `wasm-tools component wit --wasm` writes).
fn wit_package_bytes() -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::new();
    let pkg = resolve.push_source("p.wit", "package acme:lib@1.0.0; interface api { ping: func() -> u32; }").unwrap();
    wit_component::encode(&resolve, pkg).unwrap()
}
