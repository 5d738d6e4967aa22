//! `morph.toml`: the package id, language and world of a morph project.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::BuildError;

pub const MANIFEST: &str = "morph.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
    Go,
    Js,
}

impl Language {
    pub fn parse(s: &str) -> Result<Language, BuildError> {
        match s {
            "rust" => Ok(Language::Rust),
            "python" | "py" => Ok(Language::Python),
            "go" | "tinygo" => Ok(Language::Go),
            "js" | "javascript" => Ok(Language::Js),
            _ => Err(BuildError::Input(format!("unknown language `{s}`; use rust, python, go or js"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Go => "go",
            Language::Js => "js",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    Cli,
    Server,
    Reactor,
    Extension,
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, BuildError> {
        match s {
            "cli" | "command" => Ok(Template::Cli),
            "server" | "http" => Ok(Template::Server),
            "reactor" => Ok(Template::Reactor),
            "extension" => Ok(Template::Extension),
            _ => Err(BuildError::Input(format!("unknown world `{s}`; use cli, server, reactor or extension"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Template::Cli => "cli",
            Template::Server => "server",
            Template::Reactor => "reactor",
            Template::Extension => "extension",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    package: PackageSection,
    #[serde(default)]
    build: BuildSection,
    /// What `wasi:config/store` answers when the project's component runs.
    #[serde(default)]
    config: toml::Table,
    /// The app's entries (`morph up`), read by `app::read_entries`.
    #[serde(default)]
    #[allow(dead_code)]
    entry: Vec<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageSection {
    id: String,
    language: Language,
    world: String,
    template: Option<Template>,
    /// Embedded in the component by `morph build`, shown by `inspect`, annotations on `push`.
    description: Option<String>,
    /// An SPDX license expression.
    license: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    homepage: Option<String>,
    repository: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildSection {
    output: Option<PathBuf>,
    /// Rust only: `wasm32-wasip2` (default, a component) or `wasm32-wasip1` (a core module,
    /// made a component with the preview1 adapter).
    target: Option<String>,
    /// Globs of the sources `--build` and `--watch` look at (default: the language's).
    #[serde(default)]
    watch: Vec<String>,
}

/// The Rust target of a core-module extension: no WASI, no component.
pub const CORE_TARGET: &str = "wasm32-unknown-unknown";
/// A read `morph.toml`, with paths made absolute.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub dir: PathBuf,
    pub id: morph_registry_client::MorphId,
    pub language: Language,
    /// The world of `wit/` the component is built for and checked against.
    pub world: String,
    pub template: Option<Template>,
    pub output: PathBuf,
    /// The Rust target to build for.
    pub target: String,
    /// `[config]`: keys and values (numbers and booleans as their text), by key.
    pub config: Vec<(String, String)>,
    /// `[build] watch`: globs of the sources (empty: the language's defaults; see `sources`).
    pub watch: Vec<String>,
    /// What `morph build` embeds: `[package]`'s description, license, authors, homepage,
    /// repository, and the id's version.
    pub metadata: morph_contract::metadata::PackageMetadata,
}

impl Manifest {
    /// Reads `dir/morph.toml`.
    pub fn read(dir: &Path) -> Result<Manifest, BuildError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            BuildError::Input(format!(
                "cannot read {}: {e}; run morph in a project directory (make one with `morph new NAME`)",
                path.display()
            ))
        })?;
        let file: File =
            toml::from_str(&text).map_err(|e| BuildError::Input(format!("{}: {}", path.display(), e.message())))?;
        let id = morph_registry_client::MorphId::parse(&file.package.id).map_err(|_| {
            BuildError::Input(format!("{}: package id `{}` is not ns:name@version", path.display(), file.package.id))
        })?;
        if id.version.is_none() {
            return Err(BuildError::Input(format!(
                "{}: package id `{id}` needs a version, e.g. {id}@0.1.0",
                path.display()
            )));
        }
        let mut config = Vec::new();
        for (k, v) in file.config {
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => v.to_string(),
                other => {
                    return Err(BuildError::Input(format!(
                        "{}: [config] {k} is a {}; config values are strings, numbers or booleans",
                        path.display(),
                        other.type_str()
                    )))
                }
            };
            config.push((k, text));
        }
        let target = file.build.target.unwrap_or_else(|| "wasm32-wasip2".to_string());
        if !["wasm32-wasip2", "wasm32-wasip1", CORE_TARGET].contains(&target.as_str()) {
            return Err(BuildError::Input(format!(
                "{}: [build] target `{target}` is not one morph builds; use wasm32-wasip2, wasm32-wasip1 or \
                 {CORE_TARGET} (a core-module extension)",
                path.display()
            )));
        }
        let output = file.build.output.unwrap_or_else(|| PathBuf::from(format!("target/morph/{}.wasm", id.name)));
        let p = &file.package;
        let metadata = morph_contract::metadata::PackageMetadata {
            description: p.description.clone(),
            licenses: p.license.clone(),
            authors: (!p.authors.is_empty()).then(|| p.authors.join(", ")),
            homepage: p.homepage.clone(),
            source: p.repository.clone(),
            revision: None,
            version: id.version.as_ref().map(ToString::to_string),
        };
        metadata.check().map_err(|e| BuildError::Input(format!("{}: {e}", path.display())))?;
        Ok(Manifest {
            dir: dir.to_path_buf(),
            output: dir.join(output),
            id,
            language: file.package.language,
            world: file.package.world,
            template: file.package.template,
            target,
            config,
            watch: file.build.watch,
            metadata,
        })
    }

    /// Whether the project builds a core module that stays one (a Morphir extension with the
    /// Extism plug-in ABI) rather than a component.
    pub fn core_module(&self) -> bool {
        self.target == CORE_TARGET
    }

    /// The project around `start`: it or the nearest parent with a `morph.toml`.
    pub fn find(start: &Path) -> Option<PathBuf> {
        start.ancestors().find(|d| d.join(MANIFEST).is_file()).map(Path::to_path_buf)
    }
}
