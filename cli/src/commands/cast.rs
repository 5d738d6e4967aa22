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
    /// Call this export instead of running the command. Its arguments are JSON, except that
    /// a string parameter also takes plain text, as Hayride's cast passes it.
    #[arg(long)]
    function: Option<String>,
    /// The arguments, as Hayride's `cast --args` gives them (or after the flags).
    #[arg(long = "args", num_args = 1.., allow_hyphen_values = true, value_name = "ARG")]
    args_flag: Vec<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Guest arguments, or the function's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

pub fn run(mut args: Args, out: &Output) -> Result<ExitCode> {
    let mut all = std::mem::take(&mut args.args_flag);
    all.append(&mut args.args);
    match args.function {
        Some(function) => {
            let call = super::call::Args::new(args.package.into(), function, all, args.sandbox).plain_strings();
            super::call::run(call, out)
        }
        None => super::run::run(super::run::Args::new(args.package.into(), args.sandbox, all), out),
    }
}
