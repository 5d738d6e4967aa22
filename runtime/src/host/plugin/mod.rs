//! The host side of a core-module extension (the Extism plug-in ABI): the kernel the PDKs
//! import (`extism:host/env`: memory, input, output, logs, vars, config) and Morphir's standard
//! library (`extism:host/user`: `log`, `get_env_var`, `set_env_var`, with the meaning of
//! `morphir:ext/runtime`). Which functions exist, and their types, is the contract's table
//! (`morph_contract::plugin::HOST_FUNCTIONS`); [`add_to_linker`] defines exactly its rows.

mod kernel;
pub(crate) mod memory;
mod stdlib;

use std::collections::HashMap;

use wasmtime::{Caller, Linker};

use crate::host::morphir::ExtSettings;
use memory::PluginMemory;

/// A plug-in's state in its store: the memory of the current call, and the vars it keeps
/// across calls (Extism's `var_set`; carried over to a fresh instance after a failed step).
#[derive(Default)]
pub(crate) struct PluginCtx {
    pub memory: PluginMemory,
    pub vars: HashMap<String, Vec<u8>>,
}

/// What the plug-in's host calls reach of the store's data: its own state, and the settings its
/// `morphir:ext/runtime` functions read and write (env vars, log level).
pub(crate) struct PluginView<'a> {
    pub ctx: &'a mut PluginCtx,
    pub ext: &'a mut ExtSettings,
}

/// How a host function finds the view in its store's data.
pub(crate) type GetView<T> = fn(&mut T) -> PluginView<'_>;

/// Defines every row of the contract's table for core-module extensions in `linker`.
pub(crate) fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: GetView<T>) -> wasmtime::Result<()> {
    for row in morph_contract::plugin::HOST_FUNCTIONS {
        let defined = match row.module {
            morph_contract::plugin::KERNEL => kernel::define(linker, row.name, get)?,
            morph_contract::plugin::STDLIB => stdlib::define(linker, row.name, get)?,
            _ => false,
        };
        if !defined {
            return Err(wasmtime::Error::msg(format!(
                "{}#{} has no implementation in morph's host",
                row.module, row.name
            )));
        }
    }
    Ok(())
}

/// The view of the calling store's data.
fn view<'a, T>(caller: &'a mut Caller<'_, T>, get: GetView<T>) -> PluginView<'a> {
    get(caller.data_mut())
}

/// An offset or length from the guest: i64 on the wire, never negative in meaning.
fn offset(v: i64) -> u64 {
    v as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use morph_contract::plugin::{Val, HOST_FUNCTIONS};
    use wasmtime::{Engine, Store, ValType};

    struct Data {
        ctx: PluginCtx,
        ext: ExtSettings,
    }

    fn get(d: &mut Data) -> PluginView<'_> {
        PluginView { ctx: &mut d.ctx, ext: &mut d.ext }
    }

    fn val(v: &Val) -> ValType {
        match v {
            Val::I32 => ValType::I32,
            Val::I64 => ValType::I64,
        }
    }

    #[test]
    fn every_row_of_the_table_is_linked_with_its_type() {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        add_to_linker(&mut linker, get).unwrap();
        let mut store = Store::new(&engine, Data { ctx: PluginCtx::default(), ext: ExtSettings::default() });
        for row in HOST_FUNCTIONS {
            let ext =
                linker.get(&mut store, row.module, row.name).unwrap_or_else(|_| panic!("{} not linked", row.name));
            let ty = ext.into_func().unwrap().ty(&store);
            let params: Vec<_> = ty.params().collect();
            let results: Vec<_> = ty.results().collect();
            let want_params: Vec<_> = row.params.iter().map(val).collect();
            let want_results: Vec<_> = row.results.iter().map(val).collect();
            assert!(
                params.len() == want_params.len()
                    && params.iter().zip(&want_params).all(|(a, b)| ValType::eq(a, b))
                    && results.len() == want_results.len()
                    && results.iter().zip(&want_results).all(|(a, b)| ValType::eq(a, b)),
                "{}#{} is linked as {ty:?}, the table says {}",
                row.module,
                row.name,
                row.signature()
            );
        }
    }
}
