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
    /// Hand the cast to the running `morph daemon` (under its grants) and print its session id;
    /// `morph sessions` follows it.
    #[arg(long)]
    detach: bool,
    /// With --detach: the daemon's socket.
    #[arg(long, value_name = "PATH", requires = "detach")]
    socket: Option<std::path::PathBuf>,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Guest arguments, or the function's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

pub fn run(mut args: Args, out: &Output) -> Result<ExitCode> {
    let mut all = std::mem::take(&mut args.args_flag);
    all.append(&mut args.args);
    if args.detach {
        if args.sandbox.grants_given() {
            anyhow::bail!(
                "a detached cast runs under the daemon's grants; give them to `morph daemon`, not to `cast --detach`"
            );
        }
        let socket = super::daemon_client::socket(args.socket.as_deref())?;
        let params =
            serde_json::json!({ "name": args.package, "function": args.function.unwrap_or_default(), "args": all });
        let started = super::daemon_client::call(&socket, "cast.start", params)?;
        if out.json {
            out.json(&started);
        } else {
            out.line(started["session-id"].as_str().unwrap_or_default());
        }
        return Ok(ExitCode::SUCCESS);
    }
    match args.function {
        Some(function) => {
            let call = super::call::Args::new(args.package.into(), function, all, args.sandbox).plain_strings();
            super::call::run(call, out)
        }
        None => super::run::run(super::run::Args::new(args.package.into(), args.sandbox, all), out),
    }
}
