//! Where a package named in a WAC document comes from, in this order:
//!
//! 1. `--dep ns:name=PATH` (or `ns:name@version=PATH`);
//! 2. each deps directory, laid out as `wac compose` reads it: `DIR/ns/name.wasm` (or `.wat`),
//!    `DIR/ns/name/VERSION.wasm` when the document names a version, or a WIT package directory
//!    `DIR/ns/name/` (or `DIR/ns/name.wit`);
//! 3. the local morph registry, `$MORPH_HOME/registry/morphs/ns/VERSION/name.wasm`, the highest
//!    version when the document names none;
//! 4. OCI: the registry morph's `config.toml` (`[namespaces] ns = "host/prefix"`) or wkg's config
//!    maps the package to (see `morph_registry_client::package`), at the version named or the
//!    highest semver tag, pulled and cached by digest (offline, only what was pulled before).

use std::path::{Path, PathBuf};

use miette::SourceSpan;
use morph_registry_client::{Home, MorphId};
use semver::Version;

/// Fetches package `ns:name` at a version (or its highest) from the OCI registry it maps to, or
/// finds it in the cache; returns the reference it resolved to and the verified component, or
/// what was tried.
pub type Fetch<'a> = &'a dyn Fn(&str, Option<&Version>) -> Result<(String, PathBuf), String>;

/// Where to look for packages.
pub struct Sources<'a> {
    /// `--dep` overrides: a package name (optionally `@version`) and its file.
    pub deps: Vec<(String, PathBuf)>,
    pub deps_dirs: Vec<PathBuf>,
    pub home: Home,
    /// How to reach OCI (or its cache).
    pub fetch: Fetch<'a>,
    /// The version to ask for a package (as the document names it) that names none: the one
    /// `morph.lock` has.
    pub pins: Vec<(String, Version)>,
}

