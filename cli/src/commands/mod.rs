//! One module per `morph` command.

pub mod build;
pub mod call;
pub mod cast;
pub mod completions;
pub mod compose;
pub mod ext;
pub mod inspect;
pub mod new;
pub mod oci;
pub mod registry;
pub mod run;
pub mod sandbox;
pub mod serve;
pub mod validate;
pub mod worlds;

use std::path::Path;

use anyhow::Result;
use morph_contract::Component;

/// Reads a component argument; every failure is an input error naming the file.
///
/// The code of its core modules is validated unless this file, unchanged, was validated before:
/// `$MORPH_HOME/cache/validated/<key>` remembers it, keyed (as git's index does) by the file's
/// path, device, inode, size and modification and change times. Checking an 18 MB morph again
/// then costs half as much, and a first check hashes nothing.
pub fn read_component(path: &Path) -> Result<Component> {
    use morph_contract::component::CodeCheck;
    let marker = validated_marker(path);
    let known = marker.as_ref().is_some_and(|m| m.is_file());
    let comp = Component::read_with(path, if known { CodeCheck::Deferred } else { CodeCheck::Now })?;
    if let (false, Some(m)) = (known, marker) {
        // Only a speed-up: a home that cannot be written just validates every time.
        let _ = morph_registry_client::atomic::write_output(&m, b"");
    }
    Ok(comp)
}

/// Where the "validated" marker of a file lives, from its metadata (read before the file, so a
/// change while it is read gives the next run a different key).
fn validated_marker(path: &Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let home = morph_registry_client::Home::from_env()?;
    let canonical = std::fs::canonicalize(path).ok()?;
    let m = std::fs::metadata(&canonical).ok()?;
    let key = format!(
        "{}\0{}:{}:{}:{}.{}:{}.{}",
        canonical.display(),
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    );
    let digest = morph_contract::component::sha256_digest(key.as_bytes());
    Some(home.root().join("cache/validated").join(digest.trim_start_matches("sha256:")))
}
