//! The contracts bundled into the binary, one per Hayride contract version (Hayride's packages of
//! that version beside the Morphir and WASI packages every version shares), each parsed once per
//! process, and the catalogue of worlds users name with `--world` (`hayride-cli` in the newest
//! contract, `hayride-cli@0.0.60` in an older one).

use std::path::Path;
use std::sync::OnceLock;

use wit_parser::{PackageId, Resolve, SourceMap, UnresolvedPackageGroup, WorldId};

use crate::ContractError;

include!(concat!(env!("OUT_DIR"), "/embedded_wit.rs"));

/// A world users can name by a short name.
#[derive(Debug, Clone, Copy)]
pub struct WorldEntry {
    pub short: &'static str,
    /// `ns:pkg/world@version`
    pub full: &'static str,
    pub summary: &'static str,
}

/// The worlds `morph worlds` lists, in the order auto-detection prefers them.
pub const WORLDS: &[WorldEntry] = &[
    WorldEntry {
        short: "hayride-cli",
        full: "hayride:runtime/hayride-cli@0.0.1",
        summary: "command morph: exports wasi:cli/run, common WASI imports",
    },
    WorldEntry {
        short: "hayride-server",
        full: "hayride:runtime/hayride-server@0.0.1",
        summary: "http morph: exports wasi:http/incoming-handler and hayride:http/config",
    },
    WorldEntry {
        short: "hayride-ws",
        full: "hayride:runtime/hayride-ws@0.0.1",
        summary: "websocket morph: exports hayride:socket/websocket",
    },
    WorldEntry {
        short: "hayride-ai",
        full: "hayride:runtime/hayride-ai@0.0.1",
        summary: "imports wasi-nn and Hayride's streaming inference, models and RAG",
    },
    WorldEntry {
        short: "hayride-mcp",
        full: "hayride:runtime/hayride-mcp@0.0.1",
        summary: "imports Model Context Protocol tools and auth",
    },
    WorldEntry {
        short: "hayride-core",
        full: "hayride:runtime/hayride-core@0.0.1",
        summary: "imports hayride:core/version",
    },
    WorldEntry {
        short: "hayride-api",
        full: "hayride:runtime/hayride-api@0.0.1",
        summary: "imports the Hayride API request/response types",
    },
    WorldEntry {
        short: "hayride-silo",
        full: "hayride:runtime/hayride-silo@0.0.1",
        summary: "imports threads (other morphs) and host processes",
    },
    WorldEntry {
        short: "hayride-wac",
        full: "hayride:runtime/hayride-wac@0.0.1",
        summary: "imports WAC compose and plug",
    },
    WorldEntry {
        short: "hayride-db",
        full: "hayride:runtime/hayride-db@0.0.1",
        summary: "imports SQL databases (SQLite, PostgreSQL)",
    },
    WorldEntry {
        short: "command",
        full: "wasi:cli/command@0.2.0",
        summary: "WASI 0.2 command: exports wasi:cli/run, all wasi:cli imports",
    },
    WorldEntry {
        short: "proxy",
        full: "wasi:http/proxy@0.2.0",
        summary: "WASI 0.2 HTTP proxy: exports wasi:http/incoming-handler",
    },
    WorldEntry {
        short: "extension",
        full: "morphir:ext/extension@0.1.0",
        summary: "Morphir extension: exports morphir:ext/program, imports its runtime",
    },
];

/// One contract version: its packages resolved together.
pub struct Contract {
    /// The Hayride contract version (`0.0.65`).
    pub version: &'static str,
    pub resolve: Resolve,
}

static CONTRACTS: OnceLock<Vec<Contract>> = OnceLock::new();

