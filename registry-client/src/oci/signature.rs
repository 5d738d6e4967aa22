//! Signatures of pushed morphs where cosign keeps them: in the same repository, under the tag
//! `sha256-<manifest hex>.sig`, an image manifest whose layers are simple-signing payloads
//! (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its signature in the
//! `dev.cosignproject.cosign/signature` annotation. Signing appends a layer (other signers'
//! signatures stay); verifying accepts the manifest when one layer's payload names its digest
//! and is signed by the key.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use oci_client::manifest::{OciDescriptor, OciManifest};
use p256::ecdsa::{SigningKey, VerifyingKey};

use super::bounded::{self, error_response};
use super::failure::{explain_failure, retry, Failure};
use super::session::{session, Access};
use super::OciOptions;
use crate::sign::{self, PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION};
use crate::{Home, RegistryError};

/// The config of a signature manifest, as cosign writes it (an empty image config).
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// A payload is a few hundred bytes; more is not a payload.
const PAYLOAD_LIMIT: usize = 64 << 10;

/// The signature tag of `manifest_digest`, as a reference in `reference`'s repository.
fn signature_reference(reference: &oci_client::Reference, manifest_digest: &str) -> String {
    let tag = format!("{}.sig", manifest_digest.replace(':', "-"));
    format!("{}/{}:{tag}", reference.registry(), reference.repository())
}

/// Signs the manifest `manifest_digest` of `reference` with `key` and stores the signature
/// beside it; returns the signature's reference.
pub async fn attach(
    home: &Home,
    reference: &str,
    manifest_digest: &str,
    key: &SigningKey,
    opts: &OciOptions,
) -> Result<String, RegistryError> {
    let signed = super::parse_reference(reference)?;
    let repository = format!("{}/{}", signed.registry(), signed.repository());
    let payload = sign::payload(&repository, manifest_digest);
    let signature = sign::sign(key, &payload);
    let sig_ref = signature_reference(&signed, manifest_digest);
    let s = session(home, &sig_ref, opts, Access::Push).await?;
    // Signatures already there (another key's) are kept.
    let tag = s.reference.tag().unwrap_or_default().to_string();
    let mut layers = match bounded::fetch_manifest(&s, &tag).await {
        Ok((OciManifest::Image(m), _)) => m.layers,
        _ => Vec::new(),
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
    super::upload::upload(&s, "sign", blobs, &manifest).await?;
    Ok(sig_ref)
}

/// Checks that `key` signed the manifest `manifest_digest` of `reference`: an error says
/// whether it is unsigned, signed by another key, or signed for another manifest.
pub async fn check(
    home: &Home,
    reference: &str,
    manifest_digest: &str,
    key: &VerifyingKey,
    opts: &OciOptions,
) -> Result<(), RegistryError> {
    let signed = super::parse_reference(reference)?;
    let sig_ref = signature_reference(&signed, manifest_digest);
    let s = session(home, &sig_ref, opts, Access::Pull).await?;
    let tag = s.reference.tag().unwrap_or_default().to_string();
    let refused = |why: String| RegistryError::Unverified { reference: signed.whole(), why };
    let manifest = match retry("fetching the signature", || bounded::fetch_manifest(&s, &tag)).await {
        Ok((OciManifest::Image(m), _)) => m,
        Ok(_) => return Err(refused(format!("{sig_ref} is not a signature manifest"))),
        Err(e) => {
            let e = explain_failure(e, &s, "verify");
            return Err(if e.to_string().contains("404") {
                refused(format!("it is not signed (no {sig_ref})"))
            } else {
                e
            });
        }
    };
    let mut seen = Vec::new();
    for layer in manifest.layers.iter().filter(|l| l.media_type == PAYLOAD_MEDIA_TYPE) {
        let Some(signature) = layer.annotations.as_ref().and_then(|a| a.get(SIGNATURE_ANNOTATION)) else {
            continue;
        };
        let payload = match blob(&s, layer).await {
            Ok(p) => p,
            Err(e) => return Err(explain_failure(e, &s, "verify")),
        };
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

/// A small blob, checked against its digest.
async fn blob(s: &super::Session, layer: &OciDescriptor) -> Result<Vec<u8>, Failure> {
    let url = s.url(&format!("blobs/{}", layer.digest));
    let response = super::authorize::get(s, &url, None).await?;
    let status = response.status();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > PAYLOAD_LIMIT {
            return Err(Failure::Fatal(RegistryError::Oci(format!("signature payload {} is too large", layer.digest))));
        }
    }
    if !status.is_success() {
        return Err(Failure::Oci(error_response(status, &body, &url)));
    }
    let actual = super::sha256_digest(&body);
    if actual != layer.digest {
        return Err(Failure::Fatal(RegistryError::DigestMismatch {
            reference: s.reference.whole(),
            what: "signature payload".into(),
            expected: layer.digest.clone(),
            actual,
        }));
    }
    Ok(body)
}
