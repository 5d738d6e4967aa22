//! `morph register`, `morph list`, `morph remove`: the local registry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use morph_registry_client::{Home, MorphId};
use serde::Serialize;

use crate::output::{Output, Style};

pub fn home() -> Result<Home> {
    Home::from_env().context("cannot find the morph home: set MORPH_HOME or HOME")
}

/// Add a component to the local registry as ns:name@version.
#[derive(clap::Args)]
pub struct RegisterArgs {
    /// The component (.wasm or .wat). Default: the built component of the project around the
    /// current directory.
    file: Option<PathBuf>,
    /// The component, as Hayride's `register --bin` names it.
    #[arg(long = "bin", value_name = "FILE", conflicts_with = "file")]
    bin: Option<PathBuf>,
    /// Its id: ns:name@version. Default: the project's id (morph.toml).
    #[arg(long, short = 'p')]
    package: Option<String>,
    /// Replace a morph already registered under this id.
    #[arg(long)]
    force: bool,
    /// Do not compile it into the cache now (its first run then starts on baseline code).
    #[arg(long)]
    no_precompile: bool,
}

pub fn register(args: RegisterArgs, out: &Output) -> Result<ExitCode> {
    let (file, package) = match (args.file.or(args.bin), args.package) {
        (Some(f), Some(p)) => (f, p),
        (file, package) => {
            let m = super::build::project().map_err(|e| {
                e.context("give the component and --package ns:name@version, or run in a built morph project")
            })?;
            let file = match file {
                Some(f) => f,
                None => PathBuf::from(super::build::built_output(&m)?),
            };
            (file, package.unwrap_or_else(|| m.id.to_string()))
        }
    };
    let id = MorphId::parse(&package)?;
    // Only a whole, valid component goes in: Hayride and `morph run` trust the registry.
    let comp = morph_contract::Component::read(&file)?;
    let kind = morph_contract::kind::classify(&comp.resolve, comp.world);
    // Hashed once: the cache entry's name, the registry's record and the output share it.
    let digest = comp.digest();
    let compiling = super::optimize::at_arrival(
        comp.bytes.to_vec(),
        Some(digest.clone()),
        &id.to_string(),
        kind,
        args.no_precompile,
    );
    let stored = morph_registry_client::register(&home()?, &id, &comp.bytes, &digest, args.force)?;
    compiling.finish();
    if out.json {
        out.json(&serde_json::json!({ "id": id.to_string(), "path": stored.path, "digest": digest, "size": comp.bytes.len() }));
    } else if !out.quiet {
        out.line(format!("registered {} ({})", out.paint(Style::Bold, &id.to_string()), stored.path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// List the morphs of the local registry.
#[derive(clap::Args)]
pub struct ListArgs {}

#[derive(Serialize)]
struct Row {
    id: String,
    kind: String,
    size: u64,
    digest: String,
    path: PathBuf,
}

pub fn list(_args: ListArgs, out: &Output) -> Result<ExitCode> {
    let rows: Vec<Row> = morph_registry_client::list(&home()?)?
        .into_iter()
        .map(|m| {
            let kind = morph_contract::component::read_component_binary(&m.path)
                .ok()
                .and_then(|b| morph_contract::component::decode_world(&m.path, &b).ok())
                .map_or("invalid", |(r, w)| morph_contract::kind::classify(&r, w).as_str());
            Row { id: m.id, kind: kind.to_string(), size: m.size, digest: m.digest, path: m.path }
        })
        .collect();
    if out.json {
        out.json(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        if !out.quiet {
            out.line("no morphs registered (add one with `morph register FILE --package ns:name@version`)");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let w = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &rows {
        out.line(format!(
            "{}  {:<9}  {:>10}  {}",
            out.paint(Style::Bold, &format!("{:w$}", r.id)),
            r.kind,
            r.size,
            &r.digest[..19]
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Remove a morph from the local registry.
#[derive(clap::Args)]
pub struct RemoveArgs {
    /// ns:name@version
    id: String,
}

pub fn remove(args: RemoveArgs, out: &Output) -> Result<ExitCode> {
    let id = MorphId::parse(&args.id)?;
    let path = morph_registry_client::remove(&home()?, &id)?;
    if out.json {
        out.json(&serde_json::json!({ "removed": id.to_string(), "path": path }));
    } else if !out.quiet {
        out.line(format!("removed {id}"));
    }
    Ok(ExitCode::SUCCESS)
}
