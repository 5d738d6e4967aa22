//! Component values as JSON, guided by the WIT type:
//! record ↔ object (WIT field names), list/tuple ↔ array, option ↔ null/value,
//! result ↔ {"ok": …}/{"err": …}, variant ↔ {"case": payload} or "case", enum ↔ string,
//! flags ↔ array of strings, char ↔ one-character string, floats ↔ numbers or
//! "NaN"/"inf"/"-inf". Integers are range-checked; a mismatch names its path (`users[1].tags[0]`).

use serde_json::{Map, Number, Value as Json};
use wasmtime::component::types::Type;
use wasmtime::component::Val;

/// A component value: what an export takes and gives. Opaque outside this crate; it is shown as
/// JSON or WAVE.
#[derive(Debug, Clone, PartialEq)]
pub struct Value(pub(crate) Val);

impl Value {
    /// JSON, mapped by the value's WIT type as [`from_json`] reads it.
    pub fn to_json(&self) -> Json {
        to_json(&self.0)
    }

    /// WAVE, as `wasmtime run --invoke` prints it.
    pub fn to_wave(&self) -> String {
        wasm_wave::to_string(&self.0).unwrap_or_else(|e| format!("<unprintable: {e}>"))
    }
}

/// A value that does not fit its type, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub path: String,
    pub message: String,
}

impl std::error::Error for ValueError {}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError { path: path.to_string(), message: message.into() })
}

