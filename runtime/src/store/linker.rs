//! The linker for a component: WASI 0.2, wasi:http, and each host interface of the contract's
//! table that the component imports, by the row's provision.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;

use morph_contract::host_interfaces::{self, Provision};

use super::StoreData;
use crate::host;

/// How an implemented interface is added to a linker, under the name the component imports.
type AddToLinker = fn(&mut Linker<StoreData>, &str) -> wasmtime::Result<()>;

/// The implementation behind each `Implemented` row of the host table, by its full name. A row
/// without one fails the test below.
fn implementation(full: &str) -> Option<AddToLinker> {
    Some(match full {
        "morphir:ext/runtime@0.1.0" => |l, name| host::morphir::add_to_linker(l, name, |s| &mut s.ext),
        "morph:app/funcs@0.1.0" => |l, _| host::app_funcs::add_to_linker(l, |s| &mut s.app),
        "hayride:silo/threads@0.0.60" => |l, _| host::threads::add_to_linker(l, "0.0.60", StoreData::threads),
        "hayride:silo/threads@0.0.65" => |l, _| host::threads::add_to_linker(l, "0.0.65", StoreData::threads),
        "hayride:silo/process@0.0.60" => |l, _| host::process::add_to_linker(l, "0.0.60", |s| &mut s.process),
        "hayride:silo/process@0.0.65" => |l, _| host::process::add_to_linker(l, "0.0.65", |s| &mut s.process),
        "hayride:wac/wac@0.0.60" => |l, _| host::wac::add_to_linker(l, "0.0.60", StoreData::wac),
        "hayride:wac/wac@0.0.65" => |l, _| host::wac::add_to_linker(l, "0.0.65", StoreData::wac),
        "hayride:db/db@0.0.65" => |l, _| host::db::add_to_linker(l, StoreData::db),
        "wasi:config/store@0.2.0-draft" => |l, _| host::config::add_to_linker(l, |s| &mut s.config),
        // Every AI interface, of every version, by the name the row gives (0.0.x and the
        // wasi:nn prerelease are only ever provided as themselves).
        ai if ai.starts_with("wasi:nn/") || ai.starts_with("hayride:ai/") => {
            |l, name| host::ai::add_to_linker(l, name, StoreData::ai)
        }
        _ => return None,
    })
}

/// WASI 0.2, wasi:http and the host table's interfaces for `component` (granted or not: the
/// grant is checked per store, before instantiation, so one linker serves every request of
/// `morph serve`), plus an empty instance for each import that only declares types (records,
/// variants…), which needs nothing at run time.
pub(crate) fn build_linker(engine: &Engine, component: &Component) -> wasmtime::Result<Linker<StoreData>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        if let Some((row, version)) = host_interfaces::provided(name) {
            match row.provision {
                Provision::Implemented => {
                    let full = format!("{}@{version}", row.name);
                    let add = implementation(&full)
                        .ok_or_else(|| wasmtime::Error::msg(format!("{full} has no implementation in morph's host")))?;
                    add(&mut linker, name)?;
                }
                Provision::Fallback { code, text } => {
                    host::fallback::add(&mut linker, engine, name, row.name, &instance, code, text)?
                }
            }
        } else if instance.exports(engine).all(|(_, e)| matches!(e.ty, ComponentItem::Type(_))) {
            // Re-opens an instance that already exists; creates an empty one otherwise.
            linker.instance(name)?;
        }
    }
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Grant;

    /// Every row of the host table links: an implemented one has its implementation and adds
    /// to a linker; a grant names a `--allow` grant.
    #[test]
    fn every_row_of_the_host_table_links() {
        let engine = Engine::default();
        for row in host_interfaces::HOST_INTERFACES {
            if let Some(g) = row.grant {
                Grant::parse(g).unwrap_or_else(|e| panic!("{}: {e}", row.name));
            }
            for full in row.full_names() {
                if row.provision == Provision::Implemented {
                    let add = implementation(&full).unwrap_or_else(|| panic!("{full} has no implementation"));
                    let mut linker = Linker::<StoreData>::new(&engine);
                    add(&mut linker, &full).unwrap_or_else(|e| panic!("{full} does not link: {e:#}"));
                }
            }
        }
    }
}
