//! Helpers shared by the end-to-end tests: the `morph` binary, fixtures, temp homes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `morph` binary of this workspace, built on first use (cargo builds only the test
/// crate's own targets, so the binary is built explicitly once).
pub fn morph_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = workspace_root();
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "-p", "morph", "--bin", "morph"])
                .current_dir(&root)
                .status()
                .expect("running cargo build for the morph binary");
            assert!(status.success(), "building the morph binary failed");
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
            target.join("debug").join("morph")
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
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
