//! Which Hayride contract a component was built for: the version its `hayride:*` imports and
//! exports name (under 0.x semver each 0.0.x is its own package, so the names say it exactly).

use std::collections::BTreeMap;

use wit_parser::{Resolve, WorldId, WorldItem};

use crate::bundled::Contract;
use crate::names::InterfaceName;
use crate::report::{Finding, FindingKind, Severity};

/// The contract versions a component's `hayride:*` interfaces name, each with those interfaces.
pub fn hayride_versions(resolve: &Resolve, world: WorldId) -> BTreeMap<String, Vec<String>> {
    let w = &resolve.worlds[world];
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, item) in w.imports.iter().chain(&w.exports) {
        if !matches!(item, WorldItem::Interface { .. }) {
            continue;
        }
        let name = resolve.name_world_key(key);
        let parsed = InterfaceName::parse(&name);
        if let (Some(true), Some(version)) = (parsed.package().map(|p| p.starts_with("hayride:")), &parsed.version) {
            found.entry(version.to_string()).or_default().push(name);
        }
    }
    found
}

/// The contract to check a component against, and why; a finding when it mixes versions.
pub struct Chosen {
    pub contract: &'static Contract,
    pub reason: String,
    pub mixed: Option<Finding>,
}

/// The contract whose version the component's Hayride interfaces name; the newest when they name
/// none, several, or one that is not bundled (the reason says which).
pub fn choose(resolve: &Resolve, world: WorldId) -> Chosen {
    let versions = hayride_versions(resolve, world);
    let newest = Contract::bundled();
    match versions.len() {
        0 => Chosen {
            contract: newest,
            reason: format!("contract {} (newest; no hayride:* names)", newest.version),
            mixed: None,
        },
        1 => {
            let (version, _) = versions.iter().next().expect("one version");
            match Contract::version(version) {
                Some(c) => {
                    Chosen { contract: c, reason: format!("contract {version}, from its hayride:* names"), mixed: None }
                }
                None => Chosen {
                    contract: newest,
                    reason: format!(
                        "contract {} (newest): its hayride:* names are {version}, which is not bundled ({})",
                        newest.version,
                        Contract::versions().join(", ")
                    ),
                    mixed: None,
                },
            }
        }
        _ => {
            let listing: Vec<String> =
                versions.iter().map(|(v, names)| format!("{v} ({})", names.join(", "))).collect();
            let message = format!(
                "it imports or exports Hayride interfaces of {} contract versions: {}; a morph is built against one \
                 contract (regenerate its bindings from one version's WIT), or name one with --contract",
                versions.len(),
                listing.join("; ")
            );
            Chosen {
                contract: newest,
                reason: format!("contract {} (newest; the morph mixes versions)", newest.version),
                mixed: Some(Finding::new(Severity::Error, FindingKind::MixedContracts, "hayride:*", message)),
            }
        }
    }
}
