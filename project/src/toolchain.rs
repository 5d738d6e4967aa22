//! `morph build`: runs the project's language toolchain, then puts the component where
//! `morph.toml` says. The toolchains print their own diagnostics straight to the terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::gobind::{GoShape, ProjectWorld};
use crate::manifest::{Language, Manifest};
use crate::BuildError;

/// The component a build produced.
pub struct Built {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Builds `m`'s project and writes the component to `m.output`.
pub fn build_project(m: &Manifest, release: bool) -> Result<Built, BuildError> {
    let out_dir = m.output.parent().unwrap_or(&m.dir).to_path_buf();
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| BuildError::Input(format!("cannot create {}: {e}", out_dir.display())))?;
    // The toolchain writes beside the output; the output itself is replaced atomically, so a
    // failed build leaves the last good one.
    let (scratch, _tracked) = morph_registry_client::atomic::tracked_dir_in(&out_dir, ".morph-build-")
        .map_err(|e| BuildError::Input(format!("cannot write in {}: {e}", out_dir.display())))?;
    let produced = scratch.path().join("component.wasm");
    // A Go reactor's module carries no component type: its world's is embedded below.
    let mut embed_world = None;
    let wasm = match m.language {
        Language::Rust => build_rust(m, release)?,
        Language::Python => {
            let mut cmd = COMPONENTIZE_PY.command();
            cmd.args(["-d", "wit", "-w", &m.world, "componentize", "app", "-o"]).arg(&produced);
            run(&mut cmd, &COMPONENTIZE_PY, &m.dir, true)?;
            produced.clone()
        }
        Language::Go => {
            let (wasm, world) = build_go(m, &produced)?;
            embed_world = world;
            wasm
        }
        Language::Js => {
            let mut cmd = JCO.command();
            cmd.args(["componentize", "app.js", "--wit", "wit", "--world-name", &m.world, "-o"]).arg(&produced);
            run(&mut cmd, &JCO, &m.dir, true)?;
            produced.clone()
        }
    };
    let mut bytes = std::fs::read(&wasm)
        .map_err(|e| BuildError::Input(format!("the toolchain wrote no component at {}: {e}", wasm.display())))?;
    // A core-module extension stays a core module; any other core module becomes a component.
    if wasmparser::Parser::is_core_wasm(&bytes) && !m.core_module() {
        bytes = crate::componentize::componentize(&bytes, embed_world.as_ref())?;
    }
    bytes = m.metadata.embed(&bytes).map_err(|e| BuildError::Input(e.to_string()))?;
    morph_registry_client::atomic::write_output(&m.output, &bytes)
        .map_err(|e| BuildError::Input(format!("cannot write {}: {e}", m.output.display())))?;
    Ok(Built { path: m.output.clone(), bytes })
}

/// Go: TinyGo when it is installed (a component straight from `-target=wasip2`), the standard
/// toolchain otherwise (`GOOS=wasip1`: a core module, which gets the preview1 adapter). A world
/// with exports beyond `wasi:cli/run` gets Go bindings generated from the project's WIT and, with
/// the standard toolchain, is a c-shared module whose world the caller embeds (returned); a
/// command is a plain `func main` program.
fn build_go(m: &Manifest, produced: &Path) -> Result<(PathBuf, Option<ProjectWorld>), BuildError> {
    let mut world = ProjectWorld::load(&m.dir.join("wit"), &m.world)?;
    let reactor = world.go_shape() == GoShape::Reactor;
    if reactor {
        world.write_go_bindings(&m.dir)?;
    }
    if on_path(TINYGO.program) {
        let mut cmd = TINYGO.command();
        cmd.args(["build", "-target=wasip2", "--wit-package", "./wit", "--wit-world", &m.world, "-o"])
            .arg(produced)
            .arg(".");
        run(&mut cmd, &TINYGO, &m.dir, true)?;
        return Ok((produced.to_path_buf(), None));
    }
    let mut cmd = GO.command();
    cmd.env("GOOS", "wasip1").env("GOARCH", "wasm").arg("build");
    if reactor {
        // -checklinkname=0: the support package takes its first pages from runtime.sbrk.
        cmd.args(["-buildmode=c-shared", "-ldflags=-checklinkname=0"]);
    }
    cmd.arg("-o").arg(produced).arg(".");
    run(&mut cmd, &GO, &m.dir, true)?;
    Ok((produced.to_path_buf(), reactor.then_some(world)))
}

