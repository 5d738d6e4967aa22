//! `morph validate`: picks the world, runs both levels, and gives the verdict.

use std::path::Path;

use serde::Serialize;
use wit_parser::{Resolve, WorldId};

use crate::bundled::{load_wit_dir, world_full_name, Contract};
use crate::component::Component;
use crate::conformance::{self, Target};
use crate::kind::{classify, Kind};
use crate::report::{has_errors, Finding, FindingKind};
use crate::{contract_version, runtime_support, ContractError};

/// Which world to check against. `contract` forces a contract version (`--contract`); without
/// it the version is the one the component's `hayride:*` names say.
pub enum WorldSpec<'a> {
    /// Pick the bundled world that fits the component.
    Detect { contract: Option<&'a str> },
    /// A bundled world by short name (`hayride-cli`, `hayride-cli@0.0.60`) or full name.
    Bundled { world: &'a str, contract: Option<&'a str> },
    /// A world of a user's WIT directory (the package's only world when `None`).
    Wit { dir: &'a Path, world: Option<&'a str> },
}

#[derive(Debug, Serialize)]
pub struct Validation {
    pub file: String,
    pub kind: Kind,
    /// Full name of the world checked against.
    pub world: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world_short: Option<String>,
    /// How the world was chosen, in words, when morph chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected: Option<String>,
    /// The Hayride contract version checked against (none for a `--wit` world).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// How the contract was chosen, when morph chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_reason: Option<String>,
    pub strict: bool,
    /// Level 1: world conformance.
    pub conformance: Vec<Finding>,
    /// Level 2: runtime compatibility.
    pub compatibility: Vec<Finding>,
    pub conforms: bool,
    pub runtime_compatible: bool,
    /// The verdict: exit 0 when true.
    pub valid: bool,
}

pub fn validate(comp: &Component, spec: WorldSpec<'_>, strict: bool) -> Result<Validation, ContractError> {
    let kind = classify(&comp.resolve, comp.world);
    let user_resolve: Resolve;
    let mut mixed = None;
    // The contract: forced, or the one the component's names say.
    let mut choose = |forced: Option<&str>| -> Result<(&'static Contract, Option<String>), ContractError> {
        if let Some(v) = forced {
            return Ok((Contract::named(v)?, Some(format!("contract {v}, as --contract says"))));
        }
        let chosen = contract_version::choose(&comp.resolve, comp.world);
        mixed = chosen.mixed;
        Ok((chosen.contract, Some(chosen.reason)))
    };
    let (contract, resolve, world, detected, contract_reason): (
        Option<&'static Contract>,
        &Resolve,
        WorldId,
        Option<String>,
        Option<String>,
    ) = match spec {
        WorldSpec::Detect { contract } => {
            let (contract, reason) = choose(contract)?;
            let fit = best_fit(comp, contract);
            (Some(contract), &contract.resolve, fit.world, Some(fit.reason), reason)
        }
        WorldSpec::Bundled { world, contract: forced } => {
            let (within, reason) = if world.contains('@') && forced.is_none() {
                (None, None)
            } else {
                let (c, r) = choose(forced)?;
                (Some(c), r)
            };
            let (contract, id) = Contract::lookup(world, within)?;
            let reason = reason.or_else(|| Some(format!("contract {}, as --world says", contract.version)));
            (Some(contract), &contract.resolve, id, None, reason)
        }
        WorldSpec::Wit { dir, world } => {
            let (resolve, pkg) = load_wit_dir(dir)?;
            let id = resolve.select_world(&[pkg], world).map_err(|e| ContractError::UnknownWorld {
                name: world.unwrap_or("(default)").to_string(),
                known: format!("the worlds of {}: {e:#}", dir.display()),
            })?;
            user_resolve = resolve;
            (None, &user_resolve, id, None, None)
        }
    };
    let target = Target { resolve, world };
    let comp_target = Target { resolve: &comp.resolve, world: comp.world };
    let mut level1 = conformance::check(target, comp_target, strict);
    level1.extend(mixed);
    let level2 = runtime_support::check(comp_target);
    // Level-1 notes (extra imports, import types the world lacks) still mean "does not conform".
    let conforms = level1.is_empty();
    let runtime_compatible = !has_errors(&level2);
    let valid = !has_errors(&level1) && runtime_compatible;
    let short = contract.and_then(|c| c.short_name(world));
    Ok(Validation {
        file: comp.path.display().to_string(),
        kind,
        world: world_full_name(resolve, world),
        world_short: short.map(str::to_string),
        detected,
        contract: contract.map(|c| c.version.to_string()),
        contract_reason,
        strict,
        conforms,
        conformance: level1,
        compatibility: level2,
        runtime_compatible,
        valid,
    })
}

/// The bundled world a component fits best, and why it was picked.
pub struct Fit {
    pub world: WorldId,
    pub short: &'static str,
    pub reason: String,
}

/// The kind's world when the kind has one; otherwise the bundled world with the fewest problems
/// and the most of the component's imports, preferring catalogue order on ties.
pub fn best_fit(comp: &Component, contract: &Contract) -> Fit {
    let kind = classify(&comp.resolve, comp.world);
    let comp_target = Target { resolve: &comp.resolve, world: comp.world };
    if let Some(short) = kind.default_world() {
        return Fit {
            world: contract.world(short).expect("bundled world"),
            short,
            reason: format!("{} morph is checked against {short}", with_article(kind.as_str())),
        };
    }
    let imports = comp.resolve.worlds[comp.world].imports.len();
    if imports == 0 {
        // No bundled world describes a reactor's own exports; the smallest import-only world
        // checks what matters here, that it needs nothing the runtime lacks.
        let short = "hayride-core";
        return Fit {
            world: contract.world(short).expect("bundled world"),
            short,
            reason: format!("a reactor morph with no imports; checked against {short}, which requires no export"),
        };
    }
    let mut best: Option<((usize, usize), &'static str, WorldId)> = None;
    for (entry, world) in contract.worlds() {
        let findings = conformance::check(Target { resolve: &contract.resolve, world }, comp_target, true);
        let errors = findings.iter().filter(|f| f.kind != FindingKind::ExtraImport).count();
        let extra = findings.iter().filter(|f| f.kind == FindingKind::ExtraImport).count();
        let score = (errors, extra);
        if best.as_ref().is_none_or(|(b, _, _)| score < *b) {
            best = Some((score, entry.short, world));
        }
    }
    let ((errors, extra), short, world) = best.expect("the catalogue is not empty");
    let reason = if errors == 0 && extra == 0 {
        format!("a reactor morph; {short} has all {imports} of its imports")
    } else {
        format!("a reactor morph; {short} fits best ({} of {imports} imports in the world)", imports - extra)
    };
    Fit { world, short, reason }
}

fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}
