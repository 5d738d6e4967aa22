//! The compiled-code cache: `$MORPH_HOME/cache/compiled/<sha256>-<engine-hash>.cwasm`.
//!
//! A hit maps the file instead of compiling. Entries are written to a temp file in the same
//! directory and renamed into place, so a reader never sees half a file and concurrent writers
//! leave one whole entry. Each entry has a `.sum` beside it (an XXH3 checksum of the source's
//! digest followed by the entry, written before the entry itself): an entry whose checksum does
//! not match — corrupt, truncated by hand, not ours, or compiled from another component and
//! copied over this one's name, with or without its `.sum` — is recompiled, never handed to the
//! engine.

use std::path::{Path, PathBuf};

use morph_registry_client::atomic::write_output;
use morph_registry_client::checked;

use tracing::{debug, warn};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use super::engine_hash;

/// What the cache keeps compiled: components, and the core modules of core-module extensions.
pub(crate) trait Code: Sized + Clone + Send + 'static {
    /// Ends the entry's name: a module and a component are never each other's entry, even when
    /// one file is tried as both (`morph run` of a core-module extension).
    const SUFFIX: &'static str;
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self>;
    /// # Safety
    /// `path` must hold code serialized by this cache (its checksum checked).
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    /// The compiled image in memory, which is what `serialize` would copy out byte by byte
    /// (a tenth of a second for an interpreter morph): the entry is written from it directly.
    fn image(&self) -> &[u8];
}

/// The bytes of the image range `code` gives, borrowed from `code`.
fn image_bytes<T>(code: &T, range: impl FnOnce(&T) -> std::ops::Range<*const u8>) -> &[u8] {
    let range = range(code);
    // SAFETY: the range is the published (readable) image of `code`'s compiled code, which
    // lives as long as `code` does.
    unsafe { std::slice::from_raw_parts(range.start, range.end as usize - range.start as usize) }
}

impl Code for Component {
    const SUFFIX: &'static str = "";
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        unsafe { Component::deserialize_file(engine, path) }
    }
    fn image(&self) -> &[u8] {
        image_bytes(self, Self::image_range)
    }
}

impl Code for Module {
    const SUFFIX: &'static str = "-module";
    fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, wasm)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        unsafe { Module::deserialize_file(engine, path) }
    }
    fn image(&self) -> &[u8] {
        image_bytes(self, Self::image_range)
    }
}

pub struct CodeCache {
    dir: Option<PathBuf>,
    home: Option<morph_registry_client::Home>,
}

/// How a component was obtained, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
    Disabled,
}

impl CodeCache {
    /// A cache under `home/cache/compiled`, or none.
    pub fn new(home: Option<&Path>) -> CodeCache {
        CodeCache {
            dir: home.map(|h| h.join("cache").join("compiled")),
            home: home.map(morph_registry_client::Home::at),
        }
    }

    /// The component compiled from `wasm`, from the cache when it is there and intact.
    /// `digest` is `sha256:<hex>` of `wasm`. `compiling` is called when it must be compiled, and
    /// what it returns is dropped when the compile ends (a spinner, say).
    pub fn load<C: Code, G>(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &str,
        compiling: impl FnOnce() -> G,
    ) -> wasmtime::Result<(C, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            let _notice = compiling();
            return Ok((C::compile(engine, wasm)?, CacheOutcome::Disabled));
        };
        let entry = self.entry::<C>(dir, engine, digest);
        if let Some(component) = self.read_entry(engine, &entry, digest) {
            return Ok((component, CacheOutcome::Hit));
        }
        let notice = compiling();
        let component = C::compile(engine, wasm)?;
        drop(notice);
        writes::start(entry, {
            let (dir, home, component, digest) =
                (dir.clone(), self.home.clone(), component.clone(), digest.to_string());
            move |entry: &Path| {
                if let Err(e) = write(&dir, home.as_ref(), entry, &component, &digest) {
                    // A cache that cannot be written only costs speed.
                    warn!("cannot write the compiled-code cache at {}: {e}", dir.display());
                }
            }
        });
        Ok((component, CacheOutcome::Compiled))
    }

    /// The component compiled from the bytes with `digest`, when the cache has it intact.
    pub fn read<C: Code>(&self, engine: &Engine, digest: &str) -> Option<C> {
        let entry = self.entry::<C>(self.dir.as_ref()?, engine, digest);
        self.read_entry(engine, &entry, digest)
    }

    fn entry<C: Code>(&self, dir: &Path, engine: &Engine, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        dir.join(format!("{hex}-{}{}.cwasm", engine_hash(engine), C::SUFFIX))
    }

    fn read_entry<C: Code>(&self, engine: &Engine, entry: &Path, digest: &str) -> Option<C> {
        writes::wait_for(entry);
        let expected = std::fs::read_to_string(sum_path(entry)).ok()?;
        let expected = expected.trim();
        // An entry that passed its checksum and has not changed since (same inode, size and
        // times) is not hashed again: the marker's key holds the checksum it passed.
        let marker = self.home.as_ref().and_then(|h| checked::marker(h, &checksum_check(expected), entry));
        if !marker.as_deref().is_some_and(checked::passed) {
            debug!("checking the checksum of {}: not known unchanged since it last passed", entry.display());
            // Hash through a mapping: the pages come from the page cache and are shared with
            // the engine's own mapping below, so a hit copies nothing.
            let file = std::fs::File::open(entry).ok()?;
            // SAFETY: read-only mapping of a cache file that is only ever replaced by rename,
            // never written in place.
            let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
            if checksum(digest, &map) != expected {
                warn!("compiled-code cache entry {} does not match its checksum; recompiling", entry.display());
                return None;
            }
            if let Some(m) = marker.filter(|_| checked::settled(entry)) {
                checked::remember(&m);
            }
        }
        // SAFETY: the entry is one this cache wrote (its checksum matches) for this engine's
        // compatibility hash; wasmtime checks the engine settings in the header again.
        match unsafe { C::deserialize_file(engine, entry) } {
            Ok(c) => {
                debug!("compiled-code cache hit: {}", entry.display());
                // The checksum file's modification time is the entry's last use, which `morph
                // cache prune` goes by; the entry itself is left as written, so its marker holds.
                morph_registry_client::cache::touch(&sum_path(entry));
                Some(c)
            }
            Err(e) => {
                warn!("compiled-code cache entry {} is unusable ({e}); recompiling", entry.display());
                None
            }
        }
    }
}

