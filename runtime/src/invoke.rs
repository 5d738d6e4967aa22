//! `morph call`: finding an export by the names users write, and calling it with typed values.

use serde_json::Value as Json;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::Val;

use crate::exec::{Prepared, Session};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::values::{from_json, to_json, type_name};
use crate::RuntimeError;

/// An exported function: top level (`instance` is `None`) or inside an exported interface.
#[derive(Clone)]
pub struct ExportFunc {
    pub instance: Option<String>,
    pub name: String,
    pub params: Vec<(String, Type)>,
    pub result: Option<Type>,
}

impl ExportFunc {
    fn new(instance: Option<String>, name: &str, ty: &ComponentFunc) -> ExportFunc {
        ExportFunc {
            instance,
            name: name.to_string(),
            params: ty.params().map(|(n, t)| (n.to_string(), t)).collect(),
            result: ty.results().next(),
        }
    }

    /// `iface#name` or `name`, as `morph call` accepts it.
    pub fn path(&self) -> String {
        match &self.instance {
            Some(i) => format!("{i}#{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `path: func(a: u32) -> string`
    pub fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|(n, t)| format!("{n}: {}", type_name(t))).collect();
        let result = self.result.as_ref().map(|t| format!(" -> {}", type_name(t))).unwrap_or_default();
        format!("{}: func({}){result}", self.path(), params.join(", "))
    }
}

/// Every exported function, interfaces first-level included.
pub fn exported_functions(p: &Prepared) -> Vec<ExportFunc> {
    let engine = &p.engine;
    let mut out = Vec::new();
    for (name, item) in p.component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(f) => out.push(ExportFunc::new(None, name, &f)),
            ComponentItem::ComponentInstance(inst) => {
                for (fname, fitem) in inst.exports(engine) {
                    if let ComponentItem::ComponentFunc(f) = fitem.ty {
                        out.push(ExportFunc::new(Some(name.to_string()), fname, &f));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Finds `func`, `iface#func` (iface being the interface's own name, `run` for
/// `wasi:cli/run@0.2.0`, or its name without version) or `ns:pkg/iface@ver#func`.
pub fn find_export(p: &Prepared, target: &str) -> Result<ExportFunc, RuntimeError> {
    let all = exported_functions(p);
    let (iface, func) = match target.rsplit_once('#') {
        Some((i, f)) => (Some(i), f),
        None => (None, target),
    };
    let iface_matches = |have: &str, want: &str| {
        let unversioned = have.rsplit_once('@').map_or(have, |(b, _)| b);
        let short = unversioned.rsplit_once('/').map_or(unversioned, |(_, s)| s);
        have == want || unversioned == want || short == want
    };
    let found: Vec<&ExportFunc> = all
        .iter()
        .filter(|f| {
            f.name == func
                && match (iface, &f.instance) {
                    (None, None) => true,
                    (None, Some(_)) => false,
                    (Some(want), Some(have)) => iface_matches(have, want),
                    (Some(_), None) => false,
                }
        })
        .collect();
    // A bare name that only an interface exports is still found, when it is unique.
    let found =
        if found.is_empty() && iface.is_none() { all.iter().filter(|f| f.name == func).collect() } else { found };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(RuntimeError::NoSuchExport { name: target.to_string(), available: listing(&all) }),
        many => Err(RuntimeError::Input(format!(
            "`{target}` is ambiguous; name one of:\n{}",
            many.iter().map(|f| format!("  {}", f.signature())).collect::<Vec<_>>().join("\n")
        ))),
    }
}

fn listing(all: &[ExportFunc]) -> String {
    if all.is_empty() {
        return "  (no functions)".into();
    }
    all.iter().map(|f| format!("  {}", f.signature())).collect::<Vec<_>>().join("\n")
}

fn check_arity(f: &ExportFunc, given: usize) -> Result<(), RuntimeError> {
    if given == f.params.len() {
        return Ok(());
    }
    Err(RuntimeError::Input(format!(
        "{} takes {} argument(s), {given} given\n  {}",
        f.path(),
        f.params.len(),
        f.signature()
    )))
}

/// JSON arguments, one per parameter.
pub fn args_from_json(f: &ExportFunc, args: &[Json]) -> Result<Vec<Val>, RuntimeError> {
    check_arity(f, args.len())?;
    f.params.iter().zip(args).map(|((name, ty), v)| from_json(ty, v, name).map_err(RuntimeError::Argument)).collect()
}

/// WAVE arguments, one per parameter.
pub fn args_from_wave(f: &ExportFunc, args: &[String]) -> Result<Vec<Val>, RuntimeError> {
    check_arity(f, args.len())?;
    f.params
        .iter()
        .zip(args)
        .map(|((name, ty), s)| {
            wasm_wave::from_str::<Val>(ty, s)
                .map_err(|e| RuntimeError::Input(format!("argument {name}: {e} (expected WAVE for {})", type_name(ty))))
        })
        .collect()
}

/// A WAVE call expression, `name(arg, …)`, as `wasmtime run --invoke` takes it.
pub fn parse_call(p: &Prepared, expr: &str) -> Result<(ExportFunc, Vec<Val>), RuntimeError> {
    let call = wasm_wave::untyped::UntypedFuncCall::parse(expr)
        .map_err(|e| RuntimeError::Input(format!("`{expr}` is not a call like `name(arg, …)`: {e}")))?;
    let f = find_export(p, call.name())?;
    let types: Vec<Type> = f.params.iter().map(|(_, t)| t.clone()).collect();
    let args = call
        .to_wasm_params::<Val>(types.iter())
        .map_err(|e| RuntimeError::Input(format!("arguments of `{expr}`: {e}\n  {}", f.signature())))?;
    Ok((f, args))
}

pub fn result_to_json(v: &Val) -> Json {
    to_json(v)
}

pub fn result_to_wave(v: &Val) -> String {
    wasm_wave::to_string(v).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Instantiates and calls `f`; gives its result, if it has one.
pub async fn call(
    p: &Prepared,
    policy: &Policy,
    limits: &Limits,
    argv: &[String],
    f: &ExportFunc,
    args: &[Val],
) -> Result<Option<Val>, RuntimeError> {
    if let Some((name, _)) = f.params.iter().find(|(_, t)| matches!(t, Type::Own(_) | Type::Borrow(_))) {
        return Err(RuntimeError::Input(format!(
            "{} takes a resource (`{name}`), which cannot be passed from the command line",
            f.path()
        )));
    }
    let mut session = Session::start(p, policy, limits, argv).await?;
    call_in(&mut session, f, args).await
}

/// Calls `f` in an instantiated session.
pub(crate) async fn call_in(session: &mut Session, f: &ExportFunc, args: &[Val]) -> Result<Option<Val>, RuntimeError> {
    let func = {
        let store = &mut session.store;
        let inst_idx = match &f.instance {
            Some(i) => Some(
                session
                    .instance
                    .get_export_index(&mut *store, None, i)
                    .ok_or_else(|| RuntimeError::Input(format!("no export {i}")))?,
            ),
            None => None,
        };
        let idx = session
            .instance
            .get_export_index(&mut *store, inst_idx.as_ref(), &f.name)
            .ok_or_else(|| RuntimeError::Input(format!("no export {}", f.path())))?;
        session
            .instance
            .get_func(&mut *store, idx)
            .ok_or_else(|| RuntimeError::Input(format!("{} is not a function", f.path())))?
    };
    let mut results = vec![Val::Bool(false); usize::from(f.result.is_some())];
    if let Err(e) = session.watch.within(func.call_async(&mut session.store, args, &mut results)).await {
        return Err(session.watch.classify(e, false));
    }
    Ok(results.pop())
}
