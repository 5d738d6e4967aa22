//! From edit to cluster: `--build` (a stale output is rebuilt, a fresh one is not), `serve
//! --watch` (an edit swaps the served component with a request in flight; a syntax error keeps
//! the old one), `WASMTIME_HTTP_PROXY_SOCKET_ADDR`, and `morph deploy kube` (manifests valid
//! against the Kubernetes schemas offline, a hayride import refused, a file pushed to a real
//! registry and named by digest).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::project::{build, morph_at, new_project};
use common::registry::Registry;
use common::served::Served;
use common::*;

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    // HTTP/1.0: the body comes whole, not chunked.
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// The Rust server template, its `/` answering `BODY` and `/slow` answering it after 2.5 s.
fn server_source(body: &str) -> String {
    let lib = std::fs::read_to_string(workspace_root().join("templates/rust/server/src/lib.rs")).unwrap();
    let lib = lib.replace("{{name}}", "web");
    let routes = r#"(Method::Get, "/") => (200, BODY),
            (Method::Get, "/slow") => {
                std::thread::sleep(std::time::Duration::from_millis(2500));
                (200, BODY)
            }"#;
    let lib = lib.replace(r#"(Method::Get, "/") => (200, "Hello from web!\n"),"#, routes);
    assert!(lib.contains("/slow"), "the template's route moved; update this test");
    format!("{lib}\nconst BODY: &str = \"{body}\\n\";\n")
}

#[test]
fn serve_watch_swaps_an_edit_in_with_a_request_in_flight_and_keeps_serving_through_a_syntax_error() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "web", &["--world", "server"]);
    std::fs::write(dir.join("src/lib.rs"), server_source("v1")).unwrap();
    assert_eq!(build(home.path(), &dir).code, 0);
    let served = Served::start_in_project(&dir, &["--watch"]);
    assert_eq!(get(&served.addr, "/"), (200, "v1\n".into()));

    let addr = served.addr.clone();
    let in_flight = std::thread::spawn(move || get(&addr, "/slow"));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(dir.join("src/lib.rs"), server_source("v2")).unwrap();
    served.wait_for("reloaded, now serving sha256:", Duration::from_secs(240));
    assert_eq!(get(&served.addr, "/"), (200, "v2\n".into()));
    // Started on v1, it finishes on v1.
    assert_eq!(in_flight.join().unwrap(), (200, "v1\n".into()));

    std::fs::write(dir.join("src/lib.rs"), server_source("v3").replace("fn handle(", "fn handle(((")).unwrap();
    let failed = served
        .wait_for_all(&["error", "the build failed; still serving the last good build"], Duration::from_secs(240));
    assert!(!failed[0].is_empty());
    assert_eq!(get(&served.addr, "/"), (200, "v2\n".into()));
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn build_rebuilds_a_stale_output_and_leaves_a_fresh_one() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "hi", &[]);
    let output = dir.join("target/morph/hi.wasm");
    // Never built: --build builds it.
    let r = morph_at(home.path(), &dir, &["run", "--build"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("is not built yet; building"), "{}", r.stderr);
    let built = mtime(&output);

    let r = morph_at(home.path(), &dir, &["run", "--build"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("building"), "a fresh output was rebuilt: {}", r.stderr);
    assert_eq!(mtime(&output), built);

    std::thread::sleep(Duration::from_millis(20));
    let main = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("println!(", "println!(\"(rebuilt) \");\n    println!(")).unwrap();
    let r = morph_at(home.path(), &dir, &["run", "--build"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("src/main.rs changed; building"), "{}", r.stderr);
    assert!(r.stdout.starts_with("(rebuilt)"), "{}", r.stdout);
    assert!(mtime(&output) > built);
}

#[test]
fn serve_listens_where_wasmtime_http_proxy_socket_addr_says() {
    let home = tempfile::tempdir().unwrap();
    let guest = rust_guest("rust-http");
    let port = common::registry::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(morph_bin())
        .args(["serve", path_str(&guest)])
        .env("MORPH_HOME", home.path())
        .env("WASMTIME_HTTP_PROXY_SOCKET_ADDR", &addr)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stderr.take().unwrap()), &mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(line.trim(), format!("listening on http://{addr}"));
}

/// `kubernetes-validate --strict` on `file` (scripts/test installs it from PyPI).
fn kube_valid(file: &Path) {
    let out = std::process::Command::new("kubernetes-validate").args(["--strict", path_str(file)]).output().expect(
        "kubernetes-validate is not installed; `python3 -m pip install kubernetes-validate` (scripts/test does)",
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !text.contains("ERROR"), "{}: {text}", file.display());
}