fn write<C: Code>(
    dir: &Path,
    home: Option<&morph_registry_client::Home>,
    entry: &Path,
    component: &C,
    digest: &str,
) -> wasmtime::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes = component.image();
    let sum = checksum(digest, bytes);
    // Whole files by rename, not synced to disk: an entry a power cut tore fails its
    // checksum and is compiled again, so a sync would only slow every first start.
    write_output(&sum_path(entry), format!("{sum}\n").as_bytes())?;
    write_output(entry, bytes)?;
    // The bytes just written are the ones hashed: the entry's first read need not hash them.
    if let Some(home) = home {
        checked::remember_written(home, &checksum_check(&sum), entry, "");
    }
    Ok(())
}

/// Entries written while the code they hold already runs: serializing, hashing and writing
/// tens of MB is a tenth of a second the morph does not wait for. A read of an entry waits for
/// its write, so a process sees its own entries as if written at once, and
/// [`finish_cache_writes`] (the command line's last step) waits for the rest. A process stopped
/// by a signal first removes the temp files under way (`atomic::remove_pending`): nothing is
/// left half-written, and no entry is renamed into place before it is whole.
mod writes {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::thread::JoinHandle;

    static PENDING: Mutex<Vec<(PathBuf, JoinHandle<()>)>> = Mutex::new(Vec::new());

    pub(super) fn start(entry: PathBuf, write: impl FnOnce(&Path) + Send + 'static) {
        wait_for(&entry);
        let spawned = std::thread::Builder::new().name("morph-cache-write".into()).spawn({
            let entry = entry.clone();
            move || write(&entry)
        });
        match spawned {
            Ok(handle) => PENDING.lock().unwrap_or_else(|p| p.into_inner()).push((entry, handle)),
            Err(e) => tracing::warn!("cannot start the cache write of {}: {e}", entry.display()),
        }
    }

    pub(super) fn wait_for(entry: &Path) {
        join_where(|p| p == entry);
    }

    /// Waits for the writes of the entries `which` picks.
    pub(super) fn join_where(which: impl Fn(&Path) -> bool) {
        let mine: Vec<_> = {
            let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
            let (mine, rest) = std::mem::take(&mut *pending).into_iter().partition(|(p, _)| which(p));
            *pending = rest;
            mine
        };
        for (_, handle) in mine {
            let _ = handle.join();
        }
    }
}

/// Waits for the compiled-code cache entries this process is still writing. A command calls it
/// before it exits, or the entries it compiled are lost.
pub fn finish_cache_writes() {
    writes::join_where(|_| true);
}

/// The checksum of an entry compiled from the component whose digest is `digest`: it binds the
/// entry's bytes to their source, so the entry of one component never passes for another's.
fn checksum(digest: &str, entry: &[u8]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(digest.as_bytes());
    h.update(b"\0");
    h.update(entry);
    format!("{:032x}", h.digest128())
}

/// The check an entry's marker records: that it passed this checksum.
fn checksum_check(sum: &str) -> String {
    format!("cwasm {sum}")
}

fn sum_path(entry: &Path) -> PathBuf {
    entry.with_extension("cwasm.sum")
}
