//! The Hayride host interfaces: what a morph importing `hayride:silo/threads`, `hayride:wac/wac`,
//! `hayride:db/db`, … gets under `morph run`/`call`/`serve`. Each one that leaves the WASI
//! sandbox needs its `--allow` grant; a morph importing one that was not granted is refused before
//! it starts, with the flag that grants it.

mod bindings;
mod config;
mod db;
mod fallback;
mod process;
mod threads;
mod wac;

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{types::ComponentItem, Component, HasSelf, Linker};
use wasmtime::Engine;

use crate::host::Host;
use crate::limits::Limits;
use crate::policy::{Grant, Policy};
use crate::RuntimeError;

/// The interfaces behind a grant, by name without version (any 0.0.x of Hayride's contract is
/// refused the same way; only the bundled version links).
const GRANTED: &[(&str, Grant)] = &[
    ("hayride:silo/threads", Grant::Silo),
    ("hayride:silo/process", Grant::Process),
    ("hayride:wac/wac", Grant::Wac),
    ("hayride:db/db", Grant::Db),
    ("wasi:config/store", Grant::Config),
];

/// Per-store state of the Hayride interfaces.
pub(crate) struct HayrideState {
    pub policy: Policy,
    /// The limits a spawned morph inherits (set once the store exists).
    pub limits: Limits,
    pub threads: Arc<threads::ThreadTable>,
    pub processes: HashMap<u32, tokio::process::Child>,
}

impl HayrideState {
    pub fn new(policy: &Policy) -> HayrideState {
        HayrideState {
            policy: policy.clone(),
            limits: Limits::default(),
            threads: Default::default(),
            processes: HashMap::new(),
        }
    }
}

fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(base, _)| base)
}

/// Refuses a component that imports a Hayride interface `policy` does not grant, naming the
/// interface and the flag.
pub(crate) fn check_grants(engine: &Engine, component: &Component, policy: &Policy) -> Result<(), RuntimeError> {
    for (name, _) in component.component_type().imports(engine) {
        let Some((_, grant)) = GRANTED.iter().find(|(iface, _)| unversioned(name) == *iface) else { continue };
        let granted = policy.grants.contains(grant)
            && !(*grant == Grant::Silo && policy.spawned && !policy.grants.contains(&Grant::SiloNested));
        if granted {
            continue;
        }
        if policy.spawned && *grant == Grant::Silo {
            return Err(RuntimeError::Input(format!(
                "the spawned morph imports {name}, but a spawned morph may not spawn others; grant it with \
                 --allow silo-nested"
            )));
        }
        return Err(RuntimeError::Input(format!(
            "the morph imports {name}, which is not granted; grant it with --allow {}",
            grant.name()
        )));
    }
    Ok(())
}

/// Links every Hayride interface `component` imports (granted or not: the grant is checked per
/// store, before instantiation, so one linker serves every request of `morph serve`).
pub(crate) fn add_to_linker(linker: &mut Linker<Host>, engine: &Engine, component: &Component) -> wasmtime::Result<()> {
    use bindings::hayride::{db, silo, wac as wac_bindings};
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        match name {
            "hayride:silo/threads@0.0.65" => silo::threads::add_to_linker::<Host, HasSelf<Host>>(linker, |h| h)?,
            "hayride:silo/process@0.0.65" => silo::process::add_to_linker::<Host, HasSelf<Host>>(linker, |h| h)?,
            "hayride:wac/wac@0.0.65" => wac_bindings::wac::add_to_linker::<Host, HasSelf<Host>>(linker, |h| h)?,
            "hayride:db/db@0.0.65" => db::db::add_to_linker::<Host, HasSelf<Host>>(linker, |h| h)?,
            "wasi:config/store@0.2.0-draft" => {
                bindings::wasi::config::store::add_to_linker::<Host, HasSelf<Host>>(linker, |h| h)?
            }
            _ => fallback::add_if_known(linker, engine, name, &instance)?,
        }
    }
    Ok(())
}
