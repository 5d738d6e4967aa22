//! WIT types across two `Resolve`s: printing them the way WIT writes them, and comparing them
//! structurally (a component's decoded world and a bundled world never share type ids).

use wit_parser::{Function, FunctionKind, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// Follows `type a = b` aliases to the type they name.
pub fn peel(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match &resolve.types[id].kind {
            TypeDefKind::Type(inner) => ty = *inner,
            _ => break,
        }
    }
    ty
}

/// A type as WIT writes it at a use site: a name for named types, the structure otherwise.
pub fn type_string(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                return name.clone();
            }
            anonymous_string(resolve, &def.kind)
        }
    }
}

fn anonymous_string(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let t = |ty: &Type| type_string(resolve, ty);
    let opt = |name: &str, ty: &Option<Type>| match ty {
        Some(ty) => format!("{name}<{}>", t(ty)),
        None => name.to_string(),
    };
    match kind {
        TypeDefKind::List(ty) => format!("list<{}>", t(ty)),
        TypeDefKind::FixedLengthList(ty, n) => format!("list<{}, {n}>", t(ty)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", t(k), t(v)),
        TypeDefKind::Option(ty) => format!("option<{}>", t(ty)),
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", t(ok)),
            (None, Some(err)) => format!("result<_, {}>", t(err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", t(ok), t(err)),
        },
        TypeDefKind::Tuple(tu) => {
            format!("tuple<{}>", tu.types.iter().map(t).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Handle(Handle::Own(r)) => resource_name(resolve, *r),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", resource_name(resolve, *r)),
        TypeDefKind::Future(ty) => opt("future", ty),
        TypeDefKind::Stream(ty) => opt("stream", ty),
        TypeDefKind::Type(ty) => t(ty),
        other => other.as_str().to_string(),
    }
}

fn resource_name(resolve: &Resolve, id: TypeId) -> String {
    let id = peel_id(resolve, id);
    resolve.types[id].name.clone().unwrap_or_else(|| "resource".into())
}

fn peel_id(resolve: &Resolve, id: TypeId) -> TypeId {
    match peel(resolve, Type::Id(id)) {
        Type::Id(id) => id,
        _ => id,
    }
}

/// A function's signature as WIT writes it: `func(a: u32) -> string`.
pub fn func_string(resolve: &Resolve, func: &Function) -> String {
    let params: Vec<String> =
        func.params.iter().map(|p| format!("{}: {}", p.name, type_string(resolve, &p.ty))).collect();
    let asyncness = if func.kind.is_async() { "async " } else { "" };
    let mut s = format!("{asyncness}func({})", params.join(", "));
    if let Some(r) = &func.result {
        s.push_str(" -> ");
        s.push_str(&type_string(resolve, r));
    }
    s
}

/// The name of the interface that owns a type, without its version, for comparing resources
/// by identity across resolves.
fn owner_base(resolve: &Resolve, id: TypeId) -> Option<String> {
    match resolve.types[id].owner {
        TypeOwner::Interface(i) => {
            let iface = &resolve.interfaces[i];
            let name = iface.name.clone()?;
            let pkg = iface.package.map(|p| {
                let n = &resolve.packages[p].name;
                format!("{}:{}", n.namespace, n.name)
            });
            Some(match pkg {
                Some(pkg) => format!("{pkg}/{name}"),
                None => name,
            })
        }
        _ => None,
    }
}

/// Compares types and functions of two resolves; `expected` is the world's side.
pub struct Comparer<'a> {
    pub expected: &'a Resolve,
    pub actual: &'a Resolve,
}

impl Comparer<'_> {
    /// `Err` says where the first difference is, in words.
    pub fn func(&self, expected: &Function, actual: &Function) -> Result<(), String> {
        if kind_tag(&expected.kind) != kind_tag(&actual.kind) {
            return Err(format!("expected a {}, found a {}", kind_tag(&expected.kind), kind_tag(&actual.kind)));
        }
        if expected.params.len() != actual.params.len() {
            return Err(format!("expected {} parameter(s), found {}", expected.params.len(), actual.params.len()));
        }
        for (e, a) in expected.params.iter().zip(&actual.params) {
            if e.name != a.name {
                return Err(format!("expected parameter `{}`, found `{}`", e.name, a.name));
            }
            self.ty(&e.ty, &a.ty).map_err(|m| format!("parameter `{}`: {m}", e.name))?;
        }
        match (&expected.result, &actual.result) {
            (None, None) => Ok(()),
            (Some(e), Some(a)) => self.ty(e, a).map_err(|m| format!("result: {m}")),
            (Some(e), None) => Err(format!("expected a result of type `{}`, found none", self.e(e))),
            (None, Some(a)) => Err(format!("expected no result, found `{}`", self.a(a))),
        }
    }

    fn e(&self, ty: &Type) -> String {
        type_string(self.expected, ty)
    }

    fn a(&self, ty: &Type) -> String {
        type_string(self.actual, ty)
    }

    /// Structural equality; named types are compared by their structure, resources by name
    /// and owning interface.
    pub fn ty(&self, expected: &Type, actual: &Type) -> Result<(), String> {
        let e = peel(self.expected, *expected);
        let a = peel(self.actual, *actual);
        let mismatch = || Err(format!("expected `{}`, found `{}`", self.e(&e), self.a(&a)));
        let (eid, aid) = match (e, a) {
            (Type::Id(x), Type::Id(y)) => (x, y),
            (Type::Id(_), _) | (_, Type::Id(_)) => return mismatch(),
            (x, y) => return if x == y { Ok(()) } else { mismatch() },
        };
        let ek = &self.expected.types[eid].kind;
        let ak = &self.actual.types[aid].kind;
        let within = |what: String, r: Result<(), String>| r.map_err(|m| format!("{what}: {m}"));
        match (ek, ak) {
            (TypeDefKind::Record(x), TypeDefKind::Record(y)) => {
                if x.fields.len() != y.fields.len() {
                    return mismatch();
                }
                for (f, g) in x.fields.iter().zip(&y.fields) {
                    if f.name != g.name {
                        return Err(format!(
                            "record `{}`: expected field `{}`, found `{}`",
                            self.e(&e),
                            f.name,
                            g.name
                        ));
                    }
                    within(format!("record `{}` field `{}`", self.e(&e), f.name), self.ty(&f.ty, &g.ty))?;
                }
                Ok(())
            }
            (TypeDefKind::Variant(x), TypeDefKind::Variant(y)) => {
                if x.cases.len() != y.cases.len() {
                    return mismatch();
                }
                for (c, d) in x.cases.iter().zip(&y.cases) {
                    if c.name != d.name {
                        return Err(format!(
                            "variant `{}`: expected case `{}`, found `{}`",
                            self.e(&e),
                            c.name,
                            d.name
                        ));
                    }
                    within(format!("case `{}`", c.name), self.opt(&c.ty, &d.ty))?;
                }
                Ok(())
            }
            (TypeDefKind::Enum(x), TypeDefKind::Enum(y)) => {
                let xs: Vec<_> = x.cases.iter().map(|c| &c.name).collect();
                let ys: Vec<_> = y.cases.iter().map(|c| &c.name).collect();
                if xs == ys {
                    Ok(())
                } else {
                    mismatch_cases("enum", &self.e(&e), &xs, &ys)
                }
            }
            (TypeDefKind::Flags(x), TypeDefKind::Flags(y)) => {
                let xs: Vec<_> = x.flags.iter().map(|c| &c.name).collect();
                let ys: Vec<_> = y.flags.iter().map(|c| &c.name).collect();
                if xs == ys {
                    Ok(())
                } else {
                    mismatch_cases("flags", &self.e(&e), &xs, &ys)
                }
            }
            (TypeDefKind::Tuple(x), TypeDefKind::Tuple(y)) => {
                if x.types.len() != y.types.len() {
                    return mismatch();
                }
                for (i, (p, q)) in x.types.iter().zip(&y.types).enumerate() {
                    within(format!("tuple element {i}"), self.ty(p, q))?;
                }
                Ok(())
            }
            (TypeDefKind::Option(x), TypeDefKind::Option(y)) => self.ty(x, y),
            (TypeDefKind::List(x), TypeDefKind::List(y)) => self.ty(x, y),
            (TypeDefKind::FixedLengthList(x, n), TypeDefKind::FixedLengthList(y, m)) if n == m => self.ty(x, y),
            (TypeDefKind::Map(k1, v1), TypeDefKind::Map(k2, v2)) => {
                self.ty(k1, k2)?;
                self.ty(v1, v2)
            }
            (TypeDefKind::Result(x), TypeDefKind::Result(y)) => {
                within("ok".into(), self.opt(&x.ok, &y.ok))?;
                within("err".into(), self.opt(&x.err, &y.err))
            }
            (TypeDefKind::Future(x), TypeDefKind::Future(y)) | (TypeDefKind::Stream(x), TypeDefKind::Stream(y)) => {
                self.opt(x, y)
            }
            (TypeDefKind::Handle(x), TypeDefKind::Handle(y)) => {
                let (xr, yr, same_kind) = match (x, y) {
                    (Handle::Own(p), Handle::Own(q)) | (Handle::Borrow(p), Handle::Borrow(q)) => (*p, *q, true),
                    (Handle::Own(p), Handle::Borrow(q)) | (Handle::Borrow(p), Handle::Own(q)) => (*p, *q, false),
                };
                if !same_kind || !self.same_resource(xr, yr) {
                    return mismatch();
                }
                Ok(())
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => {
                if self.same_resource(eid, aid) {
                    Ok(())
                } else {
                    mismatch()
                }
            }
            _ => mismatch(),
        }
    }

    fn opt(&self, e: &Option<Type>, a: &Option<Type>) -> Result<(), String> {
        match (e, a) {
            (None, None) => Ok(()),
            (Some(x), Some(y)) => self.ty(x, y),
            (Some(x), None) => Err(format!("expected `{}`, found no payload", self.e(x))),
            (None, Some(y)) => Err(format!("expected no payload, found `{}`", self.a(y))),
        }
    }

    fn same_resource(&self, e: TypeId, a: TypeId) -> bool {
        let e = peel_id(self.expected, e);
        let a = peel_id(self.actual, a);
        self.expected.types[e].name == self.actual.types[a].name
            && owner_base(self.expected, e) == owner_base(self.actual, a)
    }
}

fn mismatch_cases(what: &str, name: &str, e: &[&String], a: &[&String]) -> Result<(), String> {
    Err(format!(
        "{what} `{name}`: expected cases [{}], found [{}]",
        e.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        a.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    ))
}

fn kind_tag(kind: &FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => "function",
        FunctionKind::Method(_) | FunctionKind::AsyncMethod(_) => "method",
        FunctionKind::Static(_) | FunctionKind::AsyncStatic(_) => "static function",
        FunctionKind::Constructor(_) => "constructor",
    }
}
