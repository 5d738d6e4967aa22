//! Writes a bundled world and every package it needs as a WIT directory (`<dir>/<pkg>.wit` plus
//! `<dir>/deps/`), the layout wit-bindgen, componentize-py, jco and TinyGo read. This is how
//! projects get the contract without a network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use wit_parser::{PackageId, Resolve, WorldId};

use crate::bundled::Contract;
use crate::ContractError;

/// Writes the package of `world` to `dir` and its dependencies to `dir/deps`. Returns the files
/// written.
pub fn write_wit_dir(contract: &Contract, world: WorldId, dir: &Path) -> Result<Vec<PathBuf>, ContractError> {
    let resolve = &contract.resolve;
    let main = package_of(contract, world);
    let mut deps = BTreeSet::new();
    collect_deps(resolve, main, &mut deps);
    deps.remove(&main);
    let deps_dir = dir.join("deps");
    let files = std::iter::once((main, dir.join(file_name(resolve, main))))
        .chain(deps.iter().map(|p| (*p, deps_dir.join(file_name(resolve, *p)))));
    write_packages(contract, files, &deps_dir)
}

/// Writes the package of `world` and everything it needs into `deps_dir`, for a project whose own
/// package (beside `deps_dir`) uses that world. Returns the files written.
pub fn write_wit_deps(contract: &Contract, world: WorldId, deps_dir: &Path) -> Result<Vec<PathBuf>, ContractError> {
    let resolve = &contract.resolve;
    let mut packages = BTreeSet::new();
    collect_deps(resolve, package_of(contract, world), &mut packages);
    write_packages(contract, packages.iter().map(|p| (*p, deps_dir.join(file_name(resolve, *p)))), deps_dir)
}

fn package_of(contract: &Contract, world: WorldId) -> PackageId {
    contract.resolve.worlds[world].package.expect("bundled worlds belong to packages")
}

fn write_packages(
    contract: &Contract,
    files: impl Iterator<Item = (PackageId, PathBuf)>,
    deps_dir: &Path,
) -> Result<Vec<PathBuf>, ContractError> {
    let resolve = &contract.resolve;
    let io = |path: &Path, e: std::io::Error| ContractError::Wit { path: path.to_path_buf(), message: e.to_string() };
    std::fs::create_dir_all(deps_dir).map_err(|e| io(deps_dir, e))?;
    let mut written = Vec::new();
    for (pkg, path) in files {
        let mut printer = wit_component::WitPrinter::default();
        printer
            .print(resolve, pkg, &[])
            .map_err(|e| ContractError::Wit { path: path.clone(), message: format!("{e:#}") })?;
        std::fs::write(&path, printer.output.to_string()).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn collect_deps(resolve: &Resolve, pkg: PackageId, out: &mut BTreeSet<PackageId>) {
    if out.insert(pkg) {
        for dep in resolve.package_direct_deps(pkg) {
            collect_deps(resolve, dep, out);
        }
    }
}

/// `ns-name@version.wit`: unique per package, readable in a file listing.
fn file_name(resolve: &Resolve, pkg: PackageId) -> String {
    let n = &resolve.packages[pkg].name;
    match &n.version {
        Some(v) => format!("{}-{}@{v}.wit", n.namespace, n.name),
        None => format!("{}-{}.wit", n.namespace, n.name),
    }
}
