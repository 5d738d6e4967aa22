//! OCI registries: push and pull of the CNCF wasm artifact layout (what wkg and wash write).
//!
//! Push: manifest `application/vnd.oci.image.manifest.v1+json`, config
//! `application/vnd.wasm.config.v0+json`, one layer `application/wasm`; blobs the registry has
//! are not uploaded again. Pull: accepts that layer and the older
//! `application/vnd.wasm.content.layer.v1+wasm`; every blob is checked against its digest before
//! it is kept. Pulled layers live in `$MORPH_HOME/cache/oci/blobs/sha256/<hex>` and the last
//! manifest seen for a tag in `cache/oci/refs/`, so running a pulled morph again needs no network.

mod authorize;
mod bounded;
mod failure;
mod index;
pub mod login;
mod reference;
mod session;
mod signature;
mod tags;
mod tls;
mod upload;

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_client::manifest::{OciDescriptor, OciManifest};

use oci_client::Reference;
use serde::{Deserialize, Serialize};

pub use bounded::{parse_manifest, Acceptance, MANIFEST_LIMIT};
use failure::{explain_failure, retry};
pub(crate) use session::{client_builder, http_client};
use session::{session, Access, Session};
pub use tags::{last_resolved, resolve_tag};

use crate::atomic::write_atomic;
use crate::auth::Credentials;
use crate::{Home, RegistryError};
pub(crate) use morph_contract::component::sha256_digest;
use morph_contract::component::sha256_hex;

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The layer type of the older wasm-to-oci layout, still accepted on pull.
pub const OLD_LAYER_MEDIA_TYPE: &str = "application/vnd.wasm.content.layer.v1+wasm";
/// runwasi's layer type for a component (what containerd's wasm shims pull).
pub const RUNWASI_LAYER_MEDIA_TYPE: &str = "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm";

/// Every layer type a pulled component may come in.
const WASM_LAYER_TYPES: [&str; 3] = [LAYER_MEDIA_TYPE, OLD_LAYER_MEDIA_TYPE, RUNWASI_LAYER_MEDIA_TYPE];