#[test]
fn deploy_kube_pushes_a_file_and_writes_valid_manifests_naming_its_digest() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = home.path().join("k8s");
    let reg = Registry::start();
    let web = format!("{}/acme/web:1.0.0", reg.addr);
    let guest = rust_guest("rust-http");
    let r = morph_in(
        home.path(),
        &[
            "deploy",
            "kube",
            path_str(&guest),
            "--push",
            &web,
            "--insecure",
            "--replicas",
            "3",
            "--namespace",
            "apps",
            "--pull-secret",
            "regcred",
            "-o",
            path_str(&out_dir),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    for f in ["runtimeclass.yaml", "deployment.yaml", "service.yaml"] {
        kube_valid(&out_dir.join(f));
    }
    // A push of the same bytes is reproducible: its digest is the one pushed by deploy.
    let again = morph_in(home.path(), &["push", path_str(&guest), &web, "--insecure"]);
    let digest = again.line("digest: ").trim().to_string();
    let deployment = std::fs::read_to_string(out_dir.join("deployment.yaml")).unwrap();
    assert!(deployment.contains(&format!("image: \"{}/acme/web@{digest}\"", reg.addr)), "{deployment}");
    assert!(deployment.contains("runtimeClassName: \"wasmtime\""), "{deployment}");
    assert!(deployment.contains("command: [\"web.wasm\"]"), "{deployment}");
    assert!(deployment.contains("replicas: 3") && deployment.contains("namespace: \"apps\""), "{deployment}");
    assert!(deployment.contains("value: \"0.0.0.0:8080\"") && deployment.contains("name: \"regcred\""), "{deployment}");
    let class = std::fs::read_to_string(out_dir.join("runtimeclass.yaml")).unwrap();
    assert!(class.contains("handler: \"wasmtime\""), "{class}");

    // An OCI reference is deployed as it is, by the digest its tag names; a command gets no Service.
    let hello = rust_guest("rust-hello");
    let cmd_ref = format!("{}/acme/hello:1.0.0", reg.addr);
    assert_eq!(morph_in(home.path(), &["push", path_str(&hello), &cmd_ref, "--insecure"]).code, 0);
    let r = morph_in(home.path(), &["deploy", "kube", &cmd_ref, "--insecure"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("kind: \"Deployment\"") && !r.stdout.contains("kind: \"Service\""), "{}", r.stdout);
    assert!(r.stdout.contains("@sha256:") && r.stdout.contains("command: [\"hello.wasm\"]"), "{}", r.stdout);
    let all = home.path().join("all.yaml");
    std::fs::write(&all, &r.stdout).unwrap();
    kube_valid(&all);

    // A file without --push has nowhere to go.
    let r = morph_in(home.path(), &["deploy", "kube", path_str(&guest)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--push REGISTRY/REPOSITORY:TAG"), "{}", r.stderr);
}

#[test]
fn deploy_kube_refuses_a_morph_with_hayride_imports_and_lists_them() {
    let home = tempfile::tempdir().unwrap();
    let probe = hayride_probe("db");
    let r = morph_in(home.path(), &["deploy", "kube", path_str(&probe), "--push", "localhost:1/x/y:1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot run on Kubernetes"), "{}", r.stderr);
    assert!(r.stderr.contains("  hayride:db/db@"), "{}", r.stderr);
    assert!(r.stderr.contains("morph plug"), "{}", r.stderr);
    // Nothing was pushed: the check comes first (the registry named does not exist).
    assert!(!r.stderr.contains("localhost:1"), "{}", r.stderr);
}

#[test]
fn run_watch_runs_the_command_again_after_each_change() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "again", &[]);
    let mut child = std::process::Command::new(morph_bin())
        .args(["run", "--watch", "--", "Ada"])
        .current_dir(&dir)
        .env("MORPH_HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |text: &str| loop {
        let line = rx.recv_timeout(Duration::from_secs(240)).unwrap_or_else(|_| panic!("no line with {text:?}"));
        if line.contains(text) {
            return line;
        }
    };
    wait_for("Hello");
    let main = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("println!(", "println!(\"(second run)\");\n    println!(")).unwrap();
    wait_for("(second run)");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn up_build_and_watch_rebuild_the_project_and_reload_its_entry() {
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "web", &["--world", "server"]);
    std::fs::write(dir.join("src/lib.rs"), server_source("built before")).unwrap();
    assert_eq!(build(home.path(), &dir).code, 0);
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.join("src/lib.rs"), server_source("first")).unwrap();
    // The project is also an app: one http entry, the project's own build.
    let mut toml = std::fs::read_to_string(dir.join("morph.toml")).unwrap();
    toml.push_str(&format!(
        "\n[[entry]]\nname = \"web\"\nkind = \"http\"\nroute = \"/\"\nsource = \"{}\"\n",
        dir.join("target/morph/web.wasm").display()
    ));
    std::fs::write(dir.join("morph.toml"), toml).unwrap();
    // The source is newer than the build: --build rebuilds before the entries load.
    let app = Served::start_app_within(&dir, &["--build", "--watch"], Duration::from_secs(240));
    assert_eq!(get(&app.addr, "/"), (200, "first\n".into()));
    std::fs::write(dir.join("src/lib.rs"), server_source("second")).unwrap();
    app.wait_for("reloaded, now serving sha256:", Duration::from_secs(240));
    assert_eq!(get(&app.addr, "/"), (200, "second\n".into()));
}
