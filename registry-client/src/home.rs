//! `$MORPH_HOME` (default `~/.morph`): registry, caches, config.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `$MORPH_HOME`, else `$HOME/.morph`. `None` when neither can be known.
    pub fn from_env() -> Option<Home> {
        if let Some(h) = std::env::var_os("MORPH_HOME").filter(|h| !h.is_empty()) {
            return Some(Home { root: PathBuf::from(h) });
        }
        std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| Home { root: PathBuf::from(h).join(".morph") })
    }

    pub fn at(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `registry/morphs`: `<ns>/<version>/<name>.wasm`, Hayride's layout.
    pub fn morphs_dir(&self) -> PathBuf {
        self.root.join("registry").join("morphs")
    }
}
