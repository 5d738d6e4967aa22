//! Where morphs live: `$MORPH_HOME`, its local registry, and OCI registries (push, pull with
//! bounded and digest-verified downloads, credentials from morph, docker and the environment).

pub mod atomic;
pub mod auth;
pub mod cache;
pub mod checked;
pub mod config;
pub mod home;
pub mod id;
pub mod local;
pub mod models;
pub mod oci;
pub mod package;
pub mod sign;
pub mod source;
pub mod units;
pub mod wkg;

pub use home::Home;

/// The HTTP client of the requests morph makes itself (registries, the model hub, an
/// extension's `http` command): rustls with the system's roots, morph's timeouts and user agent.
pub fn http_client() -> Result<reqwest::Client, RegistryError> {
    oci::http_client()
}
pub use id::MorphId;
pub use local::{list, register, remove, resolve_local, ListedMorph, LocalMorph};

use std::path::PathBuf;

/// An error and its causes on one line (`outer: cause: root cause`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

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
    /// A morph that is not signed by the key given, or not for this manifest.
    #[error("{reference}: refused: {why}; nothing was written")]
    Unverified { reference: String, why: String },
    #[error("--verify checks the signature of a morph in an OCI registry; {0} is a local file or registry id, which has none")]
    VerifyLocal(String),
    #[error("--annotation {0}: write KEY=VALUE")]
    BadAnnotation(String),
    #[error("SOURCE_DATE_EPOCH={0} is not a number of seconds since 1970-01-01 UTC; set it to one (e.g. `git log -1 --format=%ct`) or unset it")]
    BadSourceDateEpoch(String),
    /// The bytes named are not a component (or cannot be read).
    #[error(transparent)]
    Contract(#[from] morph_contract::ContractError),
    #[error("pull {reference}: {registry} sent more than the {declared} bytes its manifest declares for {digest}; stopped there and kept nothing (the registry is misbehaving: try again later, or ask its operator)")]
    BlobTooLarge { reference: String, registry: String, digest: String, declared: u64 },
    #[error("pull {reference}: the manifest {registry} sent is larger than {limit} bytes, the most morph reads; kept nothing (is {registry} an OCI registry?)")]
    ManifestTooLarge { reference: String, registry: String, limit: u64 },
    #[error(
        "pull {reference}: the {what} does not match its digest (expected {expected}, got {actual}); kept nothing"
    )]
    DigestMismatch { reference: String, what: String, expected: String, actual: String },
    #[error("pull {reference}: {registry} sent a manifest that is not an OCI manifest; kept nothing")]
    BadManifest {
        reference: String,
        registry: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("pull {reference}: nothing was kept of layer {digest}")]
    NotAComponent {
        reference: String,
        digest: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("`{name}` is not a registry name: {reason}; write HOST or HOST:PORT, e.g. ghcr.io or localhost:5000")]
    BadRegistryName { name: String, reason: String },
    #[error("`{username}` cannot be a registry username: it must be non-empty, with no ':' or line break (basic auth joins user and password with ':')")]
    BadUsername { username: String },
    #[error("login {registry}: the registry refused these credentials ({status}); nothing was stored. Check the username and password (or token)")]
    LoginRefused { registry: String, status: u16 },
    #[error("login {registry}: cannot reach the registry to check the credentials; nothing was stored. Check the address, pass --insecure for a plain-HTTP registry, or --no-verify to store them unchecked")]
    Unreachable {
        registry: String,
        #[source]
        source: reqwest::Error,
    },
}
