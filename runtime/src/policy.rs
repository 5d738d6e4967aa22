//! What a morph may touch. Closed by default: no directories, no environment variables, no
//! network. Each grant is explicit, with wasmtime's flag names where one exists.

use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<(String, String)>,
    /// Sockets, name lookup and outgoing wasi:http.
    pub allow_net: bool,
}

/// A host directory preopened for the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

impl DirGrant {
    /// `HOST`, `HOST::GUEST`, `HOST::GUEST:ro` or `HOST::GUEST:rw`. `read_only` forces `:ro`
    /// (`--dir-ro`).
    pub fn parse(spec: &str, read_only: bool) -> Result<DirGrant, String> {
        let (host, guest, ro) = match spec.split_once("::") {
            None => (spec, spec.to_string(), false),
            Some((host, rest)) => {
                let (guest, ro) = if let Some(g) = rest.strip_suffix(":ro") {
                    (g, true)
                } else if let Some(g) = rest.strip_suffix(":rw") {
                    (g, false)
                } else {
                    (rest, false)
                };
                (host, guest.to_string(), ro)
            }
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!("`--dir {spec}`: use HOST, HOST::GUEST or HOST::GUEST:ro"));
        }
        let host_path = PathBuf::from(host);
        if !host_path.is_dir() {
            return Err(format!("`--dir {spec}`: {host} is not a directory on this machine"));
        }
        Ok(DirGrant { host: host_path, guest, read_only: read_only || ro })
    }
}

/// `K=V` sets a variable; a bare `K` copies it from morph's own environment.
pub fn parse_env(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some(("", _)) => Err(format!("`--env {spec}`: the name is empty; use K=V or K")),
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => match std::env::var(spec) {
            Ok(v) => Ok((spec.to_string(), v)),
            Err(_) => Err(format!("`--env {spec}`: {spec} is not set in morph's environment; use {spec}=VALUE")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        let tmp = std::env::temp_dir();
        let t = tmp.to_str().unwrap();
        let g = DirGrant::parse(t, false).unwrap();
        assert_eq!((g.guest.as_str(), g.read_only), (t, false));
        let g = DirGrant::parse(&format!("{t}::/data"), false).unwrap();
        assert_eq!((g.guest.as_str(), g.read_only), ("/data", false));
        let g = DirGrant::parse(&format!("{t}::/data:ro"), false).unwrap();
        assert_eq!((g.guest.as_str(), g.read_only), ("/data", true));
        assert!(DirGrant::parse(&format!("{t}::/data"), true).unwrap().read_only);
        assert!(DirGrant::parse("/no/such/dir::/x", false).is_err());
        assert!(DirGrant::parse(&format!("{t}::"), false).is_err());
    }

    #[test]
    fn env_specs() {
        assert_eq!(parse_env("A=1").unwrap(), ("A".into(), "1".into()));
        assert_eq!(parse_env("A=").unwrap(), ("A".into(), "".into()));
        assert!(parse_env("=1").is_err());
        assert!(parse_env("MORPH_SURELY_UNSET_VARIABLE").is_err());
    }
}
