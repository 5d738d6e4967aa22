//! `morph new`: a project that builds into a valid morph.

use std::process::ExitCode;

use anyhow::Result;
use morph_project::{Language, NewProject, Template};

use crate::output::{Output, Style};

/// Make a morph project: morph.toml, wit/ (the world and its packages, so it builds offline),
/// the source of a working hello, a .gitignore and a README.
#[derive(clap::Args)]
pub struct Args {
    /// The project's name and directory (lowercase, digits, dashes: my-app).
    name: String,
    /// rust, python, go or js.
    #[arg(long, default_value = "rust")]
    lang: String,
    /// cli (a command), server (http), reactor (exports a function) or extension (Morphir).
    #[arg(long, default_value = "cli")]
    world: String,
    /// The package id, ns:name (version 0.1.0) or ns:name@version. Default: local:<name>.
    #[arg(long)]
    package: Option<String>,
    /// The Hayride contract version the project's wit/ is written for (`morph worlds` lists
    /// them). Default: the newest.
    #[arg(long, value_name = "VERSION")]
    contract: Option<String>,
    /// With --world extension: a core WebAssembly module (Rust, extism-pdk, built for
    /// wasm32-unknown-unknown) instead of a component.
    #[arg(long)]
    core: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let language = Language::parse(&args.lang)?;
    let template = Template::parse(&args.world)?;
    let (dir, files) = morph_project::new_project(&NewProject {
        parent: &cwd,
        name: &args.name,
        language,
        template,
        package: args.package.as_deref(),
        contract: args.contract.as_deref(),
        core: args.core,
    })?;
    if out.json {
        out.json(&serde_json::json!({ "path": dir, "files": files }));
    } else if !out.quiet {
        out.line(format!(
            "created {} ({} {}, {} files)",
            out.paint(Style::Bold, &dir.display().to_string()),
            language.as_str(),
            template.as_str(),
            files.len()
        ));
        out.line(format!("next: cd {} && morph build", args.name));
    }
    Ok(ExitCode::SUCCESS)
}
