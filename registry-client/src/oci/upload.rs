//! Putting an artifact into a registry — its blobs, then its manifest — for a push and for a
//! signature alike.

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::{Reference, RegistryOperation};

use super::failure::{explain, explain_manifest_push, retry};
use super::{sha256_digest, Session, MANIFEST_MEDIA_TYPE};
use crate::RegistryError;

/// An image manifest with the config `config` (of type `config_type`), `layers` and
/// `annotations` (none when empty).
pub(super) fn image_manifest(
    config_type: &str,
    config: &[u8],
    layers: Vec<OciDescriptor>,
    annotations: BTreeMap<String, String>,
) -> OciImageManifest {
    OciImageManifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        config: OciDescriptor {
            media_type: config_type.into(),
            digest: sha256_digest(config),
            size: config.len() as i64,
            ..Default::default()
        },
        layers,
        artifact_type: None,
        subject: None,
        annotations: if annotations.is_empty() { None } else { Some(annotations) },
    }
}

/// What an upload did: the blobs sent, those the registry had, and the manifest's digest.
pub(super) struct Uploaded {
    pub uploaded: Vec<String>,
    pub skipped: Vec<String>,
    pub manifest_digest: String,
}

/// Uploads the `blobs` (digest, bytes) the registry lacks, then `manifest` as these exact bytes
/// under `tag` of the session's repository, so the digest returned is the registry's. `op`
/// names the command in errors.
pub(super) async fn upload(
    s: &Session,
    op: &str,
    tag: &str,
    blobs: Vec<(String, bytes::Bytes)>,
    manifest: &OciImageManifest,
) -> Result<Uploaded, RegistryError> {
    let client = s.client()?;
    let r =
        &Reference::with_tag(s.reference.registry().to_string(), s.reference.repository().to_string(), tag.to_string());
    // Checking for existing blobs is a pull operation, uploading a push: both need a token.
    for access in [RegistryOperation::Pull, RegistryOperation::Push] {
        retry("authenticating", || client.auth(r, &s.auth, access)).await.map_err(|e| explain(e, s, op))?;
    }
    let (mut uploaded, mut skipped) = (Vec::new(), Vec::new());
    for (digest, data) in blobs {
        let exists =
            retry("checking a blob", || client.blob_exists(r, &digest)).await.map_err(|e| explain(e, s, op))?;
        if exists {
            skipped.push(digest);
            continue;
        }
        retry("uploading a blob", || client.push_blob(r, data.clone(), &digest))
            .await
            .map_err(|e| explain(e, s, op))?;
        uploaded.push(digest);
    }
    let body = bytes::Bytes::from(serde_json::to_vec(manifest).map_err(|e| RegistryError::Oci(e.to_string()))?);
    let content_type = reqwest::header::HeaderValue::from_static(MANIFEST_MEDIA_TYPE);
    retry("uploading the manifest", || client.push_manifest_raw(r, body.clone(), content_type.clone()))
        .await
        .map_err(|e| explain_manifest_push(e, s))?;
    Ok(Uploaded { uploaded, skipped, manifest_digest: sha256_digest(&body) })
}
