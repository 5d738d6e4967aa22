//! The Hayride host interfaces: what a morph importing `hayride:silo/threads`, `hayride:wac/wac`,
//! `hayride:db/db`, … gets under `morph run`/`call`/`serve`. Each one that leaves the WASI
//! sandbox needs its `--allow` grant; a morph importing one that was not granted is refused before
//! it starts, with the flag that grants it.

mod bindings;
mod config;
mod db;
mod errno;
mod fallback;
mod process;
mod threads;
mod wac;

use std::collections::HashMap;

use wasmtime::component::{types::ComponentItem, Component, HasSelf, Linker};
use wasmtime::Engine;

use morph_contract::host_interfaces::{self, Provision};

use crate::host::Host;
use crate::limits::Limits;
use crate::policy::{Grant, Policy};
use crate::RuntimeError;

/// How an implemented interface is added to a linker, under the name the component imports.
type AddToLinker = fn(&mut Linker<Host>, &str) -> wasmtime::Result<()>;

/// The implementation behind each `Implemented` row of the host table
/// (`morph_contract::host_interfaces`), by its full name. A row without one fails the test below.
fn implementation(full: &str) -> Option<AddToLinker> {
    Some(match full {
        "morphir:ext/runtime@0.1.0" => crate::morphir_host::add_to_linker,
        "hayride:silo/threads@0.0.65" => {
            |l, _| bindings::hayride::silo::threads::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
        }
        "hayride:silo/process@0.0.65" => {
            |l, _| bindings::hayride::silo::process::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
        }
        "hayride:wac/wac@0.0.65" => |l, _| bindings::hayride::wac::wac::add_to_linker::<Host, HasSelf<Host>>(l, |h| h),
        "hayride:db/db@0.0.65" => |l, _| bindings::hayride::db::db::add_to_linker::<Host, HasSelf<Host>>(l, |h| h),
        "wasi:config/store@0.2.0-draft" => {
            |l, _| bindings::wasi::config::store::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
        }
        _ => return None,
    })
}

/// Per-store state of the Hayride interfaces.
pub(crate) struct HayrideState {
    pub policy: Policy,
    /// The limits a spawned morph inherits.
    pub limits: Limits,
    pub threads: threads::ThreadTable,
    pub processes: HashMap<u32, tokio::process::Child>,
}

impl HayrideState {
    pub fn new(policy: &Policy, limits: &Limits) -> HayrideState {
        HayrideState {
            policy: policy.clone(),
            limits: limits.clone(),
            threads: Default::default(),
            processes: HashMap::new(),
        }
    }
}

/// Refuses a component that imports a host interface `policy` does not grant, naming the
/// interface and the flag. The grant is the row's whatever version is imported, so any 0.0.x of
/// Hayride's contract is refused the same way.
pub(crate) fn check_grants(engine: &Engine, component: &Component, policy: &Policy) -> Result<(), RuntimeError> {
    for (name, _) in component.component_type().imports(engine) {
        let Some(grant) = host_interfaces::row(name).and_then(|row| row.grant) else { continue };
        let grant = Grant::parse(grant).map_err(RuntimeError::Internal)?;
        if policy.grants.contains(&grant) {
            continue;
        }
        // A spawned morph lost `silo` unless the parent had `silo-nested` (see threads.rs).
        return Err(RuntimeError::NotGranted {
            interface: name.to_string(),
            grant: grant.name(),
            spawned: policy.spawned,
        });
    }
    Ok(())
}

/// Links every host interface of the table that `component` imports (granted or not: the
/// grant is checked per store, before instantiation, so one linker serves every request of
/// `morph serve`).
pub(crate) fn add_to_linker(linker: &mut Linker<Host>, engine: &Engine, component: &Component) -> wasmtime::Result<()> {
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        let Some((row, version)) = host_interfaces::provided(name) else { continue };
        match row.provision {
            Provision::Implemented => {
                let full = format!("{}@{version}", row.name);
                let add = implementation(&full)
                    .ok_or_else(|| wasmtime::Error::msg(format!("{full} has no implementation in morph's host")))?;
                add(linker, name)?;
            }
            Provision::Fallback { code, text } => fallback::add(linker, engine, name, row.name, &instance, code, text)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    let mut linker = Linker::<Host>::new(&engine);
                    add(&mut linker, &full).unwrap_or_else(|e| panic!("{full} does not link: {e:#}"));
                }
            }
        }
    }
}
