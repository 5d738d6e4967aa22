//! Signatures of pushed morphs where cosign keeps them: in the same repository, under the tag
//! `sha256-<manifest hex>.sig`, an image manifest whose layers are simple-signing payloads
//! (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its signature in the
//! `dev.cosignproject.cosign/signature` annotation. Signing appends a layer (other signers'
//! signatures stay); verifying accepts the manifest when one layer's payload names its digest
//! and is signed by the key.

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciManifest};
use p256::ecdsa::{SigningKey, VerifyingKey};

use super::bounded;
use super::failure::{explain_failure, retry};
use super::Session;
use crate::sign::{self, PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION};
use crate::RegistryError;

/// The config of a signature manifest, as cosign writes it (an empty image config).
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// A payload is a few hundred bytes; more is not a payload.
const PAYLOAD_LIMIT: u64 = 64 << 10;

/// The tag cosign keeps the signatures of `manifest_digest` under.
fn signature_tag(manifest_digest: &str) -> String {
    format!("{}.sig", manifest_digest.replace(':', "-"))
}

/// `s`'s repository, as `host/path`: what a payload names.
fn repository(s: &Session) -> String {
    format!("{}/{}", s.reference.registry(), s.reference.repository())
}

/// Signs the manifest `manifest_digest` of the session's repository with `key` and stores the
/// signature beside it; returns the signature's reference.
pub(super) async fn attach(s: &Session, manifest_digest: &str, key: &SigningKey) -> Result<String, RegistryError> {
    let payload = sign::payload(&repository(s), manifest_digest);
    let signature = sign::sign(key, &payload);
    let tag = signature_tag(manifest_digest);
    // Signatures already there (another key's) are kept; only their absence starts afresh.
    let mut layers = match bounded::fetch_manifest(s, &tag).await {
        Ok((OciManifest::Image(m), _)) => m.layers,
        Ok(_) => Vec::new(),
        Err(e) if e.not_found() => Vec::new(),
        Err(e) => return Err(explain_failure(e, s, "sign")),
    };
    let payload_digest = super::sha256_digest(&payload);
    layers.retain(|l| l.digest != payload_digest);
    layers.push(OciDescriptor {
        media_type: PAYLOAD_MEDIA_TYPE.into(),
        digest: payload_digest.clone(),
        size: payload.len() as i64,
        annotations: Some(BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature)])),
        ..Default::default()
    });
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config = serde_json::json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    })
    .to_string()
    .into_bytes();
    let manifest = super::upload::image_manifest(CONFIG_MEDIA_TYPE, &config, layers, BTreeMap::new());
    let blobs = vec![
        (payload_digest, bytes::Bytes::from(payload)),
        (manifest.config.digest.clone(), bytes::Bytes::from(config)),
    ];
    super::upload::upload(s, "sign", &tag, blobs, &manifest).await?;
    Ok(format!("{}:{tag}", repository(s)))
}

/// Checks that `key` signed the manifest `manifest_digest` of the session's repository: an
/// error says whether it is unsigned, signed by another key, or signed for another manifest.
pub(super) async fn check(s: &Session, manifest_digest: &str, key: &VerifyingKey) -> Result<(), RegistryError> {
    let tag = signature_tag(manifest_digest);
    let sig_ref = format!("{}:{tag}", repository(s));
    let refused = |why: String| RegistryError::Unverified { reference: s.reference.whole(), why };
    let manifest = match retry("fetching the signature", || bounded::fetch_manifest(s, &tag)).await {
        Ok((OciManifest::Image(m), _)) => m,
        Ok(_) => return Err(refused(format!("{sig_ref} is not a signature manifest"))),
        Err(e) if e.not_found() => return Err(refused(format!("it is not signed (no {sig_ref})"))),
        Err(e) => return Err(explain_failure(e, s, "verify")),
    };
    let mut seen = Vec::new();
    for layer in manifest.layers.iter().filter(|l| l.media_type == PAYLOAD_MEDIA_TYPE) {
        let Some(signature) = layer.annotations.as_ref().and_then(|a| a.get(SIGNATURE_ANNOTATION)) else {
            continue;
        };
        let payload =
            bounded::fetch_small_blob(s, layer, PAYLOAD_LIMIT).await.map_err(|e| explain_failure(e, s, "verify"))?;
        if !sign::verify(key, &payload, signature) {
            seen.push("a signature by another key".to_string());
            continue;
        }
        match sign::payload_digest(&payload) {
            Some(d) if d == manifest_digest => return Ok(()),
            Some(d) => seen.push(format!("a signature of another manifest ({d})")),
            None => seen.push("a payload that is not simple signing".to_string()),
        }
    }
    let found = if seen.is_empty() { "no signature layer".to_string() } else { seen.join(", ") };
    Err(refused(format!("no signature by this key for {manifest_digest}: {sig_ref} has {found}")))
}
