//! Where morphs live: `$MORPH_HOME` and its local registry (OCI registries come later).

pub mod atomic;
pub mod auth;
pub mod config;
pub mod home;
pub mod id;
pub mod local;
pub mod oci;

pub use home::Home;
pub use id::MorphId;
pub use local::{list, register, remove, resolve_local, ListedMorph, LocalMorph};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("`{0}` is not a morph id; write ns:name or ns:name@1.2.3 (lowercase letters, digits and '-')")]
    BadId(String),
    #[error("{id} is not in the local registry ({dir}){available}; add it with `morph register FILE --package {id}`")]
    NotFound { id: String, dir: PathBuf, available: String },
    #[error("cannot read or write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{0} has no version; write ns:name@1.2.3")]
    NeedsVersion(String),
    #[error("{id} is already registered ({}); pass --force to replace it", path.display())]
    Exists { id: String, path: PathBuf },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Oci(String),
}
