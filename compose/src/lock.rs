//! `morph.lock`: which packages from outside its folder a WAC file was composed from — the
//! local registry, OCI, or a file elsewhere —, at which version and with which sha256. The next
//! compose asks for the locked versions (a newer one registered or tagged since is not taken),
//! and a package whose bytes differ from the locked digest is reported: `--locked` refuses it,
//! a plain compose warns and moves the lock on. `--update [PKG]` re-resolves.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::resolve::{Origin, ResolvedPackage};

pub const LOCK_FILE: &str = "morph.lock";

/// The header written above the entries.
const HEADER: &str = "# Written by `morph compose`: the packages this folder's WAC files were composed from.\n\
# `morph compose --update [PKG]` moves it on; `morph compose --locked` refuses any change.\n";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(rename = "package", default)]
    pub packages: Vec<Locked>,
}

/// One package as it was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// As the WAC file names it (`ns:name` or `ns:name@version`).
    pub name: String,
    /// `registry`, `oci` or `file`.
    pub source: String,
    /// The registry id, the OCI reference, or the file.
    pub location: String,
    /// The version it resolved to (registry and OCI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:<hex>` of the package's bytes.
    pub sha256: String,
}

/// How a compose treats the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Locked versions are asked for; changes are warned about and written.
    Keep,
    /// Every package (or the named ones) is resolved afresh.
    All,
    Only(Vec<String>),
}

/// A difference between the lock and a composition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Not in the lock yet.
    Added { name: String },
    /// Resolved to another source or version.
    Moved { name: String, from: String, to: String },
    /// The same source and version with other bytes: replaced where it lives.
    Replaced { name: String, location: String, locked: String, now: String },
}

impl Change {
    pub fn name(&self) -> &str {
        match self {
            Change::Added { name } | Change::Moved { name, .. } | Change::Replaced { name, .. } => name,
        }
    }

    /// What changed, for a person.
    pub fn describe(&self) -> String {
        match self {
            Change::Added { name } => format!("{name} is not in {LOCK_FILE}"),
            Change::Moved { name, from, to } => format!("{name} would resolve to {to}, {LOCK_FILE} has {from}"),
            Change::Replaced { name, location, locked, now } => {
                format!("{name} ({location}) has sha256 {now}, {LOCK_FILE} has {locked}: it was replaced under the same version")
            }
        }
    }
}

