//! A morph's exports by the names users write (`name`, `iface#name`), and their arguments from
//! JSON or WAVE.

use serde_json::Value as Json;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::Val;

use super::Prepared;
use crate::values::{from_json, type_name, Value};
use crate::RuntimeError;

/// An exported function: top level (`instance` is `None`) or inside an exported interface.
#[derive(Clone)]
pub struct ExportFunc {
    pub(crate) instance: Option<String>,
    pub(crate) name: String,
    pub(crate) params: Vec<(String, Type)>,
    pub(crate) result: Option<Type>,
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

    /// How many arguments it takes.
    pub fn arity(&self) -> usize {
        self.params.len()
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
pub(crate) fn exported_functions(p: &Prepared) -> Vec<ExportFunc> {
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
pub(crate) fn find_export(p: &Prepared, target: &str) -> Result<ExportFunc, RuntimeError> {
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
        many => Err(RuntimeError::AmbiguousExport {
            name: target.to_string(),
            candidates: many.iter().map(|f| f.signature()).collect(),
        }),
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
    Err(RuntimeError::Arity { function: f.path(), expected: f.params.len(), given, signature: f.signature() })
}

impl ExportFunc {
    /// JSON arguments, one per parameter.
    pub fn args_from_json(&self, args: &[Json]) -> Result<Vec<Value>, RuntimeError> {
        check_arity(self, args.len())?;
        self.params
            .iter()
            .zip(args)
            .map(|((name, ty), v)| from_json(ty, v, name).map(Value).map_err(RuntimeError::Argument))
            .collect()
    }

    /// Arguments as Hayride's `cast` passes them: for a `string` parameter, the text itself
    /// (a JSON string literal is taken as JSON); for any other, JSON.
    pub fn args_from_text(&self, args: &[String]) -> Result<Vec<Value>, RuntimeError> {
        check_arity(self, args.len())?;
        let json: Vec<Json> = self
            .params
            .iter()
            .zip(args)
            .map(|((name, ty), text)| match (ty, serde_json::from_str::<Json>(text)) {
                (Type::String, Ok(Json::String(s))) => Ok(Json::String(s)),
                (Type::String, _) => Ok(Json::String(text.clone())),
                (_, parsed) => parsed.map_err(|e| {
                    RuntimeError::Argument(crate::values::ValueError {
                        path: name.clone(),
                        message: format!("{text:?} is not JSON: {e}"),
                    })
                }),
            })
            .collect::<Result<_, _>>()?;
        self.args_from_json(&json)
    }

    /// WAVE arguments, one per parameter.
    pub fn args_from_wave(&self, args: &[String]) -> Result<Vec<Value>, RuntimeError> {
        check_arity(self, args.len())?;
        self.params
            .iter()
            .zip(args)
            .map(|((name, ty), s)| {
                wasm_wave::from_str::<Val>(ty, s).map(Value).map_err(|e| RuntimeError::Wave {
                    param: name.clone(),
                    expected: type_name(ty),
                    source: e.into(),
                })
            })
            .collect()
    }

    /// A resource cannot be made from the command line.
    pub(crate) fn check_callable(&self) -> Result<(), RuntimeError> {
        match self.params.iter().find(|(_, t)| matches!(t, Type::Own(_) | Type::Borrow(_))) {
            Some((name, _)) => Err(RuntimeError::ResourceParameter { function: self.path(), param: name.clone() }),
            None => Ok(()),
        }
    }
}

impl Prepared {
    /// Every exported function, those of exported interfaces included.
    pub fn exports(&self) -> Vec<ExportFunc> {
        exported_functions(self)
    }

    /// The export `target` names: `func`, `iface#func` or `ns:pkg/iface@ver#func`; an unknown
    /// name lists the exports with their signatures.
    pub fn find_export(&self, target: &str) -> Result<ExportFunc, RuntimeError> {
        find_export(self, target)
    }

    /// A WAVE call expression, `name(arg, …)`, as `wasmtime run --invoke` takes it.
    pub fn parse_call(&self, expr: &str) -> Result<(ExportFunc, Vec<Value>), RuntimeError> {
        let bad = |signature: String, e: wasm_wave::parser::ParserError| RuntimeError::BadCall {
            call: expr.to_string(),
            signature,
            source: e.into(),
        };
        let call = wasm_wave::untyped::UntypedFuncCall::parse(expr)
            .map_err(|e| bad("an export, like `name(arg, …)`".into(), e))?;
        let f = find_export(self, call.name())?;
        let types: Vec<Type> = f.params.iter().map(|(_, t)| t.clone()).collect();
        let args = call.to_wasm_params::<Val>(types.iter()).map_err(|e| bad(f.signature(), e))?;
        Ok((f, args.into_iter().map(Value).collect()))
    }
}
