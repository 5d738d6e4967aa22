//! Level 1: does a component fit a world? Like `wasm-tools component targets`, but semver-aware
//! and reported by name: every export the world requires is there with the world's types, and
//! every import of the component is one the world has, with the world's types.

use wit_parser::{Function, InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

use crate::names::InterfaceName;
use crate::report::{Finding, FindingKind, Severity};
use crate::types::{func_string, Comparer};

/// A world to check against, and the resolve it lives in.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
}

/// Findings of level 1. Export problems are errors; import problems are errors only when
/// `strict`, since the runtime-compatibility level decides whether an import can be satisfied.
pub fn check(target: Target<'_>, comp: Target<'_>, strict: bool) -> Vec<Finding> {
    let import_severity = if strict { Severity::Error } else { Severity::Note };
    let mut out = Vec::new();
    let tw = &target.resolve.worlds[target.world];
    let cw = &comp.resolve.worlds[comp.world];
    let cmp = Comparer { expected: target.resolve, actual: comp.resolve };

    for (key, item) in &cw.imports {
        // World-level type imports of a decoded component are the types its imported
        // interfaces use; they are checked with those interfaces.
        if matches!(item, WorldItem::Type { .. }) {
            continue;
        }
        let name = comp.resolve.name_world_key(key);
        match find_item(target.resolve, &tw.imports, &name) {
            None => out.push(Finding::new(
                import_severity,
                FindingKind::ExtraImport,
                &name,
                format!("imports `{name}`, which the world does not have"),
            )),
            Some(titem) => {
                for mut f in compare_items(&cmp, &name, titem, item, Direction::Import) {
                    f.severity = import_severity;
                    out.push(f);
                }
            }
        }
    }

    for (key, titem) in &tw.exports {
        let name = target.resolve.name_world_key(key);
        match find_item(comp.resolve, &cw.exports, &name) {
            None => out.push(Finding::new(
                Severity::Error,
                FindingKind::MissingExport,
                &name,
                format!("the world requires the export `{name}`, which the component lacks"),
            )),
            Some(citem) => out.extend(compare_items(&cmp, &name, titem, citem, Direction::Export)),
        }
    }
    out
}

/// The item of `items` whose name is semver-compatible with `name`.
pub fn find_item<'a>(
    resolve: &Resolve,
    items: &'a wit_parser::IndexMap<WorldKey, WorldItem>,
    name: &str,
) -> Option<&'a WorldItem> {
    let wanted = InterfaceName::parse(name);
    items
        .iter()
        .find(|(k, _)| resolve.name_world_key(k) == name)
        .or_else(|| {
            items.iter().find(|(k, _)| wanted.compatible_with(&InterfaceName::parse(&resolve.name_world_key(k))))
        })
        .map(|(_, v)| v)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Import,
    Export,
}

/// Compares one import or export. For imports the component may use a subset of the world's
/// functions; for exports it must provide every function the world lists.
fn compare_items(
    cmp: &Comparer<'_>,
    name: &str,
    world_item: &WorldItem,
    comp_item: &WorldItem,
    dir: Direction,
) -> Vec<Finding> {
    match (world_item, comp_item) {
        (WorldItem::Interface { id: wid, .. }, WorldItem::Interface { id: cid, .. }) => {
            compare_interfaces(cmp, name, *wid, *cid, dir)
        }
        (WorldItem::Function(wf), WorldItem::Function(cf)) => {
            compare_funcs(cmp, name.to_string(), wf, cf).into_iter().collect()
        }
        (WorldItem::Type { .. }, WorldItem::Type { .. }) => Vec::new(),
        _ => vec![Finding::new(
            Severity::Error,
            FindingKind::TypeMismatch,
            name,
            format!("`{name}` is {} in the world but {} in the component", what(world_item), what(comp_item)),
        )],
    }
}

fn what(item: &WorldItem) -> &'static str {
    match item {
        WorldItem::Interface { .. } => "an interface",
        WorldItem::Function(_) => "a function",
        WorldItem::Type { .. } => "a type",
    }
}

fn compare_interfaces(
    cmp: &Comparer<'_>,
    name: &str,
    wid: InterfaceId,
    cid: InterfaceId,
    dir: Direction,
) -> Vec<Finding> {
    let wi = &cmp.expected.interfaces[wid];
    let ci = &cmp.actual.interfaces[cid];
    let mut out = Vec::new();
    let missing = |fname: &str, sig: String, msg: String| {
        Finding::new(Severity::Error, FindingKind::TypeMismatch, format!("{name}#{fname}"), msg)
            .types(sig, "(absent)".into())
    };
    match dir {
        Direction::Import => {
            for (fname, cf) in &ci.functions {
                match wi.functions.get(fname) {
                    Some(wf) => out.extend(compare_funcs(cmp, format!("{name}#{fname}"), wf, cf)),
                    None => out.push(
                        Finding::new(
                            Severity::Error,
                            FindingKind::TypeMismatch,
                            format!("{name}#{fname}"),
                            format!(
                                "imports function `{fname}` of `{name}`, which the world's interface does not have"
                            ),
                        )
                        .types("(absent)".into(), func_string(cmp.actual, cf)),
                    ),
                }
            }
            for (tname, _) in &ci.types {
                if !wi.types.contains_key(tname) {
                    out.push(Finding::new(
                        Severity::Error,
                        FindingKind::TypeMismatch,
                        format!("{name}#{tname}"),
                        format!("imports type `{tname}` of `{name}`, which the world's interface does not have"),
                    ));
                }
            }
        }
        Direction::Export => {
            for (fname, wf) in &wi.functions {
                match ci.functions.get(fname) {
                    Some(cf) => out.extend(compare_funcs(cmp, format!("{name}#{fname}"), wf, cf)),
                    None => out.push(missing(
                        fname,
                        func_string(cmp.expected, wf),
                        format!("the export `{name}` lacks function `{fname}`"),
                    )),
                }
            }
        }
    }
    out
}

fn compare_funcs(cmp: &Comparer<'_>, name: String, wf: &Function, cf: &Function) -> Option<Finding> {
    cmp.func(wf, cf).err().map(|why| {
        Finding::new(Severity::Error, FindingKind::TypeMismatch, &name, format!("`{name}`: {why}"))
            .types(func_string(cmp.expected, wf), func_string(cmp.actual, cf))
    })
}
