//! Morphir's standard library for core-module extensions, in `extism:host/user` (where the PDKs'
//! `#[host_fn]` looks by default), with the meaning of `morphir:ext/runtime`: every argument and
//! result is a block of text. `log(level, message)`, level `trace`…`error`;
//! `get_env_var(name)` gives `TYPE:VALUE` as `--env-var` takes it (offset 0, an empty block to
//! the PDKs, when unset); `set_env_var(name, "TYPE:VALUE")`.

use wasmtime::{Caller, Linker};

use super::{offset, view, GetView};
use crate::host::morphir::LogLevel;

/// Defines the standard-library function `name`; false when there is no such function.
pub(super) fn define<T: 'static>(l: &mut Linker<T>, name: &'static str, get: GetView<T>) -> wasmtime::Result<bool> {
    const M: &str = morph_contract::plugin::STDLIB;
    match name {
        "log" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, level: i64, message: i64| -> wasmtime::Result<()> {
                let v = view(&mut c, get);
                let level = v.ctx.memory.text(offset(level), "log")?;
                let message = v.ctx.memory.text(offset(message), "log")?;
                v.ext.log(LogLevel::from_case(level.trim()), &message);
                Ok(())
            })?;
        }
        "get_env_var" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, name: i64| -> wasmtime::Result<i64> {
                let v = view(&mut c, get);
                let name = v.ctx.memory.text(offset(name), "get_env_var")?;
                match v.ext.typed(&name) {
                    Some(typed) => Ok(v.ctx.memory.put(typed.as_bytes())? as i64),
                    None => Ok(0),
                }
            })?;
        }
        "set_env_var" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, name: i64, typed: i64| -> wasmtime::Result<()> {
                let v = view(&mut c, get);
                let name = v.ctx.memory.text(offset(name), "set_env_var")?;
                let typed = v.ctx.memory.text(offset(typed), "set_env_var")?;
                v.ext.set_typed(&name, &typed).map_err(|why| wasmtime::Error::msg(format!("set_env_var: {why}")))
            })?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
