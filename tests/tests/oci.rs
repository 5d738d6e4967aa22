//! `morph push`/`pull`/`login`/`logout` and the local registry against a real registry
//! (Debian's docker-registry) and a fake one for failures.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::registry::{sha256, BlobMode, FakeRegistry, Registry};
use common::*;

fn hello_bytes() -> Vec<u8> {
    wat::parse_file(example("hello.wat")).unwrap()
}

fn insecure_config(home: &Path, addr: &str) {
    std::fs::write(home.join("config.toml"), format!("[registries.\"{addr}\"]\ninsecure = true\n")).unwrap();
}

#[test]
fn push_pull_round_trip_by_tag_and_digest() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let reference = format!("{}/morphs/hello:0.1.0", reg.addr);
    let r = morph_in(h, &["--json", "push", path_str(&example("hello.wat")), &reference, "--insecure"]);
    assert_eq!(r.code, 0, "{r:?}");
    let pushed = r.json();
    assert_eq!(pushed["layer_digest"], sha256(&hello_bytes()));
    assert_eq!(pushed["uploaded"].as_array().unwrap().len(), 2, "layer and config uploaded: {r:?}");

    // Re-push: the component is there already and is not uploaded again.
    let again = morph_in(h, &["--json", "push", path_str(&example("hello.wat")), &reference, "--insecure"]);
    assert_eq!(again.code, 0, "{again:?}");
    let layer = serde_json::json!(sha256(&hello_bytes()));
    assert!(again.json()["skipped"].as_array().unwrap().contains(&layer), "{again:?}");
    assert!(!again.json()["uploaded"].as_array().unwrap().contains(&layer), "{again:?}");
    // The tag now names the second push's manifest.
    let manifest_digest = again.json()["manifest_digest"].as_str().unwrap().to_string();

    // Pull into a fresh home: identical bytes and digest.
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("pulled.wasm");
    let p = morph_in(fresh.path(), &["--json", "pull", &reference, "--insecure", "-o", path_str(&out)]);
    assert_eq!(p.code, 0, "{p:?}");
    assert_eq!(p.json()["manifest_digest"], manifest_digest.as_str(), "the digest push printed is the registry's");
    assert_eq!(p.json()["downloaded"], true);
    assert_eq!(std::fs::read(&out).unwrap(), hello_bytes());

    // By digest.
    let by_digest = format!("{}/morphs/hello@{manifest_digest}", reg.addr);
    let out2 = fresh.path().join("by-digest.wasm");
    let p = morph_in(fresh.path(), &["--json", "pull", &by_digest, "--insecure", "-o", path_str(&out2)]);
    assert_eq!(p.code, 0, "{p:?}");
    assert_eq!(p.json()["downloaded"], false, "the layer is cached: no blob download");
    assert_eq!(std::fs::read(&out2).unwrap(), hello_bytes());

    // The manifest is the CNCF wasm layout with the component's imports and exports.
    let manifest = http_get(&reg.addr, "/v2/morphs/hello/manifests/0.1.0");
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], "application/vnd.wasm.config.v0+json");
    assert_eq!(m["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(m["annotations"]["org.opencontainers.image.version"], "0.1.0");
    let config = http_get(&reg.addr, &format!("/v2/morphs/hello/blobs/{}", m["config"]["digest"].as_str().unwrap()));
    let c: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!((c["architecture"].as_str(), c["os"].as_str()), (Some("wasm"), Some("wasip2")));
    assert_eq!(c["component"]["exports"], serde_json::json!(["wasi:cli/run@0.2.0"]));
    assert!(c["component"]["imports"].as_array().unwrap().contains(&serde_json::json!("wasi:cli/stdout@0.2.0")));
    assert_eq!(c["layerDigests"][0], sha256(&hello_bytes()));
}

#[test]
fn the_same_component_pushed_again_gets_the_same_digest() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let hello = example("hello.wat");
    // Pushed to two tags, a second apart, with SOURCE_DATE_EPOCH set (to one value) and unset.
    let push = |tag: &str, epoch: &str| {
        let reference = format!("{}/morphs/hello:{tag}", reg.addr);
        let r = morph_with(
            home.path(),
            &["--json", "push", path_str(&hello), &reference, "--insecure"],
            &[("SOURCE_DATE_EPOCH", epoch)],
            None,
        );
        assert_eq!(r.code, 0, "{r:?}");
        r.json()["manifest_digest"].as_str().unwrap().to_string()
    };
    let first = push("first", "");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(push("second", ""), first, "no clock in the manifest");
    let dated = push("dated", "1796108400");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(push("dated-again", "1796108400"), dated);
    assert_ne!(dated, first, "SOURCE_DATE_EPOCH is the creation time");

    let manifest = |tag: &str| -> serde_json::Value {
        serde_json::from_str(&http_get(&reg.addr, &format!("/v2/morphs/hello/manifests/{tag}"))).unwrap()
    };
    let config = |m: &serde_json::Value| -> serde_json::Value {
        let digest = m["config"]["digest"].as_str().unwrap();
        serde_json::from_str(&http_get(&reg.addr, &format!("/v2/morphs/hello/blobs/{digest}"))).unwrap()
    };
    let m = manifest("dated");
    assert_eq!(m["annotations"]["org.opencontainers.image.created"], "2026-12-01T07:00:00Z");
    assert_eq!(m["layers"][0]["annotations"]["org.opencontainers.image.title"], "hello.wasm");
    let c = config(&m);
    assert_eq!(c["created"], "2026-12-01T07:00:00Z");
    assert_eq!(c["component"]["target"], "hayride:runtime/hayride-cli@0.0.1", "the world it is valid against");
    let m = manifest("first");
    assert!(m["annotations"].get("org.opencontainers.image.created").is_none(), "{m}");
    assert_eq!(config(&m)["created"], "1970-01-01T00:00:00Z", "a fixed time where the layout needs one");

    // A SOURCE_DATE_EPOCH that is not seconds is refused before anything is pushed.
    let reference = format!("{}/morphs/hello:bad", reg.addr);
    let r = morph_with(
        home.path(),
        &["push", path_str(&hello), &reference, "--insecure"],
        &[("SOURCE_DATE_EPOCH", "yesterday")],
        None,
    );
    assert!(r.code == 2 && r.stderr.contains("SOURCE_DATE_EPOCH=yesterday"), "{r:?}");
}

