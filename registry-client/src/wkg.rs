//! wkg's registry settings, read so that a user of wkg sets nothing twice: which registry a
//! package lives in (`default_registry`, `[namespace_registries]`,
//! `[package_registry_overrides]`) and how to reach it (`[registry."host".oci]`: `auth`,
//! `protocol = "http"`). The file is `$WKG_CONFIG_FILE`, else
//! `$XDG_CONFIG_HOME/wasm-pkg/config.toml`, else `~/.config/wasm-pkg/config.toml`, as wkg
//! finds it. morph's own `config.toml` is asked first wherever both could answer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use crate::auth::Credentials;
use crate::RegistryError;

/// The namespaces wkg maps without being told (its built-in fallbacks).
const FALLBACK_NAMESPACES: [(&str, &str); 2] = [("wasi", "wasi.dev"), ("ba", "bytecodealliance.org")];

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WkgConfig {
    default_registry: Option<String>,
    #[serde(default)]
    namespace_registries: BTreeMap<String, Mapping>,
    #[serde(default)]
    package_registry_overrides: BTreeMap<String, Mapping>,
    #[serde(default)]
    registry: BTreeMap<String, RegistryEntry>,
}

/// A registry a namespace or package maps to: its name (where `.well-known` metadata is asked
/// for), or a name with the metadata written out.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Mapping {
    Registry(String),
    Custom { registry: String, metadata: Metadata },
}

impl Mapping {
    pub fn registry(&self) -> &str {
        match self {
            Mapping::Registry(r) | Mapping::Custom { registry: r, .. } => r,
        }
    }

    /// The metadata written in the config, when there is some (else it is discovered).
    pub fn metadata(&self) -> Option<&Metadata> {
        match self {
            Mapping::Registry(_) => None,
            Mapping::Custom { metadata, .. } => Some(metadata),
        }
    }
}

/// A registry's metadata (`/.well-known/wasm-pkg/registry.json`, or a custom mapping's):
/// which protocol it speaks and, for OCI, which host and repository prefix hold its packages.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci: Option<OciMetadata>,
    /// The older spellings of `oci.registry` and `oci.namespacePrefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_namespace_prefix: Option<String>,
    /// Other protocols (`warg`, `local`, …): only their names matter here.
    #[serde(flatten)]
    pub others: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_prefix: Option<String>,
}

