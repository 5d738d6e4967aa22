//! Morphir extensions as core modules (`wasm32-unknown-unknown`, the Extism plug-in ABI): the
//! one table of the host functions such a module may import (the Extism kernel, and Morphir's
//! standard library), the exports that make it an extension, and reading a module's imports and
//! exports to tell what it is and what morph does not provide. `validate`, `inspect` and the
//! runtime's linker all read [`HOST_FUNCTIONS`]; a runtime test proves every row is linked with
//! the row's type.

use std::path::Path;

use wasmparser::{Parser, Payload, TypeRef, ValType};

use crate::ContractError;

/// The module the Extism PDKs import the kernel from (memory, input, output, logging, vars).
pub const KERNEL: &str = "extism:host/env";
/// The module the PDKs import a plug-in's own host functions from (`#[host_fn]`'s default):
/// Morphir's standard library.
pub const STDLIB: &str = "extism:host/user";
/// WASI preview 1, which the Go and JS PDKs' modules import; provided under `--dir`, `--env` and
/// `--allow-net` like everything else, nothing by default.
pub const WASI_P1: &str = "wasi_snapshot_preview1";

/// A value type of a host function's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    I32,
    I64,
}

impl Val {
    fn name(self) -> &'static str {
        match self {
            Val::I32 => "i32",
            Val::I64 => "i64",
        }
    }
}

/// One host function a core-module extension may import.
#[derive(Debug, Clone, Copy)]
pub struct HostFunction {
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [Val],
    pub results: &'static [Val],
}

impl HostFunction {
    /// `(i64, i64) -> i64`, as the messages show a signature.
    pub fn signature(&self) -> String {
        signature(self.params.iter().copied(), self.results.iter().copied())
    }
}

use Val::{I32, I64};

const fn f(module: &'static str, name: &'static str, params: &'static [Val], results: &'static [Val]) -> HostFunction {
    HostFunction { module, name, params, results }
}

/// Every host function morph provides to a core-module extension. Memory offsets are `i64`
/// handles into the host's memory for the plug-in, as the Extism kernel gives them. HTTP
/// (`http_request`, `http_status_code`, `http_headers`) is not here: an extension asks for http
/// with an `http` command, which morph runs under `--allow-net`.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    f(KERNEL, "input_length", &[], &[I64]),
    f(KERNEL, "input_load_u8", &[I64], &[I32]),
    f(KERNEL, "input_load_u64", &[I64], &[I64]),
    f(KERNEL, "input_offset", &[], &[I64]),
    f(KERNEL, "length", &[I64], &[I64]),
    f(KERNEL, "length_unsafe", &[I64], &[I64]),
    f(KERNEL, "alloc", &[I64], &[I64]),
    f(KERNEL, "free", &[I64], &[]),
    f(KERNEL, "output_set", &[I64, I64], &[]),
    f(KERNEL, "error_set", &[I64], &[]),
    f(KERNEL, "store_u8", &[I64, I32], &[]),
    f(KERNEL, "load_u8", &[I64], &[I32]),
    f(KERNEL, "store_u64", &[I64, I64], &[]),
    f(KERNEL, "load_u64", &[I64], &[I64]),
    f(KERNEL, "config_get", &[I64], &[I64]),
    f(KERNEL, "var_get", &[I64], &[I64]),
    f(KERNEL, "var_set", &[I64, I64], &[]),
    f(KERNEL, "log_trace", &[I64], &[]),
    f(KERNEL, "log_debug", &[I64], &[]),
    f(KERNEL, "log_info", &[I64], &[]),
    f(KERNEL, "log_warn", &[I64], &[]),
    f(KERNEL, "log_error", &[I64], &[]),
    f(KERNEL, "get_log_level", &[], &[I32]),
    // morphir:ext/runtime, as host functions: every argument and result is a memory offset.
    // log(level, message); get_env_var(name) -> "TYPE:VALUE" (0 when unset);
    // set_env_var(name, "TYPE:VALUE").
    f(STDLIB, "log", &[I64, I64], &[]),
    f(STDLIB, "get_env_var", &[I64], &[I64]),
    f(STDLIB, "set_env_var", &[I64, I64], &[]),
];

/// The row for `module`/`name`, if morph provides it.
pub fn host_function(module: &str, name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|h| h.module == module && h.name == name)
}

