//! Morphs of every Hayride contract version morph bundles: probes built against 0.0.60
//! (tests/guests/rust-hayride-060) validate against their own version and run under the same
//! grants as 0.0.65 ones; a component mixing versions is reported.

mod common;

use std::path::Path;

use common::*;

fn probe(bin: &str) -> String {
    path_str(&hayride_probe_060(bin)).to_string()
}

/// `morph run PROBE [flags] -- ARGS` in `home`.
fn run(home: &Path, bin: &str, flags: &[&str], args: &[&str]) -> Run {
    run_probe(home, &hayride_probe_060(bin), flags, args)
}

#[test]
fn a_0_0_60_morph_validates_against_its_own_contract() {
    for bin in ["version", "threads", "wac"] {
        let r = morph(&["validate", &probe(bin)]);
        assert_eq!(r.code, 0, "{bin}: {r:?}");
        assert!(r.stdout.contains("contract: contract 0.0.60, from its hayride:* names"), "{bin}: {r:?}");
        let r = morph(&["--json", "validate", &probe(bin)]);
        assert_eq!(r.json()["contract"], "0.0.60", "{bin}: {r:?}");
        assert_eq!(r.json()["valid"], true, "{bin}: {r:?}");
    }
    // A world of that version by name, and the contract forced.
    let r = morph(&["--json", "validate", &probe("version"), "--world", "hayride-core@0.0.60"]);
    assert_eq!((r.code, r.json()["contract"].as_str()), (0, Some("0.0.60")), "{r:?}");
    let r = morph(&["--json", "validate", &probe("version"), "--contract", "0.0.65"]);
    assert_eq!(r.json()["contract"], "0.0.65", "{r:?}");
    let r = morph(&["validate", &probe("version"), "--contract", "0.0.99"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no contract 0.0.99 is bundled") && r.stderr.contains("0.0.60, 0.0.65"), "{r:?}");
    let r = morph(&["validate", &probe("version"), "--world", "hayride-db@0.0.60"]);
    assert_eq!(r.code, 2, "0.0.60 has no hayride-db world: {r:?}");
}

#[test]
fn a_0_0_65_morph_validates_against_its_own_contract() {
    for bin in ["version", "threads", "wac"] {
        let p = hayride_probe(bin);
        let r = morph(&["validate", path_str(&p)]);
        assert_eq!(r.code, 0, "{bin}: {r:?}");
        assert!(r.stdout.contains("contract: contract 0.0.65, from its hayride:* names"), "{bin}: {r:?}");
    }
}

#[test]
fn a_0_0_60_version_probe_runs_without_a_grant() {
    let home = tempfile::tempdir().unwrap();
    let r = run(home.path(), "version", &[], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("latest: {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_0_0_60_morph_spawns_threads_under_the_silo_grant() {
    let home = tempfile::tempdir().unwrap();
    let hello = rust_guest("rust-probe");
    let r = morph_in(home.path(), &["register", path_str(&hello), "--package", "test:probe@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(home.path(), "threads", &[], &["test:probe", "run", "argv", "x"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("hayride:silo/threads@0.0.60") && r.stderr.contains("--allow silo"), "{r:?}");
    let r = run(home.path(), "threads", &["--allow", "silo"], &["test:probe", "run", "argv", "x"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("spawned: true"), "{r:?}");
    assert!(r.stdout.contains("wait: Ok(\"probe argv x\\n\")"), "the thread's stdout: {r:?}");
    assert!(r.stdout.contains("status: Ok(ThreadStatus::Exited)"), "{r:?}");
}

#[test]
fn a_0_0_60_morph_composes_under_the_wac_grant() {
    let home = tempfile::tempdir().unwrap();
    let wac = register_chain(home.path());
    let r = run(home.path(), "wac", &[], &["compose", &wac]);
    assert!(r.code == 2 && r.stderr.contains("hayride:wac/wac@0.0.60"), "{r:?}");
    let r = run(home.path(), "wac", &["--allow", "wac"], &["compose", &wac]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("composed ") && r.stdout.contains("starting [0, 97, 115, 109]"), "{r:?}");
    let r = run(home.path(), "wac", &["--allow", "wac"], &["plug", "test:b", "test:absent"]);
    assert!(r.stdout.starts_with("error: ErrorCode::FileNotFound:") && r.stdout.contains("test:absent"), "{r:?}");
}

#[test]
fn a_component_mixing_contract_versions_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.wat");
    std::fs::write(
        &mixed,
        r#"(component
            (import "hayride:core/types@0.0.60" (instance))
            (import "hayride:silo/types@0.0.65" (instance))
        )"#,
    )
    .unwrap();
    let r = morph(&["validate", path_str(&mixed)]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("mixed contracts"), "{r:?}");
    assert!(
        r.stdout
            .contains("2 contract versions: 0.0.60 (hayride:core/types@0.0.60); 0.0.65 (hayride:silo/types@0.0.65)"),
        "names each version and its interfaces: {r:?}"
    );
}
