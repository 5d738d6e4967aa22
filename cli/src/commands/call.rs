//! `morph call`: call any export with typed arguments.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::Value as Json;

use super::run::finish;
use super::sandbox::{block_on, load_morph, SandboxArgs};
use crate::output::Output;

/// Call one exported function of a morph with arguments as JSON (default) or WAVE.
///
/// FUNCTION is `name`, `iface#name` or `ns:pkg/iface@ver#name`. One argument per parameter:
/// JSON mapped by the WIT type (records as objects, variants as {"case": payload}, results as
/// {"ok": …}/{"err": …}), or `@file.json`. The result is printed the same way.
#[derive(clap::Args)]
pub struct Args {
    /// A .wasm/.wat file or a local registry id.
    morph: std::ffi::OsString,
    /// The export to call; an unknown name lists the exports with their signatures.
    function: String,
    /// One argument per parameter (negative numbers are arguments, other `-` words are flags;
    /// put arguments after `--` to take them all as they are).
    #[arg(allow_negative_numbers = true, value_name = "ARGS")]
    args: Vec<String>,
    /// Take and print WAVE (as `wasmtime run --invoke`) instead of JSON.
    #[arg(long)]
    wave: bool,
    /// A string parameter also takes plain text (`morph cast`, as Hayride passes arguments).
    #[arg(skip)]
    plain_strings: bool,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let src = load_morph(&args.morph, &args.sandbox, out)?;
    let sandbox = args.sandbox.sandbox(Vec::new(), out)?;
    let json_args = if args.wave || args.plain_strings { Vec::new() } else { parse_json_args(&args.args)? };
    let result = block_on(async {
        let prepared = sandbox.prepare((&src).into())?;
        let f = prepared.find_export(&args.function)?;
        let vals = if args.wave {
            f.args_from_wave(&args.args)?
        } else if args.plain_strings {
            f.args_from_text(&args.args)?
        } else {
            f.args_from_json(&json_args)?
        };
        match (sandbox.call(&prepared, &f, &vals).await?, args.wave) {
            (Some(v), true) => out.line(v.to_wave()),
            (Some(v), false) => out.line(serde_json::to_string(&v.to_json()).unwrap_or_default()),
            (None, _) => {}
        }
        Ok(None)
    });
    finish(result, out)
}

/// Each argument is JSON, or `@path` to a JSON file.
fn parse_json_args(args: &[String]) -> Result<Vec<Json>> {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            match a.strip_prefix('@') {
                // A file's content is not echoed back: it may be megabytes; the parser's line and
                // column say where it went wrong.
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).with_context(|| format!("cannot read argument file {path}"))?;
                    serde_json::from_str(&text).with_context(|| format!("argument {} (@{path}) is not JSON", i + 1))
                }
                None => serde_json::from_str(a).with_context(|| {
                    format!("argument {} is not JSON: {:?} (strings need quotes: '\"text\"')", i + 1, excerpt(a))
                }),
            }
        })
        .collect()
}

/// At most 80 characters of an argument, for a message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl Args {
    pub fn new(morph: std::ffi::OsString, function: String, args: Vec<String>, sandbox: SandboxArgs) -> Args {
        Args { morph, function, args, wave: false, plain_strings: false, sandbox }
    }

    /// String parameters take plain text too (Hayride's `cast`).
    pub fn plain_strings(self) -> Args {
        Args { plain_strings: true, ..self }
    }
}