/// A toolchain program and how to install it, for the error when it is not on PATH.
struct Tool {
    program: &'static str,
    install: &'static str,
}

const CARGO: Tool = Tool { program: "cargo", install: "see https://rustup.rs" };
const COMPONENTIZE_PY: Tool = Tool { program: "componentize-py", install: "pip install componentize-py" };
const TINYGO: Tool =
    Tool { program: "tinygo", install: "see https://tinygo.org/getting-started/install/ (TinyGo 0.34 or later)" };
const GO: Tool = Tool { program: "go", install: "see https://go.dev/doc/install (Go 1.24 or later)" };
const JCO: Tool =
    Tool { program: "jco", install: "npm install -g @bytecodealliance/jco @bytecodealliance/componentize-js" };

impl Tool {
    fn command(&self) -> Command {
        Command::new(self.program)
    }
}

/// Runs a toolchain in `dir`. Its diagnostics go to the user's terminal as it prints them; on
/// failure its stdout is shown too, unless it is machine output (`echo` false). A program that
/// is not on PATH is the error that says how to install it.
fn run(cmd: &mut Command, tool: &Tool, dir: &Path, echo: bool) -> Result<std::process::Output, BuildError> {
    let out =
        cmd.current_dir(dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).output().map_err(
            |e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    BuildError::MissingToolchain { tool: tool.program.to_string(), install: tool.install.to_string() }
                }
                _ => BuildError::Input(format!("cannot run {}: {e}", tool.program)),
            },
        )?;
    if !out.status.success() {
        if echo {
            eprint!("{}", String::from_utf8_lossy(&out.stdout));
        }
        return Err(BuildError::Compile(tool.program.to_string()));
    }
    Ok(out)
}

/// cargo for the project's target (wasm32-wasip2: a component straight from the linker;
/// wasm32-wasip1: a core module); the artifact's path comes from cargo's own JSON messages,
/// whatever the crate type or name.
fn build_rust(m: &Manifest, release: bool) -> Result<PathBuf, BuildError> {
    let mut cmd = CARGO.command();
    cmd.args(["build", "--target", &m.target, "--message-format=json-render-diagnostics"]);
    if release {
        cmd.arg("--release");
    }
    // Cargo renders the compiler's diagnostics to stderr; stdout is its JSON, not for people.
    let out = match run(&mut cmd, &CARGO, &m.dir, false) {
        Ok(out) => out,
        // Only a failed build asks whether the target is there, so a good build runs one process.
        Err(BuildError::Compile(_)) if !has_target(&m.target) => {
            return Err(BuildError::MissingToolchain {
                tool: format!("the Rust target {}", m.target),
                install: format!("rustup target add {}", m.target),
            })
        }
        Err(e) => return Err(e),
    };
    let mut wasm = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        // Diagnostics were already rendered to stderr by cargo; artifacts name the .wasm.
        if msg["reason"].as_str() == Some("compiler-artifact") {
            for f in msg["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
                if f.ends_with(".wasm") {
                    wasm = Some(PathBuf::from(f));
                }
            }
        }
    }
    wasm.ok_or_else(|| BuildError::Input("cargo built no .wasm: is this a bin or cdylib crate?".into()))
}

/// Whether `program` is an executable file in a directory of PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn has_target(target: &str) -> bool {
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output().ok();
    sysroot.is_some_and(|o| {
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("lib/rustlib").join(target).is_dir()
    })
}
