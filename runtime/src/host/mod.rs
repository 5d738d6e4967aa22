//! The host interfaces beyond WASI that a morph may import: Hayride's (`hayride:silo`,
//! `hayride:wac`, `hayride:db`, and the fallbacks), `wasi:config/store` and Morphir's
//! `morphir:ext/runtime`. Each is a module with its own state and an `add_to_linker` over a view
//! of the store's data (as wasmtime-wasi's interfaces are); none of them knows the store's type.
//! Which of them a morph gets, and behind which `--allow` grant, is the contract's host table
//! (`morph_contract::host_interfaces`): the store's linker reads it, and so does the grant
//! check here.

pub(crate) mod ai;
pub(crate) mod app_funcs;
pub(crate) mod config;
pub(crate) mod db;
mod errno;
pub(crate) mod fallback;
pub(crate) mod morphir;
pub(crate) mod plugin;
pub(crate) mod process;
pub(crate) mod threads;
pub(crate) mod wac;

use std::marker::PhantomData;

use wasmtime::component::{Component, HasData, ResourceTable};
use wasmtime::Engine;

use morph_contract::host_interfaces;

use crate::policy::{Grant, Policy};
use crate::RuntimeError;

/// What an interface with resources reaches of the store's data: its own state `C` and the
/// store's resource table (as wasmtime-wasi-http's view is).
pub(crate) struct TableView<'a, C> {
    pub ctx: &'a C,
    pub table: &'a mut ResourceTable,
}

/// The bindings' marker for an interface whose host calls get a [`TableView`] of `C`.
pub(crate) struct HasTableView<C>(PhantomData<C>);

impl<C: 'static> HasData for HasTableView<C> {
    type Data<'a> = TableView<'a, C>;
}

/// Refuses a component that imports a host interface `policy` does not grant, naming the
/// interface and the flag. The grant is the row's whatever version is imported, so any 0.0.x of
/// Hayride's contract is refused the same way.
pub(crate) fn check_grants(engine: &Engine, component: &Component, policy: &Policy) -> Result<(), RuntimeError> {
    for (name, _) in component.component_type().imports(engine) {
        let Some(grant) = host_interfaces::grant_of(name) else { continue };
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