/// The exports of a runtime (TEA) extension, and of the design-time ones. A name may be written
/// with `_` for `-` (what `#[plugin_fn]` makes of a Rust function name).
pub const RUNTIME_EXPORTS: &[&str] = &["init", "update", "subscriptions"];
pub const DESIGN_TIME_EXPORTS: &[&str] = &["frontend-compile", "backend-generate", "get-capabilities"];

/// The name a module exports for the extension function `function`, if it exports it.
pub fn export_for<'a>(exports: &'a [String], function: &str) -> Option<&'a str> {
    let underscored = function.replace('-', "_");
    exports.iter().map(String::as_str).find(|e| *e == function || *e == underscored)
}

/// What a core module is as a Morphir extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginKind {
    /// Exports `init`, `update` and `subscriptions`.
    Runtime,
    /// Exports one of the design-time functions and not the whole TEA program.
    DesignTime,
    /// Exports none of them.
    NotAnExtension,
}

/// An import of a core module, and whether (and why not) morph provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginImport {
    pub module: String,
    pub name: String,
    /// A function's signature as the module declares it; `None` for a memory, table or global.
    pub signature: Option<String>,
    /// `None` when provided; otherwise why not, in words for the user.
    pub problem: Option<String>,
}

/// A core module read as a Morphir extension.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub kind: PluginKind,
    /// Exported functions, in the module's order.
    pub exports: Vec<String>,
    /// Each export's signature, in the same order.
    pub export_signatures: Vec<String>,
    pub imports: Vec<PluginImport>,
}

impl PluginInfo {
    /// The core module `bytes` (named `path` in errors) validated whole, then read: what
    /// `validate` and `inspect` report on.
    pub fn validated(path: &Path, bytes: &[u8]) -> Result<PluginInfo, ContractError> {
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all()).validate_all(bytes).map_err(|e| {
            ContractError::NotAComponent {
                path: path.to_path_buf(),
                message: format!("it is not a valid core module: {e}"),
            }
        })?;
        PluginInfo::read(path, bytes)
    }

    /// Reads the imports and exports of the core module `bytes` (named `path` in errors) from its
    /// sections, without validating the code: for a caller whose engine validates as it compiles
    /// (or loads code compiled from these bytes before).
    pub fn read(path: &Path, bytes: &[u8]) -> Result<PluginInfo, ContractError> {
        let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
        let mut types: Vec<wasmparser::FuncType> = Vec::new();
        // The type of each function by index: imported ones first, then the module's own.
        let mut func_types: Vec<u32> = Vec::new();
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        let mut export_funcs = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| bad(e.to_string()))? {
                Payload::TypeSection(reader) => {
                    for rec in reader.into_iter_err_on_gc_types() {
                        types.push(rec.map_err(|e| bad(e.to_string()))?);
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(|e| bad(e.to_string()))?;
                        let ty = match import.ty {
                            TypeRef::Func(i) => {
                                func_types.push(i);
                                Some(types.get(i as usize).cloned())
                            }
                            _ => None,
                        };
                        imports.push(check_import(import.module, import.name, ty));
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        func_types.push(ty.map_err(|e| bad(e.to_string()))?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(|e| bad(e.to_string()))?;
                        if export.kind == wasmparser::ExternalKind::Func {
                            exports.push(export.name.to_string());
                            export_funcs.push(export.index);
                        }
                    }
                }
                _ => {}
            }
        }
        let has = |f: &&str| export_for(&exports, f).is_some();
        let kind = if RUNTIME_EXPORTS.iter().all(has) {
            PluginKind::Runtime
        } else if DESIGN_TIME_EXPORTS.iter().any(has) {
            PluginKind::DesignTime
        } else {
            PluginKind::NotAnExtension
        };
        let export_signatures = export_funcs
            .iter()
            .map(|&f| {
                let ty = func_types.get(f as usize).and_then(|&t| types.get(t as usize));
                ty.map(|t| signature(t.params().iter().filter_map(val), t.results().iter().filter_map(val)))
                    .unwrap_or_else(|| "?".into())
            })
            .collect();
        Ok(PluginInfo { kind, exports, export_signatures, imports })
    }

    /// The signature of export `name`, if the module exports it.
    pub fn export_signature(&self, name: &str) -> Option<&str> {
        let i = self.exports.iter().position(|e| e == name)?;
        self.export_signatures.get(i).map(String::as_str)
    }

    /// Whether the module is meant as a Morphir extension: it exports an extension function or
    /// imports the Extism kernel or the standard library.
    pub fn is_extension(&self) -> bool {
        self.kind != PluginKind::NotAnExtension || self.imports.iter().any(|i| i.module == KERNEL || i.module == STDLIB)
    }

    /// The imports morph does not provide, each with why.
    pub fn unprovided(&self) -> impl Iterator<Item = &PluginImport> {
        self.imports.iter().filter(|i| i.problem.is_some())
    }
}

