//! Registries as users have them: wkg's config (namespace mappings, plain HTTP, logins),
//! `.well-known` registry metadata, `morph pull ns:name@ver`, image indexes and runwasi's layer
//! type as other tools push them to a real registry (Debian's docker-registry), a registry that
//! refuses the wasm config type, and `morph cache`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use common::registry::{sha256, Registry};
use common::*;

fn hello_bytes() -> Vec<u8> {
    wat::parse_file(example("hello.wat")).unwrap()
}

/// A wkg config directory (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`) holding `text`.
fn wkg_config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("wasm-pkg")).unwrap();
    std::fs::write(dir.path().join("wasm-pkg/config.toml"), text).unwrap();
    dir
}

fn morph_wkg(home: &Path, xdg: &Path, args: &[&str]) -> Run {
    morph_with(home, args, &[("XDG_CONFIG_HOME", path_str(xdg)), ("WKG_CONFIG_FILE", "")], None)
}

#[test]
fn a_wkg_namespace_mapping_serves_pull_by_package_id_and_compose() {
    let reg = Registry::start();
    let pusher = tempfile::tempdir().unwrap();
    let r = morph_in(
        pusher.path(),
        &["push", path_str(&example("hello.wat")), &format!("{}/acme/hello:1.2.0", reg.addr), "--insecure"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let xdg = wkg_config(&format!(
        "[namespace_registries]\nacme = \"{0}\"\n\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n",
        reg.addr
    ));
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("hello.wasm");
    let r = morph_wkg(home.path(), xdg.path(), &["--json", "pull", "acme:hello@1.2.0", "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "wkg's mapping and protocol = \"http\" are used: {r:?}");
    assert_eq!(r.json()["reference"], format!("{}/acme/hello:1.2.0", reg.addr));
    assert_eq!(std::fs::read(&out).unwrap(), hello_bytes());

    // Without a version: the highest semver tag.
    let r = morph_in(
        pusher.path(),
        &["push", path_str(&example("hello.wat")), &format!("{}/acme/hello:1.10.0", reg.addr), "--insecure"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = morph_wkg(home.path(), xdg.path(), &["--json", "pull", "acme:hello", "--register", "acme:hello@1.10.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["reference"], format!("{}/acme/hello:1.10.0", reg.addr));
    let r = morph_wkg(home.path(), xdg.path(), &["run", "acme:hello@1.10.0"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");

    // morph's own config.toml comes first.
    std::fs::write(home.path().join("config.toml"), "[namespaces]\nacme = \"127.0.0.1:1/elsewhere\"\n").unwrap();
    let r = morph_wkg(home.path(), xdg.path(), &["pull", "acme:hello@1.2.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("127.0.0.1:1/elsewhere/hello:1.2.0"), "{r:?}");
    std::fs::remove_file(home.path().join("config.toml")).unwrap();

    // A namespace nobody maps: the error says where to map it.
    let r = morph_wkg(home.path(), xdg.path(), &["pull", "nobody:x@1.0.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("[namespace_registries] nobody"), "{r:?}");

    // A wkg config that does not parse is named, not ignored.
    let bad = wkg_config("namespace_registries = 3\n");
    let r = morph_wkg(home.path(), bad.path(), &["pull", "acme:hello@1.2.0"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("wasm-pkg/config.toml") && r.stderr.contains("not valid"), "{r:?}");
}

#[test]
fn compose_resolves_packages_through_wkg_s_config() {
    let reg = Registry::start();
    let pusher = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // chain.wac instantiates test:a, test:b and test:c; test:a comes from the registry.
    let deps = dir.path().join("deps/test");
    std::fs::create_dir_all(&deps).unwrap();
    for name in ["b", "c"] {
        std::fs::copy(fixture(&format!("compose/{name}.wat")), deps.join(format!("{name}.wat"))).unwrap();
    }
    let r = morph_in(
        pusher.path(),
        &["push", path_str(&fixture("compose/a.wat")), &format!("{}/test/a:0.1.0", reg.addr), "--insecure"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let xdg =
        wkg_config(&format!("default_registry = \"{0}\"\n\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n", reg.addr));
    let home = tempfile::tempdir().unwrap();
    let out = dir.path().join("chain.wasm");
    let r = morph_wkg(
        home.path(),
        xdg.path(),
        &[
            "compose",
            path_str(&fixture_wac("chain.wac", dir.path())),
            "--deps-dir",
            path_str(&dir.path().join("deps")),
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(r.code, 0, "wkg's default registry serves test:a: {r:?}");
    assert!(r.stderr.contains(&format!("{}/test/a:0.1.0 (OCI", reg.addr)), "{r:?}");
    let r = morph_in(home.path(), &["call", path_str(&out), "run"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "111"), "{r:?}");
}

/// A web server that answers `/.well-known/wasm-pkg/registry.json` with `body` and 404 to
/// everything else, as a registry's domain does.
fn metadata_server(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let _ = reader.read_line(&mut line);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let (status, text) = if line.contains(" /.well-known/wasm-pkg/registry.json ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "not found")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    addr
}

#[test]
fn well_known_metadata_names_the_oci_host_and_prefix() {
    let reg = Registry::start();
    let pusher = tempfile::tempdir().unwrap();
    let r = morph_in(
        pusher.path(),
        &["push", path_str(&example("hello.wat")), &format!("{}/mirror/acme/hello:0.3.0", reg.addr), "--insecure"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let domain = metadata_server(format!(r#"{{"oci":{{"registry":"{}","namespacePrefix":"mirror/"}}}}"#, reg.addr));
    let xdg = wkg_config(&format!(
        "[namespace_registries]\nacme = \"{domain}\"\n\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n",
        reg.addr
    ));
    let home = tempfile::tempdir().unwrap();
    let r = morph_wkg(home.path(), xdg.path(), &["--json", "pull", "acme:hello@0.3.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["reference"], format!("{}/mirror/acme/hello:0.3.0", reg.addr));

    // Metadata written in the config is used as it is, without asking the domain.
    let xdg = wkg_config(&format!(
        "[namespace_registries]\nacme = {{ registry = \"unreachable.invalid\", metadata = {{ preferredProtocol = \"oci\", \"oci\" = {{ registry = \"{0}\", namespacePrefix = \"mirror/\" }} }} }}\n\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n",
        reg.addr
    ));
    let fresh = tempfile::tempdir().unwrap();
    let r = morph_wkg(fresh.path(), xdg.path(), &["--json", "pull", "acme:hello@0.3.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["reference"], format!("{}/mirror/acme/hello:0.3.0", reg.addr));
}

#[test]
fn a_wkg_login_reaches_its_registry_only() {
    let reg = Registry::start_with(Some(("ann", "s3cret")));
    let pusher = tempfile::tempdir().unwrap();
    let reference = format!("{}/acme/hello:1.0.0", reg.addr);
    let r = morph_with(
        pusher.path(),
        &["push", path_str(&example("hello.wat")), &reference, "--insecure", "-u", "ann", "--password-stdin"],
        &[],
        Some("s3cret\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let home = tempfile::tempdir().unwrap();
    let without = wkg_config(&format!(
        "[namespace_registries]\nacme = \"{0}\"\n[registry.\"{0}\".oci]\nprotocol = \"http\"\n",
        reg.addr
    ));
    let r = morph_wkg(home.path(), without.path(), &["pull", "acme:hello@1.0.0"]);
    assert_eq!(r.code, 2, "a private registry refuses an anonymous pull: {r:?}");
    let with = wkg_config(&format!(
        "[namespace_registries]\nacme = \"{0}\"\n[registry.\"{0}\".oci]\nprotocol = \"http\"\nauth = {{ username = \"ann\", password = \"s3cret\" }}\n",
        reg.addr
    ));
    let r = morph_wkg(home.path(), with.path(), &["pull", "acme:hello@1.0.0"]);
    assert_eq!(r.code, 0, "wkg's login for the registry is used: {r:?}");
    // The same login, base64 as wkg also writes it, for a plain OCI reference.
    let b64 =
        wkg_config(&format!("[registry.\"{0}\".oci]\nprotocol = \"http\"\nauth = \"YW5uOnMzY3JldA==\"\n", reg.addr));
    let fresh = tempfile::tempdir().unwrap();
    let r = morph_wkg(fresh.path(), b64.path(), &["pull", &reference]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Pushes what other tools push, straight over the registry API.
struct RawPush<'a> {
    addr: &'a str,
    repository: &'a str,
}

impl RawPush<'_> {
    fn request(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut response = Vec::new();
        s.read_to_end(&mut response).unwrap();
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&response[..split]).into_owned();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, head, response[split + 4..].to_vec())
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let (status, head, _) =
            self.request("POST", &format!("/v2/{}/blobs/uploads/", self.repository), "application/octet-stream", b"");
        assert_eq!(status, 202, "{head}");
        let location = head
            .lines()
            .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
            .unwrap()
            .trim()
            .to_string();
        let path = location.split_once("://").map_or(location.as_str(), |(_, rest)| &rest[rest.find('/').unwrap()..]);
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, head, _) =
            self.request("PUT", &format!("{path}{sep}digest={digest}"), "application/octet-stream", bytes);
        assert_eq!(status, 201, "{head}");
        digest
    }

    fn manifest(&self, tag: &str, media_type: &str, body: &str) -> String {
        let (status, head, rest) =
            self.request("PUT", &format!("/v2/{}/manifests/{tag}", self.repository), media_type, body.as_bytes());
        assert_eq!(status, 201, "{head}\n{}", String::from_utf8_lossy(&rest));
        sha256(body.as_bytes())
    }

    /// An image manifest of one layer; returns its digest and size.
    fn image(&self, tag: &str, config_type: &str, layer_type: &str, layer: &[u8]) -> (String, usize) {
        let config = br#"{"architecture":"wasm","os":"wasip2"}"#;
        let config_digest = self.blob(config);
        let layer_digest = self.blob(layer);
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"{config_type}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{layer_type}","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        (self.manifest(tag, "application/vnd.oci.image.manifest.v1+json", &body), body.len())
    }
}

#[test]
fn an_image_index_and_runwasi_s_layer_type_from_a_real_registry() {
    let reg = Registry::start();
    let push = RawPush { addr: &reg.addr, repository: "acme/multi" };
    let wasm = hello_bytes();
    // runwasi's layout: its own layer type, pushed as its own manifest.
    let (wasm_manifest, wasm_size) = push.image(
        "wasm-only",
        "application/vnd.wasm.config.v0+json",
        "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
        &wasm,
    );
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("runwasi.wasm");
    let r = morph_in(
        home.path(),
        &["pull", &format!("{}/acme/multi:wasm-only", reg.addr), "--insecure", "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), wasm);

    // An index whose first entry is a Linux image and whose wasm entry is the manifest above.
    let (linux_manifest, linux_size) = push.image(
        "linux",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        b"not wasm",
    );
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{linux_manifest}","size":{linux_size},"platform":{{"architecture":"amd64","os":"linux"}}}},{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{wasm_manifest}","size":{wasm_size},"platform":{{"architecture":"wasm","os":"wasip2"}}}}]}}"#
    );
    let index_digest = push.manifest("1.0.0", "application/vnd.oci.image.index.v1+json", &index);
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("from-index.wasm");
    let r = morph_in(
        fresh.path(),
        &["--json", "pull", &format!("{}/acme/multi:1.0.0", reg.addr), "--insecure", "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), wasm);
    assert_eq!(r.json()["manifest_digest"], index_digest.as_str(), "the tag's digest is the index's");
    let r = morph_in(fresh.path(), &["run", &format!("{}/acme/multi:1.0.0", reg.addr)]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");

    // An index with no wasm entry says which platforms it has.
    let linux_only = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{linux_manifest}","size":{linux_size},"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
    );
    push.manifest("linux-only", "application/vnd.oci.image.index.v1+json", &linux_only);
    let r = morph_in(fresh.path(), &["pull", &format!("{}/acme/multi:linux-only", reg.addr), "--insecure"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("linux/amd64") && r.stderr.contains("wasm/wasip2"), "{r:?}");
}

/// A registry that takes blobs but refuses any manifest whose config is the wasm type, as some
/// older registries do.
fn refusing_registry() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let me = addr.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, extra, text) = if line.starts_with("HEAD") {
                ("404 Not Found", String::new(), String::new())
            } else if line.starts_with("POST") || line.starts_with("PATCH") {
                ("202 Accepted", format!("Location: http://{me}/v2/upload/1\r\n"), String::new())
            } else if line.starts_with("PUT") && path.contains("/manifests/") {
                (
                    "400 Bad Request",
                    String::new(),
                    r#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unknown media type application/vnd.wasm.config.v0+json"}]}"#.to_string(),
                )
            } else if line.starts_with("PUT") {
                ("201 Created", format!("Location: http://{me}/v2/acme/hello/blobs/x\r\n"), String::new())
            } else if path == "/v2/" {
                ("200 OK", String::new(), "{}".to_string())
            } else {
                ("404 Not Found", String::new(), r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{text}",
                text.len()
            );
        }
    });
    addr
}

#[test]
fn a_registry_refusing_the_wasm_config_type_is_named_with_what_to_do() {
    let addr = refusing_registry();
    let home = tempfile::tempdir().unwrap();
    let r = morph_in(
        home.path(),
        &["push", path_str(&example("hello.wat")), &format!("{addr}/acme/hello:1.0.0"), "--insecure"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("application/vnd.wasm.config.v0+json"), "{r:?}");
    assert!(r.stderr.contains("OCI artifacts"), "says what the registry lacks: {r:?}");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(files_under(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Sets a file's last use `days` ago.
fn age_by(path: &Path, days: u64) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86400);
    std::fs::File::options().append(true).open(path).unwrap().set_modified(then).unwrap();
}

#[test]
fn the_cache_can_be_listed_pruned_and_cleaned() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let reference = format!("{}/acme/hello:1.0.0", reg.addr);
    assert_eq!(morph_in(h, &["push", path_str(&example("hello.wat")), &reference, "--insecure"]).code, 0);
    // A pulled morph, run (compiled); a registered one, run (compiled); a validated file.
    assert_eq!(morph_in(h, &["pull", &reference, "--insecure"]).code, 0);
    assert_eq!(morph_in(h, &["run", &reference]).code, 0);
    let other = fixture_wasm(&example("hello.wat"), h);
    assert_eq!(morph_in(h, &["run", path_str(&other), "--max-memory", "64MiB"]).code, 0);
    assert_eq!(morph_in(h, &["validate", path_str(&other)]).code, 0);

    let r = morph_in(h, &["--json", "cache", "list"]);
    assert_eq!(r.code, 0, "{r:?}");
    let kinds: Vec<String> =
        r.json()["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    for k in ["compiled", "oci-blob", "oci-record", "validated"] {
        assert!(kinds.iter().any(|x| x == k), "{k} listed: {kinds:?}");
    }
    let human = morph_in(h, &["cache", "list"]);
    assert!(human.stdout.contains("compiled code") && human.stdout.contains("OCI layers"), "{human:?}");

    // Nothing is old: prune keeps everything.
    let before = files_under(&h.join("cache"));
    let r = morph_in(h, &["--json", "cache", "prune"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["removed"].as_array().unwrap().len(), 0, "{r:?}");
    assert_eq!(files_under(&h.join("cache")), before);

    // Forty days later: everything unused goes, with the layer its reference named.
    for f in &before {
        age_by(f, 40);
    }
    let r = morph_in(h, &["--json", "cache", "prune", "--dry-run"]);
    assert!(!r.json()["removed"].as_array().unwrap().is_empty(), "{r:?}");
    assert_eq!(files_under(&h.join("cache")), before, "--dry-run removes nothing");
    let r = morph_in(h, &["--json", "cache", "prune"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.json()["freed"].as_u64().unwrap() > 0, "{r:?}");
    assert!(files_under(&h.join("cache/oci")).is_empty(), "no reference kept, no layer kept");
    assert!(files_under(&h.join("cache/compiled")).is_empty());

    // The compiled code of a registered morph is kept at any age.
    assert_eq!(morph_in(h, &["register", path_str(&other), "--package", "acme:kept@1.0.0"]).code, 0);
    assert_eq!(morph_in(h, &["run", "acme:kept@1.0.0"]).code, 0);
    for f in files_under(&h.join("cache")) {
        age_by(&f, 400);
    }
    let r = morph_in(h, &["cache", "prune", "--older-than", "7d"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!files_under(&h.join("cache/compiled")).is_empty(), "a registered morph's code stays");
    // A warm run after a prune still works (and is a cache hit).
    let r = morph_in(h, &["run", "acme:kept@1.0.0"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "hello from morph\n"), "{r:?}");

    // clean: the cache is empty, the registry untouched.
    let r = morph_in(h, &["cache", "clean"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("removed"), "{r:?}");
    assert!(files_under(&h.join("cache")).is_empty());
    assert_eq!(morph_in(h, &["run", "acme:kept@1.0.0"]).code, 0, "the registry is kept");

    let r = morph_in(h, &["cache", "prune", "--older-than", "soon"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("soon"), "{r:?}");
}
