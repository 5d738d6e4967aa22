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

use crate::host::Host;
use crate::limits::Limits;
use crate::policy::{Grant, Policy};
use crate::RuntimeError;

/// How an interface is added to a linker.
type AddToLinker = fn(&mut Linker<Host>) -> wasmtime::Result<()>;

/// The interfaces behind a grant, as the bundled contract names them, and how each is linked.
/// The grant is checked on the name without version, so any 0.0.x of Hayride's contract is
/// refused the same way; only the bundled version links.
const GRANTED: &[(&str, Grant, AddToLinker)] = &[
    ("hayride:silo/threads@0.0.65", Grant::Silo, |l| {
        bindings::hayride::silo::threads::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
    }),
    ("hayride:silo/process@0.0.65", Grant::Process, |l| {
        bindings::hayride::silo::process::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
    }),
    ("hayride:wac/wac@0.0.65", Grant::Wac, |l| {
        bindings::hayride::wac::wac::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
    }),
    ("hayride:db/db@0.0.65", Grant::Db, |l| bindings::hayride::db::db::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)),
    ("wasi:config/store@0.2.0-draft", Grant::Config, |l| {
        bindings::wasi::config::store::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
    }),
];

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

fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(base, _)| base)
}

/// Refuses a component that imports a Hayride interface `policy` does not grant, naming the
/// interface and the flag.
pub(crate) fn check_grants(engine: &Engine, component: &Component, policy: &Policy) -> Result<(), RuntimeError> {
    for (name, _) in component.component_type().imports(engine) {
        let wanted = GRANTED.iter().find(|(iface, _, _)| unversioned(name) == unversioned(iface));
        let Some((_, grant, _)) = wanted else { continue };
        if policy.grants.contains(grant) {
            continue;
        }
        // A spawned morph lost `silo` unless the parent had `silo-nested` (see threads.rs).
        return Err(RuntimeError::Input(if policy.spawned && *grant == Grant::Silo {
            format!(
                "the spawned morph imports {name}, but a spawned morph may not spawn others; grant it with \
                 --allow silo-nested"
            )
        } else {
            format!("the morph imports {name}, which is not granted; grant it with --allow {}", grant.name())
        }));
    }
    Ok(())
}

/// Links every Hayride interface `component` imports (granted or not: the grant is checked per
/// store, before instantiation, so one linker serves every request of `morph serve`).
pub(crate) fn add_to_linker(linker: &mut Linker<Host>, engine: &Engine, component: &Component) -> wasmtime::Result<()> {
    for (name, item) in component.component_type().imports(engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        match GRANTED.iter().find(|(iface, _, _)| *iface == name) {
            Some((_, _, add)) => add(linker)?,
            None => fallback::add_if_known(linker, engine, name, &instance)?,
        }
    }
    Ok(())
}
