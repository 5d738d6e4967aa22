//! A project's sources, for `--build` (rebuild when a source is newer than the output) and
//! `--watch` (rebuild when one changes): the files under the project matching `[build] watch`
//! globs of morph.toml, or the language's defaults. `**` matches any number of directories, `*`
//! and `?` characters within one name. Build products (`target/`, `node_modules/`, hidden
//! directories, `__pycache__/`) are never sources.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::manifest::{Language, Manifest};

/// Directories no source is under.
const SKIPPED: &[&str] = &["target", "node_modules", "__pycache__"];

/// The globs that name the project's sources.
pub fn patterns(m: &Manifest) -> Vec<String> {
    if !m.watch.is_empty() {
        return m.watch.clone();
    }
    let own: &[&str] = match m.language {
        Language::Rust => &["src/**/*.rs", "Cargo.toml", "build.rs"],
        Language::Python => &["**/*.py"],
        Language::Js => &["**/*.js", "**/*.mjs", "package.json"],
        Language::Go => &["**/*.go", "go.mod"],
    };
    own.iter().chain(&["wit/**", "morph.toml"]).map(|s| s.to_string()).collect()
}

/// Each source file with its modification time and length.
pub type Stamps = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

/// The project's sources now.
pub fn stamps(m: &Manifest) -> Stamps {
    let patterns = patterns(m);
    let mut out = Stamps::new();
    let mut stack = vec![m.dir.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                if !name.starts_with('.') && !SKIPPED.contains(&name.as_str()) {
                    stack.push(path);
                }
                continue;
            }
            if path == m.output {
                continue;
            }
            let Ok(rel) = path.strip_prefix(&m.dir) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if patterns.iter().any(|p| glob_match(p, &rel)) {
                out.insert(path, (meta.modified().ok(), meta.len()));
            }
        }
    }
    out
}

/// Whether the output is missing or older than a source (the newest source, when stale).
pub fn stale(m: &Manifest) -> Option<Option<PathBuf>> {
    let Some(built) = std::fs::metadata(&m.output).ok().and_then(|meta| meta.modified().ok()) else {
        return Some(None);
    };
    stamps(m).into_iter().find(|(_, (t, _))| t.is_some_and(|t| t > built)).map(|(p, _)| Some(p))
}

/// Whether `path` (relative, `/`-separated) matches `pattern`.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let n: Vec<&str> = path.split('/').collect();
    segments(&p, &n)
}

fn segments(p: &[&str], n: &[&str]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some((&"**", rest)) => (0..=n.len()).any(|skip| segments(rest, &n[skip..])),
        Some((first, rest)) => {
            !n.is_empty() && name_match(first.as_bytes(), n[0].as_bytes()) && segments(rest, &n[1..])
        }
    }
}

fn name_match(p: &[u8], n: &[u8]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some((b'*', rest)) => (0..=n.len()).any(|skip| name_match(rest, &n[skip..])),
        Some((b'?', rest)) => !n.is_empty() && name_match(rest, &n[1..]),
        Some((c, rest)) => n.first() == Some(c) && name_match(rest, &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("src/**/*.rs", "src/lib.rs"));
        assert!(glob_match("src/**/*.rs", "src/a/b/c.rs"));
        assert!(!glob_match("src/**/*.rs", "tests/a.rs"));
        assert!(glob_match("**/*.py", "app.py"));
        assert!(glob_match("**/*.py", "pkg/mod/x.py"));
        assert!(glob_match("wit/**", "wit/deps/a.wit"));
        assert!(glob_match("morph.toml", "morph.toml"));
        assert!(glob_match("?.go", "a.go") && !glob_match("?.go", "ab.go"));
        assert!(!glob_match("*.js", "lib/a.js"));
    }
}
