//! What a `<morph>` argument names, made into bytes to run: a `.wasm`/`.wat` file, a local
//! registry id `ns:name[@version]`, or an OCI reference (pulled on first use, checked to be a
//! component, and run from the cache after that, offline). A path that is not UTF-8 can only
//! be a file.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use morph_contract::component::{read_component_binary, read_wasm_binary, sha256_digest, Bytes, CodeCheck};
use morph_contract::Component;

use crate::{checked, oci, Home, MorphId, RegistryError};

/// A morph ready to run: its binary, digest, what the user called it, and the name the guest
/// sees as argv[0].
pub struct MorphSource {
    pub bytes: Bytes,
    /// The file or reference the user named, for messages.
    pub origin: PathBuf,
    pub digest: String,
    pub name: String,
}

/// A file argument, or the file a local registry id names.
pub struct MorphPath {
    pub path: PathBuf,
    /// What the guest sees as argv[0]: the registry name or the file stem.
    pub name: String,
    /// The registry version, for an id.
    pub version: Option<String>,
}

/// The file `arg` names: itself, or the file of the local registry id it is.
pub fn resolve_path(home: &Home, arg: &OsStr) -> Result<MorphPath, RegistryError> {
    let path = Path::new(arg);
    if let Some(arg) = arg.to_str().filter(|a| !path.exists() && MorphId::looks_like_id(a)) {
        let found = crate::resolve_local(home, &MorphId::parse(arg)?)?;
        return Ok(MorphPath {
            path: found.path,
            name: found.id.name,
            version: found.id.version.map(|v| v.to_string()),
        });
    }
    let name = path.file_stem().unwrap_or(arg).to_string_lossy().into_owned();
    Ok(MorphPath { path: path.to_path_buf(), name, version: None })
}

/// The morph `arg` names, its bytes read (a file is mapped, not copied). A file's digest is
/// remembered for the next load unless `remember` is false (`--no-cache` writes nothing).
/// `progress` hears of a download, when there is one. An OCI reference is checked against
/// `verify` (or the key config.toml names for its registry): then the registry is asked every
/// time, the cache serving only the layer. `verify` for anything but an OCI reference is an
/// error: a security flag is never ignored.
pub async fn load(
    home: &Home,
    arg: &OsStr,
    remember: bool,
    verify: Option<p256::ecdsa::VerifyingKey>,
    progress: &(dyn Fn(oci::ProgressEvent) + Sync),
) -> Result<MorphSource, RegistryError> {
    if let Some(arg) = arg.to_str().filter(|a| !Path::new(a).exists() && oci::looks_like_reference(a)) {
        let r = oci::parse_reference(arg)?;
        let verify = crate::config::Config::load(home)?.verify_key(home, r.registry(), verify)?;
        let cached = if verify.is_none() { oci::cached(home, arg) } else { None };
        let pulled = match cached {
            Some(p) => p,
            None => {
                let opts = oci::OciOptions { verify, ..Default::default() };
                oci::pull(home, arg, &opts, &component_only, progress).await?
            }
        };
        let name = oci::morph_name(&r).to_string();
        // The layer was verified against its digest on the way in: that is the morph's sha256.
        let bytes = read_component_binary(&pulled.path)?;
        return Ok(MorphSource { bytes, digest: pulled.layer_digest, name, origin: PathBuf::from(arg) });
    }
    if verify.is_some() {
        return Err(RegistryError::VerifyLocal(arg.to_string_lossy().into_owned()));
    }
    let local = resolve_path(home, arg)?;
    let marker = if remember { checked::marker(home, "sha256", &local.path) } else { None };
    // A core module too: a core-module extension runs from a file (anything else that gets one
    // refuses it, saying how to make a component of it).
    let bytes = read_wasm_binary(&local.path)?;
    let digest = checked::digest_of(marker.as_deref(), &local.path, || sha256_digest(&bytes));
    Ok(MorphSource { bytes, digest, name: local.name, origin: local.path })
}

/// What a pull of a morph keeps: a valid component binary, nothing else.
pub fn component_only(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    morph_contract::component::check_component_bytes(Path::new("the layer"), bytes).map_err(Into::into)
}

/// Reads and decodes a component file for `validate` and `inspect`.
///
/// The code of its core modules is validated unless this file, unchanged, was validated before
/// (see [`crate::checked`]). Checking an 18 MB morph again then costs half as much, and a first
/// check hashes nothing. A file that failed is never remembered.
pub fn read_validated(home: Option<&Home>, path: &Path) -> Result<Component, morph_contract::ContractError> {
    let marker = home.and_then(|h| checked::marker(h, "code", path));
    let known = marker.as_deref().is_some_and(checked::passed);
    let comp = Component::read_with(path, if known { CodeCheck::Deferred } else { CodeCheck::Now })?;
    if let (false, Some(m)) = (known, marker) {
        checked::remember(&m);
    }
    Ok(comp)
}
