//! `morph build`: the project's toolchain, then the same check as `morph validate`.

use std::process::ExitCode;

use anyhow::Result;
use morph_project::{BuildError, Manifest};

use crate::output::{human_size, Output, Style};

/// Build the project around the current directory (its morph.toml) into a component, and check
/// it against the project's world. Prints the output path, size and digest.
///
/// Exit 0: built and valid; 1: the toolchain failed or the component does not conform;
/// 2: a missing toolchain or a project that cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// Build with optimizations.
    #[arg(long)]
    release: bool,
    /// Write the component here instead of morph.toml's [build] output.
    #[arg(long, short = 'o')]
    output: Option<std::path::PathBuf>,
    /// Do not compile the built morph into the cache (its first run then starts on baseline
    /// code).
    #[arg(long)]
    no_precompile: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let mut manifest = project()?;
    if let Some(o) = args.output {
        manifest.output = std::env::current_dir()?.join(o);
    }
    build_manifest(&manifest, args.release, args.no_precompile, out)
}

/// Builds `manifest`'s project and checks it (what `morph build` does, also for `--build` and
/// `--watch`); a failure is reported on `out` and is the exit code.
pub fn build_manifest(manifest: &Manifest, release: bool, no_precompile: bool, out: &Output) -> Result<ExitCode> {
    // The built morph is compiled into the cache while it is checked: its first run is warm.
    let mut compiling = None;
    let checked = match morph_project::build_project(manifest, release).and_then(|built| {
        let component = !manifest.core_module();
        if let Some((resolve, world)) =
            component.then(|| morph_contract::component::decode_world(&built.path, &built.bytes).ok()).flatten()
        {
            let kind = morph_contract::kind::classify(&resolve, world);
            let name = manifest.id.to_string();
            compiling = Some(super::optimize::at_arrival(built.bytes.clone(), None, &name, kind, no_precompile));
        }
        morph_project::check_built(manifest, built)
    }) {
        Ok(c) => c,
        Err(e) => {
            if let BuildError::DoesNotConform { validation, .. } = &e {
                super::validate::print_human(validation, out);
            }
            let code = crate::exit::of_build(&e);
            out.error(&anyhow::Error::new(e));
            return Ok(ExitCode::from(code));
        }
    };
    if let Some(c) = compiling {
        c.finish();
    }
    if checked.unprovided && !out.quiet && !out.json {
        super::validate::print_human(&checked.validation, out);
    }
    let (path, size, digest, v) = (checked.path, checked.size, checked.digest, checked.validation);
    if out.json {
        out.json(&serde_json::json!({
            "path": path, "size": size, "digest": digest, "id": manifest.id.to_string(), "validation": v
        }));
    } else if !out.quiet {
        out.line(format!(
            "built {} ({}, {}) {}",
            out.paint(Style::Bold, &path.display().to_string()),
            human_size(size as u64),
            manifest.world,
            digest
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The project around the current directory.
pub fn project() -> Result<Manifest> {
    let cwd = std::env::current_dir()?;
    let dir = Manifest::find(&cwd).ok_or_else(|| {
        BuildError::Input(format!(
            "no morph.toml in {} or its parents; make a project with `morph new NAME`, or name the morph to use",
            cwd.display()
        ))
    })?;
    Ok(Manifest::read(&dir)?)
}

/// The built component of the project around the current directory and its `[config]`.
pub fn project_output_and_config() -> Result<(String, Vec<(String, String)>)> {
    let m = project()?;
    Ok((built_output(&m)?, m.config))
}

/// `m`'s component, once built.
pub fn built_output(m: &Manifest) -> Result<String> {
    if !m.output.is_file() {
        anyhow::bail!("{} has not been built yet; run `morph build` first", m.output.display());
    }
    Ok(m.output.display().to_string())
}
