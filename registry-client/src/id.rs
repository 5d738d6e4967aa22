//! Morph ids: `ns:name@version`, the version optional.

use semver::Version;

use crate::RegistryError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MorphId {
    pub namespace: String,
    pub name: String,
    pub version: Option<Version>,
}

/// A lowercase kebab-case label (`my-app2`), as ids and WIT identifiers use.
pub fn valid_label(s: &str) -> bool {
    !s.is_empty()
        && s.split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

impl MorphId {
    pub fn parse(s: &str) -> Result<MorphId, RegistryError> {
        let bad = || RegistryError::BadId(s.to_string());
        let (base, version) = match s.split_once('@') {
            Some((b, v)) => (b, Some(Version::parse(v).map_err(|_| bad())?)),
            None => (s, None),
        };
        let (namespace, name) = base.split_once(':').ok_or_else(bad)?;
        if !valid_label(namespace) || !valid_label(name) {
            return Err(bad());
        }
        Ok(MorphId { namespace: namespace.into(), name: name.into(), version })
    }

    /// Whether a command-line argument is meant as an id rather than a path.
    pub fn looks_like_id(s: &str) -> bool {
        !s.contains('/') && !s.contains('\\') && s.contains(':') && !s.ends_with(".wasm") && !s.ends_with(".wat")
    }
}

impl std::fmt::Display for MorphId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids() {
        let id = MorphId::parse("hayride:cli@0.1.2").unwrap();
        assert_eq!((id.namespace.as_str(), id.name.as_str()), ("hayride", "cli"));
        assert_eq!(id.version, Some(Version::new(0, 1, 2)));
        assert_eq!(id.to_string(), "hayride:cli@0.1.2");
        assert_eq!(MorphId::parse("a:b-c").unwrap().version, None);
        for bad in ["nocolon", "A:b", "a:b@x", "a:", ":b", "a:b--c", "a:../x"] {
            assert!(MorphId::parse(bad).is_err(), "{bad}");
        }
        assert!(MorphId::looks_like_id("a:b@1.0.0"));
        assert!(!MorphId::looks_like_id("./a:b.wasm"));
    }
}
