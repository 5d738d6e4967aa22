//! `morph inspect` end to end.

mod common;

use common::*;

#[test]
fn inspect_reports_kind_imports_exports_size_digest_and_world() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = fixture_wasm(&example("hello.wat"), dir.path());
    let bytes = std::fs::read(&wasm).unwrap();
    let r = morph(&["--json", "inspect", path_str(&wasm)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["kind"], "command");
    assert_eq!(v["size"], bytes.len() as u64);
    let digest = v["digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");
    // The same digest `sha256sum` would print.
    let sum = std::process::Command::new("sha256sum").arg(&wasm).output().unwrap();
    let hex = String::from_utf8(sum.stdout).unwrap();
    assert_eq!(&digest[7..], hex.split_whitespace().next().unwrap());
    assert_eq!(
        v["imports"],
        serde_json::json!(["wasi:io/error@0.2.0", "wasi:io/streams@0.2.0", "wasi:cli/stdout@0.2.0"])
    );
    assert_eq!(v["exports"], serde_json::json!(["wasi:cli/run@0.2.0"]));
    assert_eq!(v["world"], "hayride-cli");
    assert_eq!(v["world_valid"], true);

    let human = morph(&["inspect", path_str(&wasm)]);
    assert!(human.stdout.contains("command") && human.stdout.contains(digest), "{human:?}");
}

#[test]
fn inspect_kinds_of_every_fixture() {
    for (file, kind) in [
        ("http-server.wat", "http"),
        ("websocket.wat", "websocket"),
        ("extension.wat", "extension"),
        ("reactor-db.wat", "reactor"),
        ("reactor-plain.wat", "reactor"),
    ] {
        let r = morph(&["--json", "inspect", path_str(&fixture(file))]);
        assert_eq!(r.code, 0, "{file}: {r:?}");
        assert_eq!(r.json()["kind"], kind, "{file}");
    }
}

#[test]
fn inspect_wit_prints_the_world() {
    let r = morph(&["inspect", "--wit", path_str(&fixture("http-server.wat"))]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("export wasi:http/incoming-handler@0.2.0;"), "{r:?}");
    assert!(r.stdout.contains("export hayride:http/config@0.0.65;"), "{r:?}");
    assert!(r.stdout.contains("world "), "{r:?}");
}

#[test]
fn inspect_reads_producers() {
    // A component with a producers section, as toolchains write them.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = wat::parse_file(fixture("reactor-plain.wat")).unwrap();
    let mut section = Vec::new();
    let field = |out: &mut Vec<u8>, s: &str| {
        out.push(s.len() as u8);
        out.extend_from_slice(s.as_bytes());
    };
    section.push(1); // one field
    field(&mut section, "processed-by");
    section.push(1); // one value
    field(&mut section, "morph-test");
    field(&mut section, "9.9.9");
    let mut custom = Vec::new();
    field(&mut custom, "producers");
    custom.extend_from_slice(&section);
    bytes.push(0); // custom section id
    bytes.push(custom.len() as u8);
    bytes.extend_from_slice(&custom);
    let path = dir.path().join("with-producers.wasm");
    std::fs::write(&path, bytes).unwrap();
    let r = morph(&["--json", "inspect", path_str(&path)]);
    assert_eq!(r.code, 0, "{r:?}");
    let processed = r.json()["producers"]["processed-by"].clone();
    assert!(processed.as_array().unwrap().contains(&serde_json::json!("morph-test 9.9.9")), "{processed}");
}
