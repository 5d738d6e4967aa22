//! The host side of `morphir:ext/runtime` for Morphir extensions: `log` to stderr, and env vars
//! that `set-env-var` keeps for the life of the store (one `morph call`, or one session).

use std::collections::HashMap;

use wasmtime::component::{types::ComponentItem, Component, Linker, Val};
use wasmtime::Engine;

use crate::host::Host;

/// The interface, matched by name and 0.1 track.
const RUNTIME: &str = "morphir:ext/runtime@0.1.";

/// Env values an extension set, by name.
#[derive(Default)]
pub struct ExtEnv(HashMap<String, Val>);

/// Defines `morphir:ext/runtime` in `linker` when `component` imports it.
pub(crate) fn add_if_imported(linker: &mut Linker<Host>, engine: &Engine, component: &Component) -> wasmtime::Result<()> {
    let Some(name) = component
        .component_type()
        .imports(engine)
        .find(|(n, item)| n.starts_with(RUNTIME) && matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .map(|(n, _)| n.to_string())
    else {
        return Ok(());
    };
    let mut inst = linker.instance(&name)?;
    inst.func_new("log", |_store, _ty, params, _results| {
        let level = match params.first() {
            Some(Val::Enum(l)) => l.as_str(),
            _ => "info",
        };
        let msg = match params.get(1) {
            Some(Val::String(s)) => s.as_str(),
            _ => "",
        };
        eprintln!("{level}: {msg}");
        Ok(())
    })?;
    inst.func_new("get-env-var", |store, _ty, params, results| {
        let value = match params.first() {
            Some(Val::String(name)) => store.data().ext_env.0.get(name).cloned(),
            _ => None,
        };
        results[0] = Val::Option(value.map(Box::new));
        Ok(())
    })?;
    inst.func_new("set-env-var", |mut store, _ty, params, _results| {
        if let (Some(Val::String(name)), Some(value)) = (params.first(), params.get(1)) {
            store.data_mut().ext_env.0.insert(name.clone(), value.clone());
        }
        Ok(())
    })?;
    Ok(())
}
