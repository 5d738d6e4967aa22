//! Interface names as they appear in components (`ns:pkg/iface@1.2.3`) and the component
//! model's semver rule for when two of them name the same thing.

use semver::Version;

/// A parsed `ns:pkg/iface@version` name; a plain name (a bare function or an inline
/// interface) has no package part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceName {
    /// `ns:pkg/iface`, or the plain name.
    pub base: String,
    pub version: Option<Version>,
}

impl InterfaceName {
    pub fn parse(name: &str) -> InterfaceName {
        match name.rsplit_once('@') {
            Some((base, v)) if base.contains('/') => match Version::parse(v) {
                Ok(version) => InterfaceName { base: base.to_string(), version: Some(version) },
                Err(_) => InterfaceName { base: name.to_string(), version: None },
            },
            _ => InterfaceName { base: name.to_string(), version: None },
        }
    }

    /// `ns:pkg` of a qualified name.
    pub fn package(&self) -> Option<&str> {
        self.base.split_once('/').map(|(p, _)| p)
    }

    /// The interface part of a qualified name (`stdout` of `wasi:cli/stdout`).
    pub fn interface(&self) -> &str {
        self.base.rsplit_once('/').map_or(self.base.as_str(), |(_, i)| i)
    }

    /// Whether an import of `self` can be satisfied by something named `other`: same base name
    /// and versions on the same semver track (`0.2.0` ~ `0.2.3`; `1.0.0` ~ `1.4.0`; pre-releases
    /// only exactly).
    pub fn compatible_with(&self, other: &InterfaceName) -> bool {
        if self.base != other.base {
            return false;
        }
        match (&self.version, &other.version) {
            (None, None) => true,
            (Some(a), Some(b)) => compat_track(a) == compat_track(b),
            _ => false,
        }
    }
}

impl std::fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.base),
            None => f.write_str(&self.base),
        }
    }
}

/// The component model's compatibility track of a version: the leading non-zero component;
/// a pre-release is its own track.
fn compat_track(v: &Version) -> (u64, u64, u64, String) {
    if !v.pre.is_empty() {
        return (v.major, v.minor, v.patch, v.pre.to_string());
    }
    if v.major > 0 {
        (v.major, 0, 0, String::new())
    } else if v.minor > 0 {
        (0, v.minor, 0, String::new())
    } else {
        (0, 0, v.patch, String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> InterfaceName {
        InterfaceName::parse(s)
    }

    #[test]
    fn parses_qualified_and_plain_names() {
        let q = n("wasi:cli/stdout@0.2.3");
        assert_eq!(q.base, "wasi:cli/stdout");
        assert_eq!(q.version, Some(Version::new(0, 2, 3)));
        assert_eq!(q.package(), Some("wasi:cli"));
        assert_eq!(q.interface(), "stdout");
        assert_eq!(n("greet").base, "greet");
        assert_eq!(n("greet").version, None);
        assert_eq!(q.to_string(), "wasi:cli/stdout@0.2.3");
    }

    #[test]
    fn semver_tracks() {
        assert!(n("wasi:cli/stdout@0.2.3").compatible_with(&n("wasi:cli/stdout@0.2.0")));
        assert!(!n("wasi:cli/stdout@0.3.0").compatible_with(&n("wasi:cli/stdout@0.2.0")));
        assert!(n("a:b/c@1.4.0").compatible_with(&n("a:b/c@1.0.0")));
        assert!(!n("a:b/c@0.0.2").compatible_with(&n("a:b/c@0.0.1")));
        assert!(!n("a:b/c@0.2.0-rc-1").compatible_with(&n("a:b/c@0.2.0")));
        assert!(!n("wasi:cli/stdin@0.2.0").compatible_with(&n("wasi:cli/stdout@0.2.0")));
    }
}
