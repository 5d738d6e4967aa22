//! Guests built by the real toolchains (Rust `wasm32-wasip2`, componentize-py) must validate as
//! compatible with hayride-cli. CI installs both toolchains; a missing one fails with the
//! command that installs it.

mod common;

use common::*;

#[test]
fn rust_wasip2_hello_is_compatible_with_hayride_cli() {
    let wasm = rust_guest("rust-hello");
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
    let wasm = python_hello();
    let r = morph(&["--json", "validate", path_str(&wasm)]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["world_short"], "hayride-cli");
    assert_eq!(v["runtime_compatible"], true, "{r:?}");
    let strict = morph(&["validate", "--strict", path_str(&wasm)]);
    assert_eq!(strict.code, 1, "componentize-py imports sockets and terminals beyond hayride-cli: {strict:?}");
}
