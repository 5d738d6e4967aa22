//! `morph up`: the app a project's `[[entry]]` tables declare, behind one address.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use morph_project::app::{Entry, EntryKind};
use morph_runtime::app::{AppEntry, AppOptions, Loader, Reload, Reloads, Source};
use morph_runtime::limits::parse_duration;
use tokio::sync::mpsc::UnboundedSender;

use super::sandbox::{load_morph, SandboxArgs};
use crate::output::Output;

/// Serve the app the project's morph.toml declares: every `[[entry]]`, compiled at start (in
/// parallel, through the cache), on one address. http/websocket entries answer on their
/// `route` prefix (the longest wins; the morph sees the whole path); function entries at
/// `POST /call/<name>` with a JSON array of arguments, answered with the JSON result;
/// `GET /healthz` and `GET /metrics` (Prometheus) are the app's own. Process entries are
/// commands started with the app and restarted with a growing pause when they fail.
///
/// Each entry runs sandboxed with only what it declares (`allow`, `allow-net`, `dirs`, `env`),
/// its own limits (`timeout`, `max-memory`, `fuel`) and pool (`pool.max`, `pool.queue-timeout`).
/// An entry whose `sha256` pin does not match its source refuses the start. SIGHUP loads every
/// entry's source again and swaps in those that changed (requests in flight finish on the old
/// version); a version that fails to load, match its pin, compile or serve leaves the old one
/// serving and is logged. Ctrl-C or SIGTERM stops accepting and lets every entry's requests in
/// flight finish (up to --grace).
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
    /// Reload an entry when its source file changes (a rebuild), as SIGHUP does for all; and
    /// rebuild the project when one of its sources changes (as `morph serve --watch`).
    #[arg(long)]
    watch: bool,
    /// Build the project first when a source is newer than its built component.
    #[arg(long)]
    build: bool,
    /// Run the entry NAME's command once, as `morph run` does, with its grants and limits and
    /// the ARGS after `--`, instead of serving the app; exits with the command's code.
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// Arguments for --run.
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
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
    // A project's own sources are built (and watched) only when it has them: an app's
    // morph.toml may only declare entries of morphs built elsewhere.
    let project = morph_project::Manifest::read(&dir).ok();
    if args.build || args.watch {
        if let Some(m) = &project {
            if let Some(code) = super::dev::build_if_stale(m, out)? {
                return Ok(code);
            }
        }
    }
    if let Some(name) = &args.run {
        return run_entry(&entries, name, &args.args, args.no_cache, out);
    }
    let mut app = Vec::new();
    for entry in &entries {
        app.push(load_entry(entry, args.no_cache, out).with_context(|| format!("entry `{}`", entry.name))?);
    }
    let (reload_tx, requests) = tokio::sync::mpsc::unbounded_channel();
    let reloads = Reloads { loader: loader(entries.clone(), args.no_cache), requests };
    if args.watch {
        watch_sources(&entries, reload_tx.clone());
        // A rebuild writes the entries' files, which the watch above reloads.
        if let Some(m) = project {
            super::dev::watch(m, out.clone(), |_| {});
        }
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
        Some(reloads),
        |bound| {
            crate::signals::leave_to_command();
            crate::signals::leave_hangup_to_command();
            tokio::spawn(reload_on_hangup(reload_tx));
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

/// `greet: POST /call/greet → greet` or `web: /api`: what the start prints.
fn describe(e: &Entry) -> String {
    match &e.kind {
        EntryKind::Function { export } => format!("{}: POST /call/{} → {export}", e.name, e.name),
        EntryKind::Http { route } => format!("{}: {route}", e.name),
        EntryKind::Process { .. } => format!("{}: process", e.name),
    }
}

/// `--run NAME -- ARGS`: the entry's command once, as `morph run` runs a morph.
fn run_entry(entries: &[Entry], name: &str, args: &[String], no_cache: bool, out: &Output) -> Result<ExitCode> {
    let Some(entry) = entries.iter().find(|e| e.name == name) else {
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        bail!("--run {name}: the app has no entry `{name}`; it has: {}", names.join(", "));
    };
    let (src, sandbox_args) = load_source(entry, no_cache, out).with_context(|| format!("entry `{name}`"))?;
    let sandbox = sandbox_args.sandbox(Vec::new(), out)?;
    let result = super::sandbox::block_on(async {
        let prepared = sandbox.prepare((&src).into())?;
        sandbox.run(&prepared, args).await.map(Some)
    });
    super::run::finish(result, out)
}

/// SIGHUP: every entry again.
async fn reload_on_hangup(reloads: UnboundedSender<Reload>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
    while hup.recv().await.is_some() {
        if reloads.send(Reload::All).is_err() {
            return;
        }
    }
}

/// How a reload loads an entry's source again: as at start, the pin checked, on a thread of
/// its own (loading may download, with a runtime of its own).
fn loader(entries: Vec<Entry>, no_cache: bool) -> Loader {
    std::sync::Arc::new(move |name: &str| {
        let entry = entries.iter().find(|e| e.name == name).ok_or_else(|| format!("no entry `{name}`"))?.clone();
        std::thread::scope(|s| {
            s.spawn(|| {
                let quiet = Output::new(false, true, 0, crate::output::ColorChoice::Never);
                let (src, _) = load_source(&entry, no_cache, &quiet).map_err(|e| format!("{e:#}"))?;
                Ok(Source { bytes: src.bytes[..].into(), digest: src.digest, origin: src.origin })
            })
            .join()
            .unwrap_or_else(|_| Err("loading the source failed".to_string()))
        })
    })
}

/// `--watch`: polls the entries' sources — a file, or the file a local registry id resolves to
/// now (so `morph register` of a newer version is a change for an id without a version). A
/// source that changed and then stayed the same for one more poll (a build writes it once,
/// atomically or not) reloads its entry. OCI references are not polled: SIGHUP reloads them.
fn watch_sources(entries: &[Entry], reloads: UnboundedSender<Reload>) {
    let home = super::registry::home().ok();
    let watched: Vec<(String, String)> = entries
        .iter()
        .filter(|e| {
            let file = std::path::Path::new(&e.source).is_file();
            file || morph_registry_client::MorphId::looks_like_id(&e.source)
        })
        .map(|e| (e.name.clone(), e.source.clone()))
        .collect();
    // Which file the source is now, and its modification time and length.
    let stamp = move |source: &str| {
        let path = match &home {
            Some(home) => morph_registry_client::source::resolve_path(home, std::ffi::OsStr::new(source)).ok()?.path,
            None => source.into(),
        };
        let m = std::fs::metadata(&path).ok()?;
        Some((path, m.modified().ok(), m.len()))
    };
    std::thread::spawn(move || {
        let mut served: Vec<_> = watched.iter().map(|(_, s)| stamp(s)).collect();
        let mut seen = served.clone();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            for (i, (name, source)) in watched.iter().enumerate() {
                let now = stamp(source);
                if now.is_some() && now == seen[i] && now != served[i] {
                    served[i] = now.clone();
                    if reloads.send(Reload::Entry(name.clone())).is_err() {
                        return;
                    }
                }
                seen[i] = now;
            }
        }
    });
}

/// The entry's component, its pin checked; and the sandbox flags its fields make.
fn load_source(e: &Entry, no_cache: bool, out: &Output) -> Result<(super::sandbox::MorphSource, SandboxArgs)> {
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
    Ok((src, sandbox_args))
}

/// The entry's component and its sandbox from its fields, read with the same parser as the
/// flags of `morph run` so they mean the same.
fn load_entry(e: &Entry, no_cache: bool, out: &Output) -> Result<AppEntry> {
    let (src, sandbox_args) = load_source(e, no_cache, out)?;
    let sandbox = sandbox_args.sandbox(Vec::new(), out)?;
    let kind = match &e.kind {
        EntryKind::Function { export } => morph_runtime::app::EntryKind::Function { export: export.clone() },
        EntryKind::Http { route } => morph_runtime::app::EntryKind::Http { route: route.clone() },
        EntryKind::Process { args } => morph_runtime::app::EntryKind::Process { args: args.clone() },
    };
    Ok(AppEntry {
        name: e.name.clone(),
        kind,
        bytes: src.bytes[..].into(),
        digest: src.digest.clone(),
        origin: src.origin.clone(),
        sandbox,
        pool_max: e.pool_max,
        pool_min: e.pool_min,
        queue_timeout: e.queue_timeout,
    })
}

/// An entry's fields as the sandbox flags.
#[derive(clap::Parser)]
struct EntryFlags {
    #[command(flatten)]
    sandbox: SandboxArgs,
}
