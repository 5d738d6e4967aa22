//! Every bundled world must elaborate exactly as the same world elaborated from the reference WIT
//! in `../shared/reference/wit/` (names, function signatures, parameter names, all types).
//!
//! The reference lives beside the repository, not in it. Without it these comparisons are not
//! run, and each says so; with `MORPH_REQUIRE_REFERENCE=1` (CI sets it) its absence fails them.

use std::path::PathBuf;

use morph_contract::bundled::{find_world, world_full_name, Contract};
use morph_contract::elaborate::elaborate;
use wit_parser::Resolve;

fn reference_root() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/wit");
    if root.is_dir() {
        return Some(root);
    }
    let required = std::env::var_os("MORPH_REQUIRE_REFERENCE").is_some_and(|v| v == "1");
    assert!(!required, "the reference WIT is missing at {} and MORPH_REQUIRE_REFERENCE=1", root.display());
    eprintln!("NOT RUN: the reference WIT is not at {}; this conformance comparison was skipped", root.display());
    None
}

/// The reference packages of contract `version`, resolved together the way the bundle is;
/// `None` (after saying so) when the reference is not beside the repository.
fn reference(version: &str) -> Option<Resolve> {
    let root = reference_root()?;
    let mut resolve = Resolve::new();
    resolve.push_path(root.join(format!("hayride-{version}"))).expect("reference hayride WIT resolves");
    resolve.push_path(root.join("morphir-ext-0.1.0")).expect("reference morphir WIT resolves");
    Some(resolve)
}

/// The worlds compared in `contract`: the catalogue's worlds it has, plus every world of the
/// Hayride-owned packages.
fn compared_worlds(contract: &Contract) -> Vec<String> {
    let v = contract.version;
    let mut names: Vec<String> = contract.worlds().map(|(w, _)| w.full.to_string()).collect();
    for extra in
        [format!("hayride:wasip2/imports@{v}"), format!("hayride:wasip2/exports@{v}"), format!("hayride:wasip2/io@{v}")]
    {
        names.push(extra);
    }
    if contract.version != "0.0.60" {
        // The 0.0.60 reference does not carry wasi:config (no morph of that version imports it).
        names.push("wasi:config/imports@0.2.0-draft".to_string());
    }
    names
}

#[test]
fn both_contract_versions_are_bundled() {
    assert_eq!(Contract::versions(), vec!["0.0.60", "0.0.65"]);
    assert!(Contract::bundled().is_newest() && Contract::bundled().version == "0.0.65");
}

#[test]
fn every_bundled_world_matches_the_reference() {
    for bundled in Contract::all() {
        worlds_match(bundled);
    }
}

fn worlds_match(bundled: &Contract) {
    let Some(reference) = reference(bundled.version) else { return };
    let mut failures = Vec::new();
    for name in compared_worlds(bundled) {
        let b = find_world(&bundled.resolve, &name).unwrap_or_else(|| panic!("bundled world {name} missing"));
        let r = find_world(&reference, &name).unwrap_or_else(|| panic!("reference world {name} missing"));
        assert_eq!(world_full_name(&bundled.resolve, b), name);
        let (eb, er) = (elaborate(&bundled.resolve, b), elaborate(&reference, r));
        assert!(eb.lines().count() > 2, "{name} elaborates to almost nothing:\n{eb}");
        if eb != er {
            let first = eb.lines().zip(er.lines()).find(|(x, y)| x != y);
            failures.push(format!(
                "{name}: first difference bundled {first:?} (bundled {} lines, reference {})",
                eb.lines().count(),
                er.lines().count()
            ));
        }
    }
    assert!(failures.is_empty(), "worlds of {} differ from the reference:\n{}", bundled.version, failures.join("\n"));
}

/// Every interface of every Hayride and Morphir package, used by a world or not.
#[test]
fn every_bundled_interface_matches_the_reference() {
    // Every Hayride, wasi:config and Morphir interface of each reference: 0.0.65 has hayride:mcp,
    // hayride:db and wasi:config, which 0.0.60 lacks; 0.0.60's hayride:ai has `tools` and no
    // `runner`.
    for (version, expected) in [("0.0.60", 27), ("0.0.65", 35)] {
        interfaces_match(Contract::version(version).expect("bundled"), expected);
    }
}

fn interfaces_match(bundled: &Contract, expected: usize) {
    let Some(reference) = reference(bundled.version) else { return };
    let mut checked = 0;
    for (rid, riface) in reference.interfaces.iter() {
        let Some(full) = reference.id_of(rid) else { continue };
        if full.starts_with("wasi:") && !full.starts_with("wasi:config") {
            continue; // standard WASI comes from a crate, not from this project's text
        }
        let bid = bundled
            .resolve
            .interfaces
            .iter()
            .find(|(id, _)| bundled.resolve.id_of(*id).as_deref() == Some(full.as_str()))
            .unwrap_or_else(|| panic!("bundled contract lacks interface {full}"))
            .0;
        let one = |resolve: &Resolve, id| {
            let mut r = resolve.clone();
            let pkg = r.interfaces[id].package.unwrap();
            let w = r.worlds.alloc(wit_parser::World {
                name: "probe".into(),
                imports: [(
                    wit_parser::WorldKey::Interface(id),
                    wit_parser::WorldItem::Interface {
                        id,
                        stability: Default::default(),
                        docs: Default::default(),
                        span: Default::default(),
                        external_id: None,
                    },
                )]
                .into_iter()
                .collect(),
                exports: Default::default(),
                package: Some(pkg),
                docs: Default::default(),
                stability: Default::default(),
                includes: Default::default(),
                span: Default::default(),
            });
            elaborate(&r, w)
        };
        let _ = riface;
        assert_eq!(one(&bundled.resolve, bid), one(&reference, rid), "interface {full} differs from the reference");
        checked += 1;
    }
    assert_eq!(checked, expected, "compared {checked} interfaces of contract {}", bundled.version);
}

/// The comparison itself must notice a single changed parameter name or field.
#[test]
fn elaboration_notices_one_changed_field_or_parameter() {
    let base =
        "package t:t@1.0.0; interface i { record r { a: u32, b: string } f: func(x: r) -> u32; } world w { import i; }";
    let field = base.replace("b: string", "b: u64");
    let param = base.replace("f: func(x: r)", "f: func(y: r)");
    let render = |src: &str| {
        let mut r = Resolve::new();
        let pkg = r.push_source("t.wit", src).unwrap();
        let w = r.select_world(&[pkg], Some("w")).unwrap();
        elaborate(&r, w)
    };
    assert_ne!(render(base), render(&field));
    assert_ne!(render(base), render(&param));
    assert_eq!(render(base), render(base));
}
