//! `$MORPH_HOME/config.toml`: registries (insecure, stored login), namespace → registry mapping.
//!
//! ```toml
//! [registries."localhost:5000"]
//! insecure = true
//! auth = "dXNlcjpwYXNz"        # written by `morph login`: base64 of user:password
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
}
