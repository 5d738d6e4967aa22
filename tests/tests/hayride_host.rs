//! The Hayride host interfaces under `morph run`: one Rust probe per interface
//! (tests/guests/rust-hayride), each run granted and not granted.

mod common;

use std::path::Path;

use common::*;

fn probe(bin: &str) -> String {
    path_str(&hayride_probe(bin)).to_string()
}

/// `morph run PROBE [flags] -- ARGS` in `home`.
fn run(home: &Path, bin: &str, flags: &[&str], args: &[&str]) -> Run {
    run_probe(home, &hayride_probe(bin), flags, args)
}

fn refused(r: &Run, iface: &str, grant: &str) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(iface) && r.stderr.contains(&format!("--allow {grant}")), "names the flag: {r:?}");
    assert!(r.stdout.is_empty(), "the morph never started: {r:?}");
}

#[test]
fn version_is_morphs_own_without_a_grant() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "version", &[], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("latest: {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn fallbacks_give_each_interfaces_own_error_and_the_context_is_a_real_one() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "fallback", &[], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("tools: ErrorCode::ToolNotFound: no MCP tools are enabled"), "{r:?}");
    assert!(lines[1].starts_with("auth: ErrorCode::Unknown: MCP auth is not enabled"), "{r:?}");
    // The host's context is an in-memory conversation now, not an error (see ai_host.rs).
    assert_eq!(lines[2], "context: 0 messages", "{r:?}");
}

#[test]
fn config_comes_from_flags_and_needs_a_grant() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "config", &[], &["greeting"]);
    refused(&r, "wasi:config/store@0.2.0-draft", "config");
    let r = run(
        home.path(),
        "config",
        &["--config", "greeting=hello", "--config", "greeting=hi", "--config", "n=1"],
        &["greeting", "other"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout, "greeting = hi\nother is not set\nall: [(\"greeting\", \"hi\"), (\"n\", \"1\")]\n",
        "the last --config of a key wins"
    );
    let r = run(home.path(), "config", &["--allow", "config"], &["greeting"]);
    assert_eq!(r.stdout, "greeting is not set\nall: []\n", "{r:?}");
}

#[test]
fn config_of_the_project_is_read_from_morph_toml() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let out = project.path().join("target/morph/probe.wasm");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::copy(hayride_probe("config"), &out).unwrap();
    std::fs::write(
        project.path().join("morph.toml"),
        "[package]\nid = \"test:probe@0.1.0\"\nlanguage = \"rust\"\nworld = \"config-probe\"\n\n\
         [config]\ngreeting = \"from morph.toml\"\nport = 8080\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(morph_bin());
    cmd.args(["run", "--config", "port=9090", "--", "greeting", "port"])
        .current_dir(project.path())
        .env("MORPH_HOME", home.path());
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("greeting = from morph.toml\nport = 9090\n"), "--config overrides: {r:?}");
}

