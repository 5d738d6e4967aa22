//! `$MORPH_HOME/config.toml`: registries (insecure, stored login), namespace → registry mapping.
//!
//! ```toml
//! [registries."localhost:5000"]
//! insecure = true
//! auth = "dXNlcjpwYXNz"        # written by `morph login`: base64 of user:password
//!
//! verify = "acme.pub"         # refuse a morph from here that this key did not sign
//!
//! [namespaces]
//! acme = "ghcr.io/acme"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::atomic::write_private_atomic;
use crate::{Home, RegistryError};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub registries: BTreeMap<String, RegistryConfig>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RegistryConfig {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// A public key (PEM; relative to MORPH_HOME) every morph pulled from here must be signed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<PathBuf>,
}

impl Config {
    pub fn path(home: &Home) -> PathBuf {
        home.root().join("config.toml")
    }

    /// The config, or the default when there is no file. A file that does not parse is an
    /// error naming it, never silently ignored.
    pub fn load(home: &Home) -> Result<Config, RegistryError> {
        let path = Config::path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| RegistryError::Config(format!("{} is not valid: {e}; fix or remove it", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(RegistryError::Io { path, message: e.to_string() }),
        }
    }

    /// Writes the config atomically, readable by the user only (it may hold credentials).
    pub fn save(&self, home: &Home) -> Result<(), RegistryError> {
        let path = Config::path(home);
        let text = toml::to_string_pretty(self).map_err(|e| RegistryError::Config(e.to_string()))?;
        // It may hold credentials: its owner's only, from the moment it exists.
        write_private_atomic(&path, text.as_bytes())
            .map_err(|e| RegistryError::Io { path: path.clone(), message: e.to_string() })
    }

    pub fn is_insecure(&self, registry: &str) -> bool {
        self.registries.get(registry).is_some_and(|r| r.insecure)
    }

    /// The key morphs from `registry` must be signed by: `given`, else the one the config
    /// names; a key that cannot be read is an error naming it (never a silent pass).
    pub fn verify_key(
        &self,
        home: &Home,
        registry: &str,
        given: Option<p256::ecdsa::VerifyingKey>,
    ) -> Result<Option<p256::ecdsa::VerifyingKey>, RegistryError> {
        if given.is_some() {
            return Ok(given);
        }
        let Some(path) = self.registries.get(registry).and_then(|r| r.verify.as_ref()) else { return Ok(None) };
        read_public_key(&home.root().join(path)).map(Some)
    }
}

/// A public key file (PEM), its errors naming it.
pub fn read_public_key(path: &std::path::Path) -> Result<p256::ecdsa::VerifyingKey, RegistryError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RegistryError::Io { path: path.to_path_buf(), message: e.to_string() })?;
    crate::sign::read_public(&text).map_err(|e| RegistryError::Config(format!("{}: {e}", path.display())))
}