#[test]
fn package_metadata_travels_from_morph_toml_to_the_manifest() {
    use common::project::{build, morph_at, new_project};
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let (_parent, dir) = new_project(home.path(), "greeter", &["--world", "reactor"]);
    let manifest = dir.join("morph.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let fields = "description = \"Greets whoever asks\"\nlicense = \"Apache-2.0 OR MIT\"\n\
                  authors = [\"Ada <ada@example.com>\", \"Grace\"]\nhomepage = \"https://example.com/greeter\"\n\
                  repository = \"https://github.com/example/greeter\"\n";
    std::fs::write(&manifest, text.replacen("[package]\n", &format!("[package]\n{fields}"), 1)).unwrap();
    build(home.path(), &dir);
    let wasm = dir.join("target/morph/greeter.wasm");

    let r = morph_in(home.path(), &["--json", "inspect", path_str(&wasm)]);
    assert_eq!(r.code, 0, "{r:?}");
    let m = &r.json()["metadata"];
    assert_eq!(m["description"], "Greets whoever asks");
    assert_eq!(m["licenses"], "Apache-2.0 OR MIT");
    assert_eq!(m["authors"], "Ada <ada@example.com>, Grace");
    assert_eq!(m["homepage"], "https://example.com/greeter");
    assert_eq!(m["source"], "https://github.com/example/greeter");
    assert_eq!(m["version"], "0.1.0");
    let r = morph_in(home.path(), &["inspect", path_str(&wasm)]);
    assert!(r.stdout.contains("licenses  Apache-2.0 OR MIT"), "{r:?}");

    let reference = format!("{}/acme/greeter:latest", reg.addr);
    let r = morph_in(
        home.path(),
        &[
            "push",
            path_str(&wasm),
            &reference,
            "--insecure",
            "--annotation",
            "org.opencontainers.image.url=https://elsewhere.example",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let pushed: serde_json::Value =
        serde_json::from_str(&http_get(&reg.addr, "/v2/acme/greeter/manifests/latest")).unwrap();
    let a = &pushed["annotations"];
    assert_eq!(a["org.opencontainers.image.description"], "Greets whoever asks");
    assert_eq!(a["org.opencontainers.image.licenses"], "Apache-2.0 OR MIT");
    assert_eq!(a["org.opencontainers.image.authors"], "Ada <ada@example.com>, Grace");
    assert_eq!(a["org.opencontainers.image.source"], "https://github.com/example/greeter");
    assert_eq!(a["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(a["org.opencontainers.image.url"], "https://elsewhere.example", "the command line wins");

    // A license that is not SPDX stops the build at morph.toml, naming the field.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("Apache-2.0 OR MIT", "do what you like")).unwrap();
    let r = morph_at(home.path(), &dir, &["build"]);
    assert!(r.code == 2 && r.stderr.contains("license") && r.stderr.contains("do what you like"), "{r:?}");
}

/// PUTs an image manifest over plain HTTP/1.1, as a registry client would.
fn http_put_manifest(addr: &str, path: &str, manifest: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{manifest}",
        manifest.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
}

/// A GET over plain HTTP/1.1, for looking at what the registry stored.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    if text.contains("Transfer-Encoding: chunked") {
        // Registry responses for small JSON are not chunked in practice; keep the test honest.
        panic!("unexpected chunked response");
    }
    body
}

#[test]
fn pull_registers_and_run_pulls_once_then_runs_offline() {
    let mut reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let reference = format!("{}/morphs/hello:1.0.0", reg.addr);
    assert_eq!(morph_in(h, &["push", path_str(&example("hello.wat")), &reference, "--insecure"]).code, 0);

    let r = morph_in(h, &["pull", &reference, "--insecure", "--register", "acme:hello@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let listed = morph_in(h, &["--json", "list"]);
    assert_eq!(listed.json()[0]["id"], "acme:hello@1.0.0", "{listed:?}");
    assert_eq!(listed.json()[0]["kind"], "command");
    assert_eq!(morph_in(h, &["run", "acme:hello"]).stdout, "hello from morph\n");

    // `morph run <ref>` in a new home: pulled on demand (insecure from config.toml)…
    let other = tempfile::tempdir().unwrap();
    insecure_config(other.path(), &reg.addr);
    let r = morph_in(other.path(), &["run", &reference]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    // …and offline the second time.
    reg.stop();
    let r = morph_in(other.path(), &["run", &reference]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hello from morph\n"),
        "runs from the cache with the registry gone: {r:?}"
    );
}

#[test]
fn local_registry_commands() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let hello = example("hello.wat");
    let r = morph_in(h, &["register", path_str(&hello), "--package", "acme:hello@0.1.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(h.join("registry/morphs/acme/0.1.0/hello.wasm").is_file(), "Hayride's layout");
    let r = morph_in(h, &["register", path_str(&hello), "--package", "acme:hello@0.1.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--force"), "{r:?}");
    assert_eq!(morph_in(h, &["register", path_str(&hello), "--package", "acme:hello@0.1.0", "--force"]).code, 0);
    let r = morph_in(h, &["register", path_str(&fixture("types.wat")), "--package", "acme:types@0.2.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let listed = morph_in(h, &["--json", "list"]).json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["id"].as_str(), rows[0]["kind"].as_str()), (Some("acme:hello@0.1.0"), Some("command")));
    assert_eq!((rows[1]["id"].as_str(), rows[1]["kind"].as_str()), (Some("acme:types@0.2.0"), Some("reactor")));
    assert_eq!(rows[0]["digest"], sha256(&hello_bytes()));
    assert_eq!(rows[0]["size"], hello_bytes().len() as u64);

    // Not a component: refused, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("core.wasm");
    std::fs::write(&bad, wat::parse_str("(module)").unwrap()).unwrap();
    let r = morph_in(h, &["register", path_str(&bad), "--package", "acme:bad@1.0.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!h.join("registry/morphs/acme/1.0.0").exists());
    for bad_id in ["acme:hello", "Acme:x@1.0.0", "nocolon@1.0.0"] {
        let r = morph_in(h, &["register", path_str(&hello), "--package", bad_id]);
        assert_eq!(r.code, 2, "{bad_id}: {r:?}");
    }

    assert_eq!(morph_in(h, &["remove", "acme:types@0.2.0"]).code, 0);
    let r = morph_in(h, &["remove", "acme:types@0.2.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(morph_in(h, &["--json", "list"]).json().as_array().unwrap().len(), 1);
}

#[test]
fn authentication_sources_and_failures() {
    let reg = Registry::start_with(Some(("ann", "s3cret")));
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let reference = format!("{}/private/hello:1.0.0", reg.addr);
    let hello = path_str(&example("hello.wat")).to_string();

    let r = morph_in(h, &["push", &hello, &reference, "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("requires authentication") && r.stderr.contains("morph login"), "{r:?}");

    // morph login: a wrong password is refused at login (nothing stored), a right one is
    // checked and works, logout forgets it.
    let login = ["login", &reg.addr, "-u", "ann", "--password-stdin", "--insecure"];
    let r = morph_with(h, &login, &[], Some("wrong\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("refused") && r.stderr.contains(&reg.addr), "names the registry: {r:?}");
    assert!(!std::fs::read_to_string(h.join("config.toml")).unwrap_or_default().contains("auth"), "nothing stored");
    let r = morph_in(h, &["push", &hello, &reference, "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    // Only the first line of stdin is the password.
    let r = morph_with(h, &login, &[], Some("s3cret\nsecond line\n"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("(checked)"), "{r:?}");
    assert!(!r.stdout.contains("s3cret") && !r.stderr.contains("s3cret"), "never printed");
    let config = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(!config.contains("s3cret"), "not in clear text");
    let r = morph_in(h, &["push", &hello, &reference, "--insecure"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(morph_in(h, &["pull", &reference, "--insecure"]).code, 0);
    assert_eq!(morph_in(h, &["logout", &reg.addr]).code, 0);
    assert_eq!(morph_in(h, &["pull", &reference, "--insecure"]).code, 2);

    // Environment variables, for the registry MORPH_REGISTRY names only.
    let env =
        [("MORPH_REGISTRY", reg.addr.as_str()), ("MORPH_REGISTRY_USER", "ann"), ("MORPH_REGISTRY_PASSWORD", "s3cret")];
    let r = morph_with(h, &["pull", &reference, "--insecure"], &env, None);
    assert_eq!(r.code, 0, "{r:?}");
    let unscoped = [("MORPH_REGISTRY_USER", "ann"), ("MORPH_REGISTRY_PASSWORD", "s3cret")];
    let r = morph_with(h, &["pull", &reference, "--insecure"], &unscoped, None);
    assert_eq!(r.code, 2, "credentials that name no registry are sent to none: {r:?}");
    assert!(r.stderr.contains("set MORPH_REGISTRY"), "says how to scope them: {r:?}");

    // podman's auth.json (REGISTRY_AUTH_FILE), in the same format as docker's.
    let podman = tempfile::tempdir().unwrap();
    let auth_file = podman.path().join("auth.json");
    std::fs::write(&auth_file, format!(r#"{{"auths":{{"{}":{{"auth":"YW5uOnMzY3JldA=="}}}}}}"#, reg.addr)).unwrap();
    let r = morph_with(h, &["pull", &reference, "--insecure"], &[("REGISTRY_AUTH_FILE", path_str(&auth_file))], None);
    assert_eq!(r.code, 0, "{r:?}");

    // Docker's config.json.
    let docker = tempfile::tempdir().unwrap();
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"YW5uOnMzY3JldA=="}}}}}}"#, reg.addr),
    )
    .unwrap();
    let r = morph_with(h, &["pull", &reference, "--insecure"], &[("DOCKER_CONFIG", path_str(docker.path()))], None);
    assert_eq!(r.code, 0, "{r:?}");

    // A docker credential helper named in credHelpers, found on PATH.
    let helper_dir = tempfile::tempdir().unwrap();
    let helper = helper_dir.path().join("docker-credential-morphtest");
    std::fs::write(&helper, "#!/bin/sh\nread registry\nprintf '{\"Username\":\"ann\",\"Secret\":\"s3cret\"}'\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(docker.path().join("config.json"), format!(r#"{{"credHelpers":{{"{}":"morphtest"}}}}"#, reg.addr))
        .unwrap();
    let path = format!("{}:{}", path_str(helper_dir.path()), std::env::var("PATH").unwrap());
    let r = morph_with(
        h,
        &["pull", &reference, "--insecure"],
        &[("DOCKER_CONFIG", path_str(docker.path())), ("PATH", &path)],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");

    // -u with --password-stdin on the command itself.
    let r = morph_with(
        h,
        &["push", &hello, &reference, "--insecure", "-u", "ann", "--password-stdin"],
        &[],
        Some("s3cret"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_in(h, &["login", &reg.addr, "-u", "ann"]);
    assert_eq!(r.code, 2, "login needs --password-stdin: {r:?}");
}

#[test]
fn missing_tags_and_wrong_protocols_are_explained() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(home.path(), &["pull", &format!("{}/nothing/here:1.0", reg.addr), "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not found") && r.stderr.contains("nothing/here"), "{r:?}");
    let r = morph_in(home.path(), &["pull", &format!("{}/nothing/here:1.0", reg.addr)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--insecure"), "a plain-HTTP registry without --insecure says so: {r:?}");
    let r = morph_in(home.path(), &["pull", "not a reference"]);
    assert_eq!(r.code, 2, "{r:?}");
}

fn no_files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                found.extend(no_files_under(&p));
            } else {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
fn a_dropped_connection_or_a_wrong_blob_writes_nothing() {
    let blob = hello_bytes();
    for (mode, says) in [(BlobMode::DropHalfway, "pull"), (BlobMode::WrongBytes, "digest")] {
        let fake = FakeRegistry::start(blob.clone(), "application/wasm", mode);
        let home = tempfile::tempdir().unwrap();
        let out = home.path().join("out.wasm");
        let r = morph_in(
            home.path(),
            &[
                "pull",
                &format!("{}/x/hello:1", fake.addr),
                "--insecure",
                "-o",
                path_str(&out),
                "--register",
                "acme:hello@1.0.0",
            ],
        );
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(says) && r.stderr.contains(&fake.addr), "{r:?}");
        assert!(!r.stderr.contains("panicked"), "{r:?}");
        assert!(!out.exists(), "no output file");
        assert_eq!(no_files_under(&home.path().join("registry")), Vec::<String>::new());
        assert_eq!(no_files_under(&home.path().join("cache/oci/blobs")), Vec::<String>::new(), "no blob kept");
    }
}

#[test]
fn a_5xx_answer_is_retried() {
    let blob = hello_bytes();
    let fake = FakeRegistry::start(blob.clone(), "application/wasm", BlobMode::FailOnce);
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("retried.wasm");
    let r = morph_in(home.path(), &["pull", &format!("{}/x/hello:1", fake.addr), "--insecure", "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("retrying"), "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), blob);
}

#[test]
fn credentials_never_reach_a_registry_they_were_not_given_for() {
    let fake = FakeRegistry::start(hello_bytes(), "application/wasm", BlobMode::PrivateBasic);
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}/x/private:1", fake.addr);
    let pull = ["pull", reference.as_str(), "--insecure"];
    let secret = [("MORPH_REGISTRY_USER", "ci"), ("MORPH_REGISTRY_PASSWORD", "for-my-own-registry")];
    // A CI job's credentials for its own registry, while it pulls from another.
    let mut env = vec![("MORPH_REGISTRY", "push.example.com:5000")];
    env.extend_from_slice(&secret);
    let r = morph_with(home.path(), &pull, &env, None);
    assert_eq!(r.code, 2, "the private registry refuses an anonymous pull: {r:?}");
    // Docker and podman logins for another registry, Hub's among them.
    let files = tempfile::tempdir().unwrap();
    let other = r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOmh1Yi1zZWNyZXQ="},"ghcr.io":{"auth":"Z2g6Z2gtc2VjcmV0"}}}"#;
    std::fs::write(files.path().join("config.json"), other).unwrap();
    std::fs::write(files.path().join("auth.json"), other).unwrap();
    let auth_file = files.path().join("auth.json");
    let r = morph_with(
        home.path(),
        &pull,
        &[("DOCKER_CONFIG", path_str(files.path())), ("REGISTRY_AUTH_FILE", path_str(&auth_file))],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        fake.authorizations.lock().unwrap().is_empty(),
        "no Authorization header reached the registry: {:?}",
        fake.authorizations.lock().unwrap()
    );
    // The same credentials, named for this registry, are sent to it.
    let mut env = vec![("MORPH_REGISTRY", fake.addr.as_str())];
    env.extend_from_slice(&secret);
    let r = morph_with(home.path(), &pull, &env, None);
    assert_eq!(r.code, 0, "{r:?}");
    let expected = "Basic Y2k6Zm9yLW15LW93bi1yZWdpc3RyeQ=="; // ci:for-my-own-registry
    assert!(
        fake.authorizations.lock().unwrap().iter().all(|a| a == expected),
        "{:?}",
        fake.authorizations.lock().unwrap()
    );
}

#[test]
fn docker_hub_logins_are_found_under_docker_s_own_key() {
    // The unit tests check the key; here a Hub login in docker's config must not be sent to a
    // local registry, and one under this registry's key must.
    let fake = FakeRegistry::start(hello_bytes(), "application/wasm", BlobMode::PrivateBasic);
    let home = tempfile::tempdir().unwrap();
    let docker = tempfile::tempdir().unwrap();
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"aHViOmh1Yi1zZWNyZXQ="}},"http://{}/v1/":{{"auth":"YW5uOnMzY3JldA=="}}}}}}"#, fake.addr),
    )
    .unwrap();
    let reference = format!("{}/x/private:1", fake.addr);
    let r = morph_with(
        home.path(),
        &["pull", &reference, "--insecure"],
        &[("DOCKER_CONFIG", path_str(docker.path()))],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(fake.authorizations.lock().unwrap().iter().all(|a| a == "Basic YW5uOnMzY3JldA=="), "only its own login");
}

#[test]
fn docker_identity_tokens_are_traded_for_an_access_token() {
    // Docker stores an OAuth refresh token (`identitytoken`) for registries whose login gave
    // one; it goes only to the registry's token service, and the registry sees the access token.
    let fake = FakeRegistry::start(hello_bytes(), "application/wasm", BlobMode::IdentityToken);
    let docker = tempfile::tempdir().unwrap();
    let config = format!(r#"{{"auths":{{"{}":{{"identitytoken":"ID-TOKEN"}}}}}}"#, fake.addr);
    std::fs::write(docker.path().join("config.json"), &config).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("hello.wasm");
    let r = morph_with(
        home.path(),
        &["pull", &format!("{}/x/private:1", fake.addr), "--insecure", "-o", path_str(&out)],
        &[("DOCKER_CONFIG", path_str(docker.path()))],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), hello_bytes());
    let seen = fake.authorizations.lock().unwrap().clone();
    assert!(seen.contains(&"Bearer ACCESS-TOKEN".to_string()), "{seen:?}");
    assert!(seen.iter().all(|a| !a.contains("ID-TOKEN")), "the refresh token is never a header: {seen:?}");

    // A token the service does not take: the error says what to do, nothing is kept.
    std::fs::write(docker.path().join("config.json"), config.replace("ID-TOKEN", "EXPIRED")).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let r = morph_with(
        fresh.path(),
        &["pull", &format!("{}/x/private:1", fake.addr), "--insecure"],
        &[("DOCKER_CONFIG", path_str(docker.path()))],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("identity token") && r.stderr.contains("log in again"), "{r:?}");
}

#[test]
fn older_layer_type_is_accepted_and_non_wasm_refused() {
    let blob = hello_bytes();
    let fake = FakeRegistry::start(blob.clone(), "application/vnd.wasm.content.layer.v1+wasm", BlobMode::Whole);
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("old.wasm");
    let r = morph_in(
        home.path(),
        &["--json", "pull", &format!("{}/x/old:1", fake.addr), "--insecure", "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["manifest_digest"], fake.manifest_digest.as_str());
    assert_eq!(std::fs::read(&out).unwrap(), blob);

    // runwasi's component layer type, as containerd's wasm shims pull it.
    let runwasi = FakeRegistry::start(
        blob.clone(),
        "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
        BlobMode::Whole,
    );
    let out = home.path().join("runwasi.wasm");
    let r =
        morph_in(home.path(), &["pull", &format!("{}/x/runwasi:1", runwasi.addr), "--insecure", "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), blob);

    let image = FakeRegistry::start(blob, "application/vnd.oci.image.layer.v1.tar+gzip", BlobMode::Whole);
    let r = morph_in(home.path(), &["pull", &format!("{}/x/image:1", image.addr), "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no wasm layer") && r.stderr.contains("tar+gzip"), "{r:?}");
}

#[test]
fn concurrent_pulls_of_the_same_morph() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let reference = format!("{}/morphs/types:1.0.0", reg.addr);
    assert_eq!(morph_in(&h, &["push", path_str(&fixture("types.wat")), &reference, "--insecure"]).code, 0);
    let expected = wat::parse_file(fixture("types.wat")).unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let out = h.join(format!("out-{i}.wasm"));
            let child = Command::new(morph_bin())
                .args(["pull", &reference, "--insecure", "-o", path_str(&out)])
                .env("MORPH_HOME", &h)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    for (child, out) in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(std::fs::read(out).unwrap(), expected);
    }
    let blobs = no_files_under(&h.join("cache/oci/blobs"));
    assert_eq!(blobs.len(), 1, "one whole blob, no temp files: {blobs:?}");
}

#[test]
fn login_refuses_what_it_cannot_store_and_checks_what_it_can() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = morph_with(h, &["login", "bad host/x", "-u", "us:er", "--password-stdin"], &[], Some("a\nb"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("`bad host/x` is not a registry name") && r.stderr.contains("HOST:PORT"), "{r:?}");
    let r = morph_with(h, &["login", "localhost:5000", "-u", "us:er", "--password-stdin"], &[], Some("a\nb"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("`us:er`") && r.stderr.contains("':'"), "{r:?}");
    // Nothing listens here: not "logged in", unless told not to check.
    let closed = format!("127.0.0.1:{}", common::registry::free_port());
    let r = morph_with(h, &["login", &closed, "-u", "ann", "--password-stdin", "--insecure"], &[], Some("pw\n"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot reach") && r.stderr.contains("--no-verify"), "{r:?}");
    assert!(!h.join("config.toml").exists(), "nothing stored: {r:?}");
    let r = morph_with(h, &["login", &closed, "-u", "ann", "--password-stdin", "--no-verify"], &[], Some("pw\n"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("unchecked"), "{r:?}");
}

#[test]
fn a_registry_that_sends_more_than_it_declared_is_cut_off() {
    // An endless layer: stopped at the declared size, on every path that pulls.
    let fake = FakeRegistry::start(hello_bytes(), "application/wasm", BlobMode::Endless);
    let reference = format!("{}/x/endless:1", fake.addr);
    let layer = sha256(&hello_bytes());
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    insecure_config(h, &fake.addr);
    let started = std::time::Instant::now();
    for args in [vec!["pull", reference.as_str(), "--register", "acme:endless@1.0.0"], vec!["run", reference.as_str()]]
    {
        let r = morph_in(h, &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(&fake.addr) && r.stderr.contains(&layer), "names registry and digest: {r:?}");
        assert!(r.stderr.contains("more than the"), "{r:?}");
        assert_eq!(no_files_under(&h.join("cache/oci/blobs")), Vec::<String>::new(), "nothing kept: {args:?}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "stopped at once, not after gigabytes");
    assert_eq!(no_files_under(&h.join("registry")), Vec::<String>::new());

    // A manifest that never ends: refused past the manifest limit.
    let fake = FakeRegistry::start(hello_bytes(), "application/wasm", BlobMode::HugeManifest);
    let r = morph_in(h, &["pull", &format!("{}/x/huge:1", fake.addr), "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("manifest") && r.stderr.contains("larger than") && r.stderr.contains(&fake.addr),
        "{r:?}"
    );
}

#[test]
fn only_components_are_kept_from_a_pull() {
    let truncated = hello_bytes()[..40].to_vec();
    let core = wat::parse_str("(module)").unwrap();
    let random: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    for (what, layer) in [
        ("random bytes", random),
        ("an empty file", Vec::new()),
        ("a truncated component", truncated),
        ("a core module", core),
    ] {
        let fake = FakeRegistry::start(layer.clone(), "application/wasm", BlobMode::Whole);
        let reference = format!("{}/x/junk:1", fake.addr);
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let out = h.join("out.wasm");
        let r = morph_in(h, &["pull", &reference, "--insecure", "--register", "acme:junk@1.0.0"]);
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(r.stderr.contains("nothing was kept"), "{what}: {r:?}");
        let r = morph_in(h, &["pull", &reference, "--insecure", "-o", path_str(&out)]);
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(!out.exists(), "{what}: -o wrote nothing");
        assert_eq!(no_files_under(&h.join("registry")), Vec::<String>::new(), "{what}");
        assert_eq!(no_files_under(&h.join("cache/oci/blobs")), Vec::<String>::new(), "{what}: no blob kept");
        // --raw keeps the bytes as they are, for -o only.
        let r = morph_in(h, &["pull", &reference, "--insecure", "-o", path_str(&out), "--raw"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(std::fs::read(&out).unwrap(), layer, "{what}");
        let r = morph_in(h, &["pull", &reference, "--insecure", "--register", "acme:junk@1.0.0", "--raw"]);
        assert_eq!(r.code, 2, "--raw does not register: {r:?}");
    }
}

#[test]
fn references_that_differ_never_share_a_cached_morph() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    insecure_config(h, &reg.addr);
    let underscore = format!("{}/t_coll:1", reg.addr);
    let slash = format!("{}/t/coll:1", reg.addr);
    let r = morph_in(h, &["push", path_str(&example("hello.wat")), &underscore]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_in(h, &["push", path_str(&fixture("exit-code.wat")), &slash]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_in(h, &["run", &underscore]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    // Run from the cache after the first pull: each reference its own morph.
    for _ in 0..2 {
        let r = morph_in(h, &["run", &slash]);
        assert_eq!(r.code, 42, "the exit-code morph, not the hello one: {r:?}");
        let r = morph_in(h, &["run", &underscore]);
        assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    }
}

#[test]
fn signals_during_a_pull_leave_nothing_half_written() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        interrupt_a_slow_pull(signal, code);
    }
}

#[test]
fn ctrl_c_during_a_pull_leaves_nothing_half_written() {
    interrupt_a_slow_pull("-INT", 130);
}

fn interrupt_a_slow_pull(signal: &str, code: i32) {
    // 4 MiB served in 64 KiB chunks 100 ms apart: several seconds to interrupt.
    let mut blob = hello_bytes();
    let mut custom = vec![0u8, 0x83, 0x80, 0x80, 0x02, 7];
    custom.extend_from_slice(b"padding");
    custom.resize(6 + (4 << 20), 0);
    // A custom section length as a 4-byte LEB128: 7 + 4 MiB - 7 bytes of payload.
    let payload_len = custom.len() - 5;
    custom[1] = (payload_len as u8 & 0x7f) | 0x80;
    custom[2] = ((payload_len >> 7) as u8 & 0x7f) | 0x80;
    custom[3] = ((payload_len >> 14) as u8 & 0x7f) | 0x80;
    custom[4] = (payload_len >> 21) as u8 & 0x7f;
    blob.extend_from_slice(&custom);
    let fake = FakeRegistry::start(blob, "application/wasm", BlobMode::Slow);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let child = Command::new(morph_bin())
        .args(["pull", &format!("{}/x/big:1", fake.addr), "--insecure", "--register", "acme:big@1.0.0"])
        .env("MORPH_HOME", h)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let partial = no_files_under(&h.join("cache/oci/blobs"));
    assert_eq!(partial.len(), 1, "a download is under way: {partial:?}");
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{signal}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(no_files_under(&h.join("cache/oci/blobs")), Vec::<String>::new(), "the partial download is gone");
    assert_eq!(no_files_under(&h.join("registry")), Vec::<String>::new(), "nothing registered");
}

#[test]
fn signed_morphs_verify_and_anything_else_is_refused_writing_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    insecure_config(h, &reg.addr);
    let keys = tempfile::tempdir().unwrap();
    let ci = keys.path().join("ci");
    let other = keys.path().join("other");
    let pass = [("COSIGN_PASSWORD", "s3cret")];

    // Key pairs: one encrypted with the passphrase, one plain; none without either.
    let r = morph_with(h, &["key", "generate", "-o", path_str(&ci)], &pass, None);
    assert_eq!(r.code, 0, "{r:?}");
    let private = std::fs::read_to_string(keys.path().join("ci.key")).unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"), "{private}");
    let mode = std::fs::metadata(keys.path().join("ci.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(keys.path().join("ci.pub")).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let r = morph_in(h, &["key", "generate", "-o", path_str(&keys.path().join("nopass"))]);
    assert!(r.code == 2 && r.stderr.contains("COSIGN_PASSWORD") && r.stderr.contains("--no-password"), "{r:?}");
    assert_eq!(morph_in(h, &["key", "generate", "--no-password", "-o", path_str(&other)]).code, 0);
    let r = morph_with(h, &["key", "generate", "-o", path_str(&ci)], &pass, None);
    assert!(r.code == 2 && r.stderr.contains("--force"), "an existing key is not replaced: {r:?}");

    let hello = example("hello.wat");
    let signed = format!("{}/acme/hello:1.0.0", reg.addr);
    // A wrong passphrase pushes nothing.
    let r = morph_with(
        h,
        &["push", path_str(&hello), &signed, "--sign", path_str(&keys.path().join("ci.key"))],
        &[("COSIGN_PASSWORD", "wrong")],
        None,
    );
    assert!(r.code == 2 && r.stderr.contains("passphrase"), "{r:?}");
    assert!(http_get(&reg.addr, "/v2/acme/hello/manifests/1.0.0").contains("MANIFEST_UNKNOWN"));
    let r = morph_with(
        h,
        &["--json", "push", path_str(&hello), &signed, "--sign", path_str(&keys.path().join("ci.key"))],
        &pass,
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let digest = r.json()["manifest_digest"].as_str().unwrap().to_string();
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    assert_eq!(r.json()["signature"], format!("{}/acme/hello:{sig_tag}", reg.addr));
    // Where cosign keeps it: a simple-signing payload naming the digest, its signature annotated.
    let m: serde_json::Value =
        serde_json::from_str(&http_get(&reg.addr, &format!("/v2/acme/hello/manifests/{sig_tag}"))).unwrap();
    let layer = &m["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    assert!(layer["annotations"]["dev.cosignproject.cosign/signature"].as_str().is_some_and(|s| !s.is_empty()));
    let payload = http_get(&reg.addr, &format!("/v2/acme/hello/blobs/{}", layer["digest"].as_str().unwrap()));
    assert!(payload.contains(&digest) && payload.contains("cosign container image signature"), "{payload}");

    // The right key verifies; another key, an unsigned tag and a tag moved to other bytes are
    // refused, with nothing written or cached.
    let public = path_str(&keys.path().join("ci.pub")).to_string();
    let wrong = path_str(&keys.path().join("other.pub")).to_string();
    let fresh = tempfile::tempdir().unwrap();
    insecure_config(fresh.path(), &reg.addr);
    let out = fresh.path().join("hello.wasm");
    let r = morph_in(fresh.path(), &["pull", &signed, "--verify", &public, "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), hello_bytes());
    let unsigned = format!("{}/acme/hello:unsigned", reg.addr);
    assert_eq!(morph_in(h, &["push", path_str(&hello), &unsigned]).code, 0);
    let retagged = format!("{}/acme/hello:moved", reg.addr);
    assert_eq!(morph_in(h, &["push", path_str(&fixture("exit-code.wat")), &retagged]).code, 0);
    // A signature copied from another manifest: valid, but for the wrong digest.
    let r =
        morph_in(h, &["--json", "push", path_str(&fixture("types.wat")), &format!("{}/acme/hello:copied", reg.addr)]);
    let copied = format!("{}/acme/hello:copied", reg.addr);
    let copied_tag = format!("{}.sig", r.json()["manifest_digest"].as_str().unwrap().replace(':', "-"));
    let sig_manifest = http_get(&reg.addr, &format!("/v2/acme/hello/manifests/{sig_tag}"));
    http_put_manifest(&reg.addr, &format!("/v2/acme/hello/manifests/{copied_tag}"), &sig_manifest);
    for (reference, key, says) in [
        (&signed, &wrong, "another key"),
        (&unsigned, &public, "not signed"),
        (&retagged, &public, "not signed"),
        (&copied, &public, "another manifest"),
    ] {
        let clean = tempfile::tempdir().unwrap();
        insecure_config(clean.path(), &reg.addr);
        let out = clean.path().join("out.wasm");
        let r = morph_in(clean.path(), &["pull", reference, "--verify", key, "-o", path_str(&out)]);
        assert!(r.code == 2 && r.stderr.contains("refused") && r.stderr.contains(says), "{reference}: {r:?}");
        assert!(!out.exists());
        assert!(no_files_under(&clean.path().join("cache")).is_empty(), "nothing cached");
        // run --verify checks too, before anything runs.
        let r = morph_in(clean.path(), &["run", "--verify", key, reference]);
        assert!(r.code == 2 && r.stderr.contains("refused") && r.stdout.is_empty(), "{reference}: {r:?}");
    }
    let r = morph_in(fresh.path(), &["run", "--verify", &public, &signed]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");
    // A local file has no registry signature: --verify on it is refused, never ignored.
    let r = morph_in(fresh.path(), &["run", "--verify", &public, path_str(&hello)]);
    assert!(r.code == 2 && r.stderr.contains("local file") && r.stdout.is_empty(), "{r:?}");

    // config.toml's `verify` makes it the default for the registry, also for a cached morph.
    let cfg = fresh.path().join("config.toml");
    std::fs::copy(keys.path().join("ci.pub"), fresh.path().join("ci.pub")).unwrap();
    std::fs::write(&cfg, format!("[registries.\"{}\"]\ninsecure = true\nverify = \"ci.pub\"\n", reg.addr)).unwrap();
    assert_eq!(morph_in(fresh.path(), &["run", &signed]).code, 0);
    let r = morph_in(fresh.path(), &["run", &unsigned]);
    assert!(r.code == 2 && r.stderr.contains("not signed"), "{r:?}");
}

#[test]
fn cosign_verifies_what_morph_signs_and_morph_what_cosign_signs() {
    use common::project::toolchain_present;
    if !toolchain_present("cosign", "cosign interop") {
        return;
    }
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    insecure_config(h, &reg.addr);
    let keys = tempfile::tempdir().unwrap();
    let pass = [("COSIGN_PASSWORD", "s3cret")];
    let cosign = |args: &[&str]| {
        let out = Command::new("cosign")
            .args(args)
            .current_dir(keys.path())
            .env("COSIGN_PASSWORD", "s3cret")
            .env("HOME", keys.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let http = ["--allow-http-registry", "--allow-insecure-registry"];

    // morph's key and signature, cosign's verify.
    let r = morph_with(h, &["key", "generate", "-o", path_str(&keys.path().join("morph"))], &pass, None);
    assert_eq!(r.code, 0, "{r:?}");
    let reference = format!("{}/acme/hello:1.0.0", reg.addr);
    let r = morph_with(
        h,
        &[
            "--json",
            "push",
            path_str(&example("hello.wat")),
            &reference,
            "--sign",
            path_str(&keys.path().join("morph.key")),
        ],
        &pass,
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    let pinned = format!("{}/acme/hello@{}", reg.addr, r.json()["manifest_digest"].as_str().unwrap());
    let mut verify = vec!["verify", "--key", "morph.pub", "--insecure-ignore-tlog=true"];
    verify.extend(http);
    verify.push(&pinned);
    let (ok, said) = cosign(&verify);
    assert!(ok, "cosign verifies morph's signature: {said}");

    // cosign signs with morph's encrypted key and with its own; morph verifies both.
    let other = format!("{}/acme/types:1.0.0", reg.addr);
    let r = morph_in(h, &["--json", "push", path_str(&fixture("types.wat")), &other]);
    let other_pinned = format!("{}/acme/types@{}", reg.addr, r.json()["manifest_digest"].as_str().unwrap());
    let (ok, said) = cosign(&["generate-key-pair", "--output-key-prefix", "theirs"]);
    assert!(ok, "{said}");
    for key in ["morph.key", "theirs.key"] {
        let mut sign = vec!["sign", "--key", key, "--tlog-upload=false", "--yes"];
        sign.extend(http);
        sign.push(&other_pinned);
        let (ok, said) = cosign(&sign);
        assert!(ok, "cosign signs with {key}: {said}");
    }
    for public in ["morph.pub", "theirs.pub"] {
        let key = keys.path().join(public);
        let r = morph_in(h, &["pull", &other, "--verify", path_str(&key), "-o", path_str(&keys.path().join("t.wasm"))]);
        assert_eq!(r.code, 0, "morph verifies cosign's signature with {public}: {r:?}");
    }
    // And morph signs with cosign's key.
    let r = morph_with(
        h,
        &[
            "push",
            path_str(&fixture("exit-code.wat")),
            &format!("{}/acme/exit:1.0.0", reg.addr),
            "--sign",
            path_str(&keys.path().join("theirs.key")),
        ],
        &pass,
        None,
    );
    assert_eq!(r.code, 0, "morph opens cosign's encrypted key: {r:?}");
}
