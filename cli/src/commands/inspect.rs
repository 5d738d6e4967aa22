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