/// The WIT name of a type's shape, for messages.
pub(crate) fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(l) => format!("list<{}>", type_name(&l.ty())),
        Type::FixedLengthList(l) => format!("list<{}, {}>", type_name(&l.ty()), l.len()),
        Type::Map(m) => format!("map<{}, {}>", type_name(&m.key()), type_name(&m.value())),
        Type::Record(r) => {
            let fields: Vec<String> = r.fields().map(|f| format!("{}: {}", f.name, type_name(&f.ty))).collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        Type::Tuple(t) => format!("tuple<{}>", t.types().map(|t| type_name(&t)).collect::<Vec<_>>().join(", ")),
        Type::Variant(v) => {
            let cases: Vec<String> = v
                .cases()
                .map(|c| match c.ty {
                    Some(t) => format!("{}({})", c.name, type_name(&t)),
                    None => c.name.to_string(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Option(o) => format!("option<{}>", type_name(&o.ty())),
        Type::Result(r) => match (r.ok(), r.err()) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", type_name(&ok)),
            (None, Some(e)) => format!("result<_, {}>", type_name(&e)),
            (Some(ok), Some(e)) => format!("result<{}, {}>", type_name(&ok), type_name(&e)),
        },
        Type::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
    }
}

/// What kind of JSON value `v` is, in words for an error message.
pub(crate) fn describe(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// JSON → component value of type `ty`.
pub(crate) fn from_json(ty: &Type, v: &Json, path: &str) -> Result<Val, ValueError> {
    let expected = |what: &str| err(path, format!("expected {what}, found {}", describe(v)));
    macro_rules! int {
        ($variant:ident, $t:ty) => {{
            let n = match v {
                Json::Number(n) => n,
                _ => return expected(&format!("an integer ({})", type_name(ty))),
            };
            let parsed = if let Some(i) = n.as_i64() {
                <$t>::try_from(i).ok()
            } else if let Some(u) = n.as_u64() {
                <$t>::try_from(u).ok()
            } else {
                // Past 64 bits JSON's parser keeps only a float; an integral one is an integer
                // too large for any WIT type, and is shown as the integer it is.
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 {
                    return err(
                        path,
                        format!("{f:.0} is out of range for {} ({}..={})", type_name(ty), <$t>::MIN, <$t>::MAX),
                    );
                }
                return err(path, format!("expected an integer ({}), found {n}", type_name(ty)));
            };
            match parsed {
                Some(x) => Val::$variant(x),
                None => {
                    return err(
                        path,
                        format!("{n} is out of range for {} ({}..={})", type_name(ty), <$t>::MIN, <$t>::MAX),
                    )
                }
            }
        }};
    }
    Ok(match ty {
        Type::Bool => match v {
            Json::Bool(b) => Val::Bool(*b),
            _ => return expected("true or false"),
        },
        Type::S8 => int!(S8, i8),
        Type::U8 => int!(U8, u8),
        Type::S16 => int!(S16, i16),
        Type::U16 => int!(U16, u16),
        Type::S32 => int!(S32, i32),
        Type::U32 => int!(U32, u32),
        Type::S64 => int!(S64, i64),
        Type::U64 => int!(U64, u64),
        Type::Float32 => {
            let x = float(v, path, "f32")?;
            if x.is_finite() && (x as f32).is_infinite() {
                return err(
                    path,
                    format!("{x} is out of range for f32 (at most ±{}); write \"inf\" for infinity", f32::MAX),
                );
            }
            Val::Float32(x as f32)
        }
        Type::Float64 => Val::Float64(float(v, path, "f64")?),
        Type::Char => match v {
            Json::String(s) if s.chars().count() == 1 => Val::Char(s.chars().next().unwrap()),
            Json::String(s) => return err(path, format!("expected one character (char), found a string of {}", s.chars().count())),
            _ => return expected("a one-character string (char)"),
        },
        Type::String => match v {
            Json::String(s) => Val::String(s.clone()),
            _ => return expected("a string"),
        },
        Type::List(l) => {
            let Json::Array(items) = v else { return expected(&format!("an array ({})", type_name(ty))) };
            let elem = l.ty();
            Val::List(items.iter().enumerate().map(|(i, x)| from_json(&elem, x, &format!("{path}[{i}]"))).collect::<Result<_, _>>()?)
        }
        Type::FixedLengthList(l) => {
            let Json::Array(items) = v else { return expected(&format!("an array ({})", type_name(ty))) };
            if items.len() != l.len() as usize {
                return err(path, format!("expected {} elements, found {}", l.len(), items.len()));
            }
            let elem = l.ty();
            Val::FixedLengthList(items.iter().enumerate().map(|(i, x)| from_json(&elem, x, &format!("{path}[{i}]"))).collect::<Result<_, _>>()?)
        }
        Type::Map(m) => {
            let (kt, vt) = (m.key(), m.value());
            let pairs: Vec<(Val, Val)> = match v {
                Json::Object(obj) => obj
                    .iter()
                    .map(|(k, x)| Ok((from_json(&kt, &Json::String(k.clone()), &format!("{path}.{k}"))?, from_json(&vt, x, &format!("{path}.{k}"))?)))
                    .collect::<Result<_, ValueError>>()?,
                Json::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, pair)| match pair {
                        Json::Array(kv) if kv.len() == 2 => Ok((from_json(&kt, &kv[0], &format!("{path}[{i}][0]"))?, from_json(&vt, &kv[1], &format!("{path}[{i}][1]"))?)),
                        _ => err(&format!("{path}[{i}]"), "expected a [key, value] pair"),
                    })
                    .collect::<Result<_, ValueError>>()?,
                _ => return expected("an object or an array of [key, value] pairs (map)"),
            };
            Val::Map(pairs)
        }
        Type::Record(r) => {
            let Json::Object(obj) = v else { return expected(&format!("an object ({})", type_name(ty))) };
            let names: Vec<&str> = r.fields().map(|f| f.name).collect();
            if let Some(unknown) = obj.keys().find(|k| !names.contains(&k.as_str())) {
                return err(path, format!("unknown field `{unknown}`; the record has {}", names.join(", ")));
            }
            let mut fields = Vec::new();
            for f in r.fields() {
                let fpath = format!("{path}.{}", f.name);
                let val = match obj.get(f.name) {
                    Some(x) => from_json(&f.ty, x, &fpath)?,
                    // A missing optional field is `none`, as in most JSON encodings.
                    None if matches!(f.ty, Type::Option(_)) => Val::Option(None),
                    None => return err(&fpath, format!("missing field of type {}", type_name(&f.ty))),
                };
                fields.push((f.name.to_string(), val));
            }
            Val::Record(fields)
        }
        Type::Tuple(t) => {
            let Json::Array(items) = v else { return expected(&format!("an array ({})", type_name(ty))) };
            let types: Vec<Type> = t.types().collect();
            if items.len() != types.len() {
                return err(path, format!("expected {} elements ({}), found {}", types.len(), type_name(ty), items.len()));
            }
            Val::Tuple(types.iter().zip(items).enumerate().map(|(i, (t, x))| from_json(t, x, &format!("{path}[{i}]"))).collect::<Result<_, _>>()?)
        }
        Type::Variant(var) => {
            let (name, payload) = case_of(v, path, ty)?;
            let Some(case) = var.cases().find(|c| c.name == name) else {
                return err(path, format!("unknown case `{name}`; expected one of {}", var.cases().map(|c| c.name).collect::<Vec<_>>().join(", ")));
            };
            let cpath = format!("{path}.{name}");
            let payload = match (case.ty, payload) {
                (None, None | Some(Json::Null)) => None,
                (None, Some(_)) => return err(&cpath, "this case has no payload; write it as a bare string"),
                (Some(t), Some(p)) => Some(Box::new(from_json(&t, p, &cpath)?)),
                (Some(t), None) => return err(&cpath, format!("this case needs a payload of type {}", type_name(&t))),
            };
            Val::Variant(name.to_string(), payload)
        }
        Type::Enum(e) => match v {
            Json::String(s) if e.names().any(|n| n == s) => Val::Enum(s.clone()),
            Json::String(s) => return err(path, format!("unknown case `{s}`; expected one of {}", e.names().collect::<Vec<_>>().join(", "))),
            _ => return expected(&format!("a string ({})", type_name(ty))),
        },
        Type::Option(o) => match v {
            Json::Null => Val::Option(None),
            x => Val::Option(Some(Box::new(from_json(&o.ty(), x, path)?))),
        },
        Type::Result(r) => {
            let Json::Object(obj) = v else { return expected("{\"ok\": …} or {\"err\": …} (result)") };
            let (key, inner) = match (obj.len(), obj.iter().next()) {
                (1, Some((k, x))) if k == "ok" || k == "err" => (k.as_str(), x),
                _ => return err(path, "expected an object with exactly one key, \"ok\" or \"err\""),
            };
            let side = if key == "ok" { r.ok() } else { r.err() };
            let rpath = format!("{path}.{key}");
            let payload = match side {
                None if inner.is_null() => None,
                None => return err(&rpath, "this side of the result has no payload; use null"),
                Some(t) => Some(Box::new(from_json(&t, inner, &rpath)?)),
            };
            Val::Result(if key == "ok" { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(f) => {
            let Json::Array(items) = v else { return expected(&format!("an array of flag names ({})", type_name(ty))) };
            let mut set = Vec::new();
            for (i, x) in items.iter().enumerate() {
                match x {
                    Json::String(s) if f.names().any(|n| n == s) => set.push(s.clone()),
                    Json::String(s) => return err(&format!("{path}[{i}]"), format!("unknown flag `{s}`; expected {}", f.names().collect::<Vec<_>>().join(", "))),
                    other => return err(&format!("{path}[{i}]"), format!("expected a flag name, found {}", describe(other))),
                }
            }
            Val::Flags(set)
        }
        Type::Own(_) | Type::Borrow(_) => {
            return err(path, "this parameter is a resource handle, which cannot be written as JSON; call a function that creates the resource from inside a composed component instead")
        }
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return err(path, format!("{} values cannot be passed from the command line", type_name(ty)))
        }
    })
}

fn float(v: &Json, path: &str, what: &str) -> Result<f64, ValueError> {
    match v {
        Json::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => match s.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "inf" | "Infinity" | "+inf" => Ok(f64::INFINITY),
            "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => err(path, format!("expected a number ({what}) or \"NaN\"/\"inf\"/\"-inf\", found the string {s:?}")),
        },
        other => err(path, format!("expected a number ({what}), found {}", describe(other))),
    }
}

