//! What is in `$MORPH_HOME/cache`, and trimming it (`morph cache list|prune|clean`).
//!
//! Every cache entry is a file that can be made again (compiled code from its component, a
//! layer from its registry, a marker by checking again), so removing one only costs time. An
//! entry's modification time is its last use: the compiled-code cache, the OCI cache and the
//! validated markers touch an entry when they use it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::{Home, RegistryError};

/// The kinds of entries, by the directory they live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Machine code compiled from a component (`compiled/<sha256>-<engine>.cwasm` and its `.sum`).
    Compiled,
    /// A pulled layer (`oci/blobs/sha256/<hex>`).
    OciBlob,
    /// What a reference was last pulled as (`oci/refs`), or which tag an untagged one resolved
    /// to (`oci/untagged`).
    OciRecord,
    /// A file known to hold valid code (`validated`).
    Validated,
    /// A registry's wasm-pkg metadata (`wkg-metadata`).
    RegistryMetadata,
    /// Anything else (an interrupted write's temp file, say).
    Other,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Compiled => "compiled code",
            Kind::OciBlob => "OCI layers",
            Kind::OciRecord => "OCI references",
            Kind::Validated => "validated markers",
            Kind::RegistryMetadata => "registry metadata",
            Kind::Other => "other",
        }
    }

    fn of(relative: &Path) -> Kind {
        let s = relative.to_string_lossy();
        // A write in progress (or abandoned) in any of the directories.
        if relative.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".morph-tmp-")) {
            Kind::Other
        } else if s.starts_with("compiled/") {
            Kind::Compiled
        } else if s.starts_with("oci/blobs/") {
            Kind::OciBlob
        } else if s.starts_with("oci/refs/") || s.starts_with("oci/untagged/") {
            Kind::OciRecord
        } else if s.starts_with("validated/") {
            Kind::Validated
        } else if s.starts_with("wkg-metadata/") {
            Kind::RegistryMetadata
        } else {
            Kind::Other
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub kind: Kind,
    pub path: PathBuf,
    pub size: u64,
    /// Seconds since it was last used.
    pub age_secs: u64,
    /// The sha256 of the component or layer it is of, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

pub fn cache_dir(home: &Home) -> PathBuf {
    home.root().join("cache")
}

/// Every file in the cache, oldest use first.
pub fn list(home: &Home) -> Result<Vec<Entry>, RegistryError> {
    let root = cache_dir(home);
    let mut entries = Vec::new();
    walk(&root, &root, &mut entries)?;
    entries.sort_by(|a, b| b.age_secs.cmp(&a.age_secs).then_with(|| a.path.cmp(&b.path)));
    Ok(entries)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<(), RegistryError> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(RegistryError::Io { path: dir.to_path_buf(), message: e.to_string() }),
    };
    let now = SystemTime::now();
    for item in read {
        let item = item.map_err(|e| RegistryError::Io { path: dir.to_path_buf(), message: e.to_string() })?;
        let path = item.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let kind = Kind::of(relative);
        // Compiled code is used through its checksum file, which is touched in its place (the
        // code file keeps its times, which its checked marker is keyed by).
        let used = match kind {
            Kind::Compiled if path.extension().is_some_and(|e| e == "cwasm") => {
                let sum = path.with_extension("cwasm.sum");
                [meta.modified().ok(), std::fs::metadata(sum).and_then(|m| m.modified()).ok()]
                    .into_iter()
                    .flatten()
                    .max()
            }
            _ => meta.modified().ok(),
        };
        let age_secs = used.and_then(|m| now.duration_since(m).ok()).map_or(0, |d| d.as_secs());
        out.push(Entry { kind, digest: digest_of(kind, &path), path, size: meta.len(), age_secs });
    }
    Ok(())
}

/// The component or layer digest an entry's name carries.
fn digest_of(kind: Kind, path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let hex = match kind {
        Kind::Compiled => name.split('-').next()?,
        Kind::OciBlob => name,
        _ => return None,
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// What `prune` keeps.
#[derive(Debug, Clone)]
pub struct Retention {
    /// An entry unused for longer than this goes, unless a registered morph needs it.
    pub max_age: Duration,
    /// Digests of the morphs in the local registry: their compiled code is kept at any age.
    pub registered: BTreeSet<String>,
}

/// Temp files of writes that never finished are removed after an hour (a write still going on
/// is never that old).
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// The entries `retention` lets go: compiled code unused within the window that no registered
/// morph needs, OCI references unused within it, layers no kept reference names, old markers and
/// metadata, and abandoned temp files.
pub fn prunable(home: &Home, retention: &Retention) -> Result<Vec<Entry>, RegistryError> {
    let entries = list(home)?;
    let old = |e: &Entry| e.age_secs > retention.max_age.as_secs();
    // Layers stay while a reference that is kept names them.
    let mut named_layers = BTreeSet::new();
    for e in entries.iter().filter(|e| e.kind == Kind::OciRecord && !old(e)) {
        if let Some(layer) = std::fs::read(&e.path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["layer_digest"].as_str().map(str::to_string))
        {
            named_layers.insert(layer);
        }
    }
    let go = |e: &Entry| match e.kind {
        Kind::Compiled => old(e) && !e.digest.as_ref().is_some_and(|d| retention.registered.contains(d)),
        Kind::OciBlob => !e.digest.as_ref().is_some_and(|d| named_layers.contains(d)),
        Kind::OciRecord | Kind::Validated | Kind::RegistryMetadata => old(e),
        Kind::Other => e.age_secs > STALE_TEMP.as_secs(),
    };
    Ok(entries.into_iter().filter(|e| go(e)).collect())
}

/// Removes `entries`; returns the bytes freed. An entry already gone is not an error (another
/// morph may have pruned it first).
pub fn remove(entries: &[Entry]) -> Result<u64, RegistryError> {
    let mut freed = 0;
    for e in entries {
        match std::fs::remove_file(&e.path) {
            Ok(()) => freed += e.size,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(RegistryError::Io { path: e.path.clone(), message: err.to_string() }),
        }
    }
    Ok(freed)
}

/// Marks a cache entry as used now (its modification time is its last use). Best effort: a
/// cache that cannot be touched is pruned a little early, nothing worse.
pub fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_digests_from_names() {
        let hex = "a".repeat(64);
        assert_eq!(Kind::of(Path::new(&format!("compiled/{hex}-0011.cwasm"))), Kind::Compiled);
        assert_eq!(Kind::of(Path::new("oci/refs/x.json")), Kind::OciRecord);
        assert_eq!(Kind::of(Path::new("oci/untagged/x")), Kind::OciRecord);
        assert_eq!(Kind::of(Path::new("oci/blobs/sha256/.morph-tmp-XYZ")), Kind::Other, "a download in progress");
        let d = digest_of(Kind::Compiled, Path::new(&format!("/c/compiled/{hex}-0011.cwasm")));
        assert_eq!(d, Some(format!("sha256:{hex}")));
        assert_eq!(digest_of(Kind::OciBlob, Path::new("/c/x")), None);
    }
}
