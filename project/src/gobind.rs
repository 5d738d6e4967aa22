//! Go bindings for a project's world, generated at every `morph build` from its `wit/` (never
//! committed): wit-bindgen's Go generator (for the standard Go toolchain: `//go:wasmexport`,
//! `//go:wasmimport`, the canonical ABI in Go), laid out in the user's own module, plus
//! morph's support package in place of `go.bytecodealliance.org/pkg`, whose `cabi_realloc`
//! needs an import the preview1 adapter of wasmtime 48 does not have.
//!
//! Layout, in the module of the project's `go.mod`:
//! - `wit_exports.go` (package main): the exported entry points, calling the user's code;
//! - `export_<interface>/`: the user's implementation of each exported interface (the package
//!   wit_exports.go calls), beside the generated `wit_bindings.go` for exported resources;
//! - `internal/wit/<interface>/`: the imported interfaces and the types;
//! - `internal/wit/runtime`, `internal/wit/types`: the support package.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::{Resolve, WorldId, WorldItem, WorldKey};
use wit_bindgen_core::Files;

use crate::BuildError;

/// Where the generated import packages and the support package go, under the module.
const GENERATED_DIR: &str = "internal/wit";

/// The support package, written with the bindings.
const SUPPORT: &[(&str, &str)] = &[
    ("runtime/runtime.go", include_str!("../go/runtime/runtime.go")),
    ("runtime/sbrk_go.go", include_str!("../go/runtime/sbrk_go.go")),
    ("runtime/sbrk_tinygo.go", include_str!("../go/runtime/sbrk_tinygo.go")),
    ("types/types.go", include_str!("../go/types/types.go")),
    ("types/tuples.go", include_str!("../go/types/tuples.go")),
];

/// How a Go project is built for its world.
#[derive(Debug, PartialEq, Eq)]
pub enum GoShape {
    /// A command: `func main`, built as a wasip1 program; the world exports nothing but
    /// `wasi:cli/run` (the preview1 command adapter provides it), so no bindings are needed.
    Command,
    /// Everything else: a c-shared module whose exports the generated bindings provide.
    Reactor,
}

/// The project's world, loaded from `wit_dir`.
pub struct ProjectWorld {
    pub resolve: Resolve,
    pub world: WorldId,
}

impl ProjectWorld {
    pub fn load(wit_dir: &Path, world: &str) -> Result<Self, BuildError> {
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve
            .push_path(wit_dir)
            .map_err(|e| BuildError::Input(format!("cannot read the WIT in {}: {e:#}", wit_dir.display())))?;
        let world = resolve.select_world(&[pkg], Some(world)).map_err(|e| {
            BuildError::Input(format!("{}: {e:#} (morph.toml's `world` names the world to build)", wit_dir.display()))
        })?;
        Ok(ProjectWorld { resolve, world })
    }

    pub fn go_shape(&self) -> GoShape {
        let exports = &self.resolve.worlds[self.world].exports;
        let only_run = exports.iter().all(|(key, item)| match (key, item) {
            (WorldKey::Interface(id), WorldItem::Interface { .. }) => {
                let iface = &self.resolve.interfaces[*id];
                let pkg = iface.package.map(|p| &self.resolve.packages[p].name);
                iface.name.as_deref() == Some("run") && pkg.is_some_and(|p| p.namespace == "wasi" && p.name == "cli")
            }
            _ => false,
        });
        if only_run {
            GoShape::Command
        } else {
            GoShape::Reactor
        }
    }

