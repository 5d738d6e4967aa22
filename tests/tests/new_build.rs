//! `morph new` → `morph build` → `morph run`/`serve`/`call`/`register`, through the real
//! toolchains: Rust (wasm32-wasip2, wit-bindgen) and componentize-py, both installed by CI.
//! jco (pinned, installed by scripts/test) builds the JS template; the standard Go toolchain
//! (GOOS=wasip1, with the preview1 adapter) builds the Go cli template.

mod common;

use std::path::Path;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::project::{build, morph_at, morph_at_env, new_project, toolchain_present};
use common::registry::free_port;
use common::served::Served;

#[test]
fn rust_cli_new_build_run_register() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "hello-cli", &["--package", "acme:hello-cli"]);
    for f in ["morph.toml", ".gitignore", "README.md", "Cargo.toml", "src/main.rs", "wit/world.wit"] {
        assert!(dir.join(f).is_file(), "{f} is written");
    }
    assert!(dir.join("wit/deps").read_dir().unwrap().count() > 5, "the world's packages are there, offline");
    let toml = std::fs::read_to_string(dir.join("morph.toml")).unwrap();
    assert!(toml.contains("id = \"acme:hello-cli@0.1.0\"") && toml.contains("language = \"rust\""), "{toml}");
    build(home.path(), &dir);
    // No flags: the project's component.
    let r = morph_at(home.path(), &dir, &["run"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Hello, world! This is hello-cli.\n"), "{r:?}");
    let r = morph_at(home.path(), &dir, &["register"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_at(home.path(), &dir, &["run", "acme:hello-cli"]);
    assert_eq!(r.stdout, "Hello, world! This is hello-cli.\n", "{r:?}");
}

/// A new server project in `lang`: the user picks the address in `source` (the template's
/// 127.0.0.1:8080 becomes a free port), builds, and a bare `morph serve` must answer `GET /`
/// with the template's greeting on that address, which it reads from hayride:http/config.
fn serve_new_server(lang: &str, name: &str, source: &str) {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), name, &["--lang", lang, "--world", "server"]);
    let port = free_port();
    let src = dir.join(source);
    let code = std::fs::read_to_string(&src).unwrap().replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    std::fs::write(&src, code).unwrap();
    build(home.path(), &dir);
    let addr = format!("127.0.0.1:{port}");
    let _served = Served::start_project(&dir, &addr);
    let mut s = TcpStream::connect(&addr).expect("listening on the config's address");
    s.write_all(format!("GET / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(&format!("Hello from {name}!\n")), "{reply}");
}

#[test]
fn a_core_module_from_wasm32_wasip1_becomes_a_component_with_the_adapter() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "old-school", &[]);
    let toml = dir.join("morph.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace("[build]", "[build]\ntarget = \"wasm32-wasip1\"");
    assert!(text.contains("target = \"wasm32-wasip1\""), "the template has a [build] table: {text}");
    std::fs::write(&toml, text).unwrap();
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["inspect", "target/morph/old-school.wasm"]);
    assert!(r.stdout.contains("command"), "a command component, not a core module: {r:?}");
    let r = morph_at(home.path(), &dir, &["run", "--", "there"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "Hello, there! This is old-school.\n"),
        "argv after -- in a project: {r:?}"
    );
    std::fs::write(&toml, std::fs::read_to_string(&toml).unwrap().replace("wasm32-wasip1", "wasm64-unknown")).unwrap();
    let r = morph_at(home.path(), &dir, &["build"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("use wasm32-wasip2, wasm32-wasip1 or wasm32-unknown-unknown"), "{r:?}");
}

#[test]
fn rust_server_answers_on_the_address_its_config_gives() {
    serve_new_server("rust", "hello-server", "src/lib.rs");
}

#[test]
fn python_server_answers_on_the_address_its_config_gives() {
    serve_new_server("python", "py-server", "app.py");
}

#[test]
fn a_project_for_contract_0_0_60_builds_and_validates_against_it() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "old-server", &["--world", "server", "--contract", "0.0.60"]);
    let deps: Vec<String> = std::fs::read_dir(dir.join("wit/deps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(deps.iter().any(|f| f == "hayride-http@0.0.60.wit"), "{deps:?}");
    assert!(!deps.iter().any(|f| f.contains("0.0.65")), "{deps:?}");
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["--json", "validate", "target/morph/old-server.wasm"]);
    assert_eq!((r.code, r.json()["contract"].as_str()), (0, Some("0.0.60")), "{r:?}");
    let r = morph_at(home.path(), home.path(), &["new", "x", "--contract", "0.0.1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no contract 0.0.1 is bundled"), "{r:?}");
    assert!(!home.path().join("x").exists(), "nothing is written");
}

