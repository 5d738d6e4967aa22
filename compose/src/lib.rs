//! Composing morphs: WAC documents (`morph compose`) and socket/plug wiring (`morph plug`).
//!
//! Built on wac-parser, wac-graph and wac-types. What wac lacks and morph adds is where packages
//! come from: `--dep` overrides, deps directories, the local morph registry and OCI registries
//! mapped by namespace (see [`resolve`]). Components cross into wac as bytes only: wac carries
//! its own wasm-tools, a different version from the rest of morph.

pub mod diagnostic;
pub mod lock;
pub mod plug;
pub mod resolve;

use std::path::{Path, PathBuf};

use wac_graph::EncodeOptions;
use wac_parser::Document;

pub use plug::{plug, PlugInput, PlugReport};
pub use resolve::{Origin, ResolvedPackage, Sources};

/// Why a composition failed. Each is an input error: the WAC file, a package or a plug is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A diagnostic rendered against the WAC source: file, line, column and a label; `stage`
    /// says which step of composing failed, for callers that classify failures.
    #[error("{text}")]
    Rendered { stage: Stage, text: String },
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("{0}")]
    Plug(String),
}

/// The step of [`compose`] a diagnostic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Parsing the WAC document or wiring it (unknown exports, mismatched arguments…).
    Compose,
    /// Finding a package the document names.
    Resolve,
    /// Reading a package that was found.
    Load,
    /// Encoding and validating the composed component.
    Encode,
}

/// A composed component and where each of its packages came from.
pub struct Composition {
    pub bytes: Vec<u8>,
    pub packages: Vec<ResolvedPackage>,
}

/// Composes the WAC document at `path` (whose text is `source`).
pub fn compose(path: &Path, source: &str, sources: &Sources<'_>, color: bool) -> Result<Composition, ComposeError> {
    let render = |stage: Stage, report: miette::Report| ComposeError::Rendered {
        stage,
        text: diagnostic::render(report, path, source, color),
    };
    let document = Document::parse(source).map_err(|e| render(Stage::Compose, e.into()))?;
    let keys = wac_resolver::packages(&document).map_err(|e| render(Stage::Compose, e.into()))?;
    let mut packages = indexmap::IndexMap::new();
    let mut resolved = Vec::new();
    let mut spans = Vec::new();
    for (key, span) in keys {
        let key_text = key.to_string();
        // The locked version first; when it is gone, what resolution gives now (the lock then
        // reports the move).
        let pinned = sources.pins.iter().find(|(name, _)| *name == key_text).map(|(_, v)| v);
        let found = match (resolve::find(key.name, key.version.or(pinned), sources), pinned) {
            (Err(_), Some(_)) if key.version.is_none() => resolve::find(key.name, None, sources),
            (found, _) => found,
        }
        .map_err(|miss| render(Stage::Resolve, miss.at(span).into()))?;
        let bytes = resolve::load(&found)
            .map_err(|e| render(Stage::Load, resolve::LoadFailed { name: key.to_string(), span, reason: e }.into()))?;
        let sha256 = morph_contract::component::sha256_digest(&bytes);
        packages.insert(key, bytes);
        resolved.push(ResolvedPackage { key: key_text, origin: found, sha256 });
        spans.push(span);
    }
    let resolution = document.resolve(packages).map_err(|e| {
        // wac's decoder does not say which file it was reading: a package whose bytes are not a
        // valid component is named with its path, in the words `validate` uses.
        for (package, span) in resolved.iter().zip(&spans) {
            let bytes = resolve::load(&package.origin).unwrap_or_default();
            if let Err(invalid) = resolve::check_bytes(&package.origin, &bytes) {
                let failed = resolve::LoadFailed { name: package.key.clone(), span: *span, reason: invalid };
                return render(Stage::Load, failed.into());
            }
        }
        render(Stage::Compose, e.into())
    })?;
    let bytes = resolution
        .encode(EncodeOptions { define_components: true, validate: true, ..Default::default() })
        .map_err(|e| render(Stage::Encode, e.into()))?;
    Ok(Composition { bytes, packages: resolved })
}
