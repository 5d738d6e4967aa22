//! `morph compose` and `morph plug`: every composed result is called and its answer checked.

mod common;

use std::path::{Path, PathBuf};

use common::registry::Registry;
use common::*;

/// A deps directory holding the compose fixtures as `deps/test/<name>.wat`.
fn deps_dir(root: &Path) -> PathBuf {
    let deps = root.join("deps");
    std::fs::create_dir_all(deps.join("test")).unwrap();
    for name in ["a", "b", "c", "counter", "consumer", "sum", "store", "maker", "user"] {
        std::fs::copy(fixture(&format!("compose/{name}.wat")), deps.join(format!("test/{name}.wat"))).unwrap();
    }
    deps
}

/// `a.wat` with a different value, to tell which `a` a composition used.
fn a_with_value(dir: &Path, value: u32) -> PathBuf {
    let text = std::fs::read_to_string(fixture("compose/a.wat")).unwrap();
    let path = dir.join(format!("a{value}.wat"));
    std::fs::write(&path, text.replace("i32.const 1)", &format!("i32.const {value})"))).unwrap();
    path
}

fn call(home: &Path, component: &Path, function: &str) -> String {
    let r = morph_in(home, &["call", path_str(component), function]);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout.trim().to_string()
}

fn compose(home: &Path, wac: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["compose", path_str(wac)];
    args.extend_from_slice(extra);
    morph_in(home, &args)
}

#[test]
fn a_three_level_chain_composes_and_runs() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let out = dir.path().join("chain.wasm");
    let r = compose(
        home.path(),
        &fixture_wac("chain.wac", dir.path()),
        &["--deps-dir", path_str(&deps), "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("test:b <- ") && r.stderr.contains("deps directory"),
        "says where packages came from: {r:?}"
    );
    assert_eq!(call(home.path(), &out, "run"), "111");
}

