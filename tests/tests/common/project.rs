//! Projects made by `morph new` and built by `morph build` with the real toolchains.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{morph_bin, workspace_root, Run};

/// `morph` in `cwd`, with a shared cargo target directory so wit-bindgen is compiled once for
/// every Rust project of this file.
pub fn morph_at(home: &Path, cwd: &Path, args: &[&str]) -> Run {
    morph_at_env(home, cwd, args, &[])
}

pub fn morph_at_env(home: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    morph_at_full(home, cwd, args, env, None)
}

/// `morph_at` with `stdin` written to the process.
pub fn morph_at_input(home: &Path, cwd: &Path, args: &[&str], stdin: &str) -> Run {
    morph_at_full(home, cwd, args, &[], Some(stdin))
}

fn morph_at_full(home: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(morph_bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("MORPH_HOME", home)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", workspace_root().join("target/new-projects"));
    super::run_with(cmd, env, stdin)
}

/// A new project `name` in a fresh temp dir; returns (temp dir, project dir).
pub fn new_project(home: &Path, name: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir().unwrap();
    let mut all = vec!["new", name];
    all.extend_from_slice(args);
    let r = morph_at(home, parent.path(), &all);
    assert_eq!(r.code, 0, "{r:?}");
    let dir = parent.path().join(name);
    (parent, dir)
}

pub fn build(home: &Path, dir: &Path) -> Run {
    let r = morph_at(home, dir, &["build"]);
    assert_eq!(r.code, 0, "morph build failed: {r:?}");
    assert!(r.stdout.contains("built ") && r.stdout.contains("sha256:"), "path, size and digest: {r:?}");
    r
}

/// Whether `program` (the toolchain of `lang`) is installed. scripts/test installs the ones it
/// can and lists them in MORPH_REQUIRE_TOOLCHAINS, so there a missing one fails the test; a bare
/// `cargo test` reports it and proves the other languages.
pub fn toolchain_present(program: &str, lang: &str) -> bool {
    // go and cosign take their version as a subcommand.
    let version = if program == "go" || program == "cosign" { "version" } else { "--version" };
    let found = Command::new(program).arg(version).output().is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("MORPH_REQUIRE_TOOLCHAINS").unwrap_or_default();
        assert!(
            !required.split(',').any(|p| p == program),
            "{program} is not installed, and this run requires it (scripts/test installs it)"
        );
        eprintln!("toolchain absent: {program}; the {lang} templates are not proven in this run");
    }
    found
}
