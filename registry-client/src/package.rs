//! Where a package `ns:name` lives in OCI, and fetching it: morph's `config.toml`
//! `[namespaces]` first, then wkg's config (package override, namespace, default registry,
//! wkg's fallbacks), with the registry's `/.well-known/wasm-pkg/registry.json` saying which OCI
//! host and repository prefix hold its packages, as wkg asks it. `compose`, `pull ns:name@ver`
//! and `hayride:wac` all find packages here.

use std::path::PathBuf;
use std::time::Duration;

use semver::Version;

use crate::config::Config;
use crate::oci::{self, OciOptions, ProgressEvent};
use crate::wkg::{Metadata, WkgConfig};
use crate::{Home, RegistryError};

/// Where a package's versions are: an OCI repository and how to reach it.
#[derive(Debug, Clone)]
pub struct PackageSource {
    /// `host/prefix/ns/name`: the repository, without a tag.
    pub repository: String,
    /// How to reach it: plain HTTP and the login when wkg's config gives them.
    pub options: OciOptions,
    /// The setting that mapped it, for messages.
    pub via: String,
}

impl PackageSource {
    /// The reference of `version`, or the bare repository (its highest semver tag is taken).
    pub fn reference(&self, version: Option<&Version>) -> String {
        match version {
            Some(v) => format!("{}:{v}", self.repository),
            None => self.repository.clone(),
        }
    }
}

/// Whether locating and fetching may use the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Online,
    /// Only what was fetched before: cached metadata and pulled layers.
    Offline,
}

/// The OCI repository of `package` (`ns:name`), or why there is none.
pub async fn locate(home: &Home, package: &str, network: Network) -> Result<PackageSource, String> {
    let (namespace, name) = package.split_once(':').ok_or_else(|| format!("`{package}` is not ns:name"))?;
    let config = Config::load(home).map_err(|e| e.to_string())?;
    if let Some(prefix) = config.namespaces.get(namespace) {
        return Ok(PackageSource {
            repository: format!("{}/{name}", prefix.trim_end_matches('/')),
            options: OciOptions::default(),
            via: format!("config.toml [namespaces] {namespace}"),
        });
    }
    let wkg = WkgConfig::load().map_err(|e| e.to_string())?;
    let Some(mapping) = wkg.mapping_for(package) else {
        return Err(format!(
            "no registry is mapped to namespace `{namespace}` (morph's config.toml: [namespaces] {namespace} = \
             \"HOST/PREFIX\"; or wkg's config: [namespace_registries] {namespace} = \"HOST\")"
        ));
    };
    let registry = mapping.registry();
    // Metadata the user wrote is trusted with the login; metadata a server sent is not: the
    // login for `registry` goes to the OCI host only when it is that same registry.
    let (metadata, written) = match mapping.metadata() {
        Some(m) => (m.clone(), true),
        None => {
            (discover(home, registry, wkg.is_insecure(registry) || config.is_insecure(registry), network).await, false)
        }
    };
    let (host, prefix) = metadata.oci_location(registry)?;
    let same_host = crate::auth::same_registry(&host, registry);
    let credentials = if written || same_host { wkg.credentials(registry) } else { None };
    let insecure = wkg.is_insecure(&host) || (same_host && wkg.is_insecure(registry));
    let source = WkgConfig::path().map_or("wkg's config".to_string(), |p| format!("wkg's config ({})", p.display()));
    Ok(PackageSource {
        repository: format!("{host}/{prefix}{namespace}/{name}"),
        options: OciOptions { insecure, credentials, verify: None },
        via: format!("{source}: {package} → registry {registry}"),
    })
}

/// Where the metadata of a registry is asked for, as wkg asks: plain HTTP for a loopback
/// registry (or one configured as plain HTTP), HTTPS otherwise.
fn metadata_url(registry: &str, insecure: bool) -> String {
    let host = registry.split(':').next().unwrap_or(registry);
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    let scheme = if loopback || insecure { "http" } else { "https" };
    format!("{scheme}://{registry}/.well-known/wasm-pkg/registry.json")
}