#[test]
fn one_provider_instance_is_shared_by_two_consumers() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let out = dir.path().join("shared.wasm");
    let r = compose(
        home.path(),
        &fixture_wac("shared.wac", dir.path()),
        &["--deps-dir", path_str(&deps), "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // first reads 1 and second reads 2 from the one counter: 1 * 10 + 2.
    assert_eq!(call(home.path(), &out, "total"), "12");
}

#[test]
fn a_resource_shared_across_components_composes_in_one_step() {
    // store defines a resource; maker returns handles of it; user takes handles from maker and
    // calls their method. The three agree on the resource only when maker and user get the same
    // store instance, which one compose gives.
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let out = dir.path().join("resource.wasm");
    let r = compose(
        home.path(),
        &fixture_wac("resource.wac", dir.path()),
        &["--deps-dir", path_str(&deps), "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "42");

    // The same three plugged one at a time: maker gets a store of its own, so its handles are
    // not the resource user's store defines.
    let m1 = dir.path().join("maker-with-store.wasm");
    let store = deps.join("test/store.wat");
    let r = morph_in(
        home.path(),
        &["plug", path_str(&deps.join("test/maker.wat")), "--plug", path_str(&store), "-o", path_str(&m1)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let chained = dir.path().join("chained.wasm");
    let r = morph_in(
        home.path(),
        &[
            "plug",
            path_str(&deps.join("test/user.wat")),
            "--plug",
            path_str(&store),
            "--plug",
            path_str(&m1),
            "-o",
            path_str(&chained),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("use `morph compose`"), "{r:?}");
    assert!(!chained.exists());
}

#[test]
fn forwarded_imports_become_the_composition_s_and_plug_fills_them() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let fwd = dir.path().join("fwd.wasm");
    let r = compose(
        home.path(),
        &fixture_wac("forward.wac", dir.path()),
        &["--deps-dir", path_str(&deps), "-o", path_str(&fwd)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let inspect = morph_in(home.path(), &["--json", "inspect", path_str(&fwd)]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    assert_eq!(inspect.json()["imports"], serde_json::json!(["test:chain/b"]), "{inspect:?}");

    // Plugging b, then a, into it gives back the whole chain.
    let step = dir.path().join("step.wasm");
    let r = morph_in(
        home.path(),
        &["plug", path_str(&fwd), "--plug", path_str(&deps.join("test/b.wat")), "-o", path_str(&step)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("b.wat satisfies test:chain/b"), "{r:?}");
    let whole = dir.path().join("whole.wasm");
    let r = morph_in(
        home.path(),
        &["plug", path_str(&step), "--plug", path_str(&deps.join("test/a.wat")), "-o", path_str(&whole)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &whole, "run"), "111");
}

#[test]
fn hayride_spellings_of_compose_plug_and_register_work() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let fwd = dir.path().join("fwd.wasm");
    // `morph wac compose --path F --out O`, as `hayride wac compose`.
    let r = morph_in(
        home.path(),
        &[
            "wac",
            "compose",
            "--path",
            path_str(&fixture_wac("forward.wac", dir.path())),
            "--deps-dir",
            path_str(&deps),
            "--out",
            path_str(&fwd),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // `morph wac plug --socket S --plugs P…`.
    let step = dir.path().join("step.wasm");
    let r = morph_in(
        home.path(),
        &[
            "wac",
            "plug",
            "--socket",
            path_str(&fwd),
            "--plugs",
            path_str(&deps.join("test/b.wat")),
            "--out",
            path_str(&step),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // `morph register --bin F --package ID`, then a plug by registry id.
    let r =
        morph_in(home.path(), &["register", "--bin", path_str(&deps.join("test/a.wat")), "--package", "test:a@1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let whole = dir.path().join("whole.wasm");
    let r = morph_in(
        home.path(),
        &["wac", "plug", "--socket", path_str(&step), "--plugs", "test:a", "--out", path_str(&whole)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &whole, "run"), "111");
    let r = morph_in(home.path(), &["wac", "plug", "--socket", path_str(&step)]);
    assert_eq!(r.code, 2, "a plug is required: {r:?}");
}

#[test]
fn a_wit_package_in_the_deps_directory_types_an_import() {
    // `import a: test:chain/a;` takes its type from deps/test/chain/, a WIT package directory.
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    std::fs::create_dir_all(deps.join("test/chain")).unwrap();
    std::fs::write(deps.join("test/chain/a.wit"), "package test:chain;\n\ninterface a {\n  value: func() -> u32;\n}\n")
        .unwrap();
    let wac = dir.path().join("import.wac");
    std::fs::write(
        &wac,
        "package test:x;\n\nimport a: test:chain/a;\nlet b = new test:b { \"test:chain/a\": a };\nexport b[\"test:chain/b\"];\n",
    )
    .unwrap();
    let out = dir.path().join("import.wasm");
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("(WIT package)"), "{r:?}");
    let whole = dir.path().join("whole.wasm");
    let r = morph_in(
        home.path(),
        &["plug", path_str(&out), "--plug", path_str(&deps.join("test/a.wat")), "-o", path_str(&whole)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &whole, "b#value"), "11");
}

#[test]
fn plug_takes_registry_ids_and_refuses_a_plug_that_fits_nothing() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    for (id, file) in [("test:b@1.0.0", "b"), ("test:a@1.0.0", "a"), ("test:counter@1.0.0", "counter")] {
        let r = morph_in(home.path(), &["register", path_str(&deps.join(format!("test/{file}.wat"))), "-p", id]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let out = dir.path().join("b-with-a.wasm");
    let r = morph_in(home.path(), &["--json", "plug", "test:b", "--plug", "test:a@1.0.0", "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["plugs"][0]["satisfied"], serde_json::json!(["test:chain/a"]));
    let inspect = morph_in(home.path(), &["--json", "inspect", path_str(&out)]);
    assert_eq!(inspect.json()["imports"], serde_json::json!([]), "{inspect:?}");

    let nothing = dir.path().join("nothing.wasm");
    let r = morph_in(
        home.path(),
        &["plug", "test:b", "--plug", "test:a", "--plug", "test:counter", "-o", path_str(&nothing)],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("plug test:counter satisfies none of the socket's imports"), "{r:?}");
    assert!(r.stderr.contains("plug exports: test:shared/counter"), "{r:?}");
    assert!(!nothing.exists(), "nothing written");
}

#[test]
fn dep_overrides_come_first_then_deps_then_the_registry_highest_version() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let out = dir.path().join("chain.wasm");
    let wac = fixture_wac("chain.wac", dir.path());

    // --dep beats the deps directory.
    let a5 = a_with_value(dir.path(), 5);
    let r = compose(
        home.path(),
        &wac,
        &["--deps-dir", path_str(&deps), "--dep", &format!("test:a={}", a5.display()), "-o", path_str(&out)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("(--dep)"), "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "115");

    // Without a in the deps directory, the local registry's highest version serves.
    std::fs::remove_file(deps.join("test/a.wat")).unwrap();
    for (version, value) in [("0.1.0", 2), ("0.10.0", 4), ("0.9.0", 3)] {
        let file = a_with_value(dir.path(), value);
        let r = morph_in(home.path(), &["register", path_str(&file), "-p", &format!("test:a@{version}")]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("test:a@0.10.0 from the local registry"), "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "114");

    // A version in the document picks that version.
    let pinned = dir.path().join("pinned.wac");
    std::fs::write(&pinned, std::fs::read_to_string(&wac).unwrap().replace("new test:a {}", "new test:a@0.9.0 {}"))
        .unwrap();
    let r = compose(home.path(), &pinned, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "113");
}

#[test]
fn packages_come_from_the_oci_registry_mapped_to_their_namespace() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    std::fs::remove_file(deps.join("test/a.wat")).unwrap();
    let a7 = a_with_value(dir.path(), 7);
    let pusher = tempfile::tempdir().unwrap();
    let r = morph_in(pusher.path(), &["push", path_str(&a7), &format!("{}/acme/a:latest", reg.addr), "--insecure"]);
    assert_eq!(r.code, 0, "{r:?}");
    std::fs::write(
        home.path().join("config.toml"),
        format!("[registries.\"{0}\"]\ninsecure = true\n\n[namespaces]\ntest = \"{0}/acme\"\n", reg.addr),
    )
    .unwrap();
    let out = dir.path().join("chain.wasm");
    let wac = fixture_wac("chain.wac", dir.path());
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains(&format!("{}/acme/a:latest (OCI", reg.addr)), "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "117");

    // Offline, the pulled morph still serves from the cache; one never pulled is not fetched.
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out), "--offline"]);
    assert_eq!(r.code, 0, "{r:?}");
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(home.path().join("config.toml"), other.path().join("config.toml")).unwrap();
    let r = compose(other.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out), "--offline"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not pulled before, and --offline"), "{r:?}");
}

#[test]
fn a_package_without_a_version_is_the_highest_semver_tag() {
    let reg = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    std::fs::remove_file(deps.join("test/a.wat")).unwrap();
    let pusher = tempfile::tempdir().unwrap();
    for (tag, value) in [("1.0.0", 1), ("1.9.0", 2), ("1.10.0", 3), ("latest", 4), ("dev", 5), ("2.0.0-rc.1", 6)] {
        let a = a_with_value(dir.path(), value);
        let r = morph_in(pusher.path(), &["push", path_str(&a), &format!("{}/acme/a:{tag}", reg.addr), "--insecure"]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    std::fs::write(
        home.path().join("config.toml"),
        format!("[registries.\"{0}\"]\ninsecure = true\n\n[namespaces]\ntest = \"{0}/acme\"\n", reg.addr),
    )
    .unwrap();
    let out = dir.path().join("chain.wasm");
    let wac = fixture_wac("chain.wac", dir.path());
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(&format!("{}/acme/a:1.10.0 (OCI", reg.addr)),
        "1.10.0 over 1.9.0, latest, dev and a pre-release: {r:?}"
    );
    assert_eq!(call(home.path(), &out, "run"), "113");
    // Offline, the version resolved last is used from the cache.
    let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out), "--offline"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("acme/a:1.10.0 (OCI"), "{r:?}");
}

#[test]
fn each_error_points_into_the_wac_source_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown.wac",
            "package test:x;\n\nlet a = new test:nope {};\nexport a.run;\n",
            &["unknown package `test:nope`", "unknown.wac:3:13", "looked in:", "test/nope.wasm", "the local registry", "--dep test:nope=PATH"],
        ),
        (
            "missing.wac",
            "package test:x;\n\nlet b = new test:b {};\nexport b[\"test:chain/b\"];\n",
            &["missing instantiation argument `test:chain/a` for package `test:b`", "missing.wac:3:13"],
        ),
        (
            "mismatch.wac",
            "package test:x;\n\nlet k = new test:counter {};\nlet b = new test:b { \"test:chain/a\": k[\"test:shared/counter\"] };\nexport b[\"test:chain/b\"];\n",
            &["mismatched instantiation argument `test:chain/a`", "missing expected function export `value`", "mismatch.wac:4:22"],
        ),
        (
            "noexport.wac",
            "package test:x;\n\nlet a = new test:a {};\nexport a.nothing;\n",
            &["no export named `nothing`", "noexport.wac:4:9"],
        ),
        ("syntax.wac", "package test:x;\nlet a = new test:a {\n", &["unexpected end of input", "syntax.wac:2:20"]),
    ];
    for (name, text, expected) in cases {
        let wac = dir.path().join(name);
        std::fs::write(&wac, text).unwrap();
        let out = dir.path().join("out.wasm");
        let r = compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out)]);
        assert_eq!(r.code, 2, "{name}: {r:?}");
        for e in *expected {
            assert!(r.stderr.contains(e), "{name}: expected `{e}` in: {}", r.stderr);
        }
        assert!(!out.exists(), "{name}: nothing written");
    }
    let r = compose(home.path(), &dir.path().join("absent.wac"), &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("absent.wac"), "{r:?}");
    let r = morph_in(home.path(), &["compose", "x.wac", "--dep", "no-equals-sign"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is not PKG=PATH"), "{r:?}");
}

#[test]
fn target_checks_the_result_and_output_goes_where_asked() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    let wac = fixture_wac("chain.wac", dir.path());
    let out = dir.path().join("t.wasm");
    let r =
        compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out), "--target", "hayride-cli"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("missing export") && r.stdout.contains("wasi:cli/run"), "{r:?}");
    assert!(!out.exists(), "a composition that misses its target is not written");
    let r =
        compose(home.path(), &wac, &["--deps-dir", path_str(&deps), "-o", path_str(&out), "--target", "hayride-core"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("conforms to hayride-core"), "{r:?}");

    // `-o -` writes the component to stdout.
    let piped = std::process::Command::new(morph_bin())
        .args(["compose", path_str(&wac), "--deps-dir", path_str(&deps), "-o", "-"])
        .env("MORPH_HOME", home.path())
        .output()
        .unwrap();
    assert!(piped.status.success(), "{piped:?}");
    assert_eq!(piped.stdout, std::fs::read(&out).unwrap());

    // By default, <stem>.wasm in the current directory, with deps/ found beside the WAC file.
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(&wac, dir.path().join("app.wac")).unwrap();
    let status = std::process::Command::new(morph_bin())
        .args(["-q", "compose", path_str(&dir.path().join("app.wac"))])
        .current_dir(work.path())
        .env("MORPH_HOME", home.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(call(home.path(), &work.path().join("app.wasm"), "run"), "111");
}

#[test]
fn morph_lock_pins_registry_packages_and_locked_refuses_a_change() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = deps_dir(dir.path());
    std::fs::remove_file(deps.join("test/a.wat")).unwrap();
    let wac = fixture_wac("chain.wac", dir.path());
    let out = dir.path().join("chain.wasm");
    let register = |value: u32, version: &str, force: bool| {
        let file = a_with_value(dir.path(), value);
        let id = format!("test:a@{version}");
        let mut args = vec!["register", path_str(&file), "-p", &id];
        if force {
            args.push("--force");
        }
        let r = morph_in(home.path(), &args);
        assert_eq!(r.code, 0, "{r:?}");
    };
    let lock = dir.path().join("morph.lock");
    register(2, "0.1.0", false);
    let r = compose(home.path(), &wac, &["-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains("name = \"test:a\"") && text.contains("version = \"0.1.0\"") && text.contains("sha256:"),
        "{text}"
    );
    assert!(!text.contains("test:b"), "packages in the WAC file's folder are not locked: {text}");

    // A newer version registered since is not taken: the lock asks for 0.1.0.
    register(4, "0.2.0", false);
    let r = compose(home.path(), &wac, &["-o", path_str(&out), "--locked"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "112");

    // Replaced under the same version: --locked refuses, naming the package, writing nothing.
    register(7, "0.1.0", true);
    std::fs::remove_file(&out).unwrap();
    let r = compose(home.path(), &wac, &["-o", path_str(&out), "--locked"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("test:a") && r.stderr.contains("replaced under the same version"), "{r:?}");
    assert!(!out.exists() && std::fs::read_to_string(&lock).unwrap() == text, "nothing written");
    // A plain compose warns and moves the lock on.
    let r = compose(home.path(), &wac, &["-o", path_str(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("warning: test:a") && r.stderr.contains("replaced"), "{r:?}");
    assert_eq!(call(home.path(), &out, "run"), "117");
    assert!(compose(home.path(), &wac, &["-o", path_str(&out), "--locked"]).code == 0);

    // --update moves it to the highest version.
    let r = compose(home.path(), &wac, &["-o", path_str(&out), "--update", "test:a"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::read_to_string(&lock).unwrap().contains("version = \"0.2.0\""));
    assert_eq!(call(home.path(), &out, "run"), "114");

    // A lock that does not parse is named.
    std::fs::write(&lock, "version = [").unwrap();
    let r = compose(home.path(), &wac, &["-o", path_str(&out)]);
    assert!(r.code == 2 && r.stderr.contains("morph.lock"), "{r:?}");
}
