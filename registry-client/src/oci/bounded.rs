//! Downloads that a registry cannot make unbounded: a manifest is read up to
//! [`MANIFEST_LIMIT`] bytes, a blob up to the size its manifest declares. A registry that sends
//! more is stopped at the first byte too many, and nothing it sent is kept.

use futures_util::StreamExt;
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{OciDescriptor, OciManifest};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

use super::failure::Failure;
use super::Session;
use crate::atomic::TempFile;
use crate::RegistryError;

/// The largest manifest morph reads: the size the OCI distribution spec says registries
/// should accept at least. A wasm artifact's manifest is under 1 KiB.
pub const MANIFEST_LIMIT: u64 = 4 << 20;

/// The manifest types a wasm artifact may come as (an index is named as such by the caller).
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// GETs a manifest of the session's repository (`target`: a tag or digest), at most
/// [`MANIFEST_LIMIT`] bytes; returns it with its digest (the sha256 of the bytes, which must
/// agree with the registry's `Docker-Content-Digest` when it sends one).
pub(super) async fn fetch_manifest(s: &Session, target: &str) -> Result<(OciManifest, String), Failure> {
    let r = &s.reference;
    let url = s.url(&format!("manifests/{target}"));
    let response = super::authorize::get(s, &url, Some(ACCEPT)).await?;
    let status = response.status();
    let header_digest =
        response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_string);
    let too_large = || {
        Failure::Fatal(RegistryError::ManifestTooLarge {
            reference: r.whole(),
            registry: r.registry().to_string(),
            limit: MANIFEST_LIMIT,
        })
    };
    let body = read_limited(response, MANIFEST_LIMIT, too_large).await?;
    if !status.is_success() {
        return Err(Failure::Oci(error_response(status, &body, &url)));
    }
    let digest = morph_contract::component::sha256_digest(&body);
    if let Some(h) = header_digest.filter(|h| h.starts_with("sha256:") && *h != digest) {
        return Err(Failure::Fatal(RegistryError::DigestMismatch {
            reference: r.whole(),
            what: "manifest".into(),
            expected: h,
            actual: digest,
        }));
    }
    let manifest = parse_manifest(&body).map_err(|e| {
        Failure::Fatal(RegistryError::BadManifest {
            reference: r.whole(),
            registry: r.registry().to_string(),
            source: e,
        })
    })?;
    Ok((manifest, digest))
}

/// A small blob (a signature payload) of the session's repository, at most `limit` bytes,
/// checked against its digest.
pub(super) async fn fetch_small_blob(s: &Session, blob: &OciDescriptor, limit: u64) -> Result<Vec<u8>, Failure> {
    let r = &s.reference;
    let url = s.url(&format!("blobs/{}", blob.digest));
    let response = super::authorize::get(s, &url, None).await?;
    let status = response.status();
    let too_large =
        || Failure::Fatal(RegistryError::Oci(format!("{r}: blob {} is larger than {limit} bytes", blob.digest)));
    let body = read_limited(response, limit, too_large).await?;
    if !status.is_success() {
        return Err(Failure::Oci(error_response(status, &body, &url)));
    }
    let actual = morph_contract::component::sha256_digest(&body);
    if actual != blob.digest {
        return Err(Failure::Fatal(RegistryError::DigestMismatch {
            reference: r.whole(),
            what: format!("blob {}", blob.digest),
            expected: blob.digest.clone(),
            actual,
        }));
    }
    Ok(body)
}

/// A response's body, stopped with `too_large()` at the first byte past `limit`.
async fn read_limited(
    response: reqwest::Response,
    limit: u64,
    too_large: impl Fn() -> Failure,
) -> Result<Vec<u8>, Failure> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A manifest's bytes as an image manifest or an index: whatever a registry sent.
pub fn parse_manifest(body: &[u8]) -> Result<OciManifest, serde_json::Error> {
    serde_json::from_slice::<OciManifest>(body)
}

/// The registry's error answer as oci-client names it, so one explanation serves both.
pub(super) fn error_response(status: reqwest::StatusCode, body: &[u8], url: &str) -> OciDistributionError {
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return OciDistributionError::UnauthorizedError { url: url.to_string() };
    }
    if status.is_client_error() {
        if let Ok(envelope) = serde_json::from_slice(body) {
            return OciDistributionError::RegistryError { envelope, url: url.to_string() };
        }
    }
    OciDistributionError::ServerError {
        code: status.as_u16(),
        url: url.to_string(),
        message: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
    }
}

/// What a pulled blob must be before it is kept (a component, for a morph); the error says why
/// it is not.
pub type Acceptance<'a> = &'a (dyn Fn(&[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + Sync);

/// Streams a blob to a temp file beside `path`, hashing as it goes and stopping at the first
/// byte past the declared size; renamed into place only when the size and digest match and
/// `accept` takes the bytes.
pub(super) async fn download(
    s: &Session,
    layer: &OciDescriptor,
    path: &Path,
    accept: Acceptance<'_>,
    progress: &(dyn Fn(super::ProgressEvent) + Sync),
) -> Result<(), Failure> {
    let r = &s.reference;
    let declared = u64::try_from(layer.size).map_err(|_| {
        Failure::Fatal(RegistryError::BadManifest {
            reference: r.whole(),
            registry: r.registry().to_string(),
            source: serde::de::Error::custom(format!("layer {} declares a negative size", layer.digest)),
        })
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = TempFile::new_in(dir)?;
    let url = s.url(&format!("blobs/{}", layer.digest));
    let response = super::authorize::get(s, &url, None).await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        return Err(Failure::Oci(error_response(status, &body[..body.len().min(64 << 10)], &url)));
    }
    let mut stream = response.bytes_stream();
    let mut hasher = Sha256::new();
    // The bytes are kept as they come (a morph is megabytes), so `accept` reads no file back.
    // The declared size only bounds the stream; it is not trusted as an allocation size.
    let mut bytes = Vec::with_capacity(declared.min(64 << 20) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len() as u64 + chunk.len() as u64 > declared {
            return Err(Failure::Fatal(RegistryError::BlobTooLarge {
                reference: r.whole(),
                registry: r.registry().to_string(),
                digest: layer.digest.clone(),
                declared,
            }));
        }
        hasher.update(&chunk);
        tmp.as_file_mut().write_all(&chunk)?;
        bytes.extend_from_slice(&chunk);
        progress(super::ProgressEvent::Bytes(chunk.len() as u64));
    }
    let actual = format!("sha256:{}", super::sha256_hex(&hasher.finalize()));
    if actual != layer.digest {
        return Err(Failure::Oci(
            oci_client::errors::DigestError::VerificationError { expected: layer.digest.clone(), actual }.into(),
        ));
    }
    if bytes.len() as u64 != declared {
        return Err(Failure::Oci(OciDistributionError::SpecViolationError(format!(
            "the layer is {} bytes, the manifest says {declared}",
            bytes.len()
        ))));
    }
    // The bytes reach the disk while they are checked: neither waits for the other.
    let (synced, accepted) = std::thread::scope(|scope| {
        let syncing = scope.spawn(|| tmp.as_file().sync_data());
        let accepted = accept(&bytes);
        (syncing.join().unwrap_or_else(|_| Err(std::io::Error::other("syncing the download failed"))), accepted)
    });
    accepted.map_err(|source| {
        Failure::Fatal(RegistryError::NotAComponent { reference: r.whole(), digest: layer.digest.clone(), source })
    })?;
    synced?;
    tmp.persist(path, true)?;
    Ok(())
}