#[test]
fn rust_reactor_exports_a_function_to_call() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "greeter", &["--world", "reactor"]);
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["call", "target/morph/greeter.wasm", "greet", "\"morph\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"Hello, morph!\""), "{r:?}");
}

#[test]
fn js_cli_builds_with_jco_and_runs() {
    if !toolchain_present("jco", "JS") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "js-hello", &["--lang", "js"]);
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["run"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Hello, world! This is js-hello.\n"), "{r:?}");
}

#[test]
fn js_reactor_exports_a_function_to_call() {
    if !toolchain_present("jco", "JS") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "js-greeter", &["--lang", "js", "--world", "reactor"]);
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["call", "target/morph/js-greeter.wasm", "greet", "\"js\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"Hello, js!\""), "{r:?}");
}

#[test]
fn js_server_answers_on_the_address_its_config_gives() {
    if toolchain_present("jco", "JS") {
        serve_new_server("js", "js-server", "app.js");
    }
}

#[test]
fn go_cli_builds_with_the_standard_go_toolchain_and_runs() {
    if !toolchain_present("go", "Go") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "go-hello", &["--lang", "go"]);
    // Without TinyGo on PATH: `GOOS=wasip1 go build`, then the preview1 command adapter.
    let path = std::env::var("PATH").unwrap();
    let no_tinygo: Vec<&str> = path.split(':').filter(|d| !Path::new(d).join("tinygo").exists()).collect();
    let built = morph_at_env(home.path(), &dir, &["build"], &[("PATH", &no_tinygo.join(":"))]);
    assert_eq!(built.code, 0, "{built:?}");
    let r = morph_at(home.path(), &dir, &["run", "--", "gopher"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Hello, gopher! This is go-hello.\n"), "{r:?}");
    let v = morph_at(home.path(), &dir, &["validate", "target/morph/go-hello.wasm"]);
    assert_eq!(v.code, 0, "valid against its world: {v:?}");
}

/// The Go templates beyond the command build with bindings morph generates from `wit/` at
/// build time: none are in the project before the build, and none are for git afterwards.
#[test]
fn go_reactor_builds_with_generated_bindings_and_answers_a_call() {
    if !toolchain_present("go", "Go") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "go-greeter", &["--lang", "go", "--world", "reactor"]);
    assert!(!dir.join("wit_exports.go").exists() && !dir.join("internal").exists(), "nothing generated is scaffolded");
    build(home.path(), &dir);
    for generated in ["wit_exports.go", "internal/wit/runtime/runtime.go", "internal/wit/types/types.go"] {
        assert!(dir.join(generated).is_file(), "{generated} is generated by the build");
    }
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.contains("/wit_exports.go") && ignore.contains("/internal/wit/"), "{ignore}");
    let r = morph_at(home.path(), &dir, &["call", "target/morph/go-greeter.wasm", "greet", "\"gopher\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"Hello, gopher!\""), "{r:?}");
    let v = morph_at(home.path(), &dir, &["validate", "target/morph/go-greeter.wasm"]);
    assert_eq!(v.code, 0, "valid against its world: {v:?}");

    // The world grows an export: the next build regenerates, and the Go code must provide it.
    let world = std::fs::read_to_string(dir.join("wit/world.wit")).unwrap();
    let world = world.replace("export greet:", "export shout: func(text: string) -> string;\n    export greet:");
    std::fs::write(dir.join("wit/world.wit"), world).unwrap();
    let r = morph_at(home.path(), &dir, &["build"]);
    assert_eq!(r.code, 1, "the missing Shout is Go's compile error: {r:?}");
    assert!(r.stderr.contains("Shout"), "{r:?}");
    std::fs::write(
        dir.join("export_wit_world/shout.go"),
        "package export_wit_world\n\nimport \"strings\"\n\nfunc Shout(text string) string { return strings.ToUpper(text) }\n",
    )
    .unwrap();
    build(home.path(), &dir);
    let r = morph_at(home.path(), &dir, &["call", "target/morph/go-greeter.wasm", "shout", "\"quiet\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"QUIET\""), "{r:?}");
}