impl Contract {
    /// Every bundled contract, oldest first. Parsing one takes a few milliseconds and happens
    /// once per process.
    pub fn all() -> &'static [Contract] {
        CONTRACTS.get_or_init(|| {
            HAYRIDE
                .iter()
                .map(|(version, units)| Contract {
                    version,
                    resolve: resolve_groups(bundled_groups(units))
                        .unwrap_or_else(|e| panic!("bundled WIT of contract {version} does not resolve: {e:#}")),
                })
                .collect()
        })
    }

    /// The newest contract.
    pub fn bundled() -> &'static Contract {
        Contract::all().last().expect("at least one contract is bundled")
    }

    /// The contract of `version`, if it is bundled.
    pub fn version(version: &str) -> Option<&'static Contract> {
        Contract::all().iter().find(|c| c.version == version)
    }

    /// The contract a `--contract` argument names; an unknown one lists the bundled versions.
    pub fn named(version: &str) -> Result<&'static Contract, ContractError> {
        Contract::version(version).ok_or_else(|| ContractError::UnknownContract {
            version: version.to_string(),
            known: Contract::versions().join(", "),
        })
    }

    /// The bundled versions, oldest first.
    pub fn versions() -> Vec<&'static str> {
        Contract::all().iter().map(|c| c.version).collect()
    }

    /// Whether this is the newest contract, whose worlds go by their short names alone.
    pub fn is_newest(&self) -> bool {
        std::ptr::eq(self, Contract::bundled())
    }

    /// The catalogue's worlds that exist in this contract.
    pub fn worlds(&self) -> impl Iterator<Item = (&'static WorldEntry, WorldId)> + '_ {
        WORLDS.iter().filter_map(move |w| find_world(&self.resolve, w.full).map(|id| (w, id)))
    }

    /// The short name, if the world is in the catalogue.
    pub fn short_name(&self, world: WorldId) -> Option<&'static str> {
        let full = world_full_name(&self.resolve, world);
        WORLDS.iter().find(|w| w.full == full).map(|w| w.short)
    }

    /// A world of this contract by short name (`hayride-cli`), full name
    /// (`hayride:runtime/hayride-cli@0.0.1`, version optional) or any world of its packages.
    pub fn world(&self, name: &str) -> Result<WorldId, ContractError> {
        let full = WORLDS.iter().find(|w| w.short == name).map_or(name, |w| w.full);
        find_world(&self.resolve, full).ok_or_else(|| ContractError::UnknownWorld {
            name: name.to_string(),
            known: self.worlds().map(|(w, _)| w.short).collect::<Vec<_>>().join(", "),
        })
    }

    /// A world as `--world` names it: `hayride-cli` (the newest contract), `hayride-cli@0.0.60`
    /// (that contract), or a full name; in `within` when a contract was chosen already.
    pub fn lookup(
        name: &str,
        within: Option<&'static Contract>,
    ) -> Result<(&'static Contract, WorldId), ContractError> {
        if let Some((short, version)) = name.split_once('@') {
            if WORLDS.iter().any(|w| w.short == short) {
                let contract = Contract::named(version)?;
                return Ok((contract, contract.world(short)?));
            }
        }
        let contract = within.unwrap_or_else(Contract::bundled);
        Ok((contract, contract.world(name)?))
    }
}

/// The shared packages and a contract version's `units`, parsed (not yet resolved).
fn bundled_groups(units: &[Unit]) -> Vec<UnresolvedPackageGroup> {
    PACKAGES
        .iter()
        .chain(units)
        .map(|(unit, files)| {
            let mut map = SourceMap::new();
            for (path, text) in files.iter() {
                map.push_str(path, *text);
            }
            map.parse().unwrap_or_else(|(_, e)| panic!("bundled WIT {unit} does not parse: {e}"))
        })
        .collect()
}

/// Pushes package groups in dependency order.
fn resolve_groups(mut groups: Vec<UnresolvedPackageGroup>) -> anyhow::Result<Resolve> {
    let mut resolve = Resolve::new();
    if groups.is_empty() {
        return Ok(resolve);
    }
    let main = groups.remove(0);
    resolve.push_groups(main, groups)?;
    Ok(resolve)
}