impl Lock {
    /// The lock in `dir`, or an empty one when there is none; one that does not parse is an
    /// error naming the file.
    pub fn read(dir: &Path) -> Result<Lock, String> {
        let path = dir.join(LOCK_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                format!(
                    "{} does not parse: {}; fix it or delete it (the next compose writes it again)",
                    path.display(),
                    e.message()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the lock to `dir` atomically, its entries sorted by name.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, String> {
        let mut sorted = self.clone();
        sorted.version = 1;
        sorted.packages.sort_by(|a, b| a.name.cmp(&b.name));
        let text = toml::to_string(&sorted).map_err(|e| e.to_string())?;
        let path = dir.join(LOCK_FILE);
        morph_registry_client::atomic::write_output(&path, format!("{HEADER}\n{text}").as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    fn get(&self, name: &str) -> Option<&Locked> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The versions to ask for: each locked registry or OCI package's, unless `update` says to
    /// resolve it afresh.
    pub fn pins(&self, update: &Update) -> Vec<(String, semver::Version)> {
        self.packages
            .iter()
            .filter(|p| match update {
                Update::Keep => true,
                Update::All => false,
                Update::Only(names) => !names.iter().any(|n| *n == p.name || p.name.split('@').next() == Some(n)),
            })
            .filter(|p| p.source != "file")
            .filter_map(|p| Some((p.name.clone(), semver::Version::parse(p.version.as_deref()?).ok()?)))
            .collect()
    }

    /// The lock after a composition of the WAC file in `wac_dir` resolved `resolved`, and how
    /// it differs from this one. Packages inside `wac_dir` belong to the folder and are not
    /// locked; entries of other WAC files of the folder are kept.
    pub fn relock(&self, resolved: &[ResolvedPackage], wac_dir: &Path) -> (Lock, Vec<Change>) {
        let mut next = self.clone();
        let mut changes = Vec::new();
        let folder = wac_dir.canonicalize().ok();
        for package in resolved {
            let Some(entry) = entry_for(package, folder.as_deref()) else { continue };
            match self.get(&entry.name) {
                None => changes.push(Change::Added { name: entry.name.clone() }),
                Some(old)
                    if old.source != entry.source || old.location != entry.location || old.version != entry.version =>
                {
                    changes.push(Change::Moved {
                        name: entry.name.clone(),
                        from: old.location.clone(),
                        to: entry.location.clone(),
                    })
                }
                Some(old) if old.sha256 != entry.sha256 => changes.push(Change::Replaced {
                    name: entry.name.clone(),
                    location: entry.location.clone(),
                    locked: old.sha256.clone(),
                    now: entry.sha256.clone(),
                }),
                Some(_) => continue,
            }
            next.packages.retain(|p| p.name != entry.name);
            next.packages.push(entry);
        }
        (next, changes)
    }
}

/// The lock entry of a package resolved from outside `folder` (the WAC file's, canonical).
fn entry_for(p: &ResolvedPackage, folder: Option<&Path>) -> Option<Locked> {
    let (source, location, version) = match &p.origin {
        Origin::Registry { id, .. } => ("registry", id.clone(), id.rsplit_once('@').map(|(_, v)| v.to_string())),
        Origin::Oci { reference, .. } => {
            let parsed = morph_registry_client::oci::parse_reference(reference).ok();
            let tag = parsed.as_ref().and_then(|r| r.tag()).filter(|t| semver::Version::parse(t).is_ok());
            ("oci", reference.clone(), tag.map(str::to_string))
        }
        Origin::Dep(path) | Origin::DepsDir(path) | Origin::Wit(path) => {
            let inside = match (path.canonicalize(), folder) {
                (Ok(path), Some(dir)) => path.starts_with(dir),
                _ => false,
            };
            if inside {
                return None;
            }
            ("file", path.display().to_string(), None)
        }
    };
    Some(Locked { name: p.key.clone(), source: source.into(), location, version, sha256: p.sha256.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(name: &str, version: &str, sha: &str) -> ResolvedPackage {
        ResolvedPackage {
            key: name.into(),
            origin: Origin::Registry { id: format!("{name}@{version}"), path: PathBuf::from("/r") },
            sha256: sha.into(),
        }
    }

    #[test]
    fn a_composition_is_locked_then_compared() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, changes) = Lock::default().relock(&[registry("acme:a", "1.0.0", "sha256:1")], dir.path());
        assert_eq!(changes, vec![Change::Added { name: "acme:a".into() }]);
        lock.write(dir.path()).unwrap();
        let lock = Lock::read(dir.path()).unwrap();
        assert_eq!(lock.packages[0].version.as_deref(), Some("1.0.0"));
        assert_eq!(lock.pins(&Update::Keep), vec![("acme:a".to_string(), semver::Version::new(1, 0, 0))]);
        assert!(lock.pins(&Update::Only(vec!["acme:a".into()])).is_empty());

        let (_, same) = lock.relock(&[registry("acme:a", "1.0.0", "sha256:1")], dir.path());
        assert!(same.is_empty());
        let (_, replaced) = lock.relock(&[registry("acme:a", "1.0.0", "sha256:2")], dir.path());
        assert!(matches!(&replaced[0], Change::Replaced { now, .. } if now == "sha256:2"));
        let (next, moved) = lock.relock(&[registry("acme:a", "1.1.0", "sha256:3")], dir.path());
        assert!(matches!(&moved[0], Change::Moved { to, .. } if to == "acme:a@1.1.0"));
        assert_eq!(next.packages.len(), 1);
    }

    #[test]
    fn files_inside_the_folder_are_not_locked() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("deps/acme/b.wasm");
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::write(&inside, b"x").unwrap();
        let p = ResolvedPackage { key: "acme:b".into(), origin: Origin::DepsDir(inside), sha256: "sha256:0".into() };
        let (lock, changes) = Lock::default().relock(&[p], dir.path());
        assert!(lock.packages.is_empty() && changes.is_empty());
    }
}
