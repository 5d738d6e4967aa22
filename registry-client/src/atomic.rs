//! Writes that never leave half a file: a temp file in the target directory, synced, then
//! renamed over the target. A crash leaves the old file or the new one (and at worst a stray
//! temp file, which readers never look at); concurrent writers leave one whole file.
//!
//! Every temp file and staging directory morph makes is also listed here while it exists, so
//! a signal (Ctrl-C, SIGTERM, SIGHUP) removes them all before morph exits: see
//! [`remove_pending`]. A temp path is renamed into place under the same lock the signal
//! handler takes, so a signal either sees the rename done or stops it from happening.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};

/// What starts watching for signals, called once, before the first temp file or staging
/// directory exists: a command that writes nothing (a `run` from the cache) never pays for it.
static ON_FIRST_PENDING: OnceLock<fn()> = OnceLock::new();

/// Sets what [`remove_pending`]'s caller (the binary's signal handling) starts with: `watch`
/// returns once the signals are watched, and is called at most once, before anything is listed.
pub fn on_first_pending(watch: fn()) {
    let _ = ON_FIRST_PENDING.set(watch);
}

/// Calls the [`on_first_pending`] hook the first time; returns at once every other time. Called
/// before what will be tracked is made, so no signal finds it made and unwatched.
fn watch_signals() {
    static ONCE: Once = Once::new();
    if let Some(watch) = ON_FIRST_PENDING.get() {
        ONCE.call_once(watch);
    }
}

/// Temp files and staging directories that exist now and must not outlive morph.
fn pending() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    static PENDING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every listed temp file and staging directory, and keeps the list locked so no
/// rename can happen after it: call it only on the way out of the process. Returns how many
/// were removed.
pub fn remove_pending() -> usize {
    let mut list = pending();
    let mut removed = 0;
    for p in std::mem::take(&mut *list) {
        let gone = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        removed += usize::from(gone.is_ok());
    }
    // Held until the process exits, so a writer that has not renamed yet never does.
    std::mem::forget(list);
    removed
}

/// A path listed in [`pending`] until it is dropped or [`Pending::keep`] takes it off.
#[derive(Debug)]
pub struct Pending {
    path: PathBuf,
}

impl Pending {
    /// Lists `path` as something to remove if morph is stopped by a signal.
    pub fn track(path: impl Into<PathBuf>) -> Pending {
        watch_signals();
        let path = path.into();
        pending().insert(path.clone());
        Pending { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `finish` (a rename into place) so that no signal cleans up half way, then stops
    /// tracking the path.
    pub fn keep<T>(self, finish: impl FnOnce(&Path) -> T) -> T {
        let mut list = pending();
        let out = finish(&self.path);
        list.remove(&self.path);
        drop(list);
        std::mem::forget(self);
        out
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        pending().remove(&self.path);
    }
}

/// A directory made in `parent`, named `prefix*`, watched for from before it exists and listed
/// until the [`Pending`] is dropped or kept: a staging or scratch directory a signal removes.
pub fn tracked_dir_in(parent: &Path, prefix: &str) -> std::io::Result<(tempfile::TempDir, Pending)> {
    watch_signals();
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    let pending = Pending::track(dir.path());
    Ok((dir, pending))
}

/// A temp file in `dir`, named `.morph-tmp-*`, removed on drop or by a signal.
pub struct TempFile {
    file: tempfile::NamedTempFile,
    pending: Pending,
}

/// Who may read a file morph writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// As any file a tool writes: 0666 less the umask (0644 under 022), so another user, a web
    /// server or a container build can read an output or a registered morph.
    Shared,
    /// Only its owner (0600), whatever the umask: files holding credentials.
    Private,
}

impl TempFile {
    pub fn new_in(dir: &Path) -> std::io::Result<TempFile> {
        TempFile::with_access(dir, Access::Shared)
    }