fn registered_probe(home: &Path) {
    let probe = rust_guest("rust-probe");
    let r = morph_in(home, &["register", path_str(&probe), "--package", "test:probe@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn threads_run_registry_morphs_with_only_the_env_they_are_given() {
    let home = tempfile::tempdir().unwrap();
    registered_probe(home.path());
    let r = run(home.path(), "threads", &[], &["run", "test:probe", "run", "argv", "x"]);
    refused(&r, "hayride:silo/threads@0.0.65", "silo");
    let r = run(home.path(), "threads", &["--allow", "silo"], &["run", "test:probe", "run", "argv", "x"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("wait: Ok(\"probe argv x\\n\")"), "the thread's stdout: {r:?}");
    assert!(
        r.stdout.contains("status: ThreadStatus::Exited pkg=test:probe function=run args=[\"argv\", \"x\"]"),
        "{r:?}"
    );
    assert!(r.stdout.contains("group: 1"), "{r:?}");
    let r = run(
        home.path(),
        "threads",
        &["--allow", "silo", "--env", "GREETING=parent"],
        &["env", "test:probe", "GREETING=child"],
    );
    assert!(r.stdout.contains("wait: Ok(\"GREETING=child\\n\")"), "the env the parent passed, not its own: {r:?}");
    let r = run(home.path(), "threads", &["--allow", "silo"], &["run", "test:missing", "run"]);
    assert_eq!(r.stdout, "spawn: errno 2\n", "an unknown package is ENOENT: {r:?}");
    let r = run(home.path(), "threads", &["--allow", "silo"], &["status", "nope"]);
    assert_eq!(r.stdout, "status: Err(3)\n", "an unknown thread is ESRCH: {r:?}");
}

#[test]
fn a_killed_thread_is_interrupted_and_reported_killed() {
    let home = tempfile::tempdir().unwrap();
    registered_probe(home.path());
    let r = run(home.path(), "threads", &["--allow", "silo"], &["kill", "test:probe"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("status before kill: Ok(ThreadStatus::Processing)"), "{r:?}");
    assert!(r.stdout.contains("kill: Ok(())"), "{r:?}");
    assert!(r.stdout.contains("wait: Err(4)"), "wait on a killed thread is EINTR: {r:?}");
    assert!(r.stdout.contains("status after kill: Ok(ThreadStatus::Killed)"), "{r:?}");
}

#[test]
fn a_spawned_morph_cannot_spawn_unless_nested_spawning_is_granted() {
    let home = tempfile::tempdir().unwrap();
    registered_probe(home.path());
    let threads = hayride_probe("threads");
    let r = morph_in(home.path(), &["register", path_str(&threads), "--package", "test:spawner@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let args = ["run", "test:spawner", "run", "run", "test:probe", "run", "argv", "deep"];
    let r = run(home.path(), "threads", &["--allow", "silo"], &args);
    assert!(r.stdout.contains("wait: Err(5)"), "the child could not start: {r:?}");
    assert!(r.stderr.contains("--allow silo-nested"), "the log says why: {r:?}");
    let r = run(home.path(), "threads", &["--allow", "silo,silo-nested"], &args);
    assert!(r.stdout.contains("probe argv deep"), "the grandchild ran: {r:?}");
}

#[test]
fn processes_run_on_the_host_only_when_granted() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "process", &[], &["exit", "3"]);
    refused(&r, "hayride:silo/process@0.0.65", "process");
    let r = run(home.path(), "process", &["--allow", "process"], &["exit", "3"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("from the host process\nwait: Ok(3)"), "{r:?}");
    let r = run(home.path(), "process", &["--allow", "process"], &["kill"]);
    assert!(r.stdout.contains("running: Ok(true)\nkill: Ok(0)\nwait: Ok(137)"), "{r:?}");
    let r = run(home.path(), "process", &["--allow", "process"], &["missing"]);
    assert_eq!(r.stdout, "spawn: Err(2)\n", "{r:?}");
    let r = run(home.path(), "process", &["--allow", "process"], &["status", "1"]);
    assert_eq!(r.stdout, "status: Err(3)\n", "only its own processes: {r:?}");
}

#[test]
fn wac_composes_registry_morphs_when_granted() {
    let home = tempfile::tempdir().unwrap();
    let wac = register_chain(home.path());
    let r = run(home.path(), "wac", &[], &["compose", &wac]);
    refused(&r, "hayride:wac/wac@0.0.65", "wac");
    // The morph writes what it composed to a granted directory; morph then runs it.
    let out = tempfile::tempdir().unwrap();
    let grant = format!("{}::/out", out.path().display());
    let flags = ["--allow", "wac", "--dir", &grant, "--env", "OUT=/out/app.wasm"];
    let r = run(home.path(), "wac", &flags, &["compose", &wac]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("composed ") && r.stdout.contains("starting [0, 97, 115, 109]"), "{r:?}");
    let app = out.path().join("app.wasm");
    let r = morph_in(home.path(), &["call", path_str(&app), "run"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "111"), "the composition works: {r:?}");
    let r = run(home.path(), "wac", &["--allow", "wac"], &["compose", "package test:x;\nlet x = new test:nope {};\n"]);
    assert!(r.stdout.starts_with("error: ErrorCode::ResolveFailed:") && r.stdout.contains("test:nope"), "{r:?}");
    let r = run(home.path(), "wac", &flags, &["plug", "test:b", "test:a"]);
    assert!(r.stdout.starts_with("composed "), "{r:?}");
    let r = morph_in(home.path(), &["call", path_str(&app), "test:chain/b#value"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "11"), "b plugged with a: {r:?}");
    let r = run(home.path(), "wac", &["--allow", "wac"], &["plug", "test:b", "test:absent"]);
    assert!(r.stdout.starts_with("error: ErrorCode::FileNotFound:") && r.stdout.contains("test:absent"), "{r:?}");
}

/// What the db probe prints before its row, the same for every backend: the parameter count,
/// an insert, and the two argument errors.
fn assert_statement_steps(out: &str) {
    assert!(out.contains("parameters: 13\ninsert: Ok(1)"), "{out}");
    assert!(out.contains("too few: Err(ErrorCode::NumberParametersFailed)"), "{out}");
    assert!(out.contains("u64 too big: Err(ErrorCode::ExecuteFailed)"), "{out}");
}

/// What it prints after the row, the same for every backend: the end of the rows, a rollback
/// and a commit seen by the next query, and a syntax error at prepare.
fn assert_result_and_transaction_steps(out: &str) {
    assert!(out.contains("next: ErrorCode::EndOfRows"), "{out}");
    assert!(out.contains("rollback: Ok(())\nafter rollback: Ok([DbValue::Int64(1)])"), "{out}");
    assert!(out.contains("commit: Ok(())\nafter commit: Ok([DbValue::Int64(2)])"), "{out}");
    assert!(out.contains("bad sql: ErrorCode::PrepareFailed"), "{out}");
}

#[test]
fn sqlite_maps_every_db_value_and_keeps_transactions() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "db", &[], &[":memory:"]);
    refused(&r, "hayride:db/db@0.0.65", "db");
    let r = run(home.path(), "db", &["--allow", "db"], &[":memory:"]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = &r.stdout;
    assert_statement_steps(out);
    assert!(
        out.contains(
            "row: [DbValue::Int64(-32), DbValue::Int64(-64), DbValue::Int64(32), DbValue::Int64(64), DbValue::Float(1.5), DbValue::Double(2.25), DbValue::Str(\"text\"), \
             DbValue::Boolean(true), DbValue::Date(\"2026-11-28\"), DbValue::Time(\"12:34:56\"), DbValue::Timestamp(\"2026-11-28T12:34:56Z\"), \
             DbValue::Binary([0, 1, 255]), DbValue::Null]"
        ),
        "{out}"
    );
    assert_result_and_transaction_steps(out);
    let r = morph_in(home.path(), &["validate", &probe("db")]);
    assert!(r.stdout.contains("every import is provided by morph's runtime"), "validate knows the host: {r:?}");
}

#[test]
fn sqlite_files_live_only_in_granted_directories() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let grant = format!("{}::/data", data.path().display());
    let r = run(home.path(), "db", &["--allow", "db"], &["/data/app.db"]);
    assert!(
        r.stdout.starts_with("open: ErrorCode::OpenFailed: /data/app.db is not inside a directory granted with --dir"),
        "{r:?}"
    );
    let r = run(home.path(), "db", &["--allow", "db", "--dir", &grant], &["/data/app.db"]);
    assert!(r.stdout.contains("after commit: Ok([DbValue::Int64(2)])"), "{r:?}");
    assert!(data.path().join("app.db").is_file(), "the file is in the granted directory");
    // The rows are still there the next time: commit is durable.
    let r = run(home.path(), "db", &["--allow", "db", "--dir", &grant], &["/data/app.db"]);
    assert!(r.stdout.contains("after commit: Ok([DbValue::Int64(4)])"), "{r:?}");
    let ro = format!("{}::/data:ro", data.path().display());
    let r = run(home.path(), "db", &["--allow", "db", "--dir", &ro], &["/data/app.db"]);
    assert!(r.stdout.contains("insert: Err(") && r.stdout.contains("readonly"), "a read-only grant: {r:?}");
    let r = run(home.path(), "db", &["--allow", "db", "--dir", &grant], &["/data/../escape.db"]);
    assert!(r.stdout.contains("open: ErrorCode::OpenFailed:") && r.stdout.contains(".."), "{r:?}");
}

#[test]
fn sqlite_dsns_as_people_write_them_follow_the_same_dir_rules() {
    let home = tempfile::tempdir().unwrap();
    for memory in ["sqlite::memory:", "sqlite://:memory:", "file::memory:"] {
        let r = run(home.path(), "db", &["--allow", "db"], &[memory]);
        assert!(r.stdout.contains("after commit: Ok([DbValue::Int64(2)])"), "{memory}: {r:?}");
    }
    let data = tempfile::tempdir().unwrap();
    let grant = format!("{}::/data", data.path().display());
    for (n, dsn) in ["sqlite:/data/a.db", "sqlite:///data/b.db", "file:/data/c.db", "file:///data/d.db?cache=shared"]
        .iter()
        .enumerate()
    {
        let r = run(home.path(), "db", &["--allow", "db", "--dir", &grant], &[dsn]);
        assert!(r.stdout.contains("after commit: Ok([DbValue::Int64(2)])"), "{dsn}: {r:?}");
        let file = ["a.db", "b.db", "c.db", "d.db"][n];
        assert!(data.path().join(file).is_file(), "{dsn} is the file {file} in the granted directory");
        let r = run(home.path(), "db", &["--allow", "db"], &[dsn]);
        assert!(r.stdout.contains("is not inside a directory granted with --dir"), "{dsn} without a grant: {r:?}");
    }
    let r = run(home.path(), "db", &["--allow", "db", "--dir", &grant], &["file:///data/a.db?mode=ro"]);
    assert!(r.stdout.contains("insert: Err(") && r.stdout.contains("readonly"), "mode=ro opens read-only: {r:?}");
}

#[test]
fn postgresql_maps_every_db_value_and_needs_the_network() {
    let home = tempfile::tempdir().unwrap();
    let server = common::postgres::Postgres::start();
    let dsn = server.dsn();
    let r = run(home.path(), "db", &["--allow", "db"], &[&dsn]);
    assert!(r.stdout.starts_with("open: ErrorCode::OpenFailed: connecting to PostgreSQL needs --allow-net"), "{r:?}");
    let r = run(home.path(), "db", &["--allow", "db", "--allow-net"], &[&dsn]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = &r.stdout;
    assert_statement_steps(out);
    assert!(
        out.contains(
            "row: [DbValue::Int32(-32), DbValue::Int64(-64), DbValue::Int64(32), DbValue::Int64(64), \
             DbValue::Float(1.5), DbValue::Double(2.25), DbValue::Str(\"text\"), DbValue::Boolean(true), \
             DbValue::Date(\"2026-11-28\"), DbValue::Time(\"12:34:56\"), DbValue::Timestamp(\"2026-11-28T12:34:56\"), \
             DbValue::Binary([0, 1, 255]), DbValue::Null]"
        ),
        "{out}"
    );
    assert_result_and_transaction_steps(out);
    let r = run(home.path(), "db", &["--allow", "db", "--allow-net"], &["postgres://morph@127.0.0.1:1/none"]);
    assert!(r.stdout.starts_with("open: ErrorCode::OpenFailed:"), "an unreachable server: {r:?}");
}

#[test]
fn an_unknown_grant_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "version", &["--allow", "everything"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown grant") && r.stderr.contains("silo, silo-nested, process"), "{r:?}");
}

#[test]
fn serve_checks_the_grants_too() {
    let home = tempfile::tempdir().unwrap();
    let db_reactor = fixture("reactor-db.wat");
    let r = morph_in(home.path(), &["serve", path_str(&db_reactor), "--addr", "127.0.0.1:0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("hayride:db/db@0.0.65") && r.stderr.contains("--allow db"), "{r:?}");
    // Granted, the grant is no longer the problem: this reactor has nothing to serve.
    let r = morph_in(home.path(), &["serve", path_str(&db_reactor), "--addr", "127.0.0.1:0", "--allow", "db"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nothing to serve") && !r.stderr.contains("--allow db"), "{r:?}");
}
