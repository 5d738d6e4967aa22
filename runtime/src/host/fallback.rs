//! Interfaces morph answers without a grant: `hayride:core/version` (morph's own version, no
//! network) and the fallbacks Hayride's host has for `hayride:mcp/tools`, `hayride:mcp/auth` and
//! `hayride:ai/context`: every call fails with the interface's own error (code and text), so a
//! morph runs, and a composed provider can replace them.
//!
//! They are linked from the imported instance's type, not from bindings: each resource becomes a
//! host resource of its own dynamic type, constructors hand out a fresh one, `error.code` and
//! `error.data` describe the failure, and every function returning `result<_, error>` fails.

use std::sync::atomic::{AtomicU32, Ordering};

use wasmtime::component::types::{ComponentInstance, ComponentItem, Type};
use wasmtime::component::{Linker, ResourceDynamic, ResourceType, Val};
use wasmtime::{Engine, StoreContextMut};

/// Dynamic resource types are told apart by a number; each linked resource gets its own.
static NEXT_TYPE: AtomicU32 = AtomicU32::new(1);

/// Links `name` (the imported name of the table's interface `iface`), of type `instance`, as a
/// fallback whose failures carry `code` and `text` (from the host table).
pub(crate) fn add<T: Send + 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    name: &str,
    iface: &str,
    instance: &ComponentInstance,
    code: &'static str,
    text: &'static str,
) -> wasmtime::Result<()> {
    let mut inst = linker.instance(name)?;
    let mut resources: Vec<(String, u32)> = Vec::new();
    for (export, item) in instance.exports(engine) {
        if let ComponentItem::Resource(_) = item.ty {
            let ty = NEXT_TYPE.fetch_add(1, Ordering::Relaxed);
            inst.resource(export, ResourceType::host_dynamic(ty), |_, _| Ok(()))?;
            resources.push((export.to_string(), ty));
        }
    }
    let type_of = |resource: &str| resources.iter().find(|(n, _)| n == resource).map(|(_, t)| *t);
    let error_type = type_of("error");
    for (export, item) in instance.exports(engine) {
        let ComponentItem::ComponentFunc(func) = item.ty else { continue };
        let returns_result = matches!(func.results().next(), Some(Type::Result(_)));
        if let Some(resource) = export.strip_prefix("[constructor]") {
            let ty = type_of(resource).expect("a constructor's resource is exported beside it");
            answer(&mut inst, export, move |store| new_own(store, ty))?;
        } else if export == "[method]error.code" {
            answer(&mut inst, export, move |_| Ok(Val::Enum(code.to_string())))?;
        } else if export == "[method]error.data" {
            answer(&mut inst, export, move |_| Ok(Val::String(text.to_string())))?;
        } else if iface == "hayride:core/version" && export == "latest" {
            answer(&mut inst, export, |_| {
                let version = Val::String(env!("CARGO_PKG_VERSION").to_string());
                Ok(Val::Result(Ok(Some(Box::new(version)))))
            })?;
        } else if let (true, Some(ty)) = (returns_result, error_type) {
            answer(&mut inst, export, move |store| Ok(Val::Result(Err(Some(Box::new(new_own(store, ty)?))))))?;
        } else {
            let what = format!("{iface}#{export} is not available in morph's host");
            inst.func_new(export, move |_, _, _, _| Err(wasmtime::Error::msg(what.clone())))?;
        }
    }
    Ok(())
}

/// A fresh handle of the dynamic resource type `ty` (they carry no state: rep 0).
fn new_own<T: 'static>(store: &mut StoreContextMut<'_, T>, ty: u32) -> wasmtime::Result<Val> {
    Ok(Val::Resource(ResourceDynamic::new_own(0, ty).try_into_resource_any(store)?))
}

/// Defines `export` to end the borrows it is handed (a dynamic host function must, for `self`
/// of a method) and to return what `result` makes.
fn answer<T: Send + 'static>(
    inst: &mut wasmtime::component::LinkerInstance<'_, T>,
    export: &str,
    result: impl Fn(&mut StoreContextMut<'_, T>) -> wasmtime::Result<Val> + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    let result = std::sync::Arc::new(result);
    inst.func_new_async(export, move |mut store, _, params, results| {
        let result = result.clone();
        Box::new(async move {
            for p in params {
                if let Val::Resource(r) = p {
                    if !r.owned() {
                        r.resource_drop_async(&mut store).await?;
                    }
                }
            }
            results[0] = result(&mut store)?;
            Ok(())
        })
    })
}