/// What a component is, for the config blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ComponentInfo {
    pub exports: Vec<String>,
    pub imports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The config blob of a wasm artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    pub layer_digests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct OciOptions {
    /// Plain HTTP for this registry (also when config.toml marks it insecure).
    pub insecure: bool,
    /// Credentials given on the command line; otherwise they are looked up.
    pub credentials: Option<Credentials>,
    /// Refuse a morph this key did not sign (cosign's signature layout), before anything of it
    /// is written.
    pub verify: Option<p256::ecdsa::VerifyingKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PushOutcome {
    pub reference: String,
    pub manifest_digest: String,
    pub layer_digest: String,
    pub size: u64,
    /// Digests uploaded; the others were in the registry already.
    pub uploaded: Vec<String>,
    pub skipped: Vec<String>,
    /// The signature's reference, when the push was signed.
    pub signature: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullOutcome {
    pub reference: String,
    pub manifest_digest: String,
    pub layer_digest: String,
    pub size: u64,
    /// Where the verified layer is kept.
    pub path: PathBuf,
    /// False when the layer was already in the cache.
    pub downloaded: bool,
}

/// Parses `registry/repo:tag` or `registry/repo@sha256:…`.
pub fn parse_reference(s: &str) -> Result<Reference, RegistryError> {
    reference::parse(s).map_err(|reference::Invalid(why)| {
        RegistryError::Oci(format!(
            "`{s}` is not an OCI reference ({why}); write REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST"
        ))
    })
}

/// Whether a command-line argument is meant as an OCI reference: a registry host before the
/// first `/`.
pub fn looks_like_reference(s: &str) -> bool {
    match s.split_once('/') {
        Some((host, rest)) => {
            !rest.is_empty()
                && (host.contains('.') || host.contains(':') || host == "localhost")
                && !s.ends_with(".wasm")
                && !s.ends_with(".wat")
        }
        None => false,
    }
}

/// The manifest annotations of a push, each winning over the one before: `embedded` (what the
/// component says of its package), `created` (from `SOURCE_DATE_EPOCH`, only when it is set),
/// `version` (the registry id's, else a semver tag), `source` when given, then `extra`
/// (`KEY=VALUE`). Nothing here depends on when or where the push runs, so the same bytes pushed
/// with the same metadata get the same manifest digest.
pub fn annotations(
    reference: &str,
    embedded: BTreeMap<String, String>,
    version: Option<String>,
    source: Option<&str>,
    extra: &[String],
) -> Result<BTreeMap<String, String>, RegistryError> {
    let reference = parse_reference(reference)?;
    let mut out = embedded;
    if let Some(created) = source_date_epoch()? {
        out.insert(CREATED.to_string(), created);
    }
    let tag_version = || reference.tag().filter(|t| semver::Version::parse(t).is_ok()).map(str::to_string);
    if let Some(v) = version.or_else(tag_version) {
        out.insert("org.opencontainers.image.version".to_string(), v);
    }
    if let Some(src) = source {
        out.insert("org.opencontainers.image.source".to_string(), src.to_string());
    }
    for a in extra {
        let (k, v) = a.split_once('=').ok_or_else(|| RegistryError::BadAnnotation(a.clone()))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Pushes a component; `annotations` go on the manifest. With `sign`, the manifest is then
/// signed where cosign keeps signatures (see [`signature`]).
pub async fn push(
    home: &Home,
    reference: &str,
    wasm: &[u8],
    component: ComponentInfo,
    annotations: BTreeMap<String, String>,
    sign: Option<&p256::ecdsa::SigningKey>,
    opts: &OciOptions,
) -> Result<PushOutcome, RegistryError> {
    let s = session(home, reference, opts, Access::Push).await?;
    let r = &s.reference;
    let layer_digest = sha256_digest(wasm);
    // The config's `created` is required by readers that follow the wasm OCI layout strictly
    // (rust-oci-wasm, which wkg uses): without SOURCE_DATE_EPOCH it is the epoch itself, a
    // fixed value, never the clock.
    let config = WasmConfig {
        created: annotations.get(CREATED).cloned().unwrap_or_else(|| rfc3339(0)),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest.clone()],
        component: Some(component),
    };
    let config_bytes = serde_json::to_vec(&config).map_err(|e| RegistryError::Oci(e.to_string()))?;
    let layer = OciDescriptor {
        media_type: LAYER_MEDIA_TYPE.into(),
        digest: layer_digest.clone(),
        size: wasm.len() as i64,
        // What `oras pull` and similar tools name the file they write.
        annotations: Some(BTreeMap::from([(TITLE.to_string(), layer_title(r))])),
        ..Default::default()
    };
    let manifest = upload::image_manifest(CONFIG_MEDIA_TYPE, &config_bytes, vec![layer], annotations);
    let blobs = vec![
        (layer_digest.clone(), bytes::Bytes::copy_from_slice(wasm)),
        (manifest.config.digest.clone(), bytes::Bytes::from(config_bytes)),
    ];
    let done = upload::upload(&s, "push", r.tag().unwrap_or("latest"), blobs, &manifest).await?;
    let signature = match sign {
        Some(key) => Some(signature::attach(&s, &done.manifest_digest, key).await?),
        None => None,
    };
    Ok(PushOutcome {
        reference: r.whole(),
        manifest_digest: done.manifest_digest,
        layer_digest,
        size: wasm.len() as u64,
        uploaded: done.uploaded,
        skipped: done.skipped,
        signature,
    })
}

fn blobs_dir(home: &Home) -> PathBuf {
    home.root().join("cache/oci/blobs/sha256")
}

/// The record of the last pull of `r`, keyed by the sha256 of the whole reference: two
/// references never share a record, however their names are spelled.
fn ref_file(home: &Home, r: &Reference) -> PathBuf {
    let digest = sha256_digest(r.whole().as_bytes());
    home.root().join("cache/oci/refs").join(format!("{}.json", digest.trim_start_matches("sha256:")))
}

/// The morph a reference was last pulled as, without touching the network: the cached layer
/// when it is still there and intact.
pub fn cached(home: &Home, reference: &str) -> Option<PullOutcome> {
    let r = parse_reference(reference).ok()?;
    // The record of the last pull names the layer; a digest reference must match its manifest.
    let text = std::fs::read_to_string(ref_file(home, &r)).ok()?;
    let rec: PullOutcome = serde_json::from_str(&text).ok()?;
    if r.digest().is_some_and(|d| d != rec.manifest_digest) {
        return None;
    }
    let layer_digest = rec.layer_digest;
    let path = blobs_dir(home).join(layer_digest.strip_prefix("sha256:")?);
    let size = verified_blob_size(home, &path, &layer_digest)?;
    // The record's age is when the morph was last used: `cache prune` goes by it.
    crate::cache::touch(&ref_file(home, &r));
    Some(PullOutcome {
        reference: r.whole(),
        manifest_digest: rec.manifest_digest,
        layer_digest,
        size,
        path,
        downloaded: false,
    })
}

/// Pulls a component: the manifest, then its wasm layer unless the cache has it. `progress` is
/// told the layer size, then each chunk's length.
///
/// `accept` decides whether the bytes may be kept (a component, for a morph): a layer it
/// refuses is not written anywhere. A layer already in the cache was accepted when it came in.
pub async fn pull(
    home: &Home,
    reference: &str,
    opts: &OciOptions,
    accept: Acceptance<'_>,
    progress: &(dyn Fn(ProgressEvent) + Sync),
) -> Result<PullOutcome, RegistryError> {
    let s = session(home, reference, opts, Access::Pull).await?;
    let r = &s.reference;
    let target = r.digest().or(r.tag()).unwrap_or("latest");
    let (manifest, manifest_digest) = retry("fetching the manifest", || bounded::fetch_manifest(&s, target))
        .await
        .map_err(|e| explain_failure(e, &s, "pull"))?;
    if let Some(wanted) = r.digest() {
        if wanted != manifest_digest {
            return Err(RegistryError::Oci(format!(
                "pull {r}: the registry sent manifest {manifest_digest}, not {wanted}; nothing was written"
            )));
        }
    }
    if let Some(key) = &s.verify {
        signature::check(&s, &manifest_digest, key).await?;
    }
    let image = match manifest {
        OciManifest::Image(m) => m,
        OciManifest::ImageIndex(index) => index::wasm_manifest_of(&s, &index).await?,
    };
    let layer = image
        .layers
        .iter()
        .find(|l| WASM_LAYER_TYPES.contains(&l.media_type.as_str()))
        .cloned()
        .ok_or_else(|| {
            let kinds: Vec<&str> = image.layers.iter().map(|l| l.media_type.as_str()).collect();
            RegistryError::Oci(format!(
                "pull {r}: the manifest has no wasm layer (layers: {}); expected one of {} — is this a container image?",
                if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") },
                WASM_LAYER_TYPES.join(", ")
            ))
        })?;
    let hex = layer
        .digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| RegistryError::Oci(format!("pull {r}: unsupported layer digest {}", layer.digest)))?
        .to_string();
    let dir = blobs_dir(home);
    let path = dir.join(&hex);
    let mut downloaded = false;
    let have = verified_blob_size(home, &path, &layer.digest).is_some();
    if !have {
        progress(ProgressEvent::Start(layer.size.max(0) as u64));
        retry("downloading the layer", || bounded::download(&s, &layer, &path, accept, progress))
            .await
            .map_err(|e| explain_failure(e, &s, "pull"))?;
        progress(ProgressEvent::Done);
        downloaded = true;
        // Hashed as it arrived: the next use need not hash it again.
        if let Some(marker) = crate::checked::marker(home, &layer.digest, &path) {
            crate::checked::remember(&marker);
        }
    }
    let outcome = PullOutcome {
        reference: r.whole(),
        manifest_digest,
        layer_digest: layer.digest.clone(),
        size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        path,
        downloaded,
    };
    let rec = ref_file(home, r);
    if let Ok(json) = serde_json::to_vec(&outcome) {
        let _ = write_atomic(&rec, &json);
    }
    Ok(outcome)
}

/// The size of a cached blob whose bytes still hash to `digest`; `None` when it is missing or
/// no longer matches (then it is fetched again). A blob hashed before and unchanged since (see
/// [`crate::checked`]) is not hashed again: a warm pull of a 40 MB morph reads none of it.
fn verified_blob_size(home: &Home, path: &std::path::Path, digest: &str) -> Option<u64> {
    let marker = crate::checked::marker(home, digest, path)?;
    if crate::checked::passed(&marker) {
        return std::fs::metadata(path).ok().map(|m| m.len());
    }
    let bytes = std::fs::read(path).ok()?;
    (sha256_digest(&bytes) == digest).then(|| {
        crate::checked::remember(&marker);
        bytes.len() as u64
    })
}

#[derive(Debug, Clone, Copy)]
pub enum ProgressEvent {
    Start(u64),
    Bytes(u64),
    Done,
}

/// The manifest annotation of when the artifact was made.
const CREATED: &str = "org.opencontainers.image.created";
/// The layer annotation of its file name.
const TITLE: &str = "org.opencontainers.image.title";

/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention) as RFC 3339, when it is set.
pub fn source_date_epoch() -> Result<Option<String>, RegistryError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            let secs = v.trim().parse::<u64>().map_err(|_| RegistryError::BadSourceDateEpoch(v.clone()))?;
            Ok(Some(rfc3339(secs)))
        }
        _ => Ok(None),
    }
}

