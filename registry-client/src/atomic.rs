//! Writes that never leave half a file: a temp file in the target directory, synced, then
//! renamed over the target. A crash or Ctrl-C leaves the old file or the new one (and at worst a
//! stray temp file, which readers never look at); concurrent writers leave one whole file.

use std::io::Write;
use std::path::Path;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true, true)
}

/// Like [`write_atomic`], but fails instead of replacing an existing file.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, false, true)
}

/// For files that can be made again (a composed component, a "validated" marker): still never
/// half a file for a crash of morph or a Ctrl-C, but not synced to disk first, as compilers do not
/// sync theirs. Syncing an 18 MB output costs more than composing it.
pub fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, true, false)
}

fn write(path: &Path, bytes: &[u8], replace: bool, sync: bool) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".morph-tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if sync {
        tmp.as_file().sync_data()?;
    }
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
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
