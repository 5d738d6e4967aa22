//! `morph plug`: a socket component's imports satisfied by the exports of plug components.
//!
//! Each import of the socket goes to the first plug (in the order given) that exports a
//! matching item: the same name, or a semver-compatible one, of a subtype of what the socket
//! imports. Every plug must satisfy at least one import; a plug that satisfies none is a mistake
//! worth stopping for (a wrong file, a wrong version), not something to drop silently.

use std::collections::HashSet;

use wac_graph::types::{are_semver_compatible, Package, SubtypeChecker};
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::ComposeError;

/// A socket or plug: a name for messages and its component bytes.
pub struct PlugInput {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Which of the socket's imports one plug satisfied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlugReport {
    pub plug: String,
    pub satisfied: Vec<String>,
}

/// Plugs `plugs` into `socket`; returns the composed component and what each plug satisfied.
pub fn plug(socket: PlugInput, plugs: Vec<PlugInput>) -> Result<(Vec<u8>, Vec<PlugReport>), ComposeError> {
    let mut graph = CompositionGraph::new();
    let socket_name = socket.name;
    let socket_id = register(&mut graph, "morph:socket", &socket_name, socket.bytes)?;
    let mut names = Vec::new();
    let mut plug_ids = Vec::new();
    for (i, p) in plugs.into_iter().enumerate() {
        plug_ids.push(register(&mut graph, &format!("morph:plug{i}"), &p.name, p.bytes)?);
        names.push(p.name);
    }
    let graph_err = |e: &dyn std::fmt::Display| ComposeError::Plug(format!("cannot wire the components: {e}"));

    let socket_ty = graph[socket_id].ty();
    let socket_instance = graph.instantiate(socket_id);
    let mut taken: HashSet<String> = HashSet::new();
    let mut reports = Vec::new();
    for (name, plug_id) in names.into_iter().zip(plug_ids) {
        // (plug export, socket import) pairs this plug can serve.
        let mut pairs = Vec::new();
        {
            let types = graph.types();
            let mut cache = Default::default();
            let mut checker = SubtypeChecker::new(&mut cache);
            for (export, export_ty) in &types[graph[plug_id].ty()].exports {
                let imports = &types[socket_ty].imports;
                let matching = imports
                    .get_key_value(export)
                    .or_else(|| imports.iter().find(|(import, _)| are_semver_compatible(export, import)));
                if let Some((import, import_ty)) = matching {
                    if !taken.contains(import) && checker.is_subtype(*export_ty, types, *import_ty, types).is_ok() {
                        pairs.push((export.clone(), import.clone()));
                    }
                }
            }
        }
        if pairs.is_empty() {
            let imports: Vec<String> = graph.types()[socket_ty].imports.keys().cloned().collect();
            let exports: Vec<String> = graph.types()[graph[plug_id].ty()].exports.keys().cloned().collect();
            return Err(ComposeError::Plug(format!(
                "plug {} satisfies none of the socket's imports{}\n  socket {} imports: {}\n  plug exports: {}",
                name,
                if taken.is_empty() { String::new() } else { " left by the plugs before it".into() },
                socket_name,
                list_or_none(&imports),
                list_or_none(&exports),
            )));
        }
        let instance = graph.instantiate(plug_id);
        let mut satisfied = Vec::new();
        for (export, import) in pairs {
            let item = graph.alias_instance_export(instance, &export).map_err(|e| graph_err(&e))?;
            graph.set_instantiation_argument(socket_instance, &import, item).map_err(|e| graph_err(&e))?;
            taken.insert(import.clone());
            satisfied.push(import);
        }
        reports.push(PlugReport { plug: name, satisfied });
    }

    let exports: Vec<String> = graph.types()[socket_ty].exports.keys().cloned().collect();
    for name in exports {
        let item = graph.alias_instance_export(socket_instance, &name).map_err(|e| graph_err(&e))?;
        graph.export(item, &name).map_err(|e| graph_err(&e))?;
    }
    let bytes =
        graph.encode(EncodeOptions { define_components: true, validate: true, ..Default::default() }).map_err(|e| {
            ComposeError::Plug(format!(
                "the plugged component does not validate: {}\n  each plug brings its own instances of what it \
                 imports; when plugs must share one provider (a resource type, state), write a .wac file and use \
                 `morph compose`",
                morph_registry_client::error_chain(&e)
            ))
        })?;
    Ok((bytes, reports))
}

fn register(
    graph: &mut CompositionGraph,
    key: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<wac_graph::PackageId, ComposeError> {
    let package = Package::from_bytes(key, None, bytes, graph.types_mut())
        .map_err(|e| ComposeError::Plug(format!("{name} cannot be plugged: {e:#}")))?;
    graph.register_package(package).map_err(|e| ComposeError::Plug(format!("{name}: {e:#}")))
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}