/// What a plug-in's extension functions are: no parameters (the input comes from the kernel),
/// an `i32` result (0 for success).
pub const PLUGIN_FN: &str = "() -> i32";

/// `morph validate` of a core module: level 1, the extension's exports (all of `init`, `update`
/// and `subscriptions`, or a design-time function; each a plug-in function); level 2, every
/// import one morph provides. `path` names the module in the report.
pub fn validate_plugin(path: &Path, bytes: &[u8]) -> Result<crate::Validation, ContractError> {
    use crate::{Finding, FindingKind, Severity};
    let info = PluginInfo::validated(path, bytes)?;
    let mut level1 = Vec::new();
    let wanted: &[&str] = match info.kind {
        PluginKind::Runtime | PluginKind::NotAnExtension => RUNTIME_EXPORTS,
        PluginKind::DesignTime => &[],
    };
    for f in wanted {
        if export_for(&info.exports, f).is_none() {
            let mut finding = Finding::new(
                Severity::Error,
                FindingKind::MissingExport,
                *f,
                match f.replace('-', "_") {
                    same if same == *f => format!("`{f}`: a runtime extension exports it"),
                    other => format!("`{f}`: a runtime extension exports it (or `{other}`)"),
                },
            );
            finding.expected = Some(PLUGIN_FN.into());
            level1.push(finding);
        }
    }
    for f in RUNTIME_EXPORTS.iter().chain(DESIGN_TIME_EXPORTS) {
        let Some(name) = export_for(&info.exports, f) else { continue };
        let actual = info.export_signature(name).unwrap_or("?");
        if actual != PLUGIN_FN {
            let mut finding = Finding::new(
                Severity::Error,
                FindingKind::TypeMismatch,
                name,
                format!(
                    "`{name}`: an extension function takes no parameters and returns an i32 (the PDKs' #[plugin_fn])"
                ),
            );
            finding.expected = Some(PLUGIN_FN.into());
            finding.actual = Some(actual.into());
            level1.push(finding);
        }
    }
    let level2: Vec<Finding> = info
        .unprovided()
        .map(|i| {
            let name = format!("{}#{}", i.module, i.name);
            let message = format!("{name}: {}", i.problem.as_deref().unwrap_or_default());
            let mut finding = Finding::new(Severity::Error, FindingKind::NotProvided, name, message);
            finding.actual = i.signature.clone();
            finding
        })
        .collect();
    let conforms = level1.is_empty();
    let runtime_compatible = level2.is_empty();
    let what = match info.kind {
        PluginKind::Runtime => "a core module exporting init, update and subscriptions",
        PluginKind::DesignTime => "a core module exporting design-time functions",
        PluginKind::NotAnExtension => "a core module (exports none of an extension's functions)",
    };
    Ok(crate::Validation {
        file: path.display().to_string(),
        kind: crate::Kind::Extension,
        world: "morphir extension (core module, Extism plug-in ABI)".into(),
        world_short: Some("extension".into()),
        detected: Some(what.into()),
        contract: None,
        contract_reason: None,
        strict: false,
        conforms,
        conformance: level1,
        compatibility: level2,
        runtime_compatible,
        valid: conforms && runtime_compatible,
    })
}

