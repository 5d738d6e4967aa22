//! `extism:host/env`, the kernel the Extism PDKs import: the call's input, blocks of host memory
//! the plug-in allocates, reads and writes 1 or 8 bytes at a time, its output or error, its logs
//! (to the same place as `morphir:ext/runtime`'s), its vars (kept across calls) and its config
//! (the extension's env vars, as text).

use wasmtime::{Caller, Linker};

use super::{offset, view, GetView};
use crate::host::morphir::LogLevel;

/// What all of a plug-in's vars together may hold (Extism's own default).
const MAX_VAR_BYTES: usize = 1 << 20;

/// Defines the kernel function `name`; false when there is no such function.
pub(super) fn define<T: 'static>(l: &mut Linker<T>, name: &'static str, get: GetView<T>) -> wasmtime::Result<bool> {
    const M: &str = morph_contract::plugin::KERNEL;
    match name {
        "input_length" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>| view(&mut c, get).ctx.memory.input().1 as i64)?;
        }
        "input_offset" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>| view(&mut c, get).ctx.memory.input().0 as i64)?;
        }
        "input_load_u8" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| -> wasmtime::Result<i32> {
                Ok(input(&view(&mut c, get).ctx.memory, offset(at), 1, name)?[0].into())
            })?;
        }
        "input_load_u64" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| -> wasmtime::Result<i64> {
                Ok(i64::from_le_bytes(input(&view(&mut c, get).ctx.memory, offset(at), 8, name)?.try_into()?))
            })?;
        }
        "length" | "length_unsafe" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| {
                view(&mut c, get).ctx.memory.length(offset(at)) as i64
            })?;
        }
        "alloc" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, len: i64| -> wasmtime::Result<i64> {
                Ok(view(&mut c, get).ctx.memory.alloc(offset(len))? as i64)
            })?;
        }
        "free" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| view(&mut c, get).ctx.memory.free(offset(at)))?;
        }
        "output_set" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64, len: i64| {
                view(&mut c, get).ctx.memory.set_output(offset(at), offset(len))
            })?;
        }
        "error_set" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| {
                view(&mut c, get).ctx.memory.set_error(offset(at))
            })?;
        }
        "store_u8" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64, byte: i32| -> wasmtime::Result<()> {
                view(&mut c, get).ctx.memory.range_mut(offset(at), 1, name)?[0] = byte as u8;
                Ok(())
            })?;
        }
        "load_u8" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| -> wasmtime::Result<i32> {
                Ok(view(&mut c, get).ctx.memory.range(offset(at), 1, name)?[0].into())
            })?;
        }
        "store_u64" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64, word: i64| -> wasmtime::Result<()> {
                view(&mut c, get).ctx.memory.range_mut(offset(at), 8, name)?.copy_from_slice(&word.to_le_bytes());
                Ok(())
            })?;
        }
        "load_u64" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| -> wasmtime::Result<i64> {
                Ok(i64::from_le_bytes(view(&mut c, get).ctx.memory.range(offset(at), 8, name)?.try_into()?))
            })?;
        }
        "config_get" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, key: i64| -> wasmtime::Result<i64> {
                let v = view(&mut c, get);
                let key = v.ctx.memory.text(offset(key), name)?;
                match v.ext.value_text(&key) {
                    Some(value) => Ok(v.ctx.memory.put(value.as_bytes())? as i64),
                    None => Ok(0),
                }
            })?;
        }
        "var_get" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, key: i64| -> wasmtime::Result<i64> {
                let v = view(&mut c, get);
                let key = v.ctx.memory.text(offset(key), name)?;
                match v.ctx.vars.get(&key) {
                    Some(value) => {
                        let value = value.clone();
                        Ok(v.ctx.memory.put(&value)? as i64)
                    }
                    None => Ok(0),
                }
            })?;
        }
        "var_set" => {
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, key: i64, value: i64| -> wasmtime::Result<()> {
                let v = view(&mut c, get);
                let key = v.ctx.memory.text(offset(key), name)?;
                if value == 0 {
                    v.ctx.vars.remove(&key);
                    return Ok(());
                }
                let value = v.ctx.memory.block(offset(value), name)?.to_vec();
                let others: usize = v.ctx.vars.iter().filter(|(k, _)| **k != key).map(|(k, b)| k.len() + b.len()).sum();
                if others + key.len() + value.len() > MAX_VAR_BYTES {
                    return Err(wasmtime::Error::msg(format!(
                        "var_set {key:?}: the plug-in's vars would hold more than {MAX_VAR_BYTES} bytes"
                    )));
                }
                v.ctx.vars.insert(key, value);
                Ok(())
            })?;
        }
        "log_trace" | "log_debug" | "log_info" | "log_warn" | "log_error" => {
            let level = LogLevel::from_case(name.trim_start_matches("log_"));
            l.func_wrap(M, name, move |mut c: Caller<'_, T>, at: i64| -> wasmtime::Result<()> {
                let v = view(&mut c, get);
                let text = v.ctx.memory.text(offset(at), name)?;
                v.ext.log(level, &text);
                Ok(())
            })?;
        }
        "get_log_level" => {
            // The PDKs' numbering: trace 0 … error 4.
            l.func_wrap(M, name, move |mut c: Caller<'_, T>| view(&mut c, get).ext.log_level as i32)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `len` bytes at `at` of the call's input.
fn input<'m>(m: &'m super::PluginMemory, at: u64, len: u64, call: &str) -> wasmtime::Result<&'m [u8]> {
    let (start, size) = m.input();
    if at.checked_add(len).is_none_or(|end| end > size) {
        return Err(wasmtime::Error::msg(format!("{call}: offset {at} is past the input's {size} bytes")));
    }
    m.range(start + at, len, call)
}
