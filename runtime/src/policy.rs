//! What a morph may touch. Closed by default: no directories, no environment variables, no
//! network. Each grant is explicit, with wasmtime's flag names where one exists.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<(String, String)>,
    /// Sockets, name lookup and outgoing wasi:http.
    pub allow_net: bool,
    /// The Hayride host interfaces granted with `--allow`.
    pub grants: BTreeSet<Grant>,
    /// What `wasi:config/store` answers: `[config]` of morph.toml, then `--config K=V`.
    pub config: Vec<(String, String)>,
    /// The morph home whose local registry `hayride:silo` spawns from and `hayride:wac`
    /// composes from (and whose compiled-code cache spawned morphs use); none, and they find
    /// nothing.
    pub home: Option<morph_registry_client::Home>,
    /// Where a spawned morph's stdout goes instead of morph's own.
    pub(crate) capture_stdout: Option<wasmtime_wasi::p2::pipe::MemoryOutputPipe>,
    /// This policy is a spawned morph's (`hayride:silo/threads`).
    pub(crate) spawned: bool,
    /// The app entry whose stdout and stderr go to the log as lines (`morph up`'s processes).
    pub(crate) output_to_log: Option<std::sync::Arc<str>>,
    /// The directory whose `stdout` and `stderr` files the morph's output is appended to (a
    /// daemon's cast).
    pub(crate) output_dir: Option<PathBuf>,
}

/// A Hayride host interface that reaches past the WASI sandbox, granted with `--allow NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// `hayride:silo/threads`: run other morphs of the local registry.
    Silo,
    /// `hayride:silo/threads` inside a spawned morph too (otherwise a spawned morph cannot spawn).
    SiloNested,
    /// `hayride:silo/process`: real host processes.
    Process,
    /// `hayride:wac/wac`: compose morphs of the local registry.
    Wac,
    /// `hayride:db/db`: SQLite files under granted directories, PostgreSQL with --allow-net.
    Db,
    /// `wasi:config/store`.
    Config,
    /// `wasi:nn` and `hayride:ai`'s inference and model store: local models, CPU time.
    Ai,
}

impl Grant {
    pub const ALL: [Grant; 7] =
        [Grant::Silo, Grant::SiloNested, Grant::Process, Grant::Wac, Grant::Db, Grant::Config, Grant::Ai];

    pub fn name(self) -> &'static str {
        match self {
            Grant::Silo => "silo",
            Grant::SiloNested => "silo-nested",
            Grant::Process => "process",
            Grant::Wac => "wac",
            Grant::Db => "db",
            Grant::Config => "config",
            Grant::Ai => "ai",
        }
    }

    /// `silo`, `process`, … or a comma-separated list of them.
    pub fn parse_list(spec: &str) -> Result<Vec<Grant>, String> {
        spec.split(',').map(|name| Grant::parse(name.trim())).collect()
    }

    /// The grant named `name` (`silo`, `db`, …).
    pub fn parse(name: &str) -> Result<Grant, String> {
        Grant::ALL.into_iter().find(|g| g.name() == name).ok_or_else(|| {
            let all: Vec<&str> = Grant::ALL.iter().map(|g| g.name()).collect();
            format!("`--allow {name}`: unknown grant; use one of {}", all.join(", "))
        })
    }
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
    fn grant_lists() {
        assert_eq!(Grant::parse_list("silo").unwrap(), vec![Grant::Silo]);
        assert_eq!(Grant::parse_list("db, config").unwrap(), vec![Grant::Db, Grant::Config]);
        assert!(Grant::parse_list("everything").unwrap_err().contains("use one of silo, silo-nested"));
    }

    #[test]
    fn env_specs() {
        assert_eq!(parse_env("A=1").unwrap(), ("A".into(), "1".into()));
        assert_eq!(parse_env("A=").unwrap(), ("A".into(), "".into()));
        assert!(parse_env("=1").is_err());
        assert!(parse_env("MORPH_SURELY_UNSET_VARIABLE").is_err());
    }
}
