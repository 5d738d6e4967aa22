//! `morph inspect`: what a component is.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use morph_contract::inspect::{inspect, inspect_undecodable};

use crate::output::{human_size, Output, Style};

/// Show a component's kind, imports and exports, size, digest, producers and best-fitting world.
#[derive(clap::Args)]
pub struct Args {
    /// The component: a .wasm binary or component-model text (.wat).
    component: PathBuf,
    /// Print the component's imports and exports as a WIT world.
    #[arg(long)]
    wit: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    if let Some(bytes) = super::read_core_module(&args.component) {
        return core_module(&args, &bytes, out);
    }
    let info = match super::read_component(&args.component) {
        Ok(comp) => inspect(&comp, args.wit)?,
        Err(e) => match e.downcast::<morph_contract::ContractError>() {
            Ok(undecodable) => {
                let mut info = inspect_undecodable(&args.component, undecodable)?;
                info.wit = info.wit.filter(|_| args.wit);
                info
            }
            Err(e) => return Err(e),
        },
    };
    if out.json {
        out.json(&info);
        return Ok(ExitCode::SUCCESS);
    }
    let label = |l: &str| out.paint(Style::Bold, &format!("{:<10}", format!("{l} ")));
    out.line(format!("{}{}", label("file"), info.file));
    out.line(format!("{}{}", label("kind"), info.kind.as_str()));
    out.line(format!("{}{} bytes ({})", label("size"), info.size, human_size(info.size)));
    out.line(format!("{}{}", label("digest"), info.digest));
    for (field, value) in info.metadata.fields() {
        out.line(format!("{}{value}", label(field)));
    }
    match (&info.world, &info.wit_unavailable) {
        (Some(world), _) => {
            let verdict =
                if info.world_valid { out.paint(Style::Good, "valid") } else { out.paint(Style::Bad, "not valid") };
            out.line(format!("{}{world} ({verdict}; `morph validate` for details)", label("world")));
        }
        (None, Some(why)) => out.line(format!("{}WIT is not available for this component: {why}", label("wit"))),
        (None, None) => {
            for (title, items) in [("worlds", &info.worlds), ("interfaces", &info.interfaces)] {
                out.line(format!("{}{}", label(title), items.len()));
                for item in items {
                    out.line(format!("  {item}"));
                }
            }
        }
    }
    if let Some(wit) = info.wit.as_ref().filter(|_| args.wit) {
        out.line("");
        out.line(wit.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    let library = info.world.is_none() && info.wit_unavailable.is_none();
    for (title, items) in [("imports", &info.imports), ("exports", &info.exports)].into_iter().filter(|_| !library) {
        out.line(format!("{}{}", label(title), items.len()));
        for item in items {
            match morph_contract::host_interfaces::grant_of(item).filter(|_| title == "imports") {
                Some(grant) => out.line(format!("  {item}  {}", out.paint(Style::Dim, &format!("(--allow {grant})")))),
                None => out.line(format!("  {item}")),
            }
        }
    }
    if !info.grants.is_empty() {
        let flags: Vec<String> = info.grants.iter().map(|g| format!("--allow {g}")).collect();
        out.line(format!("{}{}", label("needs"), flags.join(" ")));
    }
    if !info.producers.is_empty() {
        out.line(label("producers").trim_end());
        for (field, values) in &info.producers {
            out.line(format!("  {field}: {}", values.join(", ")));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A core module: as a Morphir extension (the Extism plug-in ABI), its exports with their
/// signatures and its imports, each provided or not and why.
fn core_module(args: &Args, bytes: &[u8], out: &Output) -> Result<ExitCode> {
    use morph_contract::plugin::{PluginInfo, PluginKind};
    if args.wit {
        anyhow::bail!("{} is a core module: it has no WIT world to print", args.component.display());
    }
    let info = PluginInfo::validated(&args.component, bytes)?;
    let kind = match info.kind {
        PluginKind::Runtime => "extension (core module, runtime: init/update/subscriptions)",
        PluginKind::DesignTime => "extension (core module, design-time)",
        PluginKind::NotAnExtension => "core module (not an extension: none of its exports is an extension function)",
    };
    let digest = morph_contract::component::sha256_digest(bytes);
    let exports: Vec<_> = info
        .exports
        .iter()
        .zip(&info.export_signatures)
        .map(|(name, sig)| serde_json::json!({ "name": name, "signature": sig }))
        .collect();
    let imports: Vec<_> = info
        .imports
        .iter()
        .map(|i| {
            serde_json::json!({
                "module": i.module, "name": i.name, "signature": i.signature,
                "provided": i.problem.is_none(), "problem": i.problem,
            })
        })
        .collect();
    if out.json {
        out.json(&serde_json::json!({
            "file": args.component.display().to_string(), "kind": "extension", "core-module": true,
            "abi": "extism", "extension": kind, "size": bytes.len(), "digest": digest,
            "exports": exports, "imports": imports,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let label = |l: &str| out.paint(Style::Bold, &format!("{:<10}", format!("{l} ")));
    out.line(format!("{}{}", label("file"), args.component.display()));
    out.line(format!("{}{kind}", label("kind")));
    out.line(format!("{}Extism plug-in (envelopes as JSON bytes; run with `morph ext`)", label("abi")));
    out.line(format!("{}{} bytes ({})", label("size"), bytes.len(), human_size(bytes.len() as u64)));
    out.line(format!("{}{digest}", label("digest")));
    out.line(format!("{}{}", label("imports"), info.imports.len()));
    for i in &info.imports {
        let sig = i.signature.as_deref().unwrap_or("");
        match &i.problem {
            None => out.line(format!("  {}#{} {sig}", i.module, i.name)),
            Some(why) => out.line(format!(
                "  {}#{} {sig}  {}",
                i.module,
                i.name,
                out.paint(Style::Bad, &format!("not provided: {why}"))
            )),
        }
    }
    out.line(format!("{}{}", label("exports"), info.exports.len()));
    for (name, sig) in info.exports.iter().zip(&info.export_signatures) {
        out.line(format!("  {name} {sig}"));
    }
    Ok(ExitCode::SUCCESS)
}