/// A variant as `"case"` or `{"case": payload}`.
fn case_of<'a>(v: &'a Json, path: &str, ty: &Type) -> Result<(&'a str, Option<&'a Json>), ValueError> {
    match v {
        Json::String(s) => Ok((s, None)),
        Json::Object(obj) if obj.len() == 1 => {
            let (k, x) = obj.iter().next().unwrap();
            Ok((k, Some(x)))
        }
        other => err(
            path,
            format!("expected \"case\" or {{\"case\": payload}} ({}), found {}", type_name(ty), describe(other)),
        ),
    }
}

/// Component value → JSON, the inverse of [`from_json`].
pub(crate) fn to_json(v: &Val) -> Json {
    let num = |n: Number| Json::Number(n);
    let fl = |f: f64| {
        if f.is_nan() {
            Json::String("NaN".into())
        } else if f.is_infinite() {
            Json::String(if f > 0.0 { "inf" } else { "-inf" }.into())
        } else {
            Number::from_f64(f).map_or(Json::Null, Json::Number)
        }
    };
    match v {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(x) => num((*x).into()),
        Val::U8(x) => num((*x).into()),
        Val::S16(x) => num((*x).into()),
        Val::U16(x) => num((*x).into()),
        Val::S32(x) => num((*x).into()),
        Val::U32(x) => num((*x).into()),
        Val::S64(x) => num((*x).into()),
        Val::U64(x) => num((*x).into()),
        Val::Float32(x) => fl(*x as f64),
        Val::Float64(x) => fl(*x),
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Val::Map(pairs) => Json::Array(pairs.iter().map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)])).collect()),
        Val::Record(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<_, _>>()),
        Val::Variant(name, None) | Val::Enum(name) => Json::String(name.clone()),
        Val::Variant(name, Some(p)) => Json::Object([(name.clone(), to_json(p))].into_iter().collect()),
        Val::Option(None) => Json::Null,
        Val::Option(Some(x)) => to_json(x),
        Val::Result(r) => {
            let (k, p) = match r {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            Json::Object([(k.to_string(), p.as_deref().map_or(Json::Null, to_json))].into_iter().collect())
        }
        Val::Flags(names) => Json::Array(names.iter().map(|n| Json::String(n.clone())).collect()),
        Val::Resource(_) => Json::String("<resource>".into()),
        Val::Future(_) => Json::String("<future>".into()),
        Val::Stream(_) => Json::String("<stream>".into()),
        Val::ErrorContext(_) => Json::String("<error-context>".into()),
    }
}