impl<'a> Sources<'a> {
    /// Packages from `home`'s local registry, and OCI through `fetch`; no `--dep` or deps
    /// directories yet.
    pub fn from_home(home: Home, fetch: Fetch<'a>) -> Sources<'a> {
        Sources { deps: Vec::new(), deps_dirs: Vec::new(), home, fetch, pins: Vec::new() }
    }
}

/// Where a package was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Dep(PathBuf),
    DepsDir(PathBuf),
    /// A WIT package (directory or `.wit` file), encoded for wac.
    Wit(PathBuf),
    Registry {
        id: String,
        path: PathBuf,
    },
    Oci {
        reference: String,
        path: PathBuf,
    },
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Dep(p) => format!("{} (--dep)", p.display()),
            Origin::DepsDir(p) => format!("{} (deps directory)", p.display()),
            Origin::Wit(p) => format!("{} (WIT package)", p.display()),
            Origin::Registry { id, path } => format!("{id} from the local registry ({})", path.display()),
            Origin::Oci { reference, path } => format!("{reference} (OCI, cached at {})", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    /// `ns:name` or `ns:name@version`, as the document names it.
    pub key: String,
    pub origin: Origin,
    /// `sha256:<hex>` of the bytes composed.
    pub sha256: String,
}

/// A package found nowhere, with every place that was tried.
#[derive(Debug)]
pub struct Missing {
    name: String,
    looked: Vec<String>,
}

impl Missing {
    pub fn at(self, span: SourceSpan) -> UnknownPackage {
        let places = self.looked.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n");
        UnknownPackage {
            help: format!(
                "looked in:\n{places}\npass --dep {0}=PATH, put it in a deps directory, or add it to the local \
                 registry with `morph register {0}@VERSION FILE`",
                self.name
            ),
            name: self.name,
            span,
        }
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("unknown package `{name}`")]
pub struct UnknownPackage {
    name: String,
    #[label("no package `{name}` was found")]
    span: SourceSpan,
    #[help]
    help: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("package `{name}` cannot be used: {reason}")]
pub struct LoadFailed {
    pub name: String,
    #[label("this package")]
    pub span: SourceSpan,
    pub reason: String,
}

/// Finds package `name` (`ns:pkg`), at `version` when given.
pub fn find(name: &str, version: Option<&Version>, sources: &Sources<'_>) -> Result<Origin, Missing> {
    let mut looked = Vec::new();
    let wanted = match version {
        Some(v) => format!("{name}@{v}"),
        None => name.to_string(),
    };

    // 1. --dep: `ns:name=PATH` serves every version; `ns:name@v=PATH` only v.
    for (dep, path) in &sources.deps {
        if dep == name || *dep == wanted {
            return Ok(Origin::Dep(path.clone()));
        }
    }
    looked.push(format!("--dep {name}=PATH (none given)"));

    // 2. deps directories.
    for dir in &sources.deps_dirs {
        let mut base = dir.clone();
        for segment in name.split(':') {
            base.push(segment);
        }
        if let Some(v) = version {
            base.push(v.to_string());
        }
        if base.is_dir() {
            return Ok(Origin::Wit(base));
        }
        for ext in ["wasm", "wat", "wit"] {
            let file = with_extension(&base, ext);
            if file.is_file() {
                return Ok(if ext == "wit" { Origin::Wit(file) } else { Origin::DepsDir(file) });
            }
            looked.push(file.display().to_string());
        }
    }

    // 3. The local registry.
    let (namespace, short) = name.split_once(':').unwrap_or((name, ""));
    if let Ok(id) = MorphId::parse(&wanted) {
        match morph_registry_client::local::resolve_local(&sources.home, &id) {
            Ok(found) => return Ok(Origin::Registry { id: found.id.to_string(), path: found.path }),
            Err(_) => looked.push(format!(
                "the local registry: {}",
                sources
                    .home
                    .morphs_dir()
                    .join(namespace)
                    .join(version.map_or("*".into(), |v| v.to_string()))
                    .join(format!("{short}.wasm"))
                    .display()
            )),
        }
    }

    // 4. OCI, through the registry the package maps to.
    match (sources.fetch)(name, version) {
        Ok((reference, path)) => return Ok(Origin::Oci { reference, path }),
        Err(e) => looked.push(e),
    }
    Err(Missing { name: wanted, looked })
}

fn with_extension(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The bytes wac takes for a package: a binary component, text assembled, or a WIT package
/// encoded.
pub fn load(origin: &Origin) -> Result<Vec<u8>, String> {
    let path = match origin {
        Origin::Wit(path) => return encode_wit(path),
        Origin::Dep(p) | Origin::DepsDir(p) => p,
        Origin::Registry { path, .. } | Origin::Oci { path, .. } => path,
    };
    if path.is_dir() || path.extension().is_some_and(|e| e == "wit") {
        return encode_wit(path);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    morph_contract::component::component_binary(path, bytes).map_err(|e| e.to_string())
}

/// Whether a binary package from `origin` is a valid component, its file named if not.
pub fn check_bytes(origin: &Origin, bytes: &[u8]) -> Result<(), String> {
    match origin {
        Origin::Wit(_) => Ok(()),
        Origin::Dep(p) | Origin::DepsDir(p) | Origin::Registry { path: p, .. } | Origin::Oci { path: p, .. } => {
            morph_contract::component::check_component_bytes(p, bytes).map_err(|e| e.to_string())
        }
    }
}

fn encode_wit(path: &Path) -> Result<Vec<u8>, String> {
    let mut resolve = wit_parser::Resolve::new();
    let pkg = if path.is_dir() { resolve.push_dir(path).map(|(pkg, _)| pkg) } else { resolve.push_file(path) }
        .map_err(|e| format!("the WIT in {} does not parse: {e:#}", path.display()))?;
    wit_component::encode(&resolve, pkg).map_err(|e| format!("cannot encode the WIT in {}: {e:#}", path.display()))
}
