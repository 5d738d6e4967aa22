//! Guests built by the real toolchains (Rust `wasm32-wasip2`, componentize-py) must validate as
//! compatible with hayride-cli. CI installs both toolchains; a missing one fails with the
//! command that installs it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn guests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests")
}

fn require(ok: bool, tool: &str, install: &str) {
    assert!(ok, "{tool} is not installed; install it with `{install}` (CI does)");
}

/// Builds tests/guests/rust-hello for wasm32-wasip2 and returns the component.
pub fn rust_hello() -> PathBuf {
    let target_dir = workspace_root().join("target/guests");
    let out = Command::new("cargo")
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir)
        .current_dir(guests_dir().join("rust-hello"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("running cargo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    require(!stderr.contains("target may not be installed"), "the wasm32-wasip2 target", "rustup target add wasm32-wasip2");
    assert!(out.status.success(), "building the Rust guest failed:\n{stderr}");
    target_dir.join("wasm32-wasip2/release/rust-hello.wasm")
}

#[test]
fn rust_wasip2_hello_is_compatible_with_hayride_cli() {
    let wasm = rust_hello();
    let r = morph(&["--json", "validate", path_str(&wasm)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["kind"], "command");
    assert_eq!(v["world_short"], "hayride-cli");
    assert_eq!(v["runtime_compatible"], true, "{r:?}");
    // What Rust imports beyond hayride-cli is reported by name, as notes.
    for f in v["conformance"].as_array().unwrap() {
        assert_eq!(f["severity"], "note", "{f}");
        assert_eq!(f["kind"], "extra-import", "{f}");
        assert!(f["name"].as_str().unwrap().starts_with("wasi:"), "{f}");
    }
}

#[test]
fn componentize_py_hello_is_compatible_with_hayride_cli() {
    let found = Command::new("componentize-py").arg("--version").output().is_ok_and(|o| o.status.success());
    require(found, "componentize-py", "pip install componentize-py");
    let dir = tempfile::tempdir().unwrap();
    let wit = dir.path().join("wit");
    let contract = contract::Contract::bundled();
    contract::materialize::write_wit_dir(contract.world("hayride-cli").unwrap(), &wit).unwrap();
    let wasm = dir.path().join("hello-py.wasm");
    let out = Command::new("componentize-py")
        .arg("-d")
        .arg(&wit)
        .args(["-w", "hayride:runtime/hayride-cli@0.0.1", "componentize", "app", "-o"])
        .arg(&wasm)
        .current_dir(guests_dir().join("python-hello"))
        .output()
        .unwrap();
    assert!(out.status.success(), "componentize-py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let r = morph(&["--json", "validate", path_str(&wasm)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["world_short"], "hayride-cli");
    assert_eq!(v["runtime_compatible"], true, "{r:?}");
    let strict = morph(&["validate", "--strict", path_str(&wasm)]);
    assert_eq!(strict.code, 1, "componentize-py imports sockets and terminals beyond hayride-cli: {strict:?}");
}