/// `<name>.wasm`, the name the last segment of the repository gives.
fn layer_title(r: &Reference) -> String {
    format!("{}.wasm", morph_name(r))
}

/// The morph's name in a reference: the last segment of its repository.
pub fn morph_name(r: &Reference) -> &str {
    r.repository().rsplit('/').next().unwrap_or("morph")
}

/// UTC now as RFC 3339 (`2026-11-22T03:04:05Z`).
pub fn rfc3339_now() -> String {
    rfc3339(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// `secs` after 1970-01-01 UTC as RFC 3339 (`2026-12-01T07:00:00Z`).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert!(looks_like_reference("localhost:5000/hello:1.0"));
        assert!(looks_like_reference("ghcr.io/acme/hello@sha256:abc"));
        assert!(!looks_like_reference("acme:hello@1.0.0"));
        assert!(!looks_like_reference("./build/hello.wasm"));
        assert!(!looks_like_reference("dir/hello.wasm"));
        let r = parse_reference("127.0.0.1:5000/morphs/hello:0.1.0").unwrap();
        assert_eq!((r.registry(), r.repository(), r.tag()), ("127.0.0.1:5000", "morphs/hello", Some("0.1.0")));
        assert!(parse_reference("UPPER/Case:tag").is_err());
    }

    #[test]
    fn the_epoch_and_a_known_day_format() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_108_400), "2026-12-01T07:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = rfc3339_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T", "{t}");
    }
}
