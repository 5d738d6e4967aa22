//! Helpers shared by the end-to-end tests: the `morph` binary, fixtures, temp homes.

#![allow(dead_code)]

pub mod hub;
pub mod postgres;
pub mod project;
pub mod registry;
pub mod served;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `morph` binary of this workspace, built on first use (cargo builds only the test
/// crate's own targets, so the binary is built explicitly once).
pub fn morph_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // This test runs from <target dir>/[<triple>/]debug/deps: the morph binary is built
            // beside it, for the same target (the suite's `--target`, or the host's).
            let exe = std::env::current_exe().expect("the test binary's path");
            let profile_dir = exe.parent().and_then(Path::parent).expect("<target dir>/debug/deps").to_path_buf();
            let target = env!("MORPH_E2E_TARGET");
            let for_target = profile_dir.parent().and_then(Path::file_name).is_some_and(|n| n == target);
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "--quiet", "-p", "morph", "--bin", "morph"]).current_dir(workspace_root());
            if for_target {
                cargo.args(["--target", target]);
            }
            let status = cargo.status().expect("running cargo build for the morph binary");
            assert!(status.success(), "building the morph binary failed");
            profile_dir.join("morph")
        })
        .clone()
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

pub fn example(name: &str) -> PathBuf {
    workspace_root().join("examples").join(name)
}

/// A WAT file assembled to binary into `dir`.
pub fn fixture_wasm(wat_file: &Path, dir: &Path) -> PathBuf {
    let bytes = wat::parse_file(wat_file).expect("fixture assembles");
    let out = dir.join(wat_file.file_name().unwrap()).with_extension("wasm");
    std::fs::write(&out, bytes).unwrap();
    out
}

/// The result of one `morph` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The rest of the first stdout line that starts with `prefix` (a probe's `name: value`).
    pub fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line: {self:?}"))
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `morph` with `args` in a fresh, empty MORPH_HOME, with no stdin.
pub fn morph(args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    morph_in(home.path(), args)
}

pub fn morph_in(home: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(morph_bin())
        .args(args)
        .env("MORPH_HOME", home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("running morph");
    Run::from(out)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Builds a Rust guest of tests/guests for wasm32-wasip2 and returns the component. CI installs
/// the target; without it the test fails saying how to install it.
pub fn rust_guest(name: &str) -> PathBuf {
    rust_guest_in(name, &workspace_root().join("target/guests"))
}

/// [`rust_guest`] into its own `target_dir`: for guests whose binaries share names with
/// another's (the probes of two contract versions), which one target folder would mix up.
pub fn rust_guest_in(name: &str, target_dir: &Path) -> PathBuf {
    let out = Command::new("cargo")
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(target_dir)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests").join(name))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("running cargo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("target may not be installed"),
        "the wasm32-wasip2 target is not installed; install it with `rustup target add wasm32-wasip2` (CI does)"
    );
    assert!(out.status.success(), "building the Rust guest {name} failed:\n{stderr}");
    // A binary keeps its name; a library (cdylib) gets underscores.
    let release = target_dir.join("wasm32-wasip2/release");
    let bin = release.join(format!("{name}.wasm"));
    if bin.exists() {
        bin
    } else {
        release.join(format!("{}.wasm", name.replace('-', "_")))
    }
}

/// Builds a wit-bindgen Rust guest of tests/guests whose `wit/` is `world` of morph's contract,
/// written there first (as `morph new` does for a project), so no WIT is kept in the guest.
pub fn rust_guest_with_wit(name: &str, world: &str) -> PathBuf {
    let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests").join(name).join("wit");
    let contract = morph_contract::Contract::bundled();
    morph_contract::materialize::write_wit_dir(contract, contract.world(world).unwrap(), &wit).unwrap();
    rust_guest(name)
}

/// Runs `morph` in `home` with extra environment variables and optional stdin.
pub fn morph_with(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(morph_bin());
    cmd.args(args).env("MORPH_HOME", home).env("NO_COLOR", "1");
    run_with(cmd, env, stdin)
}

/// Runs `cmd` with extra environment variables and optional stdin; gives what it printed.
pub fn run_with(mut cmd: Command, env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    use std::io::Write;
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running morph");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    Run::from(child.wait_with_output().expect("running morph"))
}

/// A copy of `tests/fixtures/compose/<name>` in `dir`: compose writes morph.lock beside the WAC
/// file, which must never be the source tree.
pub fn fixture_wac(name: &str, dir: &Path) -> PathBuf {
    let copy = dir.join(name);
    std::fs::copy(fixture(&format!("compose/{name}")), &copy).unwrap();
    copy
}

/// The componentize-py hello-world (~18 MB) for hayride-cli, built once into target/guests and
/// rebuilt when its source is newer.
pub fn python_hello() -> PathBuf {
    let out_dir = workspace_root().join("target/guests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let wasm = out_dir.join("python-hello.wasm");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/python-hello");
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if wasm.exists() && fresh(&wasm) >= fresh(&src.join("app.py")) {
        return wasm;
    }
    let found = Command::new("componentize-py").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "componentize-py is not installed; install it with `pip install componentize-py` (CI does)");
    let wit = tempfile::tempdir().unwrap();
    let contract = morph_contract::Contract::bundled();
    morph_contract::materialize::write_wit_dir(contract, contract.world("hayride-cli").unwrap(), wit.path()).unwrap();
    // Build to a unique name and rename, so concurrent test binaries never see half a file.
    let tmp = out_dir.join(format!("python-hello.{}.wasm", std::process::id()));
    let out = Command::new("componentize-py")
        .arg("-d")
        .arg(wit.path())
        .args(["-w", "hayride:runtime/hayride-cli@0.0.1", "componentize", "app", "-o"])
        .arg(&tmp)
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "componentize-py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    std::fs::rename(&tmp, &wasm).unwrap();
    wasm
}

