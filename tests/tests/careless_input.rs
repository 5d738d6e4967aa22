//! What careless input and blocked guests do to morph: every bad value is an exit-2 error that
//! names the input, every limit holds whatever the guest is doing, no input panics morph.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn probe() -> String {
    path_str(&rust_guest("rust-probe")).to_string()
}

fn no_panic(r: &Run) {
    assert!(r.code != 101 && !r.stderr.contains("panicked"), "morph panicked: {r:?}");
}

#[test]
fn timeout_is_wall_clock_while_the_guest_waits_in_a_host_call() {
    let p = probe();
    // Sleeping: no wasm instruction runs while it waits.
    let started = Instant::now();
    let r = morph(&["run", "--timeout", "1s", &p, "sleep", "30"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--timeout 1s"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(6), "run stopped after {:?}", started.elapsed());

    // Reading a stdin that never ends.
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(morph_bin())
        .args(["run", "--timeout", "1s", &p, "stdin"])
        .env("MORPH_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"some input, and more to come").unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "morph run went on past --timeout while the guest read stdin");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(6), "stopped after {:?}", started.elapsed());

    // `call`: the command's run export, told to sleep through the environment.
    let started = Instant::now();
    let r = morph(&["call", &p, "run", "--timeout", "1s", "--env", "PROBE_ACTION=sleep"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--timeout 1s"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(6), "call stopped after {:?}", started.elapsed());
}

#[test]
fn a_compiled_entry_copied_over_another_is_recompiled() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let hello = example("hello.wat");
    let exit = fixture("exit-code.wat");
    assert_eq!(morph_in(h, &["run", path_str(&hello)]).code, 0);
    assert_eq!(morph_in(h, &["run", path_str(&exit)]).code, 42);
    let dir = h.join("cache/compiled");
    let entry_of = |wat: &Path| {
        let digest = morph(&["--json", "inspect", path_str(wat)]).json()["digest"].as_str().unwrap()[7..].to_string();
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "cwasm") && path_str(p).contains(&digest))
            .unwrap()
    };
    let (hello_entry, exit_entry) = (entry_of(&hello), entry_of(&exit));
    // The hello entry, with its checksum, under the exit-code morph's names.
    std::fs::copy(&hello_entry, &exit_entry).unwrap();
    std::fs::copy(hello_entry.with_extension("cwasm.sum"), exit_entry.with_extension("cwasm.sum")).unwrap();
    let r = morph_in(h, &["-v", "run", path_str(&exit)]);
    assert_eq!(r.code, 42, "the exit-code morph ran, not the entry copied over it: {r:?}");
    assert!(r.stderr.contains("Compiled") && !r.stderr.contains("Hit"), "{r:?}");
}

#[test]
fn extreme_flag_values_are_refused_naming_the_flag_and_the_limit() {
    let hello = path_str(&example("hello.wat")).to_string();
    let r = morph(&["run", "--timeout", "20000000000000000000s", &hello]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--timeout") && r.stderr.contains("8760h"), "{r:?}");
    for flag in [
        "--grace",
        "--queue-timeout",
        "--header-timeout",
        "--write-timeout",
        "--ws-idle",
        "--body-timeout",
        "--timeout",
    ] {
        let endless = format!("{}s", "9".repeat(400));
        for value in ["20000000000000000000s", endless.as_str(), "9999999999h"] {
            let r = morph(&["serve", &hello, "--addr", "127.0.0.1:0", flag, value]);
            no_panic(&r);
            assert_eq!(r.code, 2, "{flag} {value}: {r:?}");
            assert!(r.stderr.contains(flag) && r.stderr.contains("8760h"), "{flag} {value}: {r:?}");
        }
    }
    for value in ["2305843009213693952", "0", "-1", "100001"] {
        let r = morph(&["serve", &hello, "--addr", "127.0.0.1:0", &format!("--max-concurrency={value}")]);
        no_panic(&r);
        assert_eq!(r.code, 2, "{value}: {r:?}");
        assert!(r.stderr.contains("--max-concurrency") && r.stderr.contains("100000"), "{r:?}");
    }
    // The largest values accepted run.
    let r = morph(&["run", "--timeout", "8760h", "--fuel", "18446744073709551615", &hello]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    let r = morph(&["run", "--max-memory", "18446744073709551615", &hello]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph(&["run", "--max-memory", "18446744073709551616", &hello]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_truncated_component_is_named_by_every_command_that_loads_one() {
    let dir = tempfile::tempdir().unwrap();
    let whole = wat::parse_file(fixture("types.wat")).unwrap();
    let cut = dir.path().join("cut.wasm");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let c = path_str(&cut);
    for args in [
        vec!["run", c],
        vec!["call", c, "add", "1", "2"],
        vec!["serve", c, "--addr", "127.0.0.1:0"],
        vec!["ext", "info", c],
        vec!["validate", c],
        vec!["inspect", c],
    ] {
        let r = morph(&args);
        no_panic(&r);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("cut.wasm") && r.stderr.contains("truncated"), "{args:?}: {r:?}");
    }
}

#[test]
fn call_arguments_say_what_is_wrong_without_echoing_files() {
    let types = path_str(&fixture("types.wat")).to_string();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, format!("[{}", "1,".repeat(1 << 20))).unwrap();
    let r = morph(&["call", &types, "echo-list", &format!("@{}", path_str(&big))]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("big.json") && r.stderr.contains("not JSON"), "{r:?}");
    assert!(r.stderr.len() < 2000, "the file is not echoed ({} bytes of stderr)", r.stderr.len());

    let r = morph(&["call", &types, "echo-u64", "18446744073709551616"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("18446744073709551616 is out of range for u64"), "{r:?}");
    let r = morph(&["call", &types, "echo-s8", "-129"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("-129 is out of range for s8"), "{r:?}");
    let r = morph(&["call", &types, "echo-f32", "1e39"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("out of range for f32"), "{r:?}");
    let r = morph(&["call", &types, "echo-f32", "\"inf\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"inf\""), "{r:?}");

    // Global flags after the arguments are flags; negative numbers are still arguments.
    let r = morph(&["call", &types, "echo-s32", "-5", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "-5", "{r:?}");
    let r = morph(&["call", &types, "add", "2", "3", "-q"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "5"), "{r:?}");
}

#[test]
fn paths_that_are_not_utf8_work_for_every_command() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.wasm");
    let odd = dir.path().join(name);
    std::fs::write(&odd, wat::parse_file(example("hello.wat")).unwrap()).unwrap();
    let types = dir.path().join(std::ffi::OsStr::from_bytes(b"typ\xe9s.wasm"));
    std::fs::write(&types, wat::parse_file(fixture("types.wat")).unwrap()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&std::ffi::OsStr]| -> Run {
        Command::new(morph_bin())
            .args(args)
            .env("MORPH_HOME", home.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    };
    let s = |t: &'static str| std::ffi::OsStr::new(t);
    let r = run(&[s("run"), odd.as_os_str()]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    let r = run(&[s("call"), types.as_os_str(), s("add"), s("1"), s("2")]);
    assert_eq!((r.code, r.stdout.trim()), (0, "3"), "{r:?}");
    let out = dir.path().join(std::ffi::OsStr::from_bytes(b"plugg\xe9d.wasm"));
    let r = run(&[s("plug"), odd.as_os_str(), s("--plug"), types.as_os_str(), s("-o"), out.as_os_str()]);
    no_panic(&r);
    assert!(!r.stderr.contains("invalid UTF-8"), "{r:?}");
    let r = run(&[s("validate"), odd.as_os_str()]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&[s("push"), odd.as_os_str(), s("127.0.0.1:1/x/y:1"), s("--insecure")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !r.stderr.contains("invalid UTF-8") && r.stderr.contains("127.0.0.1:1"),
        "fails at the registry, not the path: {r:?}"
    );
    let r = run(&[s("ext"), s("info"), odd.as_os_str()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("morphir:ext/program"), "gets as far as the exports: {r:?}");
    let r = run(&[s("serve"), odd.as_os_str(), s("--addr"), s("127.0.0.1:0")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nothing to serve"), "gets as far as the exports: {r:?}");
}

#[test]
fn strangers_components_are_described_never_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    // Valid (wasm-tools validate accepts it), but a core module export has no WIT.
    let opaque = dir.path().join("opaque.wasm");
    std::fs::write(
        &opaque,
        wat::parse_str(r#"(component (core module $m (func (export "f"))) (export "inner" (core module $m)))"#)
            .unwrap(),
    )
    .unwrap();
    let r = morph(&["--json", "inspect", path_str(&opaque)]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["kind"], "reactor");
    assert_eq!(v["exports"], serde_json::json!(["inner"]));
    assert!(v["wit_unavailable"].is_string(), "{v}");
    let r = morph(&["inspect", path_str(&opaque)]);
    assert!(r.stdout.contains("WIT is not available"), "{r:?}");
    let r = morph(&["validate", path_str(&opaque)]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("valid component") && r.stderr.contains("WIT cannot describe it"), "{r:?}");

    // An encoded WIT package is a library: its worlds and interfaces.
    let mut resolve = wit_parser::Resolve::new();
    let pkg = resolve
        .push_str(
            "lib.wit",
            "package acme:lib@1.0.0;\ninterface greet { hi: func() -> string; }\nworld app { export greet; }\n",
        )
        .unwrap();
    let library = dir.path().join("library.wasm");
    std::fs::write(&library, wit_component::encode(&resolve, pkg).unwrap()).unwrap();
    let r = morph(&["--json", "inspect", path_str(&library)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["kind"], "library");
    assert_eq!(v["worlds"], serde_json::json!(["acme:lib/app@1.0.0"]));
    assert_eq!(v["interfaces"], serde_json::json!(["acme:lib/greet@1.0.0"]));
    let r = morph(&["inspect", "--wit", path_str(&library)]);
    assert!(r.stdout.contains("interface greet"), "{r:?}");
}

#[test]
fn a_compose_dep_that_is_not_a_component_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let wac = dir.path().join("app.wac");
    std::fs::write(&wac, "package acme:app;\nlet t = new acme:types {};\nexport t...;\n").unwrap();
    let whole = wat::parse_file(fixture("types.wat")).unwrap();
    let cut = dir.path().join("types-cut.wasm");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let r = morph(&[
        "compose",
        path_str(&wac),
        "--dep",
        &format!("acme:types={}", path_str(&cut)),
        "-o",
        path_str(&dir.path().join("o.wasm")),
    ]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("types-cut.wasm"), "names the dep's file: {r:?}");
}
