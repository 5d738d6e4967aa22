//! `morph up`: the app a project's `[[entry]]` tables declare, behind one address.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use morph_project::app::{Entry, EntryKind};
use morph_runtime::app::{AppEntry, AppOptions};
use morph_runtime::limits::parse_duration;

use super::sandbox::{load_morph, SandboxArgs};
use crate::output::Output;

/// Serve the app the project's morph.toml declares: every `[[entry]]`, compiled at start (in
/// parallel, through the cache), on one address. http/websocket entries answer on their
/// `route` prefix (the longest wins; the morph sees the whole path); function entries at
/// `POST /call/<name>` with a JSON array of arguments, answered with the JSON result;
/// `GET /healthz` and `GET /metrics` (Prometheus) are the app's own.
///
/// Each entry runs sandboxed with only what it declares (`allow`, `allow-net`, `dirs`, `env`),
/// its own limits (`timeout`, `max-memory`, `fuel`) and pool (`pool.max`, `pool.queue-timeout`).
/// An entry whose `sha256` pin does not match its source refuses the start. Ctrl-C or SIGTERM
/// stops accepting and lets every entry's requests in flight finish (up to --grace).
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on: HOST:PORT (a bare :PORT means 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: String,
    /// How long requests in flight may take to finish after Ctrl-C/SIGTERM.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    grace: Duration,
    /// The largest request body, and the largest arguments of a function call (413 above it).
    #[arg(long, default_value = "16MiB", value_name = "SIZE", value_parser = morph_runtime::parse_size)]
    max_body: usize,
    /// Compile without reading or writing the compiled-code cache.
    #[arg(long)]
    no_cache: bool,
}

pub fn run(args: Args, out: &Output) -> Result<ExitCode> {
    let addr = morph_runtime::serve::parse_address(&args.addr).map_err(anyhow::Error::msg)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let Some(dir) = morph_project::Manifest::find(&cwd) else {
        bail!("no morph.toml here or above; `morph up` serves the [[entry]] tables of an app's morph.toml");
    };
    let entries = morph_project::app::read_entries(&dir)?;
    if entries.is_empty() {
        bail!(
            "{} declares no [[entry]]; add one (see `morph up --help`), or serve the project's morph with `morph serve`",
            dir.join("morph.toml").display()
        );
    }
    let mut app = Vec::new();
    for entry in &entries {
        app.push(load_entry(entry, args.no_cache, out).with_context(|| format!("entry `{}`", entry.name))?);
    }
    let opts = AppOptions {
        addr,
        grace: args.grace,
        header_timeout: morph_runtime::serve::DEFAULT_HEADER_TIMEOUT,
        write_timeout: morph_runtime::serve::DEFAULT_WRITE_TIMEOUT,
        max_body: args.max_body,
        body_timeout: Duration::from_secs(5),
        ws_idle: Duration::from_secs(300),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the server runtime")?;
    let json = out.json;
    let routes: Vec<String> = entries.iter().map(describe).collect();
    let result = rt.block_on(morph_runtime::app::up(
        app,
        opts,
        |bound| {
            crate::signals::leave_to_command();
            if json {
                eprintln!(
                    "{}",
                    serde_json::json!({ "level": "info", "listening": format!("http://{bound}"), "entries": routes })
                );
            } else {
                eprintln!("listening on http://{bound}");
                for r in &routes {
                    eprintln!("  {r}");
                }
            }
        },
        super::serve::shutdown_signal(),
    ));
    super::run::finish(result.map(|()| None), out)
}

/// `greet: POST /call/greet (greet)` or `web: /api`: what the start prints.
fn describe(e: &Entry) -> String {
    match &e.kind {
        EntryKind::Function { export } => format!("{}: POST /call/{} → {export}", e.name, e.name),
        EntryKind::Http { route } => format!("{}: {route}", e.name),
    }
}

/// The entry's component, pin checked, and its sandbox from its fields, read with the same
/// parser as the flags of `morph run` so they mean the same.
fn load_entry(e: &Entry, no_cache: bool, out: &Output) -> Result<AppEntry> {
    let mut flags = vec!["entry".to_string()];
    for grant in &e.allow {
        flags.extend(["--allow".to_string(), grant.clone()]);
    }
    if e.allow_net {
        flags.push("--allow-net".into());
    }
    for d in &e.dirs {
        flags.extend(["--dir".to_string(), d.clone()]);
    }
    for (k, v) in &e.env {
        flags.extend(["--env".to_string(), format!("{k}={v}")]);
    }
    if let Some(t) = e.timeout {
        flags.extend(["--timeout".to_string(), format!("{}ms", t.as_millis().max(1))]);
    }
    if let Some(m) = e.max_memory {
        flags.extend(["--max-memory".to_string(), m.to_string()]);
    }
    if let Some(f) = e.fuel {
        flags.extend(["--fuel".to_string(), f.to_string()]);
    }
    if no_cache {
        flags.push("--no-cache".into());
    }
    let sandbox_args = EntryFlags::try_parse_from(&flags).map_err(|err| anyhow::anyhow!("{}", err.kind()))?.sandbox;
    let sandbox = sandbox_args.sandbox(Vec::new(), out)?;
    let src = load_morph(std::ffi::OsStr::new(&e.source), &sandbox_args, out)
        .with_context(|| format!("field `source` ({})", e.source))?;
    if let Some(pin) = &e.sha256 {
        let actual = src.digest.strip_prefix("sha256:").unwrap_or(&src.digest);
        if actual != pin {
            bail!(
                "field `sha256`: {} has sha256 {actual}, the pin says {pin}; update the pin if the change is yours",
                e.source
            );
        }
    }
    let kind = match &e.kind {
        EntryKind::Function { export } => morph_runtime::app::EntryKind::Function { export: export.clone() },
        EntryKind::Http { route } => morph_runtime::app::EntryKind::Http { route: route.clone() },
    };
    Ok(AppEntry {
        name: e.name.clone(),
        kind,
        bytes: src.bytes.to_vec(),
        digest: src.digest.clone(),
        origin: src.origin.clone(),
        sandbox,
        pool_max: e.pool_max,
        queue_timeout: e.queue_timeout,
    })
}

/// An entry's fields as the sandbox flags.
#[derive(clap::Parser)]
struct EntryFlags {
    #[command(flatten)]
    sandbox: SandboxArgs,
}
