//! Where morphs live: `$MORPH_HOME` and its local registry (OCI registries come later).

pub mod home;
pub mod id;
pub mod local;

pub use home::Home;
pub use id::MorphId;
pub use local::{resolve_local, LocalMorph};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("`{0}` is not a morph id; write ns:name or ns:name@1.2.3 (lowercase letters, digits and '-')")]
    BadId(String),
    #[error("{id} is not in the local registry ({dir}){available}; add it with `morph register FILE --package {id}`")]
    NotFound { id: String, dir: PathBuf, available: String },
    #[error("cannot read the local registry at {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
}