/// Whether morph provides `module`/`name` with the type `ty` (`Some(None)`: a function whose
/// type index is out of range, which validation has already refused).
fn check_import(module: &str, name: &str, ty: Option<Option<wasmparser::FuncType>>) -> PluginImport {
    let signature = ty.as_ref().map(|t| match t {
        Some(t) => signature(t.params().iter().filter_map(val), t.results().iter().filter_map(val)),
        None => "?".to_string(),
    });
    let problem = match (module, &ty) {
        (WASI_P1, Some(_)) => None,
        (_, None) => Some(format!(
            "morph provides functions only; this import is a {}",
            if module == KERNEL {
                "memory or global the Extism kernel does not share"
            } else {
                "memory, table or global"
            }
        )),
        (_, Some(_)) => match host_function(module, name) {
            Some(row) if Some(row.signature()) == signature => None,
            Some(row) => Some(format!(
                "morph provides {module}#{name} as {}, the module imports it as {}",
                row.signature(),
                signature.clone().unwrap_or_default()
            )),
            None if module == KERNEL && name.starts_with("http_") => Some(
                "morph does not give extensions direct http; return an `http` command (run under --allow-net) instead"
                    .to_string(),
            ),
            None if module == KERNEL || module == STDLIB => Some(format!(
                "morph does not provide {module}#{name}; it provides {}",
                HOST_FUNCTIONS.iter().filter(|h| h.module == module).map(|h| h.name).collect::<Vec<_>>().join(", ")
            )),
            None => Some(format!(
                "morph provides only {KERNEL}, {STDLIB} (log, get_env_var, set_env_var) and {WASI_P1} to core-module \
                 extensions"
            )),
        },
    };
    PluginImport { module: module.to_string(), name: name.to_string(), signature, problem }
}

fn val(v: &ValType) -> Option<Val> {
    match v {
        ValType::I32 => Some(Val::I32),
        ValType::I64 => Some(Val::I64),
        _ => None,
    }
}

fn signature(params: impl Iterator<Item = Val>, results: impl Iterator<Item = Val>) -> String {
    let list = |vals: Vec<&str>| vals.join(", ");
    let params = list(params.map(Val::name).collect());
    let results: Vec<&str> = results.map(Val::name).collect();
    match results.len() {
        0 => format!("({params})"),
        _ => format!("({params}) -> {}", list(results)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(wat: &str) -> PluginInfo {
        PluginInfo::validated(Path::new("m.wat"), &wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn a_tea_module_is_a_runtime_extension_and_its_kernel_imports_are_provided() {
        let info = read(
            r#"(module
                (import "extism:host/env" "input_length" (func (result i64)))
                (import "extism:host/user" "log" (func (param i64 i64)))
                (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                (func (export "init") (result i32) i32.const 0)
                (func (export "update") (result i32) i32.const 0)
                (func (export "subscriptions") (result i32) i32.const 0)
                (func (export "get_capabilities") (result i32) i32.const 0))"#,
        );
        assert_eq!(info.kind, PluginKind::Runtime);
        assert_eq!(info.unprovided().count(), 0, "{:?}", info.imports);
        assert_eq!(export_for(&info.exports, "get-capabilities"), Some("get_capabilities"));
    }

    #[test]
    fn unprovided_and_mistyped_imports_say_why() {
        let info = read(
            r#"(module
                (import "extism:host/env" "http_request" (func (param i64 i64) (result i64)))
                (import "extism:host/env" "alloc" (func (param i32) (result i32)))
                (import "env" "random" (func (result i32)))
                (func (export "frontend_compile") (result i32) i32.const 0))"#,
        );
        assert_eq!(info.kind, PluginKind::DesignTime);
        let problems: Vec<_> = info.unprovided().map(|i| (i.name.as_str(), i.problem.clone().unwrap())).collect();
        assert_eq!(problems.len(), 3);
        assert!(problems[0].1.contains("`http` command"), "{problems:?}");
        assert!(problems[1].1.contains("as (i64) -> i64, the module imports it as (i32) -> i32"), "{problems:?}");
        assert!(problems[2].1.contains("morph provides only"), "{problems:?}");
    }

    #[test]
    fn validation_names_missing_and_mistyped_exports_and_unprovided_imports() {
        let wasm = wat::parse_str(
            r#"(module
                (import "env" "random" (func (result i32)))
                (func (export "init") (result i32) i32.const 0)
                (func (export "update") (param i32) (result i32) i32.const 0))"#,
        )
        .unwrap();
        let v = validate_plugin(Path::new("m.wasm"), &wasm).unwrap();
        assert!(!v.valid && !v.conforms && !v.runtime_compatible);
        let names: Vec<_> = v.conformance.iter().map(|f| (f.name.as_str(), f.kind.label())).collect();
        assert_eq!(names, [("subscriptions", "missing export"), ("update", "type mismatch")]);
        assert_eq!(v.conformance[1].actual.as_deref(), Some("(i32) -> i32"));
        assert_eq!(v.compatibility[0].name, "env#random");
    }
}