impl Metadata {
    /// The OCI host and repository prefix for packages of `registry`, or why there is none
    /// (the registry speaks only another protocol).
    pub fn oci_location(&self, registry: &str) -> Result<(String, String), String> {
        let has_oci = self.oci.is_some() || self.oci_registry.is_some() || self.oci_namespace_prefix.is_some();
        let other: Vec<&str> = self.others.keys().map(String::as_str).collect();
        let prefers_other = self.preferred_protocol.as_deref().is_some_and(|p| p != "oci");
        if !has_oci && (prefers_other || !other.is_empty()) {
            let speaks = self.preferred_protocol.clone().unwrap_or_else(|| other.join(", "));
            return Err(format!(
                "registry {registry} serves packages over {speaks}, not OCI, which is all morph speaks"
            ));
        }
        let oci = self.oci.clone().unwrap_or_default();
        let host = oci.registry.or_else(|| self.oci_registry.clone()).unwrap_or_else(|| registry.to_string());
        let prefix = oci.namespace_prefix.or_else(|| self.oci_namespace_prefix.clone()).unwrap_or_default();
        Ok((host, prefix))
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
struct RegistryEntry {
    #[serde(default)]
    oci: Option<OciSettings>,
    /// `type`/`default` and the other protocols' tables: not morph's business.
    #[serde(flatten)]
    _rest: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct OciSettings {
    auth: Option<Auth>,
    protocol: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Auth {
    Base64(String),
    UsernamePassword { username: String, password: String },
}

impl WkgConfig {
    /// Where wkg keeps its config.
    pub fn path() -> Option<PathBuf> {
        if let Some(f) = std::env::var_os("WKG_CONFIG_FILE").filter(|f| !f.is_empty()) {
            return Some(f.into());
        }
        let config_dir = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(config_dir.join("wasm-pkg").join("config.toml"))
    }

    /// wkg's config, or the empty one when there is none. A file that does not parse is an
    /// error naming it: silently ignoring it would send packages to the wrong registry.
    pub fn load() -> Result<WkgConfig, RegistryError> {
        let Some(path) = WkgConfig::path() else { return Ok(WkgConfig::default()) };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                RegistryError::Config(format!(
                    "wkg's config {} is not valid: {e}; fix it, or point WKG_CONFIG_FILE at another",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WkgConfig::default()),
            Err(e) => Err(RegistryError::Io { path, message: e.to_string() }),
        }
    }

    /// The registry package `ns:name` maps to, as wkg resolves it: the package's override, its
    /// namespace's registry, the default registry, then wkg's built-in fallbacks.
    pub fn mapping_for(&self, package: &str) -> Option<Mapping> {
        let namespace = package.split(':').next().unwrap_or(package);
        if let Some(m) =
            self.package_registry_overrides.get(package).or_else(|| self.namespace_registries.get(namespace))
        {
            return Some(m.clone());
        }
        if let Some(r) = &self.default_registry {
            return Some(Mapping::Registry(r.clone()));
        }
        FALLBACK_NAMESPACES.iter().find(|(ns, _)| *ns == namespace).map(|(_, r)| Mapping::Registry(r.to_string()))
    }

    fn oci_settings(&self, registry: &str) -> Option<&OciSettings> {
        let (_, entry) = self.registry.iter().find(|(key, _)| crate::auth::same_registry(key, registry))?;
        entry.oci.as_ref()
    }

    /// Whether wkg reaches `registry` over plain HTTP (`protocol = "http"`).
    pub fn is_insecure(&self, registry: &str) -> bool {
        self.oci_settings(registry).and_then(|o| o.protocol.as_deref()).is_some_and(|p| p.eq_ignore_ascii_case("http"))
    }

    /// The login wkg's config holds for `registry`, if any.
    pub fn credentials(&self, registry: &str) -> Option<Credentials> {
        match self.oci_settings(registry)?.auth.as_ref()? {
            Auth::UsernamePassword { username, password } => {
                Some(Credentials { username: username.clone(), password: password.clone() })
            }
            Auth::Base64(encoded) => {
                let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
                let (u, p) = std::str::from_utf8(&raw).ok()?.split_once(':')?;
                Some(Credentials { username: u.to_string(), password: p.to_string() })
            }
        }
    }
}

/// `WKG_REGISTRY_<HOST>_AUTH_BEARER`, wkg's per-registry token variable: every character of
/// the registry's name that is not an ASCII letter or digit becomes `_`, all upper case.
pub fn bearer_token(registry: &str) -> Option<String> {
    let host: String =
        registry.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    std::env::var(format!("WKG_REGISTRY_{host}_AUTH_BEARER")).ok().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> WkgConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn packages_map_as_wkg_maps_them() {
        let c = parse(
            r#"
            default_registry = "example.com"
            [namespace_registries]
            acme = "localhost:5000"
            other = { registry = "o.dev", metadata = { preferredProtocol = "oci", oci = { registry = "ghcr.io", namespacePrefix = "o/" } } }
            [package_registry_overrides]
            "acme:special" = "special.io"
            [registry."localhost:5000".oci]
            auth = { username = "ann", password = "pw" }
            protocol = "http"
            [registry."special.io".oci]
            auth = "Ym9iOnNlY3JldA=="
            [registry."warg.io"]
            type = "warg"
            warg = { auth_token = "x" }
            "#,
        );
        assert_eq!(c.mapping_for("acme:hello").unwrap().registry(), "localhost:5000");
        assert_eq!(c.mapping_for("acme:special").unwrap().registry(), "special.io");
        assert_eq!(c.mapping_for("zzz:x").unwrap().registry(), "example.com", "the default registry");
        let custom = c.mapping_for("other:x").unwrap();
        assert_eq!(custom.metadata().unwrap().oci_location("o.dev").unwrap(), ("ghcr.io".into(), "o/".into()));
        assert!(c.is_insecure("localhost:5000") && !c.is_insecure("special.io"));
        assert_eq!(c.credentials("localhost:5000").unwrap().username, "ann");
        assert_eq!(c.credentials("special.io").unwrap().password, "secret");
        assert!(c.credentials("example.com").is_none());
        let none = WkgConfig::default();
        assert_eq!(none.mapping_for("wasi:http").unwrap().registry(), "wasi.dev", "wkg's fallback");
        assert!(none.mapping_for("acme:x").is_none());
    }

    #[test]
    fn metadata_in_every_spelling() {
        let m: Metadata =
            serde_json::from_str(r#"{"ociRegistry":"ghcr.io","ociNamespacePrefix":"webassembly/"}"#).unwrap();
        assert_eq!(m.oci_location("wasi.dev").unwrap(), ("ghcr.io".into(), "webassembly/".into()));
        let m: Metadata = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(m.oci_location("r.io").unwrap(), ("r.io".into(), String::new()));
        let m: Metadata = serde_json::from_str(r#"{"preferredProtocol":"warg","warg":{"url":"https://w"}}"#).unwrap();
        assert!(m.oci_location("w.io").unwrap_err().contains("warg"));
    }

    #[test]
    fn bearer_variables_are_named_as_wkg_names_them() {
        std::env::set_var("WKG_REGISTRY_GHCR_IO_AUTH_BEARER", "tok");
        assert_eq!(bearer_token("ghcr.io").as_deref(), Some("tok"));
        assert_eq!(bearer_token("quay.io"), None);
        std::env::remove_var("WKG_REGISTRY_GHCR_IO_AUTH_BEARER");
    }
}
