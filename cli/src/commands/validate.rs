//! `morph validate`: check a component against a world.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use morph_contract::{validate, Finding, Severity, Validation, WorldSpec};

use crate::output::{Output, Style};

/// Check a component against a Hayride world and against what morph's runtime provides.
///
/// Exit 0: valid (required exports present with the right types, every import provided);
/// 1: not valid; 2: the input or the world cannot be used.
#[derive(clap::Args)]
pub struct Args {
    /// The component: a .wasm binary or component-model text (.wat).
    component: PathBuf,
    /// World to check against: a short name (hayride-server; hayride-server@0.0.60 for an older
    /// contract), a full name (hayride:runtime/hayride-server@0.0.1), or a world of --wit.
    /// Detected when omitted.
    #[arg(long, short = 'w')]
    world: Option<String>,
    /// The Hayride contract version to check against (`morph worlds` lists them). Default: the
    /// version the morph's hayride:* imports and exports name, else the newest.
    #[arg(long, value_name = "VERSION", conflicts_with = "wit")]
    contract: Option<String>,
    /// Take the world from this WIT directory (a package with optional deps/) instead.
    #[arg(long, value_name = "DIR")]
    wit: Option<PathBuf>,
    /// Make world conformance decisive: extra imports and import type differences fail too.
    #[arg(long)]
    strict: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    if let Some(bytes) = super::read_core_module(&args.component) {
        // A core module has no world: it is checked as a core-module extension.
        if args.wit.is_some() || args.world.as_deref().is_some_and(|w| w != "extension") {
            anyhow::bail!(
                "{} is a core module: it is checked as a Morphir extension (the Extism plug-in ABI), not against a \
                 WIT world; drop --world/--wit",
                args.component.display()
            );
        }
        let v = morph_contract::plugin::validate_plugin(&args.component, &bytes)?;
        return Ok(report(&v, out));
    }
    let comp = super::read_component(&args.component)?;
    let spec = match (&args.wit, &args.world) {
        (Some(dir), world) => WorldSpec::Wit { dir, world: world.as_deref() },
        (None, Some(world)) => WorldSpec::Bundled { world, contract: args.contract.as_deref() },
        (None, None) => WorldSpec::Detect { contract: args.contract.as_deref() },
    };
    let v = validate(&comp, spec, args.strict)?;
    Ok(report(&v, out))
}

/// Prints `v` as `--json` or for people; its verdict as the exit code.
fn report(v: &Validation, out: &Output) -> ExitCode {
    if out.json {
        out.json(v);
    } else if !out.quiet || !v.valid {
        print_human(v, out);
    }
    if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::CHECK_FAILED)
    }
}

pub(crate) fn print_human(v: &Validation, out: &Output) {
    let world = match &v.world_short {
        Some(short) => format!("{short} ({})", v.world),
        None => v.world.clone(),
    };
    out.line(format!("{}  {} morph", out.paint(Style::Bold, &v.file), v.kind.as_str()));
    match &v.detected {
        Some(why) => out.line(format!("world: {world}, detected: {why}")),
        None => out.line(format!("world: {world}")),
    }
    if let Some(why) = &v.contract_reason {
        out.line(format!("contract: {why}"));
    }
    section(
        out,
        "world conformance",
        &v.conformance,
        "conforms: every export the world requires is there, every import is in the world",
    );
    section(out, "runtime compatibility", &v.compatibility, "every import is provided by morph's runtime");
    let verdict = if v.valid {
        let how = if v.conforms { "conforms" } else { "valid with notes" };
        out.paint(Style::Good, &format!("valid: {how}"))
    } else {
        let errors = v.conformance.iter().chain(&v.compatibility).filter(|f| f.severity == Severity::Error).count();
        out.paint(Style::Bad, &format!("not valid: {errors} error(s)"))
    };
    out.line(verdict);
}

fn section(out: &Output, title: &str, findings: &[Finding], clean: &str) {
    out.line(format!("{}:", out.paint(Style::Bold, title)));
    if findings.is_empty() {
        out.line(format!("  {}  {clean}", out.paint(Style::Good, "ok")));
    }
    for f in findings {
        let tag = match f.severity {
            Severity::Error => out.paint(Style::Bad, "error"),
            Severity::Note => out.paint(Style::Note, "note "),
        };
        out.line(format!("  {tag}  {}: {}", f.kind.label(), f.message));
        // Signatures that read the same differ inside a named type; the message says where.
        if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
            if e != a {
                out.line(format!("         expected: {e}"));
                out.line(format!("         found:    {a}"));
            }
        }
    }
}
