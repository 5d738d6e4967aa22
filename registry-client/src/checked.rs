//! Markers that a file, unchanged, passed a check before, so the check is not repeated: a
//! component's code was validated, a cached layer hashed to its digest. A marker is keyed (as
//! git's index is) by the check, the file's path, device, inode, size, and modification and
//! change times: any change to the file, even by a tool that restores its mtime, gives a new key.
//! Markers live in `$MORPH_HOME/cache/validated/`; a file that failed is never marked.

use std::path::{Path, PathBuf};

use morph_contract::component::sha256_digest;

use crate::Home;

/// The marker of `check` for `path` as it is now; `None` when the file cannot be looked at.
/// Taken before the file is read, so a change while it is read gives the next run a new key.
pub fn marker(home: &Home, check: &str, path: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let canonical = std::fs::canonicalize(path).ok()?;
    let m = std::fs::metadata(&canonical).ok()?;
    let key = format!(
        "{check}\0{}\0{}:{}:{}:{}.{}:{}.{}",
        canonical.display(),
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    );
    let digest = sha256_digest(key.as_bytes());
    Some(home.root().join("cache/validated").join(digest.trim_start_matches("sha256:")))
}

/// Whether `marker` says the check passed; a use refreshes it, so `cache prune` keeps it.
pub fn passed(marker: &Path) -> bool {
    let found = marker.is_file();
    if found {
        crate::cache::touch(marker);
    }
    found
}

/// Records that the check passed. Only a speed-up: a home that cannot be written just checks
/// every time.
pub fn remember(marker: &Path) {
    let _ = crate::atomic::write_output(marker, b"");
}

/// Records at once what morph knows of a file it has just written whole, from bytes it holds,
/// and renamed into place under its home (a registered morph's digest, a compiled-code cache
/// entry's checksum): `value` is the marker's content (a digest, or nothing). Unlike a file a
/// user hands morph, it need not settle first: a file replaced since is a new inode, so a new
/// key, and the only write that could keep the key is one inside morph's home in the same clock
/// tick, which a writer that can do that could as well do to the marker. So the first run after
/// `morph register` finds what a warm run finds.
pub fn remember_written(home: &Home, check: &str, path: &Path, value: &str) {
    if let Some(m) = marker(home, check, path) {
        let _ = crate::atomic::write_output(&m, value.as_bytes());
    }
}

/// A file's modification time is coarse (the kernel's clock tick): a file hashed in the same
/// tick as its last write could be written again, same size, without its key changing (git's
/// "racy" entries). What is remembered of a file is only trusted once it is this much older.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// The sha256 digest of the file at `path`: remembered from the last time it was hashed while
/// the file has not changed since, else `hash()`'s answer (then remembered, once the file is
/// settled). A warm `morph run` of an 18 MB morph then reads none of its bytes to find its
/// compiled code. `marker` must be taken before the bytes `hash` reads were read.
pub fn digest_of(marker: Option<&Path>, path: &Path, hash: impl FnOnce() -> String) -> String {
    if let Some(m) = marker {
        let known = std::fs::read_to_string(m).unwrap_or_default();
        let known = known.trim();
        if known.len() == 71 && known.starts_with("sha256:") {
            crate::cache::touch(m);
            return known.to_string();
        }
    }
    tracing::debug!("hashing {}: not known unchanged since it was last hashed", path.display());
    let digest = hash();
    if let Some(m) = marker.filter(|_| settled(path)) {
        let _ = crate::atomic::write_output(m, digest.as_bytes());
    }
    digest
}

/// Whether the file was last written long enough ago for its times to tell the next write apart.
pub fn settled(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age >= SETTLED)
}
