//! Looking morphs up in the local registry.

use std::path::PathBuf;

use semver::Version;

use crate::{Home, MorphId, RegistryError};

/// A morph file in the local registry.
#[derive(Debug, Clone)]
pub struct LocalMorph {
    pub id: MorphId,
    pub path: PathBuf,
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
                format!(" (versions present: {})", versions.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_version_wins_and_missing_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        for v in ["0.1.0", "0.10.0", "0.9.1"] {
            let d = home.morphs_dir().join("acme").join(v);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("tool.wasm"), b"x").unwrap();
        }
        let m = resolve_local(&home, &MorphId::parse("acme:tool").unwrap()).unwrap();
        assert_eq!(m.id.version, Some(Version::new(0, 10, 0)));
        let m = resolve_local(&home, &MorphId::parse("acme:tool@0.9.1").unwrap()).unwrap();
        assert!(m.path.ends_with("acme/0.9.1/tool.wasm"));
        let e = resolve_local(&home, &MorphId::parse("acme:tool@2.0.0").unwrap()).unwrap_err().to_string();
        assert!(e.contains("0.10.0") && e.contains("morph register"), "{e}");
        assert!(resolve_local(&home, &MorphId::parse("none:such").unwrap()).is_err());
    }
}
