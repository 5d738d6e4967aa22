//! The one table of the non-WASI interfaces morph's host provides: for each, its WIT name, the
//! contract versions it exists in, the `--allow` grant that unlocks it (or none), and how the
//! runtime provides it. `validate` calls exactly these provided (`runtime_support.rs`); the
//! runtime's linker, its grant check and its fallbacks are derived from the same rows, and a
//! runtime test proves every row links. A new interface, or a new contract version of one, is
//! one row (plus, for an implemented one, its bindings).

/// How the runtime provides an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provision {
    /// A host implementation behind generated bindings.
    Implemented,
    /// Hayride's fallback, linked from the imported type: every call that can fail fails with
    /// the interface's own error `code`, whose data says `text`, so the morph runs and a
    /// composed provider can replace it.
    Fallback { code: &'static str, text: &'static str },
}

/// One interface of the host.
#[derive(Debug, Clone, Copy)]
pub struct HostInterface {
    /// `ns:pkg/name`, without a version.
    pub name: &'static str,
    /// The versions it exists in; under 0.x semver each is its own package.
    pub versions: &'static [&'static str],
    /// The `--allow` grant a morph importing it needs (`silo`, `db`, …).
    pub grant: Option<&'static str>,
    pub provision: Provision,
}

impl HostInterface {
    /// `ns:pkg/name@version` for each version.
    pub fn full_names(&self) -> impl Iterator<Item = String> + '_ {
        self.versions.iter().map(|v| format!("{}@{v}", self.name))
    }
}

/// Hayride contract versions: every bundled one, and those from 0.0.65 on (`hayride:db`,
/// `hayride:mcp` are new in 0.0.65).
const HAYRIDE: &[&str] = &["0.0.60", "0.0.65"];
const HAYRIDE_SINCE_65: &[&str] = &["0.0.65"];
/// The `wasi:nn` Hayride's AI interfaces are written against.
const WASI_NN: &[&str] = &["0.2.0-rc-2024-10-28"];

pub const HOST_INTERFACES: &[HostInterface] = &[
    HostInterface { name: "morphir:ext/runtime", versions: &["0.1.0"], grant: None, provision: Provision::Implemented },
    // Answered by `morph up` (calls between its entries); elsewhere each call fails saying so.
    HostInterface { name: "morph:app/funcs", versions: &["0.1.0"], grant: None, provision: Provision::Implemented },
    HostInterface {
        name: "hayride:core/version",
        versions: HAYRIDE,
        grant: None,
        provision: Provision::Fallback {
            code: "get-version-failed",
            text: "morph answers hayride:core/version with its own version",
        },
    },
    HostInterface {
        name: "hayride:silo/threads",
        versions: HAYRIDE,
        grant: Some("silo"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "hayride:silo/process",
        versions: HAYRIDE,
        grant: Some("process"),
        provision: Provision::Implemented,
    },
    HostInterface { name: "hayride:wac/wac", versions: HAYRIDE, grant: Some("wac"), provision: Provision::Implemented },
    HostInterface {
        name: "hayride:db/db",
        versions: HAYRIDE_SINCE_65,
        grant: Some("db"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "wasi:config/store",
        versions: &["0.2.0-draft"],
        grant: Some("config"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "hayride:mcp/tools",
        versions: HAYRIDE_SINCE_65,
        grant: None,
        provision: Provision::Fallback {
            code: "tool-not-found",
            text: "no MCP tools are enabled in morph's host; compose a morph that exports hayride:mcp/tools",
        },
    },
    HostInterface {
        name: "hayride:mcp/auth",
        versions: HAYRIDE_SINCE_65,
        grant: None,
        provision: Provision::Fallback {
            code: "unknown",
            text: "MCP auth is not enabled in morph's host; compose a morph that exports hayride:mcp/auth",
        },
    },
    // An in-memory conversation per instance (0.0.65's world names the host's context as the
    // fallback a composed one replaces); it reaches nothing outside, so it needs no grant.
    HostInterface { name: "hayride:ai/context", versions: HAYRIDE, grant: None, provision: Provision::Implemented },
    // Local inference and the model store (`morph model`), granted with `--allow ai`.
    HostInterface { name: "wasi:nn/graph", versions: WASI_NN, grant: Some("ai"), provision: Provision::Implemented },
    HostInterface { name: "wasi:nn/tensor", versions: WASI_NN, grant: Some("ai"), provision: Provision::Implemented },
    HostInterface {
        name: "wasi:nn/inference",
        versions: WASI_NN,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
    HostInterface { name: "wasi:nn/errors", versions: WASI_NN, grant: Some("ai"), provision: Provision::Implemented },
    HostInterface {
        name: "hayride:ai/graph-stream",
        versions: HAYRIDE,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "hayride:ai/inference-stream",
        versions: HAYRIDE,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "hayride:ai/tensor-stream",
        versions: HAYRIDE,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
    HostInterface { name: "hayride:ai/rag", versions: HAYRIDE, grant: Some("ai"), provision: Provision::Implemented },
    HostInterface {
        name: "hayride:ai/transformer",
        versions: HAYRIDE,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
    HostInterface {
        name: "hayride:ai/model-repository",
        versions: HAYRIDE,
        grant: Some("ai"),
        provision: Provision::Implemented,
    },
];

/// The row of an imported name (`hayride:db/db@0.0.65`), whatever its version.
pub fn row(import: &str) -> Option<&'static HostInterface> {
    let base = import.split_once('@').map_or(import, |(b, _)| b);
    HOST_INTERFACES.iter().find(|h| h.name == base)
}

/// The `--allow` grant an imported name needs, if any (`ai` for `wasi:nn/graph@…`), whatever
/// its version.
pub fn grant_of(import: &str) -> Option<&'static str> {
    row(import).and_then(|row| row.grant)
}

/// The row, and its version, that provides an imported name: same interface, a version on the
/// same semver track (`0.1.0` serves `0.1.3`; a `0.0.x` only itself).
pub fn provided(import: &str) -> Option<(&'static HostInterface, &'static str)> {
    let wanted = crate::names::InterfaceName::parse(import);
    let h = row(import)?;
    h.versions
        .iter()
        .find(|v| wanted.compatible_with(&crate::names::InterfaceName::parse(&format!("{}@{v}", h.name))))
        .map(|v| (h, *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_an_interface_of_a_bundled_contract() {
        for h in HOST_INTERFACES {
            for full in h.full_names() {
                let found = crate::Contract::all().iter().any(|contract| {
                    contract
                        .resolve
                        .interfaces
                        .iter()
                        .any(|(id, _)| contract.resolve.id_of(id).as_deref() == Some(full.as_str()))
                });
                assert!(found, "{full} is in the host table but in no bundled contract");
            }
        }
        assert_eq!(provided("hayride:silo/threads@0.0.60").map(|(_, v)| v), Some("0.0.60"));
        assert!(provided("hayride:db/db@0.0.60").is_none(), "0.0.60 has no hayride:db");
        assert_eq!(provided("hayride:db/db@0.0.65").map(|(h, v)| (h.grant, v)), Some((Some("db"), "0.0.65")));
        assert!(provided("hayride:db/db@0.0.1").is_none());
        assert_eq!(provided("morphir:ext/runtime@0.1.2").map(|(_, v)| v), Some("0.1.0"));
        assert_eq!(row("hayride:db/db@0.0.1").and_then(|h| h.grant), Some("db"), "a grant applies to any version");
    }
}
