//! A world written out in full and in a canonical order: every import and export, every type
//! with its complete structure, every function with its parameter names and types. Two worlds
//! are the same contract exactly when their elaborations are equal, which is what the
//! conformance test of the bundled WIT against the reference WIT relies on.

use std::fmt::Write as _;

use wit_parser::{Function, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem};

use crate::types::type_string;

pub fn elaborate(resolve: &Resolve, world: WorldId) -> String {
    let w = &resolve.worlds[world];
    let mut out = String::new();
    for (dir, items) in [("import", &w.imports), ("export", &w.exports)] {
        let mut lines: Vec<String> = items
            .iter()
            .map(|(key, item)| {
                let name = resolve.name_world_key(key);
                match item {
                    WorldItem::Interface { id, .. } => format!("{dir} {name} {{\n{}}}\n", interface(resolve, *id)),
                    WorldItem::Function(f) => format!("{dir} {}\n", function(resolve, f)),
                    WorldItem::Type { id, .. } => format!("{dir} type {}\n", typedef(resolve, *id)),
                }
            })
            .collect();
        lines.sort();
        for l in lines {
            out.push_str(&l);
        }
    }
    out
}

fn interface(resolve: &Resolve, id: InterfaceId) -> String {
    let iface = &resolve.interfaces[id];
    let mut lines: Vec<String> = iface
        .types
        .values()
        .map(|t| format!("  type {}\n", typedef(resolve, *t)))
        .chain(iface.functions.values().map(|f| format!("  {}\n", function(resolve, f))))
        .collect();
    lines.sort();
    lines.concat()
}

/// `name = structure`, with every named type it refers to qualified by its interface.
fn typedef(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    let name = def.name.clone().unwrap_or_default();
    format!("{name} = {}", structure(resolve, &def.kind))
}

fn structure(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let q = |t: &Type| qualified(resolve, t);
    let oq = |t: &Option<Type>| t.as_ref().map_or("_".to_string(), |t| qualified(resolve, t));
    match kind {
        TypeDefKind::Record(r) => format!(
            "record {{ {} }}",
            r.fields.iter().map(|f| format!("{}: {}", f.name, q(&f.ty))).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Variant(v) => format!(
            "variant {{ {} }}",
            v.cases.iter().map(|c| format!("{}({})", c.name, oq(&c.ty))).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Enum(e) => {
            format!("enum {{ {} }}", e.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Flags(f) => {
            format!("flags {{ {} }}", f.flags.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Tuple(t) => format!("tuple<{}>", t.types.iter().map(q).collect::<Vec<_>>().join(", ")),
        TypeDefKind::Option(t) => format!("option<{}>", q(t)),
        TypeDefKind::List(t) => format!("list<{}>", q(t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", q(t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", q(k), q(v)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", oq(&r.ok), oq(&r.err)),
        TypeDefKind::Future(t) => format!("future<{}>", oq(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", oq(t)),
        TypeDefKind::Handle(Handle::Own(r)) => format!("own<{}>", qualified(resolve, &Type::Id(*r))),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", qualified(resolve, &Type::Id(*r))),
        TypeDefKind::Resource => "resource".to_string(),
        TypeDefKind::Type(t) => format!("alias {}", q(t)),
        TypeDefKind::Unknown => "unknown".to_string(),
    }
}

/// A named type as `owner.name` (owner being `ns:pkg/iface@ver` or the world); anonymous types
/// by structure.
fn qualified(resolve: &Resolve, ty: &Type) -> String {
    let Type::Id(id) = ty else { return type_string(resolve, ty) };
    let def = &resolve.types[*id];
    match &def.name {
        Some(name) => {
            let owner = match def.owner {
                TypeOwner::Interface(i) => resolve.id_of(i).unwrap_or_else(|| "<inline>".into()),
                TypeOwner::World(w) => format!("world {}", resolve.worlds[w].name),
                TypeOwner::None => String::new(),
            };
            format!("{owner}.{name}")
        }
        None => structure(resolve, &def.kind),
    }
}

fn function(resolve: &Resolve, f: &Function) -> String {
    let mut s = String::new();
    write!(s, "{:?} {}(", f.kind_tag(), f.name).unwrap();
    let params: Vec<String> = f.params.iter().map(|p| format!("{}: {}", p.name, qualified(resolve, &p.ty))).collect();
    s.push_str(&params.join(", "));
    s.push(')');
    if let Some(r) = &f.result {
        write!(s, " -> {}", qualified(resolve, r)).unwrap();
    }
    s
}

trait KindTag {
    fn kind_tag(&self) -> &'static str;
}

impl KindTag for Function {
    fn kind_tag(&self) -> &'static str {
        use wit_parser::FunctionKind::*;
        match self.kind {
            Freestanding => "func",
            AsyncFreestanding => "async-func",
            Method(_) => "method",
            AsyncMethod(_) => "async-method",
            Static(_) => "static",
            AsyncStatic(_) => "async-static",
            Constructor(_) => "constructor",
        }
    }
}
