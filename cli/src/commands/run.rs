//! `morph run`: run a command morph (or invoke one export with `--invoke`).

use std::process::ExitCode;

use anyhow::Result;
use morph_runtime::RuntimeError;

use super::sandbox::{block_on, morph_and_sandbox, SandboxArgs};
use crate::output::Output;

/// Run a morph in the embedded runtime, sandboxed: no files, env or network unless granted.
///
/// The guest's exit code becomes morph's; a trap or a hit limit exits 1.
#[derive(clap::Args)]
pub struct Args {
    /// A .wasm/.wat file or a local registry id (ns:name@version; version optional). Default:
    /// the built component of the project around the current directory.
    morph: Option<std::ffi::OsString>,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// In a project: build first when a source is newer than the built component.
    #[arg(long)]
    build: bool,
    /// In a project: rebuild and run again whenever a source changes (a run still going is
    /// stopped first).
    #[arg(long)]
    watch: bool,
    /// Call one export instead of wasi:cli/run, in WAVE syntax: 'add(1, 2)'.
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,
    /// Arguments for the guest (argv[1..]); put them after `--` when they start with '-'.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

pub fn run(mut args: Args, out: &Output) -> Result<ExitCode> {
    // `morph run -- A B` in a project: clap gives A to the morph slot, but everything after
    // `--` is the guest's.
    if let Some(m) = args.morph.take() {
        if only_after_dashdash(&m) {
            args.args.insert(0, m.to_string_lossy().into_owned());
        } else {
            args.morph = Some(m);
        }
    }
    if args.build || args.watch {
        if args.morph.is_some() {
            anyhow::bail!("--build and --watch build the project around the current directory; leave the morph out");
        }
        let m = super::build::project()?;
        if args.watch {
            return super::dev::rerun(&m, out);
        }
        if let Some(code) = super::dev::build_if_stale(&m, out)? {
            return Ok(code);
        }
    }
    let (src, sandbox) = morph_and_sandbox(args.morph.as_deref(), &args.sandbox, out)?;
    let result = block_on(async {
        let prepared = sandbox.prepare((&src).into())?;
        tracing::info!("compiled code: {:?}", prepared.cache);
        match &args.invoke {
            None => sandbox.run(&prepared, &args.args).await.map(Some),
            Some(expr) => {
                let (f, vals) = prepared.parse_call(expr)?;
                if let Some(v) = sandbox.call(&prepared, &f, &vals).await? {
                    out.line(v.to_wave());
                }
                Ok(None)
            }
        }
    });
    finish(result, out)
}

/// Whether `value` appears on morph's command line only after a `--`.
fn only_after_dashdash(value: &std::ffi::OsStr) -> bool {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match argv.iter().position(|a| a == "--") {
        Some(dd) => !argv[..dd].iter().any(|a| a == value) && argv[dd + 1..].iter().any(|a| a == value),
        None => false,
    }
}

/// Exit code for a run: the guest's own, or 1/2 with the error on stderr.
pub fn finish(result: Result<Option<i32>, RuntimeError>, out: &Output) -> Result<ExitCode> {
    match result {
        Ok(None) => Ok(ExitCode::SUCCESS),
        Ok(Some(code)) => Ok(crate::exit::status(code)),
        Err(e) => {
            let code = crate::exit::of_runtime(&e);
            out.error(&anyhow::Error::new(e));
            Ok(crate::exit::status(code))
        }
    }
}

impl Args {
    pub fn new(morph: std::ffi::OsString, sandbox: SandboxArgs, args: Vec<String>) -> Args {
        Args { morph: Some(morph), sandbox, build: false, watch: false, invoke: None, args }
    }
}