/// `ns:pkg/world@version` of a world.
pub fn world_full_name(resolve: &Resolve, world: WorldId) -> String {
    let w = &resolve.worlds[world];
    match w.package {
        Some(p) => {
            let n = &resolve.packages[p].name;
            let base = format!("{}:{}/{}", n.namespace, n.name, w.name);
            match &n.version {
                Some(v) => format!("{base}@{v}"),
                None => base,
            }
        }
        None => w.name.clone(),
    }
}

/// Finds `ns:pkg/world[@version]` (or a bare world name when it is unique) in a resolve.
pub fn find_world(resolve: &Resolve, name: &str) -> Option<WorldId> {
    let (base, version) = match name.rsplit_once('@') {
        Some((b, v)) => (b, Some(v)),
        None => (name, None),
    };
    let mut found = resolve.worlds.iter().filter(|(id, w)| {
        let full = world_full_name(resolve, *id);
        let (fbase, fver) = full.rsplit_once('@').map_or((full.as_str(), None), |(b, v)| (b, Some(v)));
        let base_ok = fbase == base || (!base.contains('/') && w.name == base);
        base_ok && (version.is_none() || version == fver)
    });
    let first = found.next().map(|(id, _)| id);
    // A bare name that several packages define is ambiguous; the caller reports it unknown.
    if found.next().is_some() && !base.contains('/') {
        None
    } else {
        first
    }
}

/// Loads a user's WIT directory (a package with optional `deps/`), the way `wasm-tools` and
/// `wit-bindgen` read one. Packages the directory does not provide, such as WASI, are taken from
/// the bundled contract so a project's `wit/` need not vendor them.
pub fn load_wit_dir(dir: &Path) -> Result<(Resolve, PackageId), ContractError> {
    let err = |e: anyhow::Error| ContractError::Wit { path: dir.to_path_buf(), message: format!("{e:#}") };
    if !dir.exists() {
        return Err(ContractError::Wit { path: dir.to_path_buf(), message: "no such file or directory".into() });
    }
    let mut resolve = Resolve::new();
    match resolve.push_path(dir) {
        Ok((pkg, _)) => Ok((resolve, pkg)),
        Err(first) => {
            // Retry with the bundled packages available for what the directory uses but lacks.
            let mut groups: Vec<UnresolvedPackageGroup> = Vec::new();
            let main = if dir.is_dir() {
                UnresolvedPackageGroup::parse_dir(dir).map_err(err)?
            } else {
                parse_wit_file(dir).map_err(err)?
            };
            let deps_dir = dir.join("deps");
            let mut provided = Vec::new();
            if deps_dir.is_dir() {
                for entry in std::fs::read_dir(&deps_dir).map_err(|e| err(e.into()))? {
                    let path = entry.map_err(|e| err(e.into()))?.path();
                    let g = if path.is_dir() {
                        UnresolvedPackageGroup::parse_dir(&path)
                    } else if path.extension().is_some_and(|e| e == "wit") {
                        parse_wit_file(&path)
                    } else {
                        continue;
                    }
                    .map_err(err)?;
                    provided.push(g.main.name.clone());
                    groups.push(g);
                }
            }
            provided.push(main.main.name.clone());
            let newest = HAYRIDE.last().map_or(&[][..], |(_, units)| *units);
            groups.extend(bundled_groups(newest).into_iter().filter(|g| !provided.contains(&g.main.name)));
            let mut resolve = Resolve::new();
            match resolve.push_groups(main, groups) {
                Ok(pkg) => Ok((resolve, pkg)),
                Err(_) => Err(err(first)),
            }
        }
    }
}

fn parse_wit_file(path: &Path) -> anyhow::Result<UnresolvedPackageGroup> {
    let mut map = SourceMap::new();
    map.push_file(path)?;
    map.parse().map_err(|(map, e)| {
        let rendered = e.render(&map);
        anyhow::Error::from(e).context(rendered)
    })
}
