//! The host side of `morphir:ext/runtime` for Morphir extensions: `log` to stderr above a
//! minimum level, and env vars given by the user (`--env-var`) or set by the extension, kept for
//! the life of the session.

use std::collections::HashMap;

use wasmtime::component::{Linker, Val};

/// `runtime.log-level`, least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level a `log-level` case (or a `log` command's `level`) names; info for others.
    pub fn from_case(case: &str) -> LogLevel {
        match case {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// What an extension's `runtime` import sees: its env vars by name, and the least severe log
/// level that is printed.
#[derive(Default)]
pub struct ExtSettings {
    pub(crate) vars: HashMap<String, Val>,
    pub log_level: LogLevel,
    /// Put before every log line (a daemon's session id), so lines of many sessions can be told
    /// apart.
    pub log_prefix: Option<String>,
}

impl ExtSettings {
    /// Sets the env var an `--env-var NAME=TYPE:VALUE` argument gives.
    pub fn set_from_arg(&mut self, arg: &str) -> Result<(), String> {
        let (name, value) = parse_env_var(arg)?;
        self.vars.insert(name, value);
        Ok(())
    }

    /// Sets env var `name` to `typed` (`TYPE:VALUE`, as after the `=` of `--env-var`).
    pub fn set_typed(&mut self, name: &str, typed: &str) -> Result<(), String> {
        let value = parse_typed(name, typed, &format!("{name}={typed}"))?;
        self.vars.insert(name.to_string(), value);
        Ok(())
    }

    /// Every env var as `TYPE:VALUE` by name: what [`ExtSettings::set_typed`] reads back, for a
    /// session's snapshot.
    pub fn vars_typed(&self) -> std::collections::BTreeMap<String, String> {
        self.vars.iter().filter_map(|(name, v)| Some((name.clone(), typed_text(v)?))).collect()
    }

    /// Env var `name` as `TYPE:VALUE` (what a core-module extension's `get_env_var` gives).
    pub(crate) fn typed(&self, name: &str) -> Option<String> {
        typed_text(self.vars.get(name)?)
    }

    /// Env var `name`'s value alone, as text (what Extism's `config_get` gives).
    pub(crate) fn value_text(&self, name: &str) -> Option<String> {
        let typed = self.typed(name)?;
        typed.split_once(':').map(|(_, value)| value.to_string())
    }

    /// Prints an extension's log line when `level` is at least the minimum.
    pub fn log(&self, level: LogLevel, msg: &str) {
        if level >= self.log_level {
            match &self.log_prefix {
                Some(p) => eprintln!("[{p}] {}: {msg}", level.name()),
                None => eprintln!("{}: {msg}", level.name()),
            }
        }
    }
}

/// An `env-value` as `TYPE:VALUE`; a text-list as a JSON array, so commas inside survive.
fn typed_text(v: &Val) -> Option<String> {
    let Val::Variant(case, Some(payload)) = v else { return None };
    let ty = case.strip_prefix("v-").unwrap_or(case);
    let value = match &**payload {
        Val::String(s) => s.clone(),
        Val::List(items) => {
            let texts: Vec<&str> =
                items.iter().filter_map(|i| if let Val::String(s) = i { Some(s.as_str()) } else { None }).collect();
            serde_json::to_string(&texts).ok()?
        }
        Val::Bool(b) => b.to_string(),
        Val::U8(n) => n.to_string(),
        Val::U16(n) => n.to_string(),
        Val::U32(n) => n.to_string(),
        Val::U64(n) => n.to_string(),
        Val::S8(n) => n.to_string(),
        Val::S16(n) => n.to_string(),
        Val::S32(n) => n.to_string(),
        Val::S64(n) => n.to_string(),
        Val::Float32(n) => n.to_string(),
        Val::Float64(n) => n.to_string(),
        _ => return None,
    };
    Some(format!("{ty}:{value}"))
}

/// `NAME=TYPE:VALUE` as `--env-var` takes it, TYPE being an `env-value` case (`text`,
/// `text-list`, `boolean`, `u8`…`u64`, `s8`…`s64`, `f32`, `f64`; the `v-` prefix of the WIT
/// case names is optional). A text-list is a JSON array or comma-separated.
pub(crate) fn parse_env_var(arg: &str) -> Result<(String, Val), String> {
    let (name, typed) = arg.split_once('=').ok_or_else(|| format!("--env-var {arg:?} has no `=`; {ENV_VAR_USAGE}"))?;
    if name.is_empty() {
        return Err(format!("--env-var {arg:?} has an empty name; {ENV_VAR_USAGE}"));
    }
    Ok((name.to_string(), parse_typed(name, typed, arg)?))
}

const ENV_VAR_USAGE: &str = "use NAME=TYPE:VALUE, e.g. greeting=text:hello, retries=u8:3, verbose=boolean:true";

/// `TYPE:VALUE` of env var `name` (`arg` being the whole argument, for messages).
fn parse_typed(name: &str, typed: &str, arg: &str) -> Result<Val, String> {
    let usage = ENV_VAR_USAGE;
    let (ty, value) = typed.split_once(':').ok_or_else(|| format!("--env-var {arg:?} has no TYPE:; {usage}"))?;
    let ty = ty.strip_prefix("v-").unwrap_or(ty);
    let bad = |e: &dyn std::fmt::Display| format!("--env-var {name}: {value:?} is not a {ty}: {e}");
    let payload = match ty {
        "text" => Val::String(value.to_string()),
        "text-list" => {
            let items: Vec<String> = if value.trim_start().starts_with('[') {
                serde_json::from_str(value).map_err(|e| bad(&e))?
            } else if value.is_empty() {
                Vec::new()
            } else {
                value.split(',').map(str::to_string).collect()
            };
            Val::List(items.into_iter().map(Val::String).collect())
        }
        "boolean" | "bool" => Val::Bool(value.parse().map_err(|e| bad(&e))?),
        "u8" => Val::U8(value.parse().map_err(|e| bad(&e))?),
        "u16" => Val::U16(value.parse().map_err(|e| bad(&e))?),
        "u32" => Val::U32(value.parse().map_err(|e| bad(&e))?),
        "u64" => Val::U64(value.parse().map_err(|e| bad(&e))?),
        "s8" => Val::S8(value.parse().map_err(|e| bad(&e))?),
        "s16" => Val::S16(value.parse().map_err(|e| bad(&e))?),
        "s32" => Val::S32(value.parse().map_err(|e| bad(&e))?),
        "s64" => Val::S64(value.parse().map_err(|e| bad(&e))?),
        "f32" => Val::Float32(value.parse().map_err(|e| bad(&e))?),
        "f64" => Val::Float64(value.parse().map_err(|e| bad(&e))?),
        other => {
            return Err(format!(
                "--env-var {name}: unknown type {other:?}; use one of text, text-list, boolean, u8, u16, u32, u64, \
                 s8, s16, s32, s64, f32, f64"
            ))
        }
    };
    let case = match ty {
        "text" | "text-list" | "boolean" => ty.to_string(),
        "bool" => "boolean".to_string(),
        n => format!("v-{n}"),
    };
    Ok(Val::Variant(case, Some(Box::new(payload))))
}

/// Defines `morphir:ext/runtime` (as `name`, its imported name) in `linker`, over the settings
/// `get` finds in the store's data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    name: &str,
    get: fn(&mut T) -> &mut ExtSettings,
) -> wasmtime::Result<()> {
    let mut inst = linker.instance(name)?;
    inst.func_new("log", move |mut store, _ty, params, _results| {
        let level = match params.first() {
            Some(Val::Enum(l)) => LogLevel::from_case(l),
            _ => LogLevel::Info,
        };
        let msg = match params.get(1) {
            Some(Val::String(s)) => s.as_str(),
            _ => "",
        };
        get(store.data_mut()).log(level, msg);
        Ok(())
    })?;
    inst.func_new("get-env-var", move |mut store, _ty, params, results| {
        let value = match params.first() {
            Some(Val::String(name)) => get(store.data_mut()).vars.get(name).cloned(),
            _ => None,
        };
        results[0] = Val::Option(value.map(Box::new));
        Ok(())
    })?;
    inst.func_new("set-env-var", move |mut store, _ty, params, _results| {
        if let (Some(Val::String(name)), Some(value)) = (params.first(), params.get(1)) {
            get(store.data_mut()).vars.insert(name.clone(), value.clone());
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(arg: &str) -> (String, Val) {
        match parse_env_var(arg).unwrap().1 {
            Val::Variant(c, Some(v)) => (c, *v),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_env_value_case_parses() {
        assert_eq!(case("a=text:hi there"), ("text".into(), Val::String("hi there".into())));
        assert_eq!(
            case("a=text-list:x,y"),
            ("text-list".into(), Val::List(vec![Val::String("x".into()), Val::String("y".into())]))
        );
        assert_eq!(case(r#"a=text-list:["x,1"]"#).1, Val::List(vec![Val::String("x,1".into())]));
        assert_eq!(case("a=boolean:true"), ("boolean".into(), Val::Bool(true)));
        assert_eq!(case("a=u8:255"), ("v-u8".into(), Val::U8(255)));
        assert_eq!(case("a=v-u16:7"), ("v-u16".into(), Val::U16(7)));
        assert_eq!(case("a=u32:7"), ("v-u32".into(), Val::U32(7)));
        assert_eq!(case("a=u64:18446744073709551615"), ("v-u64".into(), Val::U64(u64::MAX)));
        assert_eq!(case("a=s8:-8"), ("v-s8".into(), Val::S8(-8)));
        assert_eq!(case("a=s16:-16"), ("v-s16".into(), Val::S16(-16)));
        assert_eq!(case("a=s32:-32"), ("v-s32".into(), Val::S32(-32)));
        assert_eq!(case("a=s64:-64"), ("v-s64".into(), Val::S64(-64)));
        assert_eq!(case("a=f32:1.5"), ("v-f32".into(), Val::Float32(1.5)));
        assert_eq!(case("a=f64:-2.25"), ("v-f64".into(), Val::Float64(-2.25)));
    }

    #[test]
    fn env_vars_read_back_what_they_write() {
        let mut s = ExtSettings::default();
        for arg in [
            "a=text:x=1,y",
            "b=text-list:[\"p,q\",\"r\"]",
            "c=boolean:false",
            "d=u64:18446744073709551615",
            "e=s8:-3",
            "f=f64:2.5",
        ] {
            s.set_from_arg(arg).unwrap();
        }
        let typed = s.vars_typed();
        let mut back = ExtSettings::default();
        for (name, t) in &typed {
            back.set_typed(name, t).unwrap();
        }
        assert_eq!(back.vars, s.vars);
        assert_eq!(typed["b"], r#"text-list:["p,q","r"]"#);
    }

    #[test]
    fn bad_env_vars_say_how_to_write_them() {
        assert!(parse_env_var("a").unwrap_err().contains("NAME=TYPE:VALUE"));
        assert!(parse_env_var("a=hello").unwrap_err().contains("NAME=TYPE:VALUE"));
        assert!(parse_env_var("a=u8:300").unwrap_err().contains("is not a u8"));
        assert!(parse_env_var("a=int:1").unwrap_err().contains("unknown type"));
    }
}
