//! `morph run` end to end: output, argv, exit codes, traps, the sandbox, limits, the cache and
//! registry ids.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::*;

fn probe() -> String {
    path_str(&rust_guest("rust-probe")).to_string()
}

fn run_in(home: &Path, args: &[&str]) -> Run {
    morph_in(home, args)
}

#[test]
fn hello_wat_prints_and_exits_0() {
    let r = morph(&["run", path_str(&example("hello.wat"))]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "hello from morph\n");
}

#[test]
fn argv_stdin_and_stderr_pass_through() {
    let p = probe();
    let r = morph(&["run", &p, "--", "argv", "one", "--two"]);
    assert_eq!(r.stdout.trim(), "rust-probe argv one --two", "argv[0] is the morph's name: {r:?}");
    let home = tempfile::tempdir().unwrap();
    let r = morph_with(home.path(), &["run", &p, "stdin"], &[], Some("shout this"));
    assert_eq!(r.stdout, "SHOUT THIS", "{r:?}");
    let r = morph(&["run", &p, "stderr", "note"]);
    assert!(r.stderr.contains("to stderr: note") && r.stdout.is_empty(), "{r:?}");
}

#[test]
fn guest_exit_codes_become_morphs() {
    let r = morph(&["run", path_str(&fixture("exit-code.wat"))]);
    assert_eq!(r.code, 42, "exit-with-code passes through: {r:?}");
    // Rust's std::process::exit(7) reaches WASI 0.2's `exit(err)`, which carries only failure.
    let r = morph(&["run", &probe(), "exit", "7"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = morph(&["run", &probe(), "exit", "0"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_trap_prints_the_trap_and_a_named_backtrace_and_exits_1() {
    let r = morph(&["run", &probe(), "panic"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("the morph trapped"), "{r:?}");
    assert!(r.stderr.contains("unreachable"), "names the trap: {r:?}");
    assert!(r.stderr.contains("rust_probe::main"), "backtrace has function names: {r:?}");
    assert!(!r.stderr.contains("tokio"), "no host stack in the report: {r:?}");
}

#[test]
fn no_environment_without_a_grant() {
    let p = probe();
    let home = tempfile::tempdir().unwrap();
    let env = [("MORPH_TEST_SECRET", "s3cret")];
    let r = morph_with(home.path(), &["run", &p, "env", "MORPH_TEST_SECRET"], &env, None);
    assert_eq!(r.stdout.trim(), "MORPH_TEST_SECRET unset", "{r:?}");
    let r = morph_with(home.path(), &["run", &p, "env-count"], &env, None);
    assert_eq!(r.stdout.trim(), "0", "{r:?}");
    let r = morph_with(home.path(), &["run", "--env", "MORPH_TEST_SECRET", &p, "env", "MORPH_TEST_SECRET"], &env, None);
    assert_eq!(r.stdout.trim(), "MORPH_TEST_SECRET=s3cret", "--env K copies one variable: {r:?}");
    let r = morph_with(home.path(), &["run", "--env", "GREETING=hi", &p, "env", "GREETING"], &env, None);
    assert_eq!(r.stdout.trim(), "GREETING=hi", "{r:?}");
    let r = morph_with(home.path(), &["run", "--inherit-env", &p, "env", "MORPH_TEST_SECRET"], &env, None);
    assert_eq!(r.stdout.trim(), "MORPH_TEST_SECRET=s3cret", "{r:?}");
    let r = morph_with(home.path(), &["run", "--env", "MORPH_NOT_SET_ANYWHERE", &p, "argv"], &[], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("MORPH_NOT_SET_ANYWHERE"), "{r:?}");
}

#[test]
fn files_only_through_granted_directories() {
    let p = probe();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("in.txt"), "inside\n").unwrap();
    let d = path_str(data.path());
    let host_file = format!("{d}/in.txt");
    let r = morph(&["run", &p, "read", &host_file]);
    assert!(r.stdout.starts_with("read failed"), "no access without --dir: {r:?}");
    let r = morph(&["run", "--dir", &format!("{d}::/data"), &p, "read", "/data/in.txt"]);
    assert_eq!(r.stdout, "inside\n", "{r:?}");
    let r = morph(&["run", "--dir", &format!("{d}::/data"), &p, "write", "/data/out.txt"]);
    assert_eq!(r.stdout.trim(), "wrote /data/out.txt", "{r:?}");
    assert_eq!(std::fs::read_to_string(data.path().join("out.txt")).unwrap(), "written by the guest\n");
    for (flag, spec) in [("--dir", format!("{d}::/data:ro")), ("--dir-ro", format!("{d}::/data"))] {
        let r = morph(&["run", flag, &spec, &p, "write", "/data/ro.txt"]);
        assert!(r.stdout.starts_with("write failed"), "read-only refuses writes: {r:?}");
        assert!(!data.path().join("ro.txt").exists());
        assert_eq!(morph(&["run", flag, &spec, &p, "read", "/data/in.txt"]).stdout, "inside\n");
    }
    let r = morph(&["run", "--dir", "/no/such/dir::/x", &p, "argv"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("/no/such/dir"), "{r:?}");
}

#[test]
fn network_only_with_allow_net() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        // Serves one connection; the refused attempt never arrives.
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"pong").unwrap();
    });
    let p = probe();
    let r = morph(&["run", &p, "connect", &addr]);
    assert!(r.stdout.starts_with("connect failed"), "denied by default: {r:?}");
    let r = morph(&["run", "--allow-net", &p, "connect", &addr]);
    assert_eq!(r.stdout.trim(), "connected: pong", "{r:?}");
    server.join().unwrap();
}

#[test]
fn limits_stop_the_guest_and_name_the_flag() {
    let p = probe();
    let started = std::time::Instant::now();
    let r = morph(&["run", "--timeout", "500ms", &p, "spin"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--timeout"), "{r:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "stopped promptly");

    let r = morph(&["run", "--fuel", "2000000", &p, "spin"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--fuel 2000000"), "{r:?}");

    let r = morph(&["run", "--max-memory", "64MiB", &p, "alloc", "256"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--max-memory 64MiB"), "{r:?}");
    let r = morph(&["run", "--max-memory", "64MiB", &p, "alloc", "8"]);
    assert_eq!(r.code, 0, "under the limit runs: {r:?}");

    for (flag, bad) in [("--timeout", "soon"), ("--max-memory", "lots"), ("--fuel", "-1")] {
        let r = morph(&["run", flag, bad, &p]);
        assert_eq!(r.code, 2, "{flag} {bad}: {r:?}");
    }
}

#[test]
fn compiled_code_is_cached_and_a_bad_entry_is_recompiled() {
    let home = tempfile::tempdir().unwrap();
    let hello = example("hello.wat");
    let first = run_in(home.path(), &["-v", "run", path_str(&hello)]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stderr.contains("Compiled"), "{first:?}");
    let second = run_in(home.path(), &["-v", "run", path_str(&hello)]);
    assert!(second.stderr.contains("Hit"), "the second run does not compile: {second:?}");
    assert_eq!(second.stdout, "hello from morph\n");

    let dir = home.path().join("cache/compiled");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("a .cwasm entry");
    let name = entry.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with(&first_digest(&hello)[7..]), "keyed by the component digest: {name}");
    // Corrupt the entry: it must be recompiled, not trusted.
    let mut bytes = std::fs::read(&entry).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&entry, bytes).unwrap();
    let third = run_in(home.path(), &["-v", "run", path_str(&hello)]);
    assert_eq!(third.stdout, "hello from morph\n", "{third:?}");
    assert!(third.stderr.contains("checksum") && third.stderr.contains("Compiled"), "{third:?}");
    // A foreign file in its place (right name, no checksum) is not trusted either.
    std::fs::remove_file(entry.with_extension("cwasm.sum")).unwrap();
    std::fs::write(&entry, b"not compiled code").unwrap();
    let fourth = run_in(home.path(), &["-v", "run", path_str(&hello)]);
    assert_eq!(fourth.stdout, "hello from morph\n", "{fourth:?}");
    assert!(fourth.stderr.contains("Compiled"), "{fourth:?}");

    let none = tempfile::tempdir().unwrap();
    let r = run_in(none.path(), &["run", "--no-cache", path_str(&hello)]);
    assert_eq!(r.code, 0);
    assert!(!none.path().join("cache").exists(), "--no-cache writes nothing");
}

fn first_digest(wat: &Path) -> String {
    let r = morph(&["--json", "inspect", path_str(wat)]);
    r.json()["digest"].as_str().unwrap().to_string()
}

#[test]
fn registry_ids_resolve_to_the_highest_version() {
    let home = tempfile::tempdir().unwrap();
    let wasm = wat::parse_file(example("hello.wat")).unwrap();
    for v in ["0.1.0", "0.2.0"] {
        let d = home.path().join("registry/morphs/acme").join(v);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("hello.wasm"), &wasm).unwrap();
    }
    let r = run_in(home.path(), &["run", "acme:hello"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    let r = run_in(home.path(), &["run", "acme:hello@0.1.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run_in(home.path(), &["run", "acme:hello@9.9.9"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("acme:hello@9.9.9") && r.stderr.contains("0.2.0"), "{r:?}");
    let r = run_in(home.path(), &["cast", "--package", "acme:hello"]);
    assert_eq!(r.stdout, "hello from morph\n", "cast runs like Hayride's: {r:?}");
    let types = home.path().join("registry/morphs/acme/0.3.0");
    std::fs::create_dir_all(&types).unwrap();
    std::fs::write(types.join("types.wasm"), wat::parse_file(fixture("types.wat")).unwrap()).unwrap();
    let r = run_in(home.path(), &["cast", "--package", "acme:types", "--function", "add", "2", "3"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "5"), "cast --function calls an export: {r:?}");
    // Hayride's spelling: --args, and a string parameter takes plain text.
    let r = run_in(home.path(), &["cast", "--package", "acme:types", "--function", "add", "--args", "2", "3"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "5"), "{r:?}");
    let r =
        run_in(home.path(), &["cast", "--package", "acme:types", "--function", "echo-string", "--args", "hi there"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"hi there\""), "plain text for a string: {r:?}");
    let r =
        run_in(home.path(), &["cast", "--package", "acme:types", "--function", "echo-string", "--args", "\"quoted\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"quoted\""), "a JSON string is still JSON: {r:?}");
    let r = run_in(home.path(), &["cast", "--package", "acme:types", "--function", "add", "--args", "two", "3"]);
    assert_eq!(r.code, 2, "other types stay JSON: {r:?}");
    assert!(r.stderr.contains("is not JSON"), "{r:?}");
}

#[test]
fn unusable_morphs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, wat::parse_str("(module)").unwrap()).unwrap();
    let r = morph(&["run", path_str(&core)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("core WebAssembly module"), "{r:?}");
    let r = morph(&["run", path_str(&dir.path().join("missing.wasm"))]);
    assert_eq!(r.code, 2, "{r:?}");
    // A reactor has no wasi:cli/run.
    let r = morph(&["run", path_str(&fixture("types.wat"))]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a command") && r.stderr.contains("morph call"), "{r:?}");
    // An import nothing provides.
    let r = morph(&["run", path_str(&fixture("command-unprovided.wat"))]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("fixture:needs/secrets") && r.stderr.contains("morph validate"), "{r:?}");
}

#[test]
fn real_guests_run() {
    let r = morph(&["run", path_str(&rust_guest("rust-hello")), "--", "morph"]);
    assert_eq!(r.stdout, "hello, morph, from rust\n", "{r:?}");
    let home = tempfile::tempdir().unwrap();
    let py = python_hello();
    let r = run_in(home.path(), &["run", path_str(&py)]);
    assert_eq!(r.stdout, "hello from python\n", "{r:?}");
    let again = run_in(home.path(), &["-v", "run", path_str(&py)]);
    assert_eq!(again.stdout, "hello from python\n");
    assert!(again.stderr.contains("Hit"), "the second run of the Python morph does not compile: {again:?}");
}

#[test]
fn invoke_calls_one_export_in_wave() {
    let r = morph(&["run", "--invoke", "add(40, 2)", path_str(&fixture("types.wat"))]);
    assert_eq!((r.code, r.stdout.trim()), (0, "42"), "{r:?}");
}

/// The compiled-code entries (not checksums, not claims) under a home's cache.
fn compiled_entries(home: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(home.join("cache/compiled"))
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".cwasm"));
    names.sort();
    names
}

#[test]
fn a_first_start_runs_baseline_code_and_the_next_the_optimized_code_compiled_meanwhile() {
    let home = tempfile::tempdir().unwrap();
    let hello = example("hello.wat");
    let auto = [("MORPH_COMPILER", "auto")];
    let r = morph_with(home.path(), &["-v", "run", path_str(&hello)], &auto, None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    assert!(r.stderr.contains("Baseline code, cache Compiled"), "{r:?}");
    // A detached, low-priority morph compiles the optimized code into the cache.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while compiled_entries(home.path()).len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(compiled_entries(home.path()).len(), 2, "baseline and optimized entries");
    let r = morph_with(home.path(), &["-v", "run", path_str(&hello)], &auto, None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    assert!(r.stderr.contains("Optimized code, cache Hit"), "the next start is the warm one: {r:?}");

    // --compiler picks one; a wrong name is refused naming the choices.
    let other = tempfile::tempdir().unwrap();
    let r = morph_in(other.path(), &["-v", "run", "--compiler", "baseline", path_str(&hello)]);
    assert!(r.code == 0 && r.stderr.contains("Baseline code"), "{r:?}");
    let r = morph_in(other.path(), &["-v", "run", "--compiler", "optimized", path_str(&hello)]);
    assert!(r.code == 0 && r.stderr.contains("Optimized code, cache Compiled"), "{r:?}");
    let r = morph_in(other.path(), &["run", "--compiler", "fast", path_str(&hello)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("auto, baseline or optimized"), "{r:?}");
}

#[test]
fn baseline_code_keeps_every_limit() {
    // Winch counts no fuel: with --fuel the baseline tier is Cranelift without optimizations.
    // Every limit holds on either tier.
    let p = probe();
    for compiler in ["baseline", "optimized"] {
        let r = morph(&["run", "--compiler", compiler, "--timeout", "500ms", &p, "spin"]);
        assert_eq!(r.code, 1, "{compiler}: {r:?}");
        assert!(r.stderr.contains("--timeout"), "{compiler}: {r:?}");
        let r = morph(&["run", "--compiler", compiler, "--fuel", "2000000", &p, "spin"]);
        assert_eq!(r.code, 1, "{compiler}: {r:?}");
        assert!(r.stderr.contains("--fuel 2000000"), "{compiler}: {r:?}");
        let r = morph(&["run", "--compiler", compiler, "--max-memory", "64MiB", &p, "alloc", "256"]);
        assert_eq!(r.code, 1, "{compiler}: {r:?}");
        assert!(r.stderr.contains("--max-memory 64MiB"), "{compiler}: {r:?}");
    }
}

#[test]
fn a_morph_that_arrived_through_morph_starts_warm() {
    let home = tempfile::tempdir().unwrap();
    let auto = [("MORPH_COMPILER", "auto")];
    let hello = example("hello.wat");
    let r = morph_in(home.path(), &["register", path_str(&hello), "--package", "acme:hello@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_with(home.path(), &["-vv", "run", "acme:hello@1.0.0"], &auto, None);
    assert_eq!(r.stdout, "hello from morph\n", "{r:?}");
    assert!(r.stderr.contains("Optimized code, cache Hit"), "compiled when it was registered: {r:?}");
    // Right after `register`, what it wrote is known: neither the morph nor its compiled code
    // is hashed again, as in any warm run.
    assert!(!r.stderr.contains("hashing") && !r.stderr.contains("checking the checksum"), "{r:?}");
    // A file a user just wrote is hashed (its times could not tell a write in the same tick).
    let fresh = home.path().join("fresh.wat");
    std::fs::copy(&hello, &fresh).unwrap();
    let r = morph_with(home.path(), &["-vv", "run", path_str(&fresh)], &auto, None);
    assert!(r.stderr.contains("hashing"), "{r:?}");

    let cold = tempfile::tempdir().unwrap();
    let r = morph_in(cold.path(), &["register", path_str(&hello), "--package", "acme:hello@1.0.0", "--no-precompile"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!cold.path().join("cache/compiled").exists(), "--no-precompile compiles nothing");
    let r = morph_with(cold.path(), &["-v", "run", "--compiler", "auto", "acme:hello@1.0.0"], &auto, None);
    assert!(r.stderr.contains("Baseline code, cache Compiled"), "{r:?}");

    // A composed command, too.
    let dir = tempfile::tempdir().unwrap();
    let deps = dir.path().join("deps/test");
    std::fs::create_dir_all(&deps).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::copy(fixture(&format!("compose/{name}.wat")), deps.join(format!("{name}.wat"))).unwrap();
    }
    let out = dir.path().join("chain.wasm");
    let wac = fixture_wac("chain.wac", dir.path());
    let r = morph_in(
        home.path(),
        &["compose", path_str(&wac), "--deps-dir", path_str(&dir.path().join("deps")), "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_with(home.path(), &["-v", "call", path_str(&out), "run"], &auto, None);
    assert_eq!(r.stdout.trim(), "111", "{r:?}");
    assert!(r.stderr.contains("Optimized code, cache Hit"), "{r:?}");
}

/// The names of `pid`'s threads.
fn thread_names(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn a_warm_run_watches_no_signals_and_ctrl_c_ends_it_as_any_program() {
    // A run from the cache writes nothing, so it starts no thread to clean up after a signal
    // (half a millisecond of its start), and Ctrl-C ends it by the signal itself, which a shell
    // reports as 130; a command that writes watches (oci.rs: a pull interrupted removes its
    // partial download and exits 130).
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["register", path_str(&fixture("spin.wat")), "--package", "acme:spin@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut child = std::process::Command::new(morph_bin())
        .args(["-v", "run", "acme:spin@1.0.0"])
        .env("MORPH_HOME", home.path())
        .env("MORPH_COMPILER", "auto")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let hit = log.by_ref().map_while(Result::ok).find(|l| l.contains("cache Hit"));
    assert!(hit.is_some(), "a warm start: compiled when it was registered");
    // The guest spins from here on; the process's threads are all it will have.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let names = thread_names(child.id());
    assert!(!names.iter().any(|n| n == "morph-signals"), "{names:?}");
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(2), "ended by SIGINT: {status:?}");
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    assert!(!rest.iter().any(|l| l.contains("interrupted by")), "{rest:?}");
}
