//! Image indexes (multi-platform tags): the entry that is a wasm component.

use oci_client::manifest::{ImageIndexEntry, OciImageIndex, OciImageManifest, OciManifest};

use super::bounded;
use super::failure::{explain_failure, retry};
use super::Session;
use crate::RegistryError;

/// The platforms an index entry may name for a component, best first.
const WASM_PLATFORMS: [(&str, &str); 3] = [("wasm", "wasip2"), ("wasm", "wasip1"), ("wasm", "wasi")];

/// The wasm image manifest an index points to (its `wasm`/`wasip2` entry, else `wasip1` or
/// `wasi`), fetched by digest and checked against it.
pub(super) async fn wasm_manifest_of(s: &Session, index: &OciImageIndex) -> Result<OciImageManifest, RegistryError> {
    let r = &s.reference;
    let platform_of = |e: &ImageIndexEntry| {
        e.platform.as_ref().map(|p| (p.architecture.to_string(), p.os.to_string())).unwrap_or_default()
    };
    let entry = WASM_PLATFORMS
        .iter()
        .find_map(|(arch, os)| index.manifests.iter().find(|e| platform_of(e) == (arch.to_string(), os.to_string())))
        .ok_or_else(|| {
            let platforms: Vec<String> = index
                .manifests
                .iter()
                .map(|e| match platform_of(e) {
                    (a, _) if a.is_empty() => format!("(no platform) {}", e.digest),
                    (a, o) => format!("{o}/{a}"),
                })
                .collect();
            RegistryError::Oci(format!(
                "pull {r}: this image index has no wasm/wasip2 entry (it has: {}); it is not a wasm component artifact",
                if platforms.is_empty() { "nothing".to_string() } else { platforms.join(", ") }
            ))
        })?;
    let (manifest, digest) = retry("fetching the manifest", || bounded::fetch_manifest(s, &entry.digest))
        .await
        .map_err(|e| explain_failure(e, s, "pull"))?;
    if digest != entry.digest {
        return Err(RegistryError::DigestMismatch {
            reference: r.whole(),
            what: "manifest the index names".into(),
            expected: entry.digest.clone(),
            actual: digest,
        });
    }
    match manifest {
        OciManifest::Image(m) => Ok(m),
        OciManifest::ImageIndex(_) => Err(RegistryError::Oci(format!(
            "pull {r}: the index's wasm entry {} is another index; morph follows one level",
            entry.digest
        ))),
    }
}