    pub fn with_access(dir: &Path, access: Access) -> std::io::Result<TempFile> {
        // Before the file exists, so no signal finds it unlisted and unwatched.
        watch_signals();
        let mut builder = tempfile::Builder::new();
        builder.prefix(".morph-tmp-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The mode is given to open(2), which takes the umask off it, as for any new file.
            let mode = match access {
                Access::Shared => 0o666,
                Access::Private => 0o600,
            };
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        let file = builder.tempfile_in(dir)?;
        let pending = Pending::track(file.path());
        Ok(TempFile { file, pending })
    }

    pub fn as_file(&self) -> &std::fs::File {
        self.file.as_file()
    }

    pub fn as_file_mut(&mut self) -> &mut std::fs::File {
        self.file.as_file_mut()
    }

    /// Renames the file over `path` (or, with `replace` false, only where nothing is there).
    pub fn persist(self, path: &Path, replace: bool) -> std::io::Result<()> {
        let TempFile { file, pending } = self;
        pending.keep(|_| {
            if replace {
                file.persist(path).map(drop).map_err(|e| e.error)
            } else {
                file.persist_noclobber(path).map(drop).map_err(|e| e.error)
            }
        })
    }
}

/// Replaces `path` with `bytes` whole, synced to disk (file and directory) before it returns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true, true, Access::Shared)
}

/// [`write_atomic`] for a file only its owner may read (credentials).
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true, true, Access::Private)
}

/// Like [`write_atomic`], but fails instead of replacing an existing file.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, false, true, Access::Shared)
}

/// For files that can be made again (a composed component, a "validated" marker): still never
/// half a file for a crash of morph or a Ctrl-C, but not synced to disk first, as compilers do not
/// sync theirs. Syncing an 18 MB output costs more than composing it.
pub fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true, false, Access::Shared)
}

/// [`write_output`] of a file's contents, copied by the kernel (`copy_file_range`, which shares
/// the extents where the filesystem can): the bytes never pass through morph.
pub fn copy_output(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = TempFile::new_in(dir)?;
    std::io::copy(&mut std::fs::File::open(from)?, tmp.as_file_mut())?;
    tmp.persist(to, true)
}

fn write(path: &Path, bytes: &[u8], replace: bool, sync: bool, access: Access) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = TempFile::with_access(dir, access)?;
    tmp.as_file_mut().write_all(bytes)?;
    if sync {
        tmp.as_file().sync_data()?;
    }
    tmp.persist(path, replace)?;
    if sync {
        // The rename is durable only once the directory is: a power cut must not lose a
        // registered morph whose bytes were synced.
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_noclobber_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/file.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(write_new_atomic(&p, b"three").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temp files left: {names:?}");
        assert!(pending().iter().all(|t| !t.starts_with(dir.path())), "nothing of this dir is still listed");
    }

    #[test]
    fn copies_are_whole_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from.bin");
        std::fs::write(&from, vec![7u8; 3 << 20]).unwrap();
        let to = dir.path().join("out/to.bin");
        write_atomic(&to, b"old").unwrap();
        copy_output(&from, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), std::fs::read(&from).unwrap());
        assert!(copy_output(&dir.path().join("missing"), &to).is_err());
        assert_eq!(std::fs::read(&to).unwrap().len(), 3 << 20, "a failed copy leaves the old file");
    }

    #[test]
    fn a_listed_temp_is_dropped_from_the_list_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = TempFile::new_in(dir.path()).unwrap();
        let p = tmp.pending.path().to_path_buf();
        assert!(pending().contains(&p));
        drop(tmp);
        assert!(!pending().contains(&p) && !p.exists());
    }

    #[test]
    fn concurrent_writers_leave_one_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("same.bin");
        let handles: Vec<_> = (0..8u8)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || write_atomic(&p, &vec![i; 1 << 20]).unwrap())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 1 << 20);
        assert!(bytes.iter().all(|b| *b == bytes[0]), "one writer's bytes only");
    }
}
