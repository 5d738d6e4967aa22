//! `morph new`: a project directory from the embedded templates, written whole or not at all.

use std::path::{Path, PathBuf};

use morph_registry_client::id::valid_label;
use morph_registry_client::MorphId;

use crate::manifest::{Language, Template};
use crate::BuildError;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

pub struct NewProject<'a> {
    /// Where the project directory is made.
    pub parent: &'a Path,
    pub name: &'a str,
    pub language: Language,
    pub template: Template,
    /// `ns:name` or `ns:name@version`; `local:<name>` when absent.
    pub package: Option<&'a str>,
    /// The Hayride contract version whose packages go into `wit/deps`; the newest when absent.
    pub contract: Option<&'a str>,
    /// A core-module extension (the Extism plug-in ABI) instead of a component: no `wit/`.
    pub core: bool,
}

/// The bundled world each template's own world includes: its packages go into `wit/deps`.
fn base_world(template: Template) -> &'static str {
    match template {
        Template::Cli | Template::Reactor => "hayride-cli",
        Template::Server => "hayride-server",
        Template::Extension => "extension",
    }
}

/// Writes the project; returns its directory and the files in it.
pub fn new_project(p: &NewProject) -> Result<(PathBuf, Vec<PathBuf>), BuildError> {
    if !valid_label(p.name) {
        return Err(BuildError::Input(format!(
            "`{}` is not a valid morph name: use lowercase letters, digits and single dashes, starting with a letter (e.g. my-app)",
            p.name
        )));
    }
    let id = match p.package {
        Some(pkg) => MorphId::parse(pkg).map_err(|_| {
            BuildError::Input(format!(
                "`{pkg}` is not a valid package: write ns:name or ns:name@version (e.g. acme:{})",
                p.name
            ))
        })?,
        None => MorphId::parse(&format!("local:{}", p.name)).expect("a valid name makes a valid id"),
    };
    let version = id.version.clone().unwrap_or(semver_0_1_0());
    if p.core && p.template != Template::Extension {
        return Err(BuildError::Input(format!(
            "--core makes a Morphir extension as a core module; use it with --world extension, not --world {}",
            p.template.as_str()
        )));
    }
    if p.core && p.language != Language::Rust {
        return Err(BuildError::Input(format!(
            "--core has a Rust template (extism-pdk) only; a {} core-module extension is built with that language's \
             Extism PDK and run with `morph ext` as it is",
            p.language.as_str()
        )));
    }
    let flavour = if p.core { "-core" } else { "" };
    let source_dir = format!("{}/{}{flavour}/", p.language.as_str(), p.template.as_str());
    let sources: Vec<_> = TEMPLATES.iter().filter(|(path, _)| path.starts_with(&source_dir)).collect();
    if sources.is_empty() {
        let offered: Vec<&str> = [Template::Cli, Template::Server, Template::Reactor, Template::Extension]
            .into_iter()
            .filter(|t| {
                TEMPLATES.iter().any(|(path, _)| path.starts_with(&format!("{}/{}/", p.language.as_str(), t.as_str())))
            })
            .map(Template::as_str)
            .collect();
        return Err(BuildError::Input(format!(
            "there is no {} template for --lang {}; it has: {}",
            p.template.as_str(),
            p.language.as_str(),
            offered.join(", ")
        )));
    }
    let target = p.parent.join(p.name);
    if target.exists() {
        return Err(BuildError::Input(format!(
            "{} already exists; morph new never writes into an existing directory: pick another name or remove it",
            target.display()
        )));
    }
    let vars = [
        ("{{name}}", p.name.to_string()),
        ("{{crate}}", p.name.replace('-', "_")),
        ("{{package}}", format!("{}:{}", id.namespace, id.name)),
        ("{{version}}", version.to_string()),
        ("{{id}}", format!("{}:{}@{version}", id.namespace, id.name)),
        ("{{world}}", p.template.as_str().to_string()),
        ("{{language}}", p.language.as_str().to_string()),
    ];
    let render = |text: &str| vars.iter().fold(text.to_string(), |t, (k, v)| t.replace(k, v));

    // Everything goes into a hidden sibling first, renamed into place at the end: a failure
    // leaves nothing behind.
    let io = |what: &Path, e: std::io::Error| BuildError::Input(format!("cannot write {}: {e}", what.display()));
    let (staging, tracked) =
        morph_registry_client::atomic::tracked_dir_in(p.parent, ".morph-new-").map_err(|e| io(p.parent, e))?;
    let mut files = Vec::new();
    let mut put = |rel: &str, text: &str| -> Result<(), BuildError> {
        let rel = match rel.rsplit_once('/') {
            Some((dir, "gitignore")) => format!("{dir}/.gitignore"),
            None if rel == "gitignore" => ".gitignore".to_string(),
            _ => rel.to_string(),
        };
        let path = staging.path().join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        std::fs::write(&path, render(text)).map_err(|e| io(&path, e))?;
        files.push(target.join(rel));
        Ok(())
    };
    // A template's own file of a common name (a core template's morph.toml) replaces it.
    let own = |rel: &str| sources.iter().any(|(path, _)| &path[source_dir.len()..] == rel);
    for (path, text) in TEMPLATES.iter().filter(|(path, _)| path.starts_with("common/")) {
        if !own(&path["common/".len()..]) {
            put(&path["common/".len()..], text)?;
        }
    }
    for (path, text) in &sources {
        put(&path[source_dir.len()..], text)?;
    }
    if p.core {
        return finish(staging, tracked, &target, files);
    }
    let world_file = format!("wit/{}.wit", p.template.as_str());
    let (_, world_text) = TEMPLATES.iter().find(|(path, _)| *path == world_file).expect("every template has a world");
    put("wit/world.wit", world_text)?;
    let contract = match p.contract {
        Some(v) => morph_contract::Contract::named(v).map_err(|e| BuildError::Input(e.to_string()))?,
        None => morph_contract::Contract::bundled(),
    };
    let base = contract.world(base_world(p.template)).map_err(|e| BuildError::Input(e.to_string()))?;
    let deps = morph_contract::materialize::write_wit_deps(contract, base, &staging.path().join("wit/deps"))
        .map_err(|e| BuildError::Input(e.to_string()))?;
    files.extend(deps.iter().filter_map(|f| f.strip_prefix(staging.path()).ok()).map(|rel| target.join(rel)));
    finish(staging, tracked, &target, files)
}

/// Renames the staged project into place at `target`.
fn finish(
    staging: tempfile::TempDir,
    tracked: morph_registry_client::atomic::Pending,
    target: &Path,
    mut files: Vec<PathBuf>,
) -> Result<(PathBuf, Vec<PathBuf>), BuildError> {
    let staged = staging.keep();
    tracked.keep(|_| std::fs::rename(&staged, target)).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        BuildError::Input(format!("cannot write {}: {e}", target.display()))
    })?;
    files.sort();
    Ok((target.to_path_buf(), files))
}

fn semver_0_1_0() -> semver::Version {
    semver::Version::new(0, 1, 0)
}
