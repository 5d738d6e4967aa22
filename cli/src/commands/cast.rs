//! `morph cast`: what `hayride cast` does, for scripts written against Hayride.

use std::process::ExitCode;

use anyhow::Result;

use super::sandbox::SandboxArgs;
use crate::output::Output;

/// Run a registry morph, or call one of its functions (Hayride's `cast`).
#[derive(clap::Args)]
pub struct Args {
    /// The morph: ns:name@version (version optional), or a file.
    #[arg(long)]
    package: String,
    /// Call this export instead of running the command (JSON arguments).
    #[arg(long)]
    function: Option<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Guest arguments, or the function's JSON arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    match args.function {
        Some(function) => {
            super::call::run(super::call::Args::new(args.package.into(), function, args.args, args.sandbox), out)
        }
        None => super::run::run(super::run::Args::new(args.package.into(), args.sandbox, args.args), out),
    }
}