    /// Writes the bindings into the Go module at `dir`, replacing what an earlier build
    /// generated; the user's files are left alone.
    pub fn write_go_bindings(&mut self, dir: &Path) -> Result<(), BuildError> {
        let module = go_module_path(dir)?;
        let opts = wit_bindgen_go::Opts::default();
        let mut files = Files::default();
        opts.build().generate(&mut self.resolve, self.world, &mut files).map_err(|e| {
            BuildError::Input(format!("cannot generate Go bindings for the world in {}/wit: {e:#}", dir.display()))
        })?;

        let mut written = BTreeSet::new();
        for (name, bytes) in files.iter() {
            // The generator's go.mod is for a module of its own; the project has one.
            if name == "go.mod" {
                continue;
            }
            let target = place(dir, name);
            let text = String::from_utf8_lossy(bytes);
            write_if_changed(&target, &rewrite_imports(&text, &module))?;
            written.insert(target);
        }
        for (name, text) in SUPPORT {
            let target = dir.join(GENERATED_DIR).join(name);
            write_if_changed(&target, text)?;
            written.insert(target);
        }
        remove_stale(dir, &written)
    }
}

/// Where a file the generator names goes in the project.
fn place(dir: &Path, name: &str) -> PathBuf {
    if name.contains('/') && !name.starts_with("export_") {
        dir.join(GENERATED_DIR).join(name)
    } else {
        dir.join(name)
    }
}

/// The generator imports its packages as `wit_component/<name>` and the support package from
/// `go.bytecodealliance.org/pkg/wit/<name>`; both live in the project's module.
fn rewrite_imports(text: &str, module: &str) -> String {
    text.replace("\"go.bytecodealliance.org/pkg/wit/", &format!("\"{module}/{GENERATED_DIR}/"))
        .replace("\"wit_component/export_", &format!("\"{module}/export_"))
        .replace("\"wit_component/", &format!("\"{module}/{GENERATED_DIR}/"))
}

/// The module path `go.mod` declares.
fn go_module_path(dir: &Path) -> Result<String, BuildError> {
    let go_mod = dir.join("go.mod");
    let text = std::fs::read_to_string(&go_mod).map_err(|e| {
        BuildError::Input(format!(
            "cannot read {}: {e}; a Go morph is a Go module (`go mod init <name>`)",
            go_mod.display()
        ))
    })?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("module ").map(|m| m.trim().trim_matches('"').to_string()))
        .filter(|m| !m.is_empty())
        .ok_or_else(|| BuildError::Input(format!("{} declares no `module` line", go_mod.display())))
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), BuildError> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let fail = |e: std::io::Error| BuildError::Input(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

/// Generated files an earlier build wrote that this one did not (the world lost an interface):
/// everything under `internal/wit/`, and the generated files of the `export_*` packages.
fn remove_stale(dir: &Path, written: &BTreeSet<PathBuf>) -> Result<(), BuildError> {
    let mut candidates = Vec::new();
    collect_files(&dir.join(GENERATED_DIR), &mut candidates);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("export_") {
            for generated in ["wit_bindings.go", "empty.s"] {
                candidates.push(entry.path().join(generated));
            }
        }
    }
    for file in candidates {
        if file.is_file() && !written.contains(&file) {
            std::fs::remove_file(&file)
                .map_err(|e| BuildError::Input(format!("cannot remove {}: {e}", file.display())))?;
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_point_into_the_projects_module() {
        let generated = "import (\n\twitTypes \"go.bytecodealliance.org/pkg/wit/types\"\n\t\"wit_component/wasi_io_streams\"\n\t\"wit_component/export_wit_world\"\n)\n";
        let out = rewrite_imports(generated, "example.com/hello");
        assert_eq!(
            out,
            "import (\n\twitTypes \"example.com/hello/internal/wit/types\"\n\t\"example.com/hello/internal/wit/wasi_io_streams\"\n\t\"example.com/hello/export_wit_world\"\n)\n"
        );
    }

    #[test]
    fn export_packages_stay_at_the_root_and_imports_go_under_internal() {
        let dir = Path::new("/p");
        assert_eq!(place(dir, "wit_exports.go"), Path::new("/p/wit_exports.go"));
        assert_eq!(place(dir, "export_wit_world/wit_bindings.go"), Path::new("/p/export_wit_world/wit_bindings.go"));
        assert_eq!(
            place(dir, "wasi_io_streams/wit_bindings.go"),
            Path::new("/p/internal/wit/wasi_io_streams/wit_bindings.go")
        );
    }
}
