//! Level 2: can morph's runtime satisfy every import? WASI 0.2 as wasmtime-wasi implements it,
//! and the host table of `host_interfaces.rs`, which the `runtime` crate links.

use semver::Version;
use wit_parser::WorldItem;

use crate::bundled::Contract;
use crate::conformance::Target;
use crate::names::InterfaceName;
use crate::report::{Finding, FindingKind, Severity};
use crate::types::{func_string, Comparer};

/// WASI 0.2 packages whose imports the runtime implements (wasmtime-wasi 48), and the newest
/// 0.2 release it implements. Any 0.2.x import is accepted, as wasmtime links them by semver.
const WASI_PACKAGES: &[&str] =
    &["wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:io", "wasi:random", "wasi:sockets", "wasi:http"];
const WASI_NEWEST: Version = Version::new(0, 2, 12);

/// Interfaces of those packages that are exports, never provided by a host.
const WASI_EXPORT_ONLY: &[&str] = &["wasi:cli/run", "wasi:http/incoming-handler"];

/// Findings of level 2 for the imports of `comp`.
pub fn check(comp: Target<'_>) -> Vec<Finding> {
    let contract = Contract::bundled();
    let mut out = Vec::new();
    for (key, item) in &comp.resolve.worlds[comp.world].imports {
        let WorldItem::Interface { id, .. } = item else {
            if let WorldItem::Function(f) = item {
                out.push(Finding::new(
                    Severity::Error,
                    FindingKind::NotProvided,
                    &f.name,
                    format!("imports the bare function `{}`, which no host provides; compose a provider for it with `morph compose`", f.name),
                ));
            }
            continue;
        };
        let name = comp.resolve.name_world_key(key);
        let parsed = InterfaceName::parse(&name);
        let is_wasi = parsed.package().is_some_and(|p| WASI_PACKAGES.contains(&p))
            && !WASI_EXPORT_ONLY.contains(&parsed.base.as_str());
        // The bundled interface on the same semver track: for WASI, the 0.2.0 one, which lists
        // the interfaces that exist on the 0.2 track; for host interfaces, their contract.
        let host = compatible_interface(contract, &parsed);
        let provided = if only_plain_types(comp.resolve, *id) {
            // Records, variants and the like need nothing at run time; the runtime links an
            // empty instance for such an import.
            true
        } else if is_wasi {
            host.is_some()
        } else {
            // The host table (`host_interfaces.rs`), on the same semver track.
            crate::host_interfaces::provided(&name).is_some()
        };
        if !provided {
            out.push(Finding::new(
                Severity::Error,
                FindingKind::NotProvided,
                &name,
                not_provided_message(&name, &parsed),
            ));
            continue;
        }
        if is_wasi {
            if let Some(v) = &parsed.version {
                if *v > WASI_NEWEST {
                    out.push(Finding::new(
                        Severity::Note,
                        FindingKind::NewerVersion,
                        &name,
                        format!("`{name}` is newer than the WASI {WASI_NEWEST} morph's runtime implements; functions added after {WASI_NEWEST} will fail to link"),
                    ));
                }
            }
            // Only an exact 0.2.0 import can be type-checked against the bundled 0.2.0.
            if parsed.version != Some(Version::new(0, 2, 0)) {
                continue;
            }
        }
        if let Some(hid) = host {
            let cmp = Comparer { expected: &contract.resolve, actual: comp.resolve };
            let hi = &contract.resolve.interfaces[hid];
            for (fname, cf) in &comp.resolve.interfaces[*id].functions {
                let fq = format!("{name}#{fname}");
                match hi.functions.get(fname) {
                    None => out.push(Finding::new(
                        Severity::Error,
                        FindingKind::NotProvided,
                        &fq,
                        format!("morph's runtime has no function `{fname}` in `{name}`"),
                    )),
                    Some(hf) => {
                        if let Err(why) = cmp.func(hf, cf) {
                            out.push(
                                Finding::new(Severity::Error, FindingKind::TypeMismatch, &fq, format!("`{fq}`: {why}"))
                                    .types(func_string(&contract.resolve, hf), func_string(comp.resolve, cf)),
                            );
                        }
                    }
                }
            }
        }
    }
    out
}

/// Whether an interface has neither functions nor resources.
fn only_plain_types(resolve: &wit_parser::Resolve, id: wit_parser::InterfaceId) -> bool {
    let iface = &resolve.interfaces[id];
    iface.functions.is_empty()
        && iface.types.values().all(|t| {
            !matches!(crate::types::peel(resolve, wit_parser::Type::Id(*t)), wit_parser::Type::Id(r)
                if matches!(resolve.types[r].kind, wit_parser::TypeDefKind::Resource))
        })
}

fn not_provided_message(name: &str, parsed: &InterfaceName) -> String {
    match parsed.package() {
        Some(p) if WASI_PACKAGES.contains(&p) => format!(
            "morph's runtime implements WASI 0.2.0 to {WASI_NEWEST}, which has no `{name}`; rebuild the morph against WASI 0.2"
        ),
        _ => format!(
            "morph's runtime does not provide `{name}`; compose a component that exports it into this morph with `morph compose` or `morph plug`"
        ),
    }
}

/// The bundled interface whose name is semver-compatible with `name`.
fn compatible_interface(contract: &Contract, name: &InterfaceName) -> Option<wit_parser::InterfaceId> {
    contract.resolve.interfaces.iter().find_map(|(id, _)| {
        let full = contract.resolve.id_of(id)?;
        name.compatible_with(&InterfaceName::parse(&full)).then_some(id)
    })
}