#[test]
fn go_server_answers_on_the_address_its_config_gives() {
    if toolchain_present("go", "Go") {
        serve_new_server("go", "go-server", "export_hayride_http_config/config.go");
    }
}

#[test]
fn python_cli_and_reactor_build_with_componentize_py() {
    let home = tempfile::tempdir().unwrap();
    let (_p1, cli) = new_project(home.path(), "py-hello", &["--lang", "python"]);
    build(home.path(), &cli);
    let r = morph_at(home.path(), &cli, &["run"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Hello, world! This is py-hello.\n"), "{r:?}");
    let (_p2, reactor) = new_project(home.path(), "py-greeter", &["--lang", "python", "--world", "reactor"]);
    build(home.path(), &reactor);
    let r = morph_at(home.path(), &reactor, &["call", "target/morph/py-greeter.wasm", "greet", "\"py\""]);
    assert_eq!((r.code, r.stdout.trim()), (0, "\"Hello, py!\""), "{r:?}");
}

#[test]
fn bad_names_packages_and_existing_directories_are_refused_and_nothing_is_written() {
    let home = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    for args in [
        vec!["new", "Bad_Name"],
        vec!["new", "../escape"],
        vec!["new", "ok-name", "--package", "not a package"],
        vec!["new", "ok-name", "--lang", "cobol"],
        vec!["new", "ok-name", "--lang", "go", "--world", "daemon"],
    ] {
        let r = morph_at(home.path(), parent.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.starts_with("error: "), "{r:?}");
        assert_eq!(parent.path().read_dir().unwrap().count(), 0, "{args:?} wrote something");
    }
    std::fs::create_dir(parent.path().join("taken")).unwrap();
    std::fs::write(parent.path().join("taken/keep.txt"), "mine").unwrap();
    let r = morph_at(home.path(), parent.path(), &["new", "taken"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already exists"), "{r:?}");
    assert_eq!(parent.path().join("taken").read_dir().unwrap().count(), 1, "the existing directory is untouched");
}

#[test]
fn a_compiler_error_passes_through_with_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "broken", &[]);
    std::fs::write(dir.join("src/main.rs"), "fn main() { let x: u32 = \"no\"; }\n").unwrap();
    let r = morph_at(home.path(), &dir, &["build"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("mismatched types"), "rustc's own message: {r:?}");
    assert!(r.stderr.contains("src/main.rs"), "{r:?}");
    assert!(!dir.join("target/morph/broken.wasm").exists(), "no output from a failed build");
}

#[test]
fn a_component_that_does_not_conform_to_its_world_fails_with_the_report() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "liar", &[]);
    // The world now promises an export the code does not have.
    let wit = dir.join("wit/world.wit");
    let world = std::fs::read_to_string(&wit).unwrap().replace(
        "include hayride:runtime/hayride-cli@0.0.1;",
        "include hayride:runtime/hayride-cli@0.0.1;\n    export promised: func() -> string;",
    );
    std::fs::write(&wit, world).unwrap();
    let r = morph_at(home.path(), &dir, &["build"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("promised"), "the report names the missing export: {r:?}");
    assert!(r.stderr.contains("does not conform"), "{r:?}");
}

#[test]
fn a_missing_toolchain_is_named_with_its_install_command() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "no-py", &["--lang", "python"]);
    let r = morph_at_env(home.path(), &dir, &["build"], &[("PATH", "/nonexistent")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("componentize-py is not installed"), "{r:?}");
    assert!(r.stderr.contains("pip install componentize-py"), "{r:?}");
}

#[test]
fn build_outside_a_project_says_how_to_make_one() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let r = morph_at(home.path(), empty.path(), &["build"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("morph new"), "{r:?}");
}