/// One probe (`src/bin/<bin>.rs`) of tests/guests/rust-hayride, which exercise the Hayride host
/// interfaces. Its `wit/` is `probe.wit` plus the packages of morph's contract it needs, written
/// by this harness first (so no contract WIT is kept in the guest); every probe is built at once.
pub fn hayride_probe(bin: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let release = BUILT.get_or_init(|| {
        let guest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/rust-hayride");
        let wit = guest.join("wit");
        let contract = morph_contract::Contract::bundled();
        for world in
            ["hayride-cli", "hayride-core", "hayride-silo", "hayride-wac", "hayride-db", "hayride-mcp", "hayride-ai"]
        {
            morph_contract::materialize::write_wit_deps(contract, contract.world(world).unwrap(), &wit.join("deps"))
                .unwrap();
        }
        let config = contract.world("wasi:config/imports@0.2.0-draft").unwrap();
        morph_contract::materialize::write_wit_deps(contract, config, &wit.join("deps")).unwrap();
        std::fs::copy(guest.join("probe.wit"), wit.join("probe.wit")).unwrap();
        rust_guest("rust-hayride").parent().unwrap().to_path_buf()
    });
    release.join(format!("{bin}.wasm"))
}

/// One probe of tests/guests/rust-hayride-060, built against Hayride contract 0.0.60 (its
/// `wit/` is `probe.wit` plus that contract's packages, written here first).
pub fn hayride_probe_060(bin: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let release = BUILT.get_or_init(|| {
        let guest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/rust-hayride-060");
        let wit = guest.join("wit");
        let contract = morph_contract::Contract::version("0.0.60").expect("contract 0.0.60 is bundled");
        for world in ["hayride-core", "hayride-silo", "hayride-wac", "hayride-ai"] {
            morph_contract::materialize::write_wit_deps(contract, contract.world(world).unwrap(), &wit.join("deps"))
                .unwrap();
        }
        std::fs::copy(guest.join("probe.wit"), wit.join("probe.wit")).unwrap();
        // Its binaries are named as the 0.0.65 probes' are.
        rust_guest_in("rust-hayride-060", &workspace_root().join("target/guests/hayride-060"))
            .parent()
            .unwrap()
            .to_path_buf()
    });
    release.join(format!("{bin}.wasm"))
}

/// The agent composition's parts (tests/guests/rust-agent): the formatter, the context and the
/// agent command, built at once into their own target folder after the contract's packages
/// are written into their `wit/deps`.
pub fn agent_parts() -> [PathBuf; 3] {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let release = BUILT.get_or_init(|| {
        let guest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guests/rust-agent");
        let contract = morph_contract::Contract::bundled();
        morph_contract::materialize::write_wit_deps(
            contract,
            contract.world("hayride-ai").unwrap(),
            &guest.join("wit/deps"),
        )
        .unwrap();
        rust_guest_in("rust-agent", &workspace_root().join("target/guests/agent")).parent().unwrap().to_path_buf()
    });
    ["formatter", "context", "agent"].map(|p| release.join(format!("{p}.wasm")))
}

/// `morph run PROBE [flags] -- ARGS` in `home`.
pub fn run_probe(home: &Path, probe: &Path, flags: &[&str], args: &[&str]) -> Run {
    run_probe_with(home, probe, flags, args, &[])
}

/// [`run_probe`] with extra environment variables for morph.
pub fn run_probe_with(home: &Path, probe: &Path, flags: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["run", path_str(probe)];
    all.extend_from_slice(flags);
    all.push("--");
    all.extend_from_slice(args);
    morph_with(home, &all, env, None)
}

/// Registers the three components of tests/fixtures/compose/chain.wac as test:a, test:b and
/// test:c; gives the WAC source.
pub fn register_chain(home: &Path) -> String {
    let fixtures = workspace_root().join("tests/fixtures/compose");
    for (file, id) in [("a.wat", "test:a@1.0.0"), ("b.wat", "test:b@1.0.0"), ("c.wat", "test:c@1.0.0")] {
        let r = morph_in(home, &["register", path_str(&fixtures.join(file)), "--package", id]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    std::fs::read_to_string(fixtures.join("chain.wac")).unwrap()
}
