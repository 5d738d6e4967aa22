//! The local registry: `$MORPH_HOME/registry/morphs/<ns>/<version>/<name>.wasm`, Hayride's layout.

use std::path::PathBuf;

use semver::Version;

use crate::atomic::{write_atomic, write_new_atomic};
use crate::{Home, MorphId, RegistryError};

/// A morph file in the local registry.
#[derive(Debug, Clone)]
pub struct LocalMorph {
    pub id: MorphId,
    pub path: PathBuf,
}

fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> RegistryError + '_ {
    move |e| RegistryError::Io { path: path.to_path_buf(), message: e.to_string() }
}

/// The file of `id`; without a version, the highest semver present.
pub fn resolve_local(home: &Home, id: &MorphId) -> Result<LocalMorph, RegistryError> {
    let ns_dir = home.morphs_dir().join(&id.namespace);
    let mut versions: Vec<Version> = match std::fs::read_dir(&ns_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| Version::parse(&e.file_name().to_string_lossy()).ok())
            .filter(|v| ns_dir.join(v.to_string()).join(format!("{}.wasm", id.name)).is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(RegistryError::Io { path: ns_dir, message: e.to_string() }),
    };
    versions.sort();
    let chosen = match &id.version {
        Some(v) => versions.iter().find(|x| *x == v).cloned(),
        None => versions.last().cloned(),
    };
    match chosen {
        Some(v) => {
            let path = ns_dir.join(v.to_string()).join(format!("{}.wasm", id.name));
            Ok(LocalMorph { id: MorphId { version: Some(v), ..id.clone() }, path })
        }
        None => Err(RegistryError::NotFound {
            id: id.to_string(),
            dir: home.morphs_dir(),
            available: if versions.is_empty() {
                String::new()
            } else {
                format!(
                    " (versions present: {})",
                    versions.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
                )
            },
        }),
    }
}

/// Puts `bytes`, whose sha256 is `digest` (`sha256:<hex>`, which the caller has), in the registry
/// as `id` (which must have a version). Refuses to replace an existing morph unless `force`.
pub fn register(
    home: &Home,
    id: &MorphId,
    bytes: &[u8],
    digest: &str,
    force: bool,
) -> Result<LocalMorph, RegistryError> {
    let version = id.version.clone().ok_or_else(|| RegistryError::NeedsVersion(id.to_string()))?;
    let path = home.morphs_dir().join(&id.namespace).join(version.to_string()).join(format!("{}.wasm", id.name));
    let result = if force { write_atomic(&path, bytes) } else { write_new_atomic(&path, bytes) };
    match result {
        Ok(()) => {
            crate::checked::remember_written(home, "sha256", &path, digest);
            Ok(LocalMorph { id: id.clone(), path })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(RegistryError::Exists { id: id.to_string(), path })
        }
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Removes `id` (which must have a version) and the folders it leaves empty.
pub fn remove(home: &Home, id: &MorphId) -> Result<PathBuf, RegistryError> {
    if id.version.is_none() {
        return Err(RegistryError::NeedsVersion(id.to_string()));
    }
    let found = resolve_local(home, id)?;
    std::fs::remove_file(&found.path).map_err(io_err(&found.path))?;
    // Empty version and namespace folders go too; a non-empty one stays (remove_dir refuses).
    if let Some(version_dir) = found.path.parent() {
        let _ = std::fs::remove_dir(version_dir);
        if let Some(ns_dir) = version_dir.parent() {
            let _ = std::fs::remove_dir(ns_dir);
        }
    }
    Ok(found.path)
}

/// One morph of the registry, for `morph list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedMorph {
    pub id: String,
    pub path: PathBuf,
    pub size: u64,
    pub digest: String,
}

/// Every morph in the registry, sorted by id and version.
pub fn list(home: &Home) -> Result<Vec<ListedMorph>, RegistryError> {
    let root = home.morphs_dir();
    let mut out: Vec<(String, String, Version, PathBuf)> = Vec::new();
    let read = |p: &std::path::Path| -> Result<Vec<std::fs::DirEntry>, RegistryError> {
        match std::fs::read_dir(p) {
            Ok(rd) => Ok(rd.filter_map(|e| e.ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err(p)(e)),
        }
    };
    for ns in read(&root)? {
        let ns_name = ns.file_name().to_string_lossy().into_owned();
        for ver in read(&ns.path())? {
            let Ok(version) = Version::parse(&ver.file_name().to_string_lossy()) else { continue };
            for file in read(&ver.path())? {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "wasm") {
                    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                    out.push((ns_name.clone(), name, version.clone(), path));
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out.into_iter()
        .map(|(ns, name, version, path)| {
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            Ok(ListedMorph {
                id: format!("{ns}:{name}@{version}"),
                size: bytes.len() as u64,
                digest: morph_contract::component::sha256_digest(&bytes),
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use morph_contract::component::sha256_digest;

    fn id(s: &str) -> MorphId {
        MorphId::parse(s).unwrap()
    }

    #[test]
    fn highest_version_wins_and_missing_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        for v in ["0.1.0", "0.10.0", "0.9.1"] {
            register(&home, &id(&format!("acme:tool@{v}")), b"x", &sha256_digest(b"x"), false).unwrap();
        }
        let m = resolve_local(&home, &id("acme:tool")).unwrap();
        assert_eq!(m.id.version, Some(Version::new(0, 10, 0)));
        let m = resolve_local(&home, &id("acme:tool@0.9.1")).unwrap();
        assert!(m.path.ends_with("acme/0.9.1/tool.wasm"));
        let e = resolve_local(&home, &id("acme:tool@2.0.0")).unwrap_err().to_string();
        assert!(e.contains("0.10.0") && e.contains("morph register"), "{e}");
        assert!(resolve_local(&home, &id("none:such")).is_err());
    }

    #[test]
    fn register_refuses_overwrite_without_force_and_remove_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        register(&home, &id("acme:tool@1.0.0"), b"one", &sha256_digest(b"one"), false).unwrap();
        let e = register(&home, &id("acme:tool@1.0.0"), b"two", &sha256_digest(b"two"), false).unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        register(&home, &id("acme:tool@1.0.0"), b"two", &sha256_digest(b"two"), true).unwrap();
        assert_eq!(std::fs::read(resolve_local(&home, &id("acme:tool")).unwrap().path).unwrap(), b"two");
        assert!(register(&home, &id("acme:tool"), b"x", &sha256_digest(b"x"), false).is_err(), "needs a version");
        let listed = list(&home).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "acme:tool@1.0.0");
        assert_eq!(listed[0].size, 3);
        remove(&home, &id("acme:tool@1.0.0")).unwrap();
        assert!(list(&home).unwrap().is_empty());
        assert!(!home.morphs_dir().join("acme").exists(), "empty folders removed");
        assert!(remove(&home, &id("acme:tool@1.0.0")).is_err());
    }
}
