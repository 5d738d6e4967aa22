//! `morph inspect`: what a component is, in facts a person or a script can act on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use wasmparser::{KnownCustom, Parser, Payload};

use crate::component::Component;
use crate::kind::{classify, Kind};
use crate::validate::{best_fit, validate, WorldSpec};
use crate::ContractError;

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub file: String,
    pub kind: Kind,
    pub size: u64,
    pub digest: String,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// The `--allow` grants its imports need to run (`ai`, `db`, …), from the host table.
    pub grants: Vec<String>,
    /// `field → [name version]` from every producers section in the component and its modules.
    pub producers: BTreeMap<String, Vec<String>>,
    /// What it says of its package (description, licenses, …).
    pub metadata: crate::metadata::PackageMetadata,
    /// The bundled world that fits best (none when WIT cannot describe the component), and
    /// whether the component validates against it.
    pub world: Option<String>,
    pub world_valid: bool,
    /// The component's own world as WIT, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wit: Option<String>,
    /// Why WIT is not available for this component, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wit_unavailable: Option<String>,
    /// A WIT package's worlds and interfaces (`ns:pkg/name@ver`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worlds: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<String>,
}

pub fn inspect(comp: &Component, with_wit: bool) -> Result<Inspection, ContractError> {
    let (imports, exports) = crate::component::world_items(&comp.resolve, comp.world);
    let (world, world_valid) = checked_fit(comp)?;
    Ok(Inspection {
        grants: grants_for(&imports),
        file: comp.path.display().to_string(),
        kind: classify(&comp.resolve, comp.world),
        size: comp.bytes.len() as u64,
        digest: comp.digest(),
        imports,
        exports,
        producers: producers(&comp.bytes),
        metadata: crate::metadata::PackageMetadata::read(&comp.bytes),
        world: Some(world.to_string()),
        world_valid,
        wit: if with_wit { Some(world_wit(comp)?) } else { None },
        wit_unavailable: None,
        worlds: Vec::new(),
        interfaces: Vec::new(),
    })
}

/// The bundled world `comp` is valid against, as `ns:pkg/world@version` (what a push records
/// as the config's `component.target`); none when it is valid against none.
pub fn validated_world(comp: &Component) -> Option<String> {
    let (short, valid) = checked_fit(comp).ok()?;
    let entry = crate::WORLDS.iter().find(|w| w.short == short)?;
    valid.then(|| entry.full.to_string())
}

/// The bundled world that fits `comp` best, of the contract version it imports, and whether
/// it validates against it.
fn checked_fit(comp: &Component) -> Result<(&'static str, bool), ContractError> {
    let contract = crate::contract_version::choose(&comp.resolve, comp.world).contract;
    let fit = best_fit(comp, contract);
    let verdict = validate(comp, WorldSpec::Bundled { world: fit.short, contract: Some(contract.version) }, false)?;
    Ok((fit.short, verdict.valid))
}

/// What can be said of a valid binary that [`Component`] cannot decode: an encoded WIT package
/// (a `library`: its worlds and interfaces), or a component WIT cannot describe (its kind,
/// imports and exports by name, and why there is no WIT). `error` is why decoding stopped.
pub fn inspect_undecodable(path: &Path, error: ContractError) -> Result<Inspection, ContractError> {
    let reason = match &error {
        ContractError::NoWit { reason, .. } => reason.clone(),
        ContractError::WitPackage { .. } => String::new(),
        _ => return Err(error),
    };
    let bytes = crate::component::read_component_binary(path)?;
    let mut info = Inspection {
        file: path.display().to_string(),
        kind: Kind::Library,
        size: bytes.len() as u64,
        digest: crate::component::sha256_digest(&bytes),
        imports: Vec::new(),
        exports: Vec::new(),
        grants: Vec::new(),
        producers: producers(&bytes),
        metadata: crate::metadata::PackageMetadata::read(&bytes),
        world: None,
        world_valid: false,
        wit: None,
        wit_unavailable: None,
        worlds: Vec::new(),
        interfaces: Vec::new(),
    };
    if let ContractError::WitPackage { .. } = error {
        let decoded = crate::contain::contained(|| wit_parser::decoding::decode(&bytes));
        if let Ok(Ok(wit_parser::decoding::DecodedWasm::WitPackage(resolve, pkg))) = decoded {
            let package = &resolve.packages[pkg];
            let qualify = |name: &str| match &package.name.version {
                Some(v) => format!("{}:{}/{name}@{v}", package.name.namespace, package.name.name),
                None => format!("{}:{}/{name}", package.name.namespace, package.name.name),
            };
            info.worlds = package.worlds.keys().map(|n| qualify(n)).collect();
            info.interfaces = package.interfaces.keys().map(|n| qualify(n)).collect();
            let mut printer = wit_component::WitPrinter::default();
            if printer.print(&resolve, pkg, &[]).is_ok() {
                info.wit = Some(printer.output.to_string());
            }
        }
        return Ok(info);
    }
    let (imports, exports) = crate::component::top_level_names(&bytes);
    info.kind = crate::kind::classify_names(&exports);
    info.grants = grants_for(&imports);
    info.imports = imports;
    info.exports = exports;
    info.wit_unavailable = Some(reason);
    Ok(info)
}

/// The grants `imports` need, each once, in order.
fn grants_for(imports: &[String]) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> =
        imports.iter().filter_map(|i| crate::host_interfaces::grant_of(i)).collect();
    set.into_iter().map(str::to_string).collect()
}

/// The component's world printed as WIT.
pub fn world_wit(comp: &Component) -> Result<String, ContractError> {
    let pkg = comp.resolve.worlds[comp.world].package.expect("decoded worlds live in a package");
    let mut printer = wit_component::WitPrinter::default();
    printer.print(&comp.resolve, pkg, &[]).map_err(|e| ContractError::NotAComponent {
        path: comp.path.clone(),
        message: format!("its WIT cannot be printed: {e:#}"),
    })?;
    Ok(printer.output.to_string())
}

fn producers(bytes: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::CustomSection(section)) = payload else { continue };
        let KnownCustom::Producers(reader) = section.as_known() else { continue };
        for field in reader.into_iter().flatten() {
            let entry = out.entry(field.name.to_string()).or_default();
            for value in field.values.into_iter().flatten() {
                let v = if value.version.is_empty() {
                    value.name.to_string()
                } else {
                    format!("{} {}", value.name, value.version)
                };
                if !entry.contains(&v) {
                    entry.push(v);
                }
            }
        }
    }
    out
}