/// The registry's metadata: asked for online (a 404 means none: the registry is its own OCI
/// host), remembered for offline use; when it cannot be reached, what was remembered, else none.
async fn discover(home: &Home, registry: &str, insecure: bool, network: Network) -> Metadata {
    let record = home.root().join("cache/wkg-metadata").join(format!("{}.json", sanitize(registry)));
    let remembered =
        || std::fs::read(&record).ok().and_then(|b| serde_json::from_slice::<Metadata>(&b).ok()).unwrap_or_default();
    if network == Network::Offline {
        return remembered();
    }
    let url = metadata_url(registry, insecure);
    match fetch_metadata(&url).await {
        Ok(found) => {
            let meta = found.unwrap_or_default();
            if let Ok(json) = serde_json::to_vec(&meta) {
                let _ = crate::atomic::write_atomic(&record, &json);
            }
            meta
        }
        Err(e) => {
            tracing::debug!("registry metadata {url}: {e}; using what was seen before, if anything");
            remembered()
        }
    }
}

async fn fetch_metadata(url: &str) -> Result<Option<Metadata>, String> {
    let client = oci::http_client().map_err(|e| e.to_string())?;
    let response =
        client.get(url).timeout(Duration::from_secs(10)).send().await.map_err(|e| format!("cannot reach it: {e}"))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(format!("it answered {}", response.status()));
    }
    // Metadata is a few hundred bytes; anything past 64 KiB is not metadata.
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > 64 << 10 {
        return Err("it sent more than 64 KiB".into());
    }
    serde_json::from_slice(&body).map(Some).map_err(|e| format!("it is not registry metadata: {e}"))
}

/// A registry name as a file name.
fn sanitize(registry: &str) -> String {
    registry.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
}

/// What [`fetch`] found: the reference it resolved to and the verified component in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub reference: String,
    pub path: PathBuf,
    pub downloaded: bool,
}

/// Fetches package `ns:name` at `version` (the highest semver tag when none): from the cache
/// when it was pulled before, else from its registry (not when offline). The error says what
/// was tried.
pub async fn fetch(
    home: &Home,
    package: &str,
    version: Option<&Version>,
    network: Network,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<Fetched, String> {
    let source = locate(home, package, network).await?;
    let explain = |e: RegistryError| crate::error_chain(&e);
    let wanted = source.reference(version);
    let reference = match network {
        Network::Offline => oci::last_resolved(home, &wanted).unwrap_or_else(|| wanted.clone()),
        Network::Online => oci::resolve_tag(home, &wanted, &source.options)
            .await
            .map_err(|e| format!("OCI {wanted} (mapped by {}): {}", source.via, explain(e)))?,
    };
    if let Some(hit) = oci::cached(home, &reference) {
        return Ok(Fetched { reference, path: hit.path, downloaded: false });
    }
    if network == Network::Offline {
        return Err(format!(
            "OCI {reference}: not pulled before, and --offline; pull it with \
             `morph pull {package}{}`",
            version.map(|v| format!("@{v}")).unwrap_or_default()
        ));
    }
    let pulled = oci::pull(home, &reference, &source.options, &crate::source::component_only, progress)
        .await
        .map_err(|e| format!("OCI {reference} (mapped by {}): {}", source.via, explain(e)))?;
    Ok(Fetched { reference, path: pulled.path, downloaded: pulled.downloaded })
}

/// [`fetch`] from what was fetched before, without the network and without an async runtime
/// (for a host call inside a running morph).
pub fn fetch_offline(home: &Home, package: &str, version: Option<&Version>) -> Result<Fetched, String> {
    use futures_util::FutureExt as _;
    // Offline, nothing in `fetch` waits on anything: it completes on its first poll.
    fetch(home, package, version, Network::Offline, &|_| {})
        .now_or_never()
        .unwrap_or_else(|| Err(format!("{package}: fetching it would need the network")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_asked_for_as_wkg_asks() {
        assert_eq!(metadata_url("wasi.dev", false), "https://wasi.dev/.well-known/wasm-pkg/registry.json");
        assert_eq!(metadata_url("127.0.0.1:5000", false), "http://127.0.0.1:5000/.well-known/wasm-pkg/registry.json");
        assert_eq!(metadata_url("reg.lan:80", true), "http://reg.lan:80/.well-known/wasm-pkg/registry.json");
        assert_eq!(sanitize("127.0.0.1:5000"), "127.0.0.1_5000");
    }
}
