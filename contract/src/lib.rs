//! The Hayride contract: the bundled worlds, the table of host interfaces the runtime provides,
//! decoding components (a decoder panic on a stranger's bytes is contained), and checking them.
//!
//! Pure: it reads bytes it is given and the WIT embedded at build time; no network, no writes.

pub mod bundled;
pub mod component;
pub mod conformance;
mod contain;
pub mod contract_version;
pub mod elaborate;
pub mod host_interfaces;
pub mod inspect;
pub mod kind;
pub mod materialize;
pub mod metadata;
pub mod names;
pub mod plugin;
pub mod report;
pub mod runtime_support;
mod skeleton;
pub mod types;
pub mod validate;

use std::path::PathBuf;

pub use bundled::{Contract, WorldEntry, WORLDS};
pub use component::Component;
pub use kind::Kind;
pub use report::{Finding, FindingKind, Severity};
pub use validate::{validate, Validation, WorldSpec};

/// Why an input cannot be checked at all (exit code 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("cannot read {}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    /// Package metadata that cannot be embedded (`morph.toml` `[package]`).
    #[error("[package] {field} = {value:?}: {why}")]
    Metadata { field: String, value: String, why: String },
    #[error("{} is not a WebAssembly component: {message}", path.display())]
    NotAComponent { path: PathBuf, message: String },
    #[error("{} is a core WebAssembly module, not a component; turn it into one with `morph build` (or `wasm-tools component new --adapt` with the WASI preview1 adapter)", path.display())]
    CoreModule { path: PathBuf },
    #[error("{} is a Morphir extension as a core module (the Extism plug-in ABI); run it with `morph ext run`, `morph ext session` or `morph ext info`", path.display())]
    CoreExtension { path: PathBuf },
    #[error("{} is an encoded WIT package, not a component; build a component that implements it", path.display())]
    WitPackage { path: PathBuf },
    /// A valid component whose imports and exports WIT cannot express (it exports types,
    /// nested components or instances of such a shape), so no world can be checked against it.
    #[error("{} is a valid component, but WIT cannot describe it ({reason}), so it cannot be checked against a world; `morph inspect` shows its imports and exports by name", path.display())]
    NoWit { path: PathBuf, reason: String },
    #[error("unknown world `{name}`; known worlds: {known} (or a full name like hayride:runtime/hayride-cli@0.0.1, or --wit DIR)")]
    UnknownWorld { name: String, known: String },
    #[error("no contract {version} is bundled; the bundled contracts are {known}")]
    UnknownContract { version: String, known: String },
    #[error("cannot load WIT from {}: {message}", path.display())]
    Wit { path: PathBuf, message: String },
}
